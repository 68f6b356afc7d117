/**
 * The DNS server misbehaves: it stops answering, answers NXDOMAIN, answers with no address, then
 * recovers. A channel that already resolved keeps its last good endpoint list (gRFC A21 spirit: a
 * failed resolution never throws away working state); a channel that never resolved fails its calls
 * with the resolution error, or holds wait-for-ready calls until DNS answers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  failures, HOSTS, load, NAME, openProbe, retryPolicy, serviceConfig, servedBy, sleep, startFleet, State, Status, waitFor, warmUp,
  type Fleet, type Probe,
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

const config = { serviceConfig: serviceConfig({ retryPolicy: retryPolicy() }) };

/** Run calls for `ms` while DNS is broken; all must succeed on the last good endpoints. */
async function callsSucceedFor(probe: Probe, ms: number): Promise<void> {
  const outcomes = await load(probe, 2, { message: 'dns-broken' }, sleep(ms), { timeoutMs: 5_000 });
  expect(failures(outcomes)).toEqual([]);
  expect(new Set(servedBy(outcomes))).toEqual(new Set(['b0', 'b1']));
}

/** Wait for a resolver error event matching `pattern`. */
async function resolverError(probe: Probe, pattern: RegExp): Promise<void> {
  await waitFor(() => probe.events.errors.some((e) => pattern.test(e)), `a resolver error matching ${pattern}`, 15_000);
}

/** Point the name at b0 only and wait until the channel has applied it: DNS works again. */
async function expectRecovery(probe: Probe): Promise<void> {
  await fleet.setAddresses([HOSTS[0]]);
  await waitFor(() => probe.events.resolutions.at(-1)?.join() === `${HOSTS[0]}:${fleet.port}`, 'the resolver to recover', 15_000);
  const after = await Promise.all(Array.from({ length: 6 }, () => probe.unary({ message: 'recovered' }, { timeoutMs: 5_000 })));
  expect(failures(after)).toEqual([]);
  expect(new Set(servedBy(after))).toEqual(new Set(['b0']));
}

describe('a channel that has resolved', () => {
  it('DNS stops answering: calls keep going to the last good endpoints; resolution resumes when it answers', async () => {
    const probe = openProbe(fleet.target, config);
    await warmUp(probe, ['b0', 'b1']);
    fleet.dns.pause();
    await resolverError(probe, /timed out|ETIMEOUT|ECONNREFUSED/i);
    await callsSucceedFor(probe, 1_000);
    await fleet.dns.resume();
    await expectRecovery(probe);
    await probe.closeAndCheck();
  });

  it('DNS answers NXDOMAIN: calls keep going to the last good endpoints; a later answer is applied', async () => {
    const probe = openProbe(fleet.target, config);
    await warmUp(probe, ['b0', 'b1']);
    await fleet.setAddresses([]);
    await resolverError(probe, /NXDOMAIN/);
    await callsSucceedFor(probe, 1_000);
    await expectRecovery(probe);
    await probe.closeAndCheck();
  });

  it('DNS answers with no address (the name exists, no A/AAAA): last good endpoints stay; a later answer is applied', async () => {
    const probe = openProbe(fleet.target, config);
    await warmUp(probe, ['b0', 'b1']);
    // A TXT record keeps the name in existence (NOERROR) without any address.
    fleet.dns.setRecords(NAME, []);
    fleet.dns.setTxt(NAME, ['not-an-address']);
    await fleet.dns.reload();
    await resolverError(probe, /no A or AAAA records/);
    await callsSucceedFor(probe, 1_000);
    fleet.dns.setTxt(NAME, undefined);
    await expectRecovery(probe);
    await probe.closeAndCheck();
  });
});

describe('a channel whose DNS fails from the start', () => {
  it('plain calls fail with the resolution error before their deadline; wait-for-ready calls are served once DNS answers', async () => {
    await fleet.setAddresses([]);
    const probe = openProbe(fleet.target, config);
    const failed = await probe.unary({ message: 'no-dns' }, { timeoutMs: 5_000 });
    expect(failed.code).toBe(Status.UNAVAILABLE);
    expect(failed.details).toMatch(/NXDOMAIN/);
    expect(probe.channel.getConnectivityState(false)).toBe(State.TRANSIENT_FAILURE);

    const waiting = probe.unary({ message: 'patient' }, { timeoutMs: 20_000, waitForReady: true });
    await fleet.setAddresses([HOSTS[0], HOSTS[1]]);
    const patient = await waiting;
    expect(failures([patient])).toEqual([]);
    await probe.waitForState(State.READY);
    await probe.closeAndCheck();
  });

  it('a DNS server that never answers: calls end by their deadline, not later', async () => {
    fleet.dns.pause();
    const probe = openProbe(fleet.target, config);
    const outcomes = await Promise.all([
      probe.unary({ message: 'a' }, { timeoutMs: 400 }),
      probe.unary({ message: 'b' }, { timeoutMs: 800, waitForReady: true }),
    ]);
    for (const o of outcomes) expect(o.code).toBe(Status.DEADLINE_EXCEEDED);
    await fleet.dns.resume();
    await warmUp(probe, ['b0', 'b1']);
    await probe.closeAndCheck();
  });
});
