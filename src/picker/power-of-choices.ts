import type { PickArgs, PickComplete, Picker, PickResult } from './types';

/** A READY endpoint as a power-of-choices picker sees it: the policy's per-endpoint data. */
export interface ChoiceEntry<D extends { readonly result: PickComplete | undefined }> {
  readonly data: D;
}

/**
 * A picker that samples `choiceCount` READY endpoints uniformly at random and takes the one with the
 * lowest `load` (the first on a tie): the "power of d choices" of Mitzenmacher et al. O(choiceCount)
 * per pick, no allocation. Samples are drawn with replacement, as Envoy's and gRFC A48's pseudo-code
 * do, or with `choiceCount` 0 as two distinct endpoints, as Finagle's and tower's p2c do.
 *
 * When `args.previous` (earlier attempts of a retried or hedged call, gRFC A6) holds the choice's
 * subchannel and another endpoint exists, it samples again, at most `previous.length` times, so hedges
 * spread over distinct endpoints at a cost bounded by the number of attempts.
 *
 * @param entries the READY endpoints, each `data.result` set (the result with the policy's hook); only
 *   `[0, count)` is read (see `ReadySet`).
 * @param count how many entries to sample from; at least 1.
 * @param choiceCount samples per pick (with replacement), or 0 for two distinct ones.
 * @param load the endpoint's current load, lower is better; may update live estimates.
 * @param onPicked called once for the chosen endpoint (e.g. to count the call in flight).
 */
export function powerOfChoicesPicker<D extends { readonly result: PickComplete | undefined }>(
  entries: readonly ChoiceEntry<D>[],
  count: number,
  choiceCount: number,
  random: () => number,
  load: (data: D) => number,
  onPicked: (data: D) => void,
): Picker {
  const last = count - 1;
  const sample = (): D => (entries[Math.min(last, Math.floor(random() * count))] as ChoiceEntry<D>).data;
  const distinctPair = (): D => {
    const first = Math.min(last, Math.floor(random() * count));
    let second = Math.min(last - 1, Math.floor(random() * last));
    if (second >= first) second++;
    const a = (entries[first] as ChoiceEntry<D>).data;
    const b = (entries[second] as ChoiceEntry<D>).data;
    return load(b) < load(a) ? b : a;
  };
  const choose = (): D => {
    if (count === 1) return sample();
    if (choiceCount === 0) return distinctPair();
    let best = sample();
    let bestLoad = load(best);
    for (let i = 1; i < choiceCount; i++) {
      const candidate = sample();
      if (candidate === best) continue;
      const candidateLoad = load(candidate);
      if (candidateLoad < bestLoad) {
        best = candidate;
        bestLoad = candidateLoad;
      }
    }
    return best;
  };
  return {
    pick(args: PickArgs): PickResult {
      let chosen = choose();
      const previous = args.previous;
      if (previous !== undefined && count > 1) {
        for (let budget = previous.length; budget > 0 && previous.includes((chosen.result as PickComplete).subchannel); budget--) {
          chosen = choose();
        }
      }
      onPicked(chosen);
      return chosen.result as PickComplete;
    },
  };
}

/**
 * `result` with `hook` attached, rebuilt only when the endpoint's pick result changed (pick_first
 * selected another subchannel): call from the policy's `onEntryState`, never per pick.
 * @param current the hooked result built last time, if any.
 * @param result the endpoint's result now (undefined when not READY: `current` is kept for later).
 */
export function hookedResult(
  current: PickComplete | undefined,
  result: PickComplete | undefined,
  hook: NonNullable<PickComplete['onAttemptEnded']>,
): PickComplete | undefined {
  if (result === undefined || current?.subchannel === result.subchannel) return current;
  return Object.freeze({ type: 'complete', subchannel: result.subchannel, onAttemptEnded: hook });
}
