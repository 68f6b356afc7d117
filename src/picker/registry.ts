import { POLICY_FACTORY_MEMBERS, checkFactoryArgument } from '../arguments';
import type { LoadBalancingPolicyFactory } from './types';

const policies = new Map<string, LoadBalancingPolicyFactory>();

/**
 * Register a load-balancing policy under its name, for use in a service config's
 * `loadBalancingConfig` (gRFC A24) or the deprecated `loadBalancingPolicy` field. A later
 * registration for the same name replaces the earlier one; service configs already parsed keep the
 * factory they were parsed with (the name is looked up at parse time).
 * @param factory the policy: `name`, `parseConfig` and `create` (see {@link LoadBalancingPolicyFactory}).
 * @throws TypeError naming the argument when `factory` is not an object with a non-empty `name` string
 *   and `parseConfig` and `create` functions.
 */
export function registerLoadBalancingPolicy(factory: LoadBalancingPolicyFactory): void {
  checkFactoryArgument('registerLoadBalancingPolicy', factory, POLICY_FACTORY_MEMBERS);
  if (factory.name === '') throw new TypeError('registerLoadBalancingPolicy(factory): factory.name must not be empty');
  policies.set(factory.name, factory);
}

/** The policy registered under a name, if any. Internal. */
export function getLoadBalancingPolicyFactory(name: string): LoadBalancingPolicyFactory | undefined {
  return policies.get(name);
}

/** The registered policy names, for error messages. Internal. */
export function registeredPolicies(): string[] {
  return [...policies.keys()].sort();
}
