// Float64 CPU reference for every GPU op: same names and argument order (outputs first, then inputs, then sizes).
// Plain loops, written to be read, used by the tests to check the kernels and the whole model.

type Vec = Float64Array | Float32Array | number[];

/** out[M×N] = a[M×K] · b[K×N] */
export function matmulNN(out: Float64Array, a: Vec, b: Vec, M: number, N: number, K: number): void {
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += a[m * K + k] * b[k * N + n];
      out[m * N + n] = sum;
    }
}

/** out[M×N] = a[M×K] · b[N×K]ᵀ */
export function matmulNT(out: Float64Array, a: Vec, b: Vec, M: number, N: number, K: number): void {
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += a[m * K + k] * b[n * K + k];
      out[m * N + n] = sum;
    }
}

/** out[M×N] = a[K×M]ᵀ · b[K×N] */
export function matmulTN(out: Float64Array, a: Vec, b: Vec, M: number, N: number, K: number): void {
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += a[k * M + m] * b[k * N + n];
      out[m * N + n] = sum;
    }
}

/** y[M×N] += bias[n] in place. */
export function addBias(y: Float64Array, bias: Vec, M: number, N: number): void {
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) y[m * N + n] += bias[n];
}

/** dBias[N] = Σ_m dY[M×N] */
export function biasGrad(dBias: Float64Array, dY: Vec, M: number, N: number): void {
  for (let n = 0; n < N; n++) {
    let sum = 0;
    for (let m = 0; m < M; m++) sum += dY[m * N + n];
    dBias[n] = sum;
  }
}

/**
 * Softmax + cross-entropy over rows of logits[rows×C] against the target q = (1 − ε)·onehot + ε/C (PyTorch's
 * label_smoothing = ε). Writes dLogits = (softmax − q)/rows and each row's loss −Σ q·log softmax into `loss`;
 * returns the number of rows whose first arg-max equals the label.
 */
export function softmaxCrossEntropy(
  dLogits: Float64Array, loss: Float64Array, logits: Vec, labels: ArrayLike<number>, rows: number, C: number, labelSmoothing = 0,
): number {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let zMax = logits[r * C];
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[r * C + c] > zMax) { zMax = logits[r * C + c]; best = c; }
    let sumExp = 0;
    for (let c = 0; c < C; c++) sumExp += Math.exp(logits[r * C + c] - zMax);
    const logSumExp = Math.log(sumExp) + zMax;
    const target = (c: number) => (c === labels[r] ? 1 - labelSmoothing : 0) + labelSmoothing / C;
    loss[r] = 0;
    for (let c = 0; c < C; c++) {
      loss[r] -= target(c) * (logits[r * C + c] - logSumExp);
      dLogits[r * C + c] = (Math.exp(logits[r * C + c] - zMax) / sumExp - target(c)) / rows;
    }
    if (best === labels[r]) correct++;
  }
  return correct;
}

/**
 * PyTorch's MSELoss (mean over rows and outputs) over rows of logits[rows×W] against targets[rows×W]: writes
 * dLogits = 2·(z − t)/(rows·W) and each row's mean squared error into `loss`; returns Σ over rows of each row's
 * mean absolute error.
 */
export function meanSquaredError(dLogits: Float64Array, loss: Float64Array, logits: Vec, targets: Vec, rows: number, W: number): number {
  let absSum = 0;
  for (let r = 0; r < rows; r++) {
    let squares = 0;
    let abs = 0;
    for (let j = 0; j < W; j++) {
      const e = logits[r * W + j] - targets[r * W + j];
      squares += e * e;
      abs += Math.abs(e);
      dLogits[r * W + j] = (2 * e) / (rows * W);
    }
    loss[r] = squares / W;
    absSum += abs / W;
  }
  return absSum;
}

/** σ(z) = 1 / (1 + e^−z), without overflow for large |z|. */
export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/**
 * PyTorch's BCEWithLogitsLoss (mean over rows and outputs) over rows of logits[rows×W] against targets[rows×W]
 * in [0, 1]: writes dLogits = (σ(z) − t)/(rows·W) and each row's mean loss max(z, 0) − z·t + log(1 + e^−|z|)
 * into `loss`; returns Σ over rows of the share of each row's labels right (z ≥ 0, i.e. σ(z) ≥ 0.5, against t ≥ 0.5).
 */
export function sigmoidCrossEntropy(dLogits: Float64Array, loss: Float64Array, logits: Vec, targets: Vec, rows: number, W: number): number {
  let rightSum = 0;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    let right = 0;
    for (let j = 0; j < W; j++) {
      const z = logits[r * W + j];
      const t = targets[r * W + j];
      sum += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
      if (z >= 0 === t >= 0.5) right++;
      dLogits[r * W + j] = (sigmoid(z) - t) / (rows * W);
    }
    loss[r] = sum / W;
    rightSum += right / W;
  }
  return rightSum;
}

export interface AdamConfig { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean }

/** One Adam (or AdamW) step at step number t (1-based), in place, as torch.optim.Adam/AdamW do it. */
export function adamUpdate(
  params: Float64Array, moment1: Float64Array, moment2: Float64Array, grads: Vec, t: number, c: AdamConfig,
): void {
  const bc1 = 1 - c.beta1 ** t;
  const bc2Sqrt = Math.sqrt(1 - c.beta2 ** t);
  for (let i = 0; i < params.length; i++) {
    let p = params[i];
    let g = grads[i];
    if (c.decoupled) p *= 1 - c.lr * c.weightDecay;
    else g += c.weightDecay * p;
    moment1[i] = c.beta1 * moment1[i] + (1 - c.beta1) * g;
    moment2[i] = c.beta2 * moment2[i] + (1 - c.beta2) * g * g;
    params[i] = p - (c.lr / bc1) * moment1[i] / (Math.sqrt(moment2[i]) / bc2Sqrt + c.eps);
  }
}

export interface SgdConfig { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }

/** One SGD step in place, as torch.optim.SGD does it (the momentum buffer starts as the first gradient). */
export function sgdUpdate(params: Float64Array, velocity: Float64Array, grads: Vec, firstStep: boolean, c: SgdConfig): void {
  for (let i = 0; i < params.length; i++) {
    let g = grads[i] + c.weightDecay * params[i];
    if (c.momentum !== 0) {
      velocity[i] = firstStep ? g : c.momentum * velocity[i] + (1 - c.dampening) * g;
      g = c.nesterov ? g + c.momentum * velocity[i] : velocity[i];
    }
    params[i] -= c.lr * g;
  }
}

/** y = max(x, 0) */
export function relu(y: Float64Array, x: Vec): void {
  for (let i = 0; i < y.length; i++) y[i] = Math.max(x[i], 0);
}

/** Each column of weight[inputs × outputs] (one unit's incoming weights) scaled to L2 norm ≤ c, in place. */
export function maxNorm(weight: Float64Array | Float32Array, inputs: number, outputs: number, c: number): void {
  for (let o = 0; o < outputs; o++) {
    let sumSquares = 0;
    for (let i = 0; i < inputs; i++) sumSquares += weight[i * outputs + o] ** 2;
    const norm = Math.sqrt(sumSquares);
    if (norm > c) for (let i = 0; i < inputs; i++) weight[i * outputs + o] *= c / norm;
  }
}
