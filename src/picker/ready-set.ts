import type { PickComplete } from './types';

/** What {@link ReadySet} needs of an item: a slot for its position, and its pick result while READY. */
export interface ReadyItem {
  readyIndex: number;
  readonly result: PickComplete | undefined;
}

/**
 * The READY endpoints of a balancing policy, as dense arrays (the items, and their pick results in the
 * same order) that pickers read without copying.
 *
 * A picker takes a view and the current {@link ReadySet.size} and only ever reads `[0, size)`. Adding
 * appends, which leaves every earlier view intact, so a new picker after an endpoint became READY costs
 * O(1). Removing swaps the last item into the hole; if a view was handed out since the last copy, the
 * arrays are copied first (copy-on-write), so a removal costs O(READY) at most once per publication.
 * Connecting N endpoints one at a time is therefore O(N) overall, not O(N²).
 */
export class ReadySet<T extends ReadyItem> {
  private items: T[] = [];
  private results: PickComplete[] = [];
  private shared = false;
  /** Incremented on every change: a policy publishes a new picker when it differs from the last one's. */
  version = 0;

  /** Number of READY items. */
  get size(): number {
    return this.items.length;
  }

  /** The items; read only `[0, size)` as of now. The arrays count as shared until a removal copies them. */
  view(): readonly T[] {
    this.shared = true;
    return this.items;
  }

  /** The items' pick results, index for index with {@link ReadySet.view}; same sharing rule. */
  resultsView(): readonly PickComplete[] {
    this.shared = true;
    return this.results;
  }

  /** Add `item` (which must have a result) if it is not in the set. O(1). */
  add(item: T): void {
    if (item.readyIndex >= 0 || item.result === undefined) return;
    item.readyIndex = this.items.length;
    this.items.push(item);
    this.results.push(item.result);
    this.version++;
  }

  /** Remove `item` if it is in the set. O(1), or O(size) for the first removal after a view was taken. */
  remove(item: T): void {
    const index = item.readyIndex;
    if (index < 0) return;
    if (this.shared) {
      this.items = this.items.slice();
      this.results = this.results.slice();
      this.shared = false;
    }
    const last = this.items.pop() as T;
    const lastResult = this.results.pop() as PickComplete;
    if (last !== item) {
      this.items[index] = last;
      this.results[index] = lastResult;
      last.readyIndex = index;
    }
    item.readyIndex = -1;
    this.version++;
  }
}
