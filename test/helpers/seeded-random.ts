/**
 * A seeded random source for tests whose moments are random: the seed is printed, and
 * BLOCKHOST_TEST_SEED=<seed> replays the same sequence (mulberry32: small, fast, good enough for timing choices).
 */
export interface SeededRandom {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max). */
  int(min: number, max: number): number;
}

export function seededRandom(label: string, seed = envSeed() ?? Math.floor(Math.random() * 2 ** 32)): SeededRandom {
  console.log(`${label}: random seed ${seed} (replay with BLOCKHOST_TEST_SEED=${seed})`);
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { seed, next, int: (min, max) => min + Math.floor(next() * (max - min)) };
}

function envSeed(): number | undefined {
  const raw = process.env.BLOCKHOST_TEST_SEED;
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** 32)
    throw new Error(`BLOCKHOST_TEST_SEED must be an integer from 0 to 2^32-1, not ${raw}`);
  return n;
}
