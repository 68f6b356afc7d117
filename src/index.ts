/**
 * switchyard: client-side load balancing and resilience for `@grpc/grpc-js`, as a drop-in `Channel`.
 *
 * ```ts
 * const channel = createChannel('dns:///orders.internal:50051', grpc.credentials.createInsecure(), { serviceConfig });
 * const client = new OrdersClient('orders.internal:50051', grpc.credentials.createInsecure(), { channelOverride: channel });
 * ```
 * @packageDocumentation
 */
export { createChannel, SwitchyardChannel } from './channel/channel';
export type { SwitchyardChannelOptions } from './channel/options';
export type {
  AttemptEvent, AttemptKind, BackoffEvent, ChannelStats, CommitEvent, CommitReason, ConnectivityEvent, ResolutionEvent,
  SwitchyardEvents, ThrottledEvent, WarningEvent,
} from './call/events';
export { ConfigError } from './errors';
export type {
  ServiceConfig, ServiceConfigDuration, StatusCodeName, MethodConfigJson, MethodNameJson, RetryPolicyJson, HedgingPolicyJson,
  LoadBalancingConfigJson, PickFirstConfigJson, LeastRequestConfigJson, WeightedRoundRobinConfigJson, RingHashConfigJson,
  PeakEwmaConfigJson, OutlierDetectionConfigJson,
} from './config/service-config-schema';
export { validateServiceConfig, type ServiceConfigProblem, type ServiceConfigValidation } from './config/validate';
export type { ChannelSnapshot, ResolutionSnapshot, ServiceConfigSource, SubchannelSnapshot } from './telemetry/snapshot';
export type { MeterProviderLike, TracerProviderLike } from './telemetry/otel';
export { systemClock, type Clock, type TimerHandle } from './clock';
export { registerResolver } from './resolver/registry';
export type {
  Address, Endpoint, Resolver, ResolverContext, ResolverFactory, ResolverListener, ResolverUpdate, Target, TcpAddress,
  UnixAddress,
} from './resolver/types';
export { registerLoadBalancingPolicy } from './picker/registry';
export { PICK_QUEUE } from './picker/types';
export { QUEUE_PICKER, allFailedDetails, completePick, failPicker, idlePicker, roundRobinPicker, singlePicker } from './picker/pickers';
export type {
  AttemptEndedHook, ChannelControlHelper, ConnectivityState, LoadBalancingPolicy, LoadBalancingPolicyFactory, PickArgs,
  PickComplete, PickDrop, PickFail, PickQueue, PickResult, Picker, Subchannel, SubchannelStream, SubchannelStateListener,
} from './picker/types';
export { propagateDeadlines, runWithDeadline, runWithTimeout } from './deadline/context';
export { registerEtcdEndpoint } from './resolver/etcd-register';
export type { EtcdRegistration, EtcdRegistrationOptions } from './resolver/etcd-register';
export type { EtcdResolverOptions } from './resolver/etcd';
