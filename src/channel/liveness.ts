/**
 * One handle that keeps the Node.js process alive while a channel has work pending, and not otherwise.
 *
 * A client script with nothing else open must not exit in the middle of a call: while any call on the
 * channel is unfinished (waiting for the first resolution, a pick, a connection, a retry backoff, or in
 * flight) or `watchConnectivityState` is waiting, the handle is ref'd; when the count drops to zero it is
 * unref'd, so an idle channel never holds the process (grpc-js does the same with the `callRefTimer` of
 * its internal channel). Every switchyard timer stays unref'd; this is the one ref.
 *
 * The handle is a real `setInterval` of the largest period Node accepts, taken from the global scope at
 * load time: it never fires in practice and must not be a fake timer a test's clock counts.
 */
const realSetInterval = setInterval;
const realClearInterval = clearInterval;
const MAX_PERIOD_MS = 2_147_483_647;

function noop(): void {}

export class Liveness {
  private pending = 0;
  private handle: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  /** One more piece of pending work: the process stays alive. O(1). */
  hold(): void {
    if (this.pending++ > 0 || this.closed) return;
    if (this.handle === undefined) this.handle = realSetInterval(noop, MAX_PERIOD_MS);
    else this.handle.ref();
  }

  /** That work is done; at zero the process may exit. O(1). */
  release(): void {
    if (--this.pending > 0) return;
    this.handle?.unref();
  }

  /** The channel closed: drop the handle (work still in flight is kept alive by its own sockets). */
  close(): void {
    this.closed = true;
    if (this.handle !== undefined) realClearInterval(this.handle);
    this.handle = undefined;
  }
}
