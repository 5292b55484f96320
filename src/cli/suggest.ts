/**
 * "Did you mean ...?" for mistyped commands and flags: the known name closest to what was typed.
 * @module
 */

/** Edits (insert, delete, replace, swap two neighbours) between `a` and `b`, capped at `cap`+1. */
export function editDistance(a: string, b: string, cap = 3): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  // Optimal string alignment: Levenshtein plus transpositions ("conenct" is one edit away).
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, before[j - 2] + 1);
      }
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return Math.min(previous[b.length], cap + 1);
}

/**
 * The candidate `typed` most likely meant: the closest within 2 edits (and fewer edits than
 * `typed` has letters, so that "-x" suggests nothing), else the only candidate it abbreviates
 * (`--ack` for `--ack-timeout`). Case is ignored. Undefined when nothing fits.
 */
export function closestMatch(typed: string, candidates: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate.toLowerCase());
    if (distance < bestDistance && distance < word.replace(/^-+/, "").length) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  const prefixed = candidates.filter(
    (candidate) => word.length >= 3 && candidate.toLowerCase().startsWith(word),
  );
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** `: did you mean X?` for a message, or "" when nothing fits. */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const match = closestMatch(typed, candidates);
  return match === undefined ? "" : `: did you mean ${match}?`;
}
