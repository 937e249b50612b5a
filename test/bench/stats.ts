// Small helpers the benchmarks share: timing and medians.

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;

  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();

  await fn();

  return performance.now() - t;
}
