/**
 * TypeScript types of the service config JSON (`grpc/service_config/service_config.proto`, proto3 JSON
 * names), so a config written in code is checked at compile time:
 *
 * ```ts
 * const config = { methodConfig: [{ name: [{ service: 'shop.Orders' }], timeout: '2s' }] } satisfies ServiceConfig;
 * ```
 *
 * A misspelt field, a wrong type, a policy name switchyard does not know or a misspelt field of a
 * built-in policy's config is a type error. The run-time parser accepts more (snake_case top-level
 * names only as warnings, `null` as "unset"); these types describe what it reads.
 */

/** A proto3 JSON duration: `"1.5s"` or `{ seconds, nanos }`. */
export type ServiceConfigDuration = `${number}s` | { readonly seconds?: number | string; readonly nanos?: number };

/** A gRPC status code by name (`doc/statuscodes.md`) or number. */
export type StatusCodeName =
  | 'OK' | 'CANCELLED' | 'UNKNOWN' | 'INVALID_ARGUMENT' | 'DEADLINE_EXCEEDED' | 'NOT_FOUND' | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED' | 'RESOURCE_EXHAUSTED' | 'FAILED_PRECONDITION' | 'ABORTED' | 'OUT_OF_RANGE' | 'UNIMPLEMENTED'
  | 'INTERNAL' | 'UNAVAILABLE' | 'DATA_LOSS' | 'UNAUTHENTICATED';

/** gRFC A6 retry policy. */
export interface RetryPolicyJson {
  /** Attempts including the original, >= 2 (capped at 5 unless `maxAttemptsCap` raises it). */
  readonly maxAttempts: number;
  readonly initialBackoff: ServiceConfigDuration;
  readonly maxBackoff: ServiceConfigDuration;
  readonly backoffMultiplier: number;
  readonly retryableStatusCodes: readonly (StatusCodeName | number)[];
}

/** gRFC A6 hedging policy. */
export interface HedgingPolicyJson {
  readonly maxAttempts: number;
  readonly hedgingDelay?: ServiceConfigDuration;
  readonly nonFatalStatusCodes?: readonly (StatusCodeName | number)[];
}

/** The methods a method config applies to: `{}` (all), `{ service }` or `{ service, method }`. */
export interface MethodNameJson {
  readonly service?: string;
  readonly method?: string;
}

interface MethodConfigBase {
  readonly name: readonly MethodNameJson[];
  readonly waitForReady?: boolean;
  readonly timeout?: ServiceConfigDuration;
  readonly maxRequestMessageBytes?: number;
  readonly maxResponseMessageBytes?: number;
}

/** One `methodConfig` entry: at most one of `retryPolicy` and `hedgingPolicy`. */
export type MethodConfigJson =
  | (MethodConfigBase & { readonly retryPolicy?: RetryPolicyJson; readonly hedgingPolicy?: never })
  | (MethodConfigBase & { readonly hedgingPolicy?: HedgingPolicyJson; readonly retryPolicy?: never });

/** Turns `camelCase` into `snake_case` (proto3 JSON accepts either for policy config fields). */
type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;
/** A policy config's fields in camelCase and snake_case, all optional. */
type ProtoJson<T> = { readonly [K in keyof T]?: T[K] } & { readonly [K in keyof T as SnakeCase<K & string>]?: T[K] };

/** `pick_first` (gRFC A62). */
export type PickFirstConfigJson = ProtoJson<{ shuffleAddressList: boolean }>;
/** `least_request` (gRFC A48). */
export type LeastRequestConfigJson = ProtoJson<{ choiceCount: number }>;
/** `weighted_round_robin` (gRFC A58). */
export type WeightedRoundRobinConfigJson = ProtoJson<{
  enableOobLoadReport: boolean;
  oobReportingPeriod: ServiceConfigDuration;
  blackoutPeriod: ServiceConfigDuration;
  weightExpirationPeriod: ServiceConfigDuration;
  weightUpdatePeriod: ServiceConfigDuration;
  errorUtilizationPenalty: number;
}>;
/** `ring_hash` (gRFC A42, A76). */
export type RingHashConfigJson = ProtoJson<{ minRingSize: number; maxRingSize: number; requestHashHeader: string }>;
/** `switchyard.peak_ewma`. */
export type PeakEwmaConfigJson = ProtoJson<{ decay: ServiceConfigDuration; defaultRtt: ServiceConfigDuration }>;
/** `outlier_detection` (gRFC A50); `childPolicy` is required at run time. */
export type OutlierDetectionConfigJson<Extra extends object = object> = ProtoJson<{
  interval: ServiceConfigDuration;
  baseEjectionTime: ServiceConfigDuration;
  maxEjectionTime: ServiceConfigDuration;
  maxEjectionPercent: number;
  successRateEjection: ProtoJson<{ stdevFactor: number; enforcementPercentage: number; minimumHosts: number; requestVolume: number }>;
  failurePercentageEjection: ProtoJson<{ threshold: number; enforcementPercentage: number; minimumHosts: number; requestVolume: number }>;
  childPolicy: readonly LoadBalancingConfigJson<Extra>[];
}>;

/**
 * One `loadBalancingConfig` entry: a built-in policy name and its config, or one of `Extra`'s
 * (`{ my_policy: MyConfig }` for policies registered with `registerLoadBalancingPolicy`).
 */
export type LoadBalancingConfigJson<Extra extends object = object> =
  | { readonly pick_first: PickFirstConfigJson }
  | { readonly round_robin: Record<string, never> }
  | { readonly least_request: LeastRequestConfigJson }
  | { readonly weighted_round_robin: WeightedRoundRobinConfigJson }
  | { readonly ring_hash: RingHashConfigJson }
  | { readonly 'switchyard.peak_ewma': PeakEwmaConfigJson }
  | { readonly outlier_detection: OutlierDetectionConfigJson<Extra> }
  | { readonly [K in keyof Extra]: { readonly [P in K]: Extra[K] } }[keyof Extra];

/**
 * The service config JSON (`doc/service_config.md`) as switchyard reads it: the value of the
 * `serviceConfig` option or of a DNS TXT record. `Extra` adds custom load-balancing policies.
 */
export interface ServiceConfig<Extra extends object = object> {
  /** gRFC A24: the first entry whose policy is registered is used. */
  readonly loadBalancingConfig?: readonly LoadBalancingConfigJson<Extra>[];
  /** Deprecated: a policy name, used only without `loadBalancingConfig`. */
  readonly loadBalancingPolicy?: 'pick_first' | 'round_robin' | 'least_request' | 'weighted_round_robin' | 'ring_hash' | (keyof Extra & string);
  readonly methodConfig?: readonly MethodConfigJson[];
  /** gRFC A6 retry throttling: `maxTokens` in (0, 1000], `tokenRatio` > 0. */
  readonly retryThrottling?: { readonly maxTokens: number; readonly tokenRatio: number };
  /** gRFC A17 client-side health checking. */
  readonly healthCheckConfig?: { readonly serviceName?: string };
}
