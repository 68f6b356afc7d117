/**
 * Argument checks for public functions (the plugin registries, the deadline scopes): a caller passing
 * the wrong thing gets a `TypeError` that names the function, the argument and the member at fault, not
 * a failure deep inside a later `createChannel` or call. (`ConfigError` stays for invalid configuration:
 * targets, channel options, service configs.)
 */

/** What a member of a factory must be. */
type MemberType = 'string' | 'function';

/** The members a resolver factory must have (`ResolverFactory`). */
export const RESOLVER_FACTORY_MEMBERS: Readonly<Record<string, MemberType>> = Object.freeze({
  scheme: 'string',
  create: 'function',
  defaultAuthority: 'function',
});

/** The members a load-balancing policy factory must have (`LoadBalancingPolicyFactory`). */
export const POLICY_FACTORY_MEMBERS: Readonly<Record<string, MemberType>> = Object.freeze({
  name: 'string',
  parseConfig: 'function',
  create: 'function',
});

/**
 * Check that `factory`, the argument of `functionName`, is an object with `members` of their types.
 *
 * @param functionName e.g. `registerResolver`, named in the message.
 * @param factory the argument as passed.
 * @param members member name → required `typeof`.
 * @throws TypeError `registerResolver(factory): must be an object, got undefined`, or
 *   `registerResolver(factory): factory.scheme must be a string, got undefined`.
 */
export function checkFactoryArgument(functionName: string, factory: unknown, members: Readonly<Record<string, MemberType>>): void {
  if (typeof factory !== 'object' || factory === null) {
    throw new TypeError(`${functionName}(factory): must be an object with ${Object.keys(members).join(', ')}, got ${describeArgument(factory)}`);
  }
  for (const [member, type] of Object.entries(members)) {
    const value = (factory as Record<string, unknown>)[member];
    if (typeof value !== type) {
      throw new TypeError(`${functionName}(factory): factory.${member} must be a ${type}, got ${describeArgument(value)}`);
    }
  }
}

/** A short description of a bad argument for a TypeError message. */
export function describeArgument(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return String(value);
}
