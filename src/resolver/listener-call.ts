/**
 * Call a resolver listener so that an exception it throws neither breaks the resolver's own state nor
 * becomes an unhandled promise rejection: it is rethrown from a microtask, i.e. surfaces as an uncaught
 * exception, exactly as a throwing event-emitter listener would.
 *
 * @param call the listener invocation, e.g. `() => listener.onUpdate(update)`.
 */
export function callListener(call: () => void): void {
  try {
    call();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * Run `call` (through {@link callListener}) after the current synchronous code, as a promise job.
 * A promise job rather than `queueMicrotask`/`process.nextTick`: sinon's fake timers replace those two
 * but not promise jobs, so a test only has to `await` to see the result, as with a real lookup.
 *
 * @param call the listener invocation; it should re-check any "closed" flag itself.
 */
export function deferListenerCall(call: () => void): void {
  void Promise.resolve().then(() => callListener(call));
}
