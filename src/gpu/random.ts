// Seeded random numbers (sfc32, 128-bit state): initialization, shuffling and splits are reproducible, and the
// state is four u32s that a checkpoint can carry.

/** A seeded random generator (sfc32): the same seed gives the same numbers on every platform. */
export class Random {
  private s: Uint32Array;

  constructor(seed: number | Uint32Array) {
    if (seed instanceof Uint32Array) {
      this.s = Uint32Array.from(seed);
      return;
    }
    this.s = new Uint32Array([0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0]);
    for (let i = 0; i < 16; i++) this.nextU32(); // mix the seed through the state
  }

  /** The generator's state, four u32s (a copy); setting it resumes the sequence from there. */
  get state(): Uint32Array {
    return Uint32Array.from(this.s);
  }

  /** Resumes the sequence from a state read from `state`. */
  set state(value: Uint32Array) {
    if (value.length !== 4) throw new Error(`random state must be 4 u32 values, got ${value.length}`);
    this.s = Uint32Array.from(value);
  }

  /** The next 32 random bits, as an integer in [0, 2³²). */
  nextU32(): number {
    const s = this.s;
    const t = (((s[0] + s[1]) >>> 0) + s[3]) >>> 0;
    s[3] = (s[3] + 1) >>> 0;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = (s[2] + (s[2] << 3)) >>> 0;
    s[2] = ((s[2] << 21) | (s[2] >>> 11)) >>> 0;
    s[2] = (s[2] + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Integer in [0, n), without modulo bias. */
  below(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextU32(); while (x >= limit);
    return x % n;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends ArrayLike<number> & { [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
    return a;
  }
}

/** PCG's output permutation as a hash, in u32 arithmetic: the twin of PCG_HASH in shaders/common.ts. */
export function pcgHash(x: number): number {
  const state = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}
