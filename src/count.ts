/** The noun for a count: singular for exactly 1, plural otherwise (0 frames, 1 frame, 2.5 seconds). */
export function nounFor(n: number, noun: string, plural = `${noun}s`): string {
  return n === 1 ? noun : plural;
}

/** A count and its noun in agreement: "1 frame", "3 frames", "0 files". */
export function counted(n: number, noun: string, plural?: string): string {
  return `${n} ${nounFor(n, noun, plural)}`;
}
