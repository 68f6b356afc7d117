/**
 * Every backend down at once, then back: on the same addresses, and on new addresses with DNS updated.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  failures, HOSTS, NAME, openProbe, retryPolicy, serviceConfig, servedBy, startFleet, State, Status, waitFor, warmUp,
  type Fleet,
} from '../helpers/fault-harness';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet(2);
});
afterEach(async () => {
  await fleet.restore();
});
afterAll(async () => {
  await fleet?.close();
});

describe('all backends down', () => {
  it('then back on the same addresses: calls fail fast during the outage, a wait-for-ready call is served after it', async () => {
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) });
    await warmUp(probe, ['b0', 'b1']);
    await Promise.all(fleet.backends.map((b) => b.crash()));
    await probe.waitForState(State.TRANSIENT_FAILURE);

    // No backend can serve: plain calls end with UNAVAILABLE after their retries, before their deadline.
    const during = await Promise.all([probe.unary({ message: 'down-1' }, { timeoutMs: 3_000 }), probe.unary({ message: 'down-2' }, { timeoutMs: 3_000 })]);
    for (const o of during) expect(o.code).toBe(Status.UNAVAILABLE);
    // A wait-for-ready call waits for a backend instead of failing.
    const waiting = probe.unary({ message: 'patient' }, { timeoutMs: 20_000, waitForReady: true });

    await Promise.all(fleet.backends.map((b) => b.restart()));
    const patient = await waiting;
    expect(failures([patient])).toEqual([]);
    await probe.waitForState(State.READY);
    await warmUp(probe, ['b0', 'b1']);
    await probe.closeAndCheck();
  });

  it('then back on new addresses (DNS updated): the channel follows DNS and a waiting call is served there', async () => {
    const probe = openProbe(fleet.target, { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) });
    await warmUp(probe, ['b0', 'b1']);
    await Promise.all(fleet.backends.map((b) => b.crash()));
    await probe.waitForState(State.TRANSIENT_FAILURE);
    const waiting = probe.unary({ message: 'patient' }, { timeoutMs: 20_000, waitForReady: true });

    // The replacements listen on other loopback addresses (the target's port is fixed: A records carry none).
    await Promise.all([fleet.addBackend(2), fleet.addBackend(3)]);
    await fleet.setAddresses([HOSTS[2], HOSTS[3]]);

    const patient = await waiting;
    expect(failures([patient])).toEqual([]);
    expect(['b2', 'b3']).toContain(patient.replies[0]!.backend);
    await probe.waitForState(State.READY);
    await warmUp(probe, ['b2', 'b3']);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => probe.unary({ message: `new-${i}` }, { timeoutMs: 5_000 })));
    expect(failures(after)).toEqual([]);
    expect(new Set(servedBy(after))).toEqual(new Set(['b2', 'b3']));
    await waitFor(() => probe.events.resolutions.some((r) => r.join() === `${HOSTS[2]}:${fleet.port},${HOSTS[3]}:${fleet.port}`), `a resolution of ${NAME} to the new hosts`);
    await probe.closeAndCheck();
  });
});
