// shaders/portableMath.ts on the test device: every result the bits of its f32 twin (so the same bits on every
// adapter that passes this file), and its accuracy against float64: portableExp within 1.5 ulp of Math.exp (1.13 seen) over
// [−86.9, 88.3], portableLog within 1 ulp of Math.log away from 1 (4·2⁻²⁴ absolutely near it), portableTanh
// within 1.5 ulp of Math.tanh; pixels4, the read of u8 pixels, the bits of its twin bytePixel.
import { describe, expect, it } from 'vitest';
import { bytePixel, PORTABLE_MATH, pixels4Read, portableExp, portableLog, portableTanh } from '../shaders/portableMath.js';
import { readBuffer } from '../src/gpu/buffers.js';
import { gpuArray, openTestDevice, withErrorScope } from './helpers/gpu.js';

const gpu = await openTestDevice();
const device = gpu.device;

/** out[i] = `expression` of x[i], one invocation each. */
async function evaluate(expression: string, inputs: Float32Array, preamble = ''): Promise<Float32Array> {
  const code = `${PORTABLE_MATH}
${preamble}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 64u;
  if (i >= ${inputs.length}u) { return; }
  ${expression}
}`;
  return withErrorScope(device, async () => {
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    const input = gpuArray(device, inputs);
    const out = device.createBuffer({ size: inputs.length * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [input, out].map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const groups = Math.ceil(inputs.length / 64);
    pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
    pass.end();
    device.queue.submit([encoder.finish()]);
    const result = new Float32Array(await readBuffer(device, out));
    input.destroy();
    out.destroy();
    return result;
  });
}

/** Where got and want differ in their bits (NaN equal to NaN), the first few, as text. */
function bitMismatches(inputs: ArrayLike<number>, got: Float32Array, twin: (x: number) => number): string[] {
  const bad: string[] = [];
  for (let i = 0; i < got.length && bad.length < 5; i++) {
    const want = Math.fround(twin(inputs[i]));
    if (!(Object.is(got[i], want) || (Number.isNaN(got[i]) && Number.isNaN(want)))) bad.push(`f(${inputs[i]}) = ${got[i]}, twin ${want}`);
  }
  return bad;
}

/** |got − want| in units of the last place of want as an f32 (normal range). */
const ulps = (got: number, want: number) => Math.abs(got - want) / 2 ** (Math.max(-126, Math.floor(Math.log2(Math.abs(want)))) - 23);

/** `count` f32 values spread over [lo, hi], then the extras. */
function sweep(lo: number, hi: number, count: number, extras: number[] = []): Float32Array {
  return Float32Array.from([...Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1)), ...extras]);
}

describe('portable math: the same bits on every adapter', () => {
  it('portableExp gives its twin\'s bits, within 1.5 ulp of e^x over [−86.9, 88.3]; 0 below −87, +∞ above 88.4', async () => {
    const x = sweep(-90, 89, 1 << 19, [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, -86.99, -87, -87.5, -103, -Infinity, 88.3, 88.4, 89, Infinity, NaN]);
    const got = await evaluate('out[i] = portableExp(x[i]);', x);
    expect(bitMismatches(x, got, portableExp)).toEqual([]);
    let worst = 0;
    for (let i = 0; i < x.length; i++) if (x[i] >= -86.9 && x[i] <= 88.3) worst = Math.max(worst, ulps(got[i], Math.exp(x[i])));
    expect(worst).toBeLessThanOrEqual(1.5);
    expect(worst).toBeGreaterThan(0.5); // not correctly rounded everywhere, only close: the bound means something
    const at = (v: number) => got[x.indexOf(Math.fround(v), 1 << 19)];
    expect([at(0), at(-87), at(-103), at(-Infinity), at(88.4), at(Infinity)]).toEqual([1, 0, 0, 0, Infinity, Infinity]);
    expect(got.at(-1)).toBeNaN();
  });

  it('portableLog gives its twin\'s bits, within 1 ulp of ln x away from 1 and 4·2⁻²⁴ near it; +∞ and NaN pass through', async () => {
    const logSpaced = Array.from({ length: 1 << 17 }, (_, i) => 2 ** (-125 + (253 * i) / (1 << 17)));
    const x = Float32Array.from([...logSpaced, ...sweep(0.5, 2, 1 << 17), ...sweep(1, 10, 1 << 17), 1, Infinity, NaN]);
    const got = await evaluate('out[i] = portableLog(x[i]);', x);
    expect(bitMismatches(x, got, portableLog)).toEqual([]);
    let worstRelative = 0;
    let worstAbsolute = 0;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) continue;
      const want = Math.log(x[i]);
      if (Math.abs(want) >= 0.5) worstRelative = Math.max(worstRelative, ulps(got[i], want));
      else worstAbsolute = Math.max(worstAbsolute, Math.abs(got[i] - want) / 2 ** -24);
    }
    expect(worstRelative).toBeLessThanOrEqual(1);
    expect(worstAbsolute).toBeLessThanOrEqual(4);
    expect(Array.from(got.subarray(-3))).toEqual([0, Infinity, NaN]);
  });

  it('portableTanh gives its twin\'s bits, within 1.5 ulp of tanh x (1.25 seen); ±1 from ±15 on', async () => {
    const x = Float32Array.from([...sweep(-20, 20, 1 << 17), ...sweep(-1, 1, 1 << 17), 1e-30, -1e-30, 0.625, -0.625, 15, 1e30, -Infinity, Infinity]);
    const got = await evaluate('out[i] = portableTanh(x[i]);', x);
    expect(bitMismatches(x, got, portableTanh)).toEqual([]);
    let worst = 0;
    for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]) && x[i] !== 0) worst = Math.max(worst, ulps(got[i], Math.tanh(x[i])));
    expect(worst).toBeLessThanOrEqual(1.5);
    expect(worst).toBeGreaterThan(0.5);
    expect(Array.from(got.subarray(-4))).toEqual([1, 1, -1, 1]);
  });

  it('pixels4 gives bytePixel\'s bits for every byte, each in its lane, within 2 ulp of its larger term of x/255 · scale + shift', async () => {
    const [scale, shift] = [1 / 0.3081, -0.1307 / 0.3081];
    // Bytes 0..255 as floats in, each packed into lane (x mod 4) of a word (the others 255, to catch a mixed-up lane).
    const bytes = Float32Array.from({ length: 256 }, (_, i) => i);
    const read = `${pixels4Read({ pixelScale: scale, pixelShift: shift })}`;
    const got = await evaluate('let b = u32(x[i]); let lane = b % 4u; let word = (0xffffffffu & ~(255u << (8u * lane))) | (b << (8u * lane)); out[i] = pixels4(word)[lane];', bytes, read);
    expect(bitMismatches(bytes, got, (b) => bytePixel(b, scale, shift))).toEqual([]);
    // Two roundings (the product, the sum) and scale/255's own: near x/255 = 0.1307 the terms cancel, so the bound
    // is in units of the larger term, not of the result.
    for (let b = 0; b < 256; b++) {
      const larger = Math.max((b / 255) * scale, Math.abs(shift));
      expect(ulps(got[b] - ((b / 255) * scale + shift) + larger, larger), `byte ${b}`).toBeLessThanOrEqual(2);
    }
  });
});
