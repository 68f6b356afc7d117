/**
 * EndpointList and ReadySet: the child bookkeeping every balancing policy shares (gRFC A61 one
 * pick_first child per endpoint; incremental counts; coalesced publication).
 */
import { connectivityState } from '@grpc/grpc-js';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EndpointList, type EndpointEntry } from '../../../src/picker/endpoint-list';
import { completePick, roundRobinPicker } from '../../../src/picker/pickers';
import { ReadySet } from '../../../src/picker/ready-set';
import type { PickComplete } from '../../../src/picker/types';
import { FakeSubchannel, createFakeHelper, endpoints, parseAddress, pickArgs, type FakeHelper } from '../../helpers/fake-subchannel';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE } = connectivityState;

function item(key: string): { readyIndex: number; result: PickComplete; key: string } {
  return { readyIndex: -1, result: completePick(new FakeSubchannel(parseAddress(key))), key };
}

describe('ReadySet', () => {
  // Breaking copy-on-write (swap-removing in a shared array) changes what an earlier view sees.
  it('leaves a view taken earlier intact through adds and removes', () => {
    const set = new ReadySet<ReturnType<typeof item>>();
    const [a, b, c] = ['127.0.0.1:1', '127.0.0.2:1', '127.0.0.3:1'].map(item);
    set.add(a!);
    set.add(b!);
    const view = set.view();
    const size = set.size;
    set.add(c!);
    set.remove(a!);
    expect(view.slice(0, size)).toEqual([a, b]);
    expect(set.view().slice(0, set.size)).toEqual([c, b]);
    expect(set.resultsView().slice(0, set.size)).toEqual([c!.result, b!.result]);
    expect(a!.readyIndex).toBe(-1);
    expect(c!.readyIndex).toBe(0);
  });

  it('counts versions, ignores duplicates and unknown items', () => {
    const set = new ReadySet<ReturnType<typeof item>>();
    const a = item('127.0.0.1:1');
    set.add(a);
    set.add(a);
    set.remove(item('127.0.0.9:1'));
    expect(set.size).toBe(1);
    expect(set.version).toBe(1);
  });
});

describe('EndpointList', () => {
  let clock: sinon.SinonFakeTimers;
  let fake: FakeHelper;
  let list: EndpointList<{ seen: number }>;
  let builds: number;
  let stateChanges: Array<[string, number]>;

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    fake = createFakeHelper({ random: () => 0 });
    builds = 0;
    stateChanges = [];
    list = new EndpointList({
      helper: fake.helper,
      createData: () => ({ seen: 0 }),
      onEntryState: (entry: EndpointEntry<{ seen: number }>) => {
        entry.data.seen++;
        stateChanges.push([entry.key, entry.state]);
      },
      buildPicker(state) {
        if (state !== READY) return undefined;
        builds++;
        return roundRobinPicker(list.ready.resultsView(), 0, list.ready.size);
      },
    });
  });

  afterEach(() => {
    list.close();
    expect(fake.released).toBe(fake.acquired);
    clock.restore();
  });

  // Breaking coalescing (publishing per child report) gives one updateState per endpoint here.
  it('publishes once for a whole update of many endpoints', () => {
    const many = Array.from({ length: 500 }, (_, i) => `127.0.${i >> 8}.${(i & 255) + 1}:1`);
    list.update(endpoints(...many));
    expect(fake.updates.map((u) => u.state)).toEqual([CONNECTING]);
    expect(list.counts).toEqual({ ready: 0, connecting: 500, idle: 0, transientFailure: 0 });
  });

  it('keeps incremental counts and the READY set in step with the children, O(1) picker builds per READY', () => {
    const keys = ['127.0.0.1:1', '127.0.0.2:1', '127.0.0.3:1'];
    list.update(endpoints(...keys));
    for (const key of keys) fake.sub(key).ready();
    expect(builds).toBe(3);
    expect(list.counts).toEqual({ ready: 3, connecting: 0, idle: 0, transientFailure: 0 });
    expect(list.ready.size).toBe(3);
    fake.sub(keys[1]!).fail();
    // READY -> TRANSIENT_FAILURE is a health signal: pick_first reports it, and the entry counts as
    // failed (sticky) until READY again.
    expect(list.counts).toEqual({ ready: 2, connecting: 0, idle: 0, transientFailure: 1 });
    expect(list.ready.size).toBe(2);
    expect(fake.last().state).toBe(READY);
  });

  it('reconnects a child that goes IDLE, once the outermost report is done', () => {
    list.update(endpoints('127.0.0.1:1'));
    fake.sub('127.0.0.1:1').ready();
    fake.sub('127.0.0.1:1').idle();
    expect(fake.sub('127.0.0.1:1').connectCalls).toBe(2);
    expect(stateChanges.map(([, s]) => s)).toEqual([CONNECTING, READY, IDLE, CONNECTING]);
    expect(fake.last().state).toBe(CONNECTING);
  });

  it('keeps per-endpoint data for an endpoint kept across updates, in any address order', () => {
    list.update([{ addresses: [parseAddress('127.0.0.1:1'), parseAddress('127.0.0.2:1')] }]);
    const [entry] = list.entries;
    list.update([{ addresses: [parseAddress('127.0.0.2:1'), parseAddress('127.0.0.1:1')] }]);
    expect(list.entries[0]).toBe(entry);
    expect(fake.acquired).toBe(2);
  });

  it('names the last child error when every endpoint failed', () => {
    list.update(endpoints('127.0.0.1:1', '127.0.0.2:1'));
    fake.sub('127.0.0.1:1').fail('connect ECONNREFUSED 127.0.0.1:1');
    fake.sub('127.0.0.2:1').fail('connect ETIMEDOUT 127.0.0.2:1');
    expect(fake.last().state).toBe(TRANSIENT_FAILURE);
    expect(fake.last().error).toBe('connect ETIMEDOUT 127.0.0.2:1');
    const result = fake.last().picker.pick(pickArgs());
    expect(result.type === 'fail' && result.status.details).toBe('failed to connect to all addresses; last error: connect ETIMEDOUT 127.0.0.2:1');
  });
});

describe('EndpointList, lazy', () => {
  it('creates no child until connect(), and an IDLE entry picker asks for it', async () => {
    const fake = createFakeHelper();
    const list: EndpointList<undefined> = new EndpointList<undefined>({
      helper: fake.helper,
      lazy: true,
      createData: () => undefined,
      buildPicker: () => undefined,
      aggregate: (c) => (c.ready > 0 ? READY : c.connecting > 0 ? CONNECTING : IDLE),
    });
    list.update(endpoints('127.0.0.1:1'));
    expect(fake.acquired).toBe(0);
    expect(fake.last().state).toBe(IDLE);
    const [entry] = list.entries;
    expect(entry!.picker.pick(pickArgs())).toEqual({ type: 'queue' });
    await Promise.resolve();
    expect(fake.acquired).toBe(1);
    expect(fake.last().state).toBe(CONNECTING);
    list.close();
    expect(fake.released).toBe(1);
  });
});
