import { connectivityState } from '@grpc/grpc-js';
import { ConfigError } from '../errors';
import type { Endpoint } from '../resolver/types';
import type { MutableConnectivityCounts } from './aggregate';
import { EndpointList, endpointListPolicy, type EndpointEntry } from './endpoint-list';
import { PolicyConfigReader } from './policy-config';
import { buildRing, type Ring } from './ring';
import { PICK_QUEUE, type ChannelControlHelper, type ConnectivityState, type LoadBalancingPolicy, type LoadBalancingPolicyFactory, type PickArgs, type Picker, type PickResult } from './types';
import { xxh64Low, xxh64String } from './xxhash64';

const { IDLE, CONNECTING, READY, TRANSIENT_FAILURE } = connectivityState;

/** `ring_hash`'s parsed config (gRFC A42 `RingHashLoadBalancingConfig`, with A76's `request_hash_header`). */
export interface RingHashConfig {
  readonly minRingSize: number;
  readonly maxRingSize: number;
  /** The request header hashed to place a call on the ring (lower case, never `-bin`). */
  readonly requestHashHeader: string;
}

/** gRFC A42: values above 8M are rejected; both sizes are capped at the local cap, 4096 by default. */
const RING_SIZE_UPPER_BOUND = 8 * 1024 * 1024;
const RING_SIZE_CAP = 4096;
const HEADER_NAME = /^[0-9a-z_.-]+$/;

/**
 * Validate `ring_hash`'s config (gRFC A42, A76), read as proto3 JSON: `minRingSize` (default 1024),
 * `maxRingSize` (default 4096), each at most 8 388 608 and then capped at 4096, min ≤ max; and
 * `requestHashHeader`, required here because without xDS nothing else gives a call its hash. The header
 * name is lower-cased and must be a valid metadata key that does not end in `-bin`.
 * @throws ConfigError at the offending field.
 */
export function parseRingHashConfig(json: unknown, path: string): RingHashConfig {
  const reader = new PolicyConfigReader(json, path);
  const size = { integer: true, min: 0, max: RING_SIZE_UPPER_BOUND };
  const minRingSize = reader.number('minRingSize', 0, size) || 1024;
  const maxRingSize = reader.number('maxRingSize', 0, size) || 4096;
  if (minRingSize > maxRingSize) {
    throw new ConfigError(reader.field('minRingSize')?.path ?? `${path}.minRingSize`, `must not exceed maxRingSize (${maxRingSize})`, minRingSize);
  }
  const header = reader.field('requestHashHeader');
  const name = reader.string('requestHashHeader')?.toLowerCase();
  const headerPath = header?.path ?? `${path}.requestHashHeader`;
  if (name === undefined) throw new ConfigError(headerPath, 'is required: the request header to hash (gRFC A76; switchyard has no xDS hash policy)');
  if (!HEADER_NAME.test(name)) throw new ConfigError(headerPath, 'must be a valid header name: 0-9 a-z _ . -', header?.value);
  if (name.endsWith('-bin')) throw new ConfigError(headerPath, 'must not be a binary header (ending in "-bin")', header?.value);
  return Object.freeze({
    minRingSize: Math.min(minRingSize, RING_SIZE_CAP),
    maxRingSize: Math.min(maxRingSize, RING_SIZE_CAP),
    requestHashHeader: name,
  });
}

/** The aggregation rules of gRFC A42 for a policy that connects lazily. */
function aggregateRingHash(counts: Readonly<MutableConnectivityCounts>): ConnectivityState {
  if (counts.ready > 0) return READY;
  if (counts.transientFailure >= 2) return TRANSIENT_FAILURE;
  if (counts.connecting > 0) return CONNECTING;
  if (counts.transientFailure === 1 && counts.ready + counts.connecting + counts.idle > 0) return CONNECTING;
  if (counts.idle > 0) return IDLE;
  return TRANSIENT_FAILURE;
}

/** gRFC A42's endpoint weight attribute, gRFC A76's `hash_key` attribute. */
function weightOf(endpoint: Endpoint): number {
  const weight = endpoint.attributes?.weight;
  return typeof weight === 'number' && Number.isInteger(weight) && weight > 0 ? weight : 1;
}

function hashKeyOf(entry: EndpointEntry<undefined>): string {
  const key = entry.endpoint.attributes?.hash_key;
  return typeof key === 'string' && key !== '' ? key : (entry.key.split(',')[0] as string);
}

/**
 * Create a `ring_hash` policy instance (gRFC A42, with A61's pick_first children and A76's
 * `requestHashHeader`): consistent hashing of a request header onto a ring of endpoints, usable from a
 * plain service config (no xDS).
 *
 * - Endpoints are placed on the ring by XXH64 of their `hash_key` attribute or first address, weighted
 *   by their `weight` attribute ({@link buildRing}); the ring is rebuilt only when those change.
 * - Lazy connections: an endpoint's pick_first child is created when a pick first needs it.
 * - A pick hashes the header's value (several values joined with `,`), finds the first ring entry at
 *   or after the hash, and walks the ring skipping TRANSIENT_FAILURE endpoints: the first READY,
 *   CONNECTING or IDLE one decides (READY: its subchannel; CONNECTING: queue; IDLE: connect, queue).
 *   All failed: the first entry's failure. Without the header the hash is random (A76): the walk takes
 *   the first READY endpoint and starts at most one connection when none is in progress.
 *   Per-endpoint state is read live, so a state change publishes without rebuilding; the walk past
 *   failed endpoints is bounded by the ring size (at most 4096 by default), not by the number of calls.
 * - Aggregation: A42's rules for lazy policies; after an endpoint fails while nothing is connecting,
 *   the first IDLE endpoint is connected, so a failed ring recovers without picks (A61).
 */
export function createRingHashPolicy(helper: ChannelControlHelper): LoadBalancingPolicy {
  let config: RingHashConfig | undefined;
  let ring: Ring<EndpointEntry<undefined>> | undefined;
  let ringSignature = '';
  let picker: Picker | undefined;

  function connectSoon(entry: EndpointEntry<undefined>): void {
    queueMicrotask(() => list.connect(entry));
  }

  /** Connect the first IDLE endpoint unless one is connecting or READY already. */
  function keepOneConnecting(): void {
    let idle: EndpointEntry<undefined> | undefined;
    for (const entry of list.entries) {
      if (entry.state === CONNECTING || entry.state === READY) return;
      if (idle === undefined && entry.state === IDLE) idle = entry;
    }
    if (idle !== undefined) list.connect(idle);
  }

  function ringPicker(current: Ring<EndpointEntry<undefined>>, header: string): Picker {
    const n = current.size;
    return {
      pick(args: PickArgs): PickResult {
        const values = args.metadata.get(header);
        let value = values.length === 1 ? values[0] : values.length === 0 ? undefined : values.join(',');
        if (typeof value !== 'string' || value === '') value = undefined;
        if (value === undefined) return pickRandom(Math.min(n - 1, Math.floor(helper.random() * n)), args);
        const start = current.find(xxh64String(value), xxh64Low());
        for (let i = 0; i < n; i++) {
          const entry = current.items[(start + i) % n] as EndpointEntry<undefined>;
          if (entry.state !== TRANSIENT_FAILURE) return entry.picker.pick(args);
        }
        return (current.items[start] as EndpointEntry<undefined>).picker.pick(args);
      },
    };
    function pickRandom(start: number, args: PickArgs): PickResult {
      let requested = list.counts.connecting > 0;
      for (let i = 0; i < n; i++) {
        const entry = current.items[(start + i) % n] as EndpointEntry<undefined>;
        if (entry.state === READY) return entry.picker.pick(args);
        if (!requested && entry.state === IDLE) {
          requested = true;
          connectSoon(entry);
        }
      }
      return requested ? PICK_QUEUE : (current.items[start] as EndpointEntry<undefined>).picker.pick(args);
    }
  }

  const list: EndpointList<undefined> = new EndpointList<undefined>({
    helper,
    lazy: true,
    publishEveryChange: true,
    aggregate: aggregateRingHash,
    createData: () => undefined,
    onEntryState(entry, previous) {
      if (entry.state === TRANSIENT_FAILURE && previous !== TRANSIENT_FAILURE && list.counts.ready === 0) keepOneConnecting();
    },
    onListUpdated: () => rebuildRing(),
    buildPicker: () => picker,
  });

  function rebuildRing(): void {
    const members = list.entries.map((entry) => ({ item: entry, hashKey: hashKeyOf(entry), weight: weightOf(entry.endpoint) }));
    const signature = `${config?.minRingSize}/${config?.maxRingSize}/${config?.requestHashHeader}|${members.map((m) => `${m.hashKey}*${m.weight}`).join(',')}`;
    if (signature === ringSignature && ring !== undefined) return;
    ringSignature = signature;
    ring = members.length === 0 || config === undefined ? undefined : buildRing(members, config.minRingSize, config.maxRingSize);
    picker = ring === undefined || config === undefined ? undefined : ringPicker(ring, config.requestHashHeader);
  }

  return endpointListPolicy(list, (parsed) => {
    config = parsed as RingHashConfig;
  }, keepOneConnecting);
}

/** The `ring_hash` policy factory (gRFC A42, A76). Registered by `src/picker/index.ts`. */
export const ringHashPolicy: LoadBalancingPolicyFactory<RingHashConfig> = Object.freeze({
  name: 'ring_hash',
  parseConfig: parseRingHashConfig,
  create: createRingHashPolicy,
});
