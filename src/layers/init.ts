// Parameter initializations, as PyTorch's layers default to them.
import type { Random } from '../gpu/random.js';

/** nn.Linear's and nn.Conv2d's default: uniform in ±1/√fan_in (kaiming_uniform with a = √5; the bias likewise). */
export const uniformFanIn = (fanIn: number) => (out: Float32Array, random: Pick<Random, 'uniform'>) => {
  const bound = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < out.length; i++) out[i] = random.uniform(-bound, bound);
};

export const constant = (value: number) => (out: Float32Array) => {
  out.fill(value);
};
