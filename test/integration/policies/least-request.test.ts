/**
 * least_request (gRFC A48) and switchyard.peak_ewma over real grpc-js backends on loopback: with one
 * backend twenty times slower, both keep most calls off it, where round_robin gives it a full share. The
 * in-flight counts and latencies come from the call layer's per-attempt hook.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForState } from '../../helpers/channel-wait';
import { runLoad, shares, startRig, type PolicyRig } from './policy-harness';

const FAST_MS = 5;
const SLOW_MS = 100;

describe.each([
  ['least_request', { least_request: { choiceCount: 2 } }],
  ['switchyard.peak_ewma', { 'switchyard.peak_ewma': { decay: '2s', defaultRtt: '0.005s' } }],
])('%s with one slow backend', (name, policy) => {
  let rig: PolicyRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  // Breaking the hook wiring (no in-flight decrement / no latency) or the policy's comparison gives
  // the slow backend about a third of the calls (200), as round_robin does.
  it('sends the slow backend well under its round-robin share', { timeout: 120_000 }, async () => {
    rig = await startRig(
      [{ behaviour: { delayMs: FAST_MS } }, { behaviour: { delayMs: FAST_MS } }, { behaviour: { delayMs: SLOW_MS } }],
      { loadBalancingConfig: [policy] },
    );
    await waitForState(rig.channel, grpc.connectivityState.READY);
    await runLoad(rig.client, 60, 6); // warm-up: every backend connected, estimates formed
    const counts = shares(await runLoad(rig.client, 600, 12));
    expect(counts['b0']! + counts['b1']! + (counts['b2'] ?? 0), JSON.stringify(counts)).toBe(600);
    // Sampling with replacement sends 1/9 of the picks to b2 whatever its load (both samples b2); the
    // bound leaves room for a loaded machine, where the fast backends slow down too.
    expect(counts['b2'] ?? 0, `${name}: ${JSON.stringify(counts)}`).toBeLessThan(600 * 0.25);
    expect(rig.channel.stats()).toMatchObject({ failed: 0 });
  });
});
