/**
 * "Did you mean" for configuration names: the known name closest to what the user typed, or null
 * when nothing is close enough to be a plausible typo.
 */
export function closestName(input: string, known: readonly string[]): string | null {
  const typed = input.toLowerCase();
  // Short names tolerate one edit, longer ones proportionally more; beyond that a suggestion misleads.
  const budget = Math.max(1, Math.min(3, Math.floor(typed.length / 3)));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = editDistance(typed, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return bestDistance <= budget ? best : null;
}

/** Levenshtein distance with adjacent transpositions counted as one edit (`exrpess` → `express`). */
export function editDistance(a: string, b: string): number {
  // Names are short (bounded by the caller's list), so the quadratic table is fine.
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

/** ` (did you mean "x"?)` or nothing, for the end of a warning. */
export function didYouMean(input: string, known: readonly string[]): string {
  const near = closestName(input, known);
  return near === null ? '' : ` (did you mean "${near}"?)`;
}
