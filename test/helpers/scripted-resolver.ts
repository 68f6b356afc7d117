/**
 * A resolver the test drives by hand (scheme `scripted`): `scripted:<name>` targets a {@link Script}
 * whose answers the test sends when it chooses — before or after calls start, synchronously inside
 * `requestResolution()` (as a resolver that needs no I/O does), or never. No network.
 */
import { registerResolver, type Endpoint, type ResolverListener, type ResolverUpdate } from '../../src/index';

/** The resolver of one `scripted:<name>` target, as the test sees it. */
export interface Script {
  /** `scripted:<name>`, for `createChannel`. */
  readonly target: string;
  /** Resolution requests the channel made so far. */
  readonly requests: number;
  /** When set, `requestResolution()` answers with it synchronously. */
  answer: ResolverUpdate | undefined;
  /** Send an update now (the resolver must have been created: the channel left IDLE). */
  update(update: ResolverUpdate): void;
  /** Send a resolution error now. */
  fail(message: string): void;
}

interface ScriptState {
  listener: ResolverListener | undefined;
  requests: number;
  answer: ResolverUpdate | undefined;
}

const scripts = new Map<string, ScriptState>();
let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  registerResolver({
    scheme: 'scripted',
    defaultAuthority: (target) => target.path,
    create: (target, listener) => {
      const state = scripts.get(target.path);
      if (state === undefined) throw new Error(`no script named ${target.path}`);
      state.listener = listener;
      return {
        requestResolution: () => {
          state.requests++;
          if (state.answer !== undefined) listener.onUpdate(state.answer);
        },
        close: () => {
          if (state.listener === listener) state.listener = undefined;
        },
      };
    },
  });
}

let nextName = 1;

/** A fresh script with a unique target. */
export function createScript(): Script {
  register();
  const name = `s${nextName++}`;
  const state: ScriptState = { listener: undefined, requests: 0, answer: undefined };
  scripts.set(name, state);
  const listener = (): ResolverListener => {
    if (state.listener === undefined) throw new Error(`the resolver of scripted:${name} is not running`);
    return state.listener;
  };
  return {
    target: `scripted:${name}`,
    get requests() {
      return state.requests;
    },
    get answer() {
      return state.answer;
    },
    set answer(update) {
      state.answer = update;
    },
    update: (update) => listener().onUpdate(update),
    fail: (message) => listener().onError(new Error(message)),
  };
}

/** Endpoints of one address each, from `host:port` strings. */
export function endpointsOf(...addresses: string[]): Endpoint[] {
  return addresses.map((address) => {
    const colon = address.lastIndexOf(':');
    return { addresses: [{ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) }] };
  });
}
