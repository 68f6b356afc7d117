/**
 * `Object.freeze` does not stop `Set#add` or `Map#set`; a parsed service config is shared by every
 * call of a channel, so its collections refuse mutation through their own methods as well.
 */
function refuse(): never {
  throw new TypeError('a parsed service config is immutable');
}

/**
 * Freeze a Set in place: `add`, `delete` and `clear` throw `TypeError`; reads are untouched
 * (`has` stays the native O(1) lookup).
 * @returns the same set, typed read-only.
 */
export function freezeSet<T>(set: Set<T>): ReadonlySet<T> {
  Object.defineProperties(set, { add: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } });
  return Object.freeze(set);
}

/**
 * Freeze a Map in place: `set`, `delete` and `clear` throw `TypeError`; reads are untouched.
 * @returns the same map, typed read-only.
 */
export function freezeMap<K, V>(map: Map<K, V>): ReadonlyMap<K, V> {
  Object.defineProperties(map, { set: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } });
  return Object.freeze(map);
}
