// Opening a WebGPU device, the same way in the browser (navigator.gpu) and in Node (the `webgpu` package).
import { RunFailure } from '../errors.js';

/** What an adapter is, from its GPUAdapterInfo: what picks the engine's default kernel variants and keys autotuning. */
export interface AdapterDescription {
  /** The vendor ('nvidia', 'google'), or 'unknown' when the implementation does not say. */
  vendor: string;
  /** The GPU family ('hopper', 'swiftshader'), or 'unknown'. */
  architecture: string;
  /** The device name or ID; empty when not given. */
  device: string;
  /** The driver's description of the adapter; empty when not given. */
  description: string;
  /** A software (CPU) adapter: reported so, or named SwiftShader, llvmpipe or lavapipe. */
  isFallbackAdapter: boolean;
}

/** A device opened by openDevice (openBrowserDevice, openNodeDevice), with the adapter it runs on. */
export interface OpenedDevice {
  /** The adapter the device was requested from. */
  adapter: GPUAdapter;
  /** The device, its limits raised to the adapter's (unless default limits were asked for). */
  device: GPUDevice;
  /** The adapter, described. */
  adapterInfo: AdapterDescription;
  /** Present when the adapter offers it; used by the benchmark for kernel timings. */
  hasTimestampQuery: boolean;
}

/** The limits this engine raises to the adapter's maximum: big layers need big storage bindings. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
] as const;

/** An adapter's description from its `info`, with empty fields filled in and software adapters recognized by name. */
export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  // `isFallbackAdapter` moved from GPUAdapter to GPUAdapterInfo; read whichever the implementation has.
  const legacyFallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const infoFallback = (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const looksSoftware = /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.description} ${info.device}`);
  return {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    device: info.device || '',
    description: info.description || '',
    isFallbackAdapter: Boolean(infoFallback ?? legacyFallback ?? looksSoftware) || looksSoftware,
  };
}

/** Whether an adapter is Mesa's lavapipe (Dawn: vendor 'mesa', device 'llvmpipe-…'), the faster software adapter. */
export function isLavapipe(d: AdapterDescription): boolean {
  return /llvmpipe|lavapipe/i.test(`${d.device} ${d.description}`);
}

/** One line for logs: 'vendor / architecture / device', marked when it is a software fallback adapter. */
export function formatAdapter(d: AdapterDescription): string {
  const name = [d.vendor, d.architecture, d.device || d.description].filter(Boolean).join(' / ');
  return `${name}${d.isFallbackAdapter ? ' (fallback adapter, software)' : ''}`;
}

/** The adapter each device was opened on, as openDevice (so openBrowserDevice and openNodeDevice) saw it. */
const adapters = new WeakMap<GPUDevice, AdapterDescription>();

/** Says which adapter a device runs on, for a device opened some other way (tests describe adapters with it). */
export function recordAdapter(device: GPUDevice, adapter: AdapterDescription): void {
  adapters.set(device, adapter);
}

/**
 * The adapter behind a device: what openDevice recorded, else the device's own `adapterInfo` where the
 * implementation has it, else undefined (then the engine assumes the software defaults).
 */
export function adapterOfDevice(device: GPUDevice): AdapterDescription | undefined {
  const recorded = adapters.get(device);
  if (recorded) return recorded;
  const info = (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info ? describeAdapter({ info } as GPUAdapter) : undefined;
}

/** Features asked for whenever the adapter has them: timestamps for benchmarks, f16 for precision 'f16'. */
export const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['timestamp-query', 'shader-f16'];

/** Options of openDevice: the limits and optional features to ask the adapter for. */
export interface OpenDeviceOptions {
  /** Ask for WebGPU's default limits (16 KiB of workgroup memory, 256 invocations), not the adapter's. */
  defaultLimits?: boolean;
  /** The optional features to ask for where the adapter has them (default OPTIONAL_FEATURES; [] for none). */
  features?: readonly GPUFeatureName[];
}

/**
 * A device on `adapter` with its limits raised to what the adapter offers (big buffers, 32 KiB+ of workgroup
 * memory), or, with `defaultLimits`, WebGPU's defaults, as many browsers and devices give them.
 */
export async function openDevice(adapter: GPUAdapter, options: OpenDeviceOptions = {}): Promise<OpenedDevice> {
  const requiredLimits: Record<string, number> = {};
  if (!options.defaultLimits) for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = (options.features ?? OPTIONAL_FEATURES).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') console.error(`WebGPU device lost: ${info.message}`);
  });
  const adapterInfo = describeAdapter(adapter);
  recordAdapter(device, adapterInfo);
  return { adapter, device, adapterInfo, hasTimestampQuery: requiredFeatures.includes('timestamp-query') };
}

/** What a page says when navigator.gpu exists but gives no adapter: the likely causes, and where to look. */
export const NO_ADAPTER_HINT =
  'WebGPU is present but gave no adapter. Likely causes: the GPU or its driver is blocklisted (chrome://gpu lists ' +
  "WebGPU's status and why), hardware acceleration is off in the browser's settings, or WebGPU is behind a flag " +
  'on this platform (chrome://flags/#enable-unsafe-webgpu in Chrome on Linux; dom.webgpu.enabled in Firefox).';

/** Browser entry: navigator.gpu, with a message that says what to do when WebGPU is missing. */
export async function openBrowserDevice(): Promise<OpenedDevice> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new RunFailure(
      'WebGPU is not available in this browser. Use a recent Chrome, Edge or Firefox (or Safari 26+), ' +
        'served over https or from localhost.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new RunFailure(NO_ADAPTER_HINT);
  return openDevice(adapter);
}

