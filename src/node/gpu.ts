// Node: WebGPU through Dawn (npm `webgpu`). Picks the system Vulkan driver when it gives an adapter (a GPU, or a
// system-wide lavapipe), else Mesa's lavapipe where one is found (./lavapipe.ts), else the SwiftShader software
// driver that Debian's `chromium` package ships.
// Nothing happens at import: Dawn is loaded, and the environment prepared, by the first openNodeDevice.
import { BadInputError, RunFailure } from '../errors.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeAdapter, isLavapipe, openDevice, type OpenedDevice } from '../gpu/device.js';
import { userCacheFile } from './cacheFiles.js';
import { lavapipeIcdCandidates, lavapipeIdentity } from './lavapipe.js';
import { withNativeStderrSilenced } from './nativeStderr.js';
import { missingPeer, resolvePeerFile } from './peers.js';
import { onProcessEnd } from './processEnd.js';
import { cachedProbe, forgetProbe, type ProbeCache } from './vulkanProbe.js';

/**
 * Which Vulkan driver openNodeDevice takes: 'system' the system's, 'lavapipe' Mesa's lavapipe (software, fast),
 * 'swiftshader' the SwiftShader software driver, 'auto' the system's when it gives an adapter, else lavapipe
 * where it is found, else SwiftShader.
 */
export type AdapterChoice = 'auto' | 'system' | 'lavapipe' | 'swiftshader';
/** Every AdapterChoice, as the CLI's --adapter lists them. */
export const ADAPTER_CHOICES: readonly AdapterChoice[] = ['auto', 'system', 'lavapipe', 'swiftshader'];

export const SWIFTSHADER_ICD = process.env.SWIFTSHADER_ICD ?? '/usr/lib/chromium/vk_swiftshader_icd.json';

/** A device opened in Node through Dawn, with the driver it runs on. */
export interface NodeDevice extends OpenedDevice {
  /** Which driver was taken and why, in one line. */
  driverNote: string;
  /** Destroys the device (device.destroy()); its lost promise then resolves with reason 'destroyed'. */
  destroy(): void;
}

// Dawn shuts down when the object returned by create() is garbage-collected: every one made is kept (a process
// that opens a second device, to recover from a lost one or in a test, must not lose the first's).
const liveGpus = new Set<GPU>();

type Dawn = typeof import('webgpu');
let dawn: Promise<Dawn> | undefined;

/** Dawn's bindings, loaded once; the environment Vulkan reads is set up first. */
function loadDawn(): Promise<Dawn> {
  return (dawn ??= (async () => {
    // Vulkan's WSI layer complains on every start when XDG_RUNTIME_DIR is unset; compute needs none, so give it
    // a private, empty one, removed when the process exits.
    if (!process.env.XDG_RUNTIME_DIR) {
      const dir = mkdtempSync(join(tmpdir(), 'webgpu-xdg-'));
      process.env.XDG_RUNTIME_DIR = dir;
      onProcessEnd(() => rmSync(dir, { recursive: true, force: true }));
    }
    return import('webgpu').catch(missingPeer('webgpu', 'openNodeDevice'));
  })());
}

/**
 * Does the system's Vulkan driver give an adapter? Asked in a child process, because a failed probe makes
 * Dawn print a multi-line warning straight to stderr (from C++, and through a socket pair that cannot be kept
 * off, ./nativeStderr.ts) and loads the drivers into this process for nothing; the answer is remembered while
 * the drivers, GPU device nodes and Dawn build stay as they are (./vulkanProbe.ts).
 */
function systemDriverHasAdapter(options: { fresh?: boolean } = {}): boolean {
  const webgpuFile = resolvePeerFile('webgpu', undefined, 'openNodeDevice');
  return cachedProbe(() => probeDriver(webgpuFile), { ...systemProbeCache(), fresh: options.fresh });
}

/** What the system driver's remembered answer is keyed by besides the drivers: the Dawn build. */
export function systemProbeCache(): ProbeCache {
  return { extra: dawnBuildOf(resolvePeerFile('webgpu', undefined, 'openNodeDevice')) };
}

/** What identifies the Dawn build that answers: its native module (next to the package's entry), size and time. */
function dawnBuildOf(webgpuFile: string): string {
  const native = join(dirname(webgpuFile), 'dist', `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`, 'dawn.node');
  const file = existsSync(native) ? native : webgpuFile;
  const s = statSync(file);
  return `${file} ${s.size} ${s.mtimeMs}`;
}

/** Where the answer for the lavapipe manifest `icdFile` is remembered. */
const lavapipeProbeFile = (icdFile: string) => userCacheFile(`lavapipe-probe-${createHash('sha256').update(icdFile).digest('hex').slice(0, 12)}.json`);

/**
 * Does the lavapipe manifest `icdFile` give an adapter (Debian 12's own Mesa 22.3 does not)? Asked in a child
 * process and remembered per manifest, like the system driver's answer; `fresh` asks again whatever is remembered.
 */
function lavapipeHasAdapter(icdFile: string, fresh = false): boolean {
  const webgpuFile = resolvePeerFile('webgpu', undefined, 'openNodeDevice');
  const extra = `${lavapipeIdentity(icdFile)} | ${dawnBuildOf(webgpuFile)}`;
  return cachedProbe(() => probeDriver(webgpuFile, icdFile), { file: lavapipeProbeFile(icdFile), folders: [], extra, fresh });
}

/**
 * The first lavapipe manifest that gives Dawn an adapter, or undefined. `fresh` (--adapter lavapipe asks for it
 * by name) asks again whatever is remembered: a 'no' may predate a library installed since.
 */
export function findLavapipe(fresh = false): string | undefined {
  return lavapipeIcdCandidates().find((icd) => lavapipeHasAdapter(icd, fresh));
}

/**
 * The child's answer: true or false, or null when it gave none (it failed, or ran out of time). It asks the
 * system's drivers, or only `icdFile`'s when given.
 */
function probeDriver(webgpuFile: string, icdFile?: string): boolean | null {
  const webgpuUrl = pathToFileURL(webgpuFile).href;
  const script =
    `import { create } from ${JSON.stringify(webgpuUrl)};` +
    `const a = await create([]).requestAdapter();` +
    `process.stdout.write(a ? 'yes' : 'no'); process.exit(0);`;
  const env = { ...process.env };
  delete env.VK_ICD_FILENAMES;
  delete env.VK_DRIVER_FILES;
  if (icdFile) env.VK_ICD_FILENAMES = icdFile;
  const probe = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 30_000 });
  const answer = probe.status === 0 ? probe.stdout.trim() : '';
  return answer === 'yes' ? true : answer === 'no' ? false : null;
}

/**
 * An adapter from a new Dawn instance, on the driver manifest `icdFile` (else what the environment names). The
 * Vulkan loader reads VK_ICD_FILENAMES when the instance first lists adapters, in requestAdapter's synchronous
 * part: it is set for that call only, so the user's own setting is told apart later and child processes do not
 * inherit the engine's choice.
 */
async function requestAdapterWith(icdFile: string | undefined, toggles: string[]): Promise<GPUAdapter | null> {
  const { create, globals } = await loadDawn();
  Object.assign(globalThis, globals);
  const users = process.env.VK_ICD_FILENAMES;
  if (icdFile) process.env.VK_ICD_FILENAMES = icdFile;
  try {
    const gpu = create(toggles) as GPU;
    // Dawn prints its clamping of lavapipe's limits to stderr within this call, whoever asked (./nativeStderr.ts).
    const adapter = await withNativeStderrSilenced(() => gpu.requestAdapter({ powerPreference: 'high-performance' }));
    if (adapter) liveGpus.add(gpu);
    return adapter;
  } finally {
    if (users === undefined) delete process.env.VK_ICD_FILENAMES;
    else process.env.VK_ICD_FILENAMES = users;
  }
}

/** Options of openNodeDevice: robustness, limits, features and half precision. */
export interface NodeDeviceOptions {
  /**
   * Turn off Dawn's robust buffer access (the clamp it adds to every load and store). Faster (about 20 % per
   * training step on SwiftShader), and safe for this engine's kernels, which clamp every load and guard every
   * store themselves and are tested on odd shapes; off by default because it removes a safety net.
   */
  disableRobustness?: boolean;
  /** Ask for WebGPU's default limits (16 KiB of workgroup memory, 256 invocations), not the adapter's. */
  defaultLimits?: boolean;
  /** The optional features to ask for where the adapter has them (default: timestamp-query and shader-f16). */
  features?: readonly GPUFeatureName[];
  /**
   * Ask Dawn for half precision where the driver has it (the toggle vulkan_enable_f16_on_nvidia: NVIDIA's Vulkan
   * driver lists shader-f16 only with it), for models with precision 'f16'.
   */
  halfPrecision?: boolean;
}

/**
 * A WebGPU device in Node through Dawn (the `webgpu` peer package), on the driver `choice` picks, its limits
 * raised to the adapter's unless `options.defaultLimits`. Dawn is loaded on the first call.
 *
 * @example
 * ```ts
 * import { openNodeDevice } from 'webgpu-mlp/node';
 * const gpu = await openNodeDevice();            // 'auto': the system's GPU, else lavapipe, else SwiftShader
 * console.log(gpu.adapterInfo, gpu.driverNote);  // which adapter, and why
 * // … new Model(gpu.device, …) …
 * gpu.destroy();
 * ```
 */
export async function openNodeDevice(choice: AdapterChoice = 'auto', options: NodeDeviceOptions = {}): Promise<NodeDevice> {
  const features = [...(options.disableRobustness ? ['disable_robustness'] : []), ...(options.halfPrecision ? ['vulkan_enable_f16_on_nvidia'] : [])];
  const toggles = features.length ? [`enable-dawn-features=${features.join(',')}`] : [];
  if (!ADAPTER_CHOICES.includes(choice)) {
    throw new BadInputError(`unknown adapter '${choice}': expected one of ${ADAPTER_CHOICES.join(', ')}`, { flag: 'adapter', value: choice });
  }
  const { adapter, driverNote } = await requestChosenAdapter(choice, toggles);
  const opened = await openDevice(adapter, { defaultLimits: options.defaultLimits, features: options.features });
  return {
    ...opened,
    driverNote: driverNote + (options.disableRobustness ? '; robust buffer access off' : ''),
    destroy() {
      opened.device.destroy();
    },
  };
}

const SETUP_HINT = 'bash scripts/setup.sh fetches it on Debian 12; elsewhere install Mesa ≥ 24 (apt-get install mesa-vulkan-drivers)';

/** The adapter `choice` names, and why it was taken, in words. */
async function requestChosenAdapter(choice: AdapterChoice, toggles: string[]): Promise<{ adapter: GPUAdapter; driverNote: string }> {
  const forcedIcd = process.env.VK_ICD_FILENAMES;
  // Asking Dawn in this process for a driver that is not there prints its own multi-line warning first: probe
  // in a child process, as 'auto' does, and say it in one line.
  // Asked for by name, the system driver is asked afresh: a remembered 'no' may predate a driver or a permission.
  if (choice === 'system' && !forcedIcd && !systemDriverHasAdapter({ fresh: true })) {
    throw new RunFailure('the system Vulkan driver gave no WebGPU adapter (try --adapter lavapipe or --adapter swiftshader)');
  }
  let systemGone = false;
  if (choice === 'system' || (choice === 'auto' && (forcedIcd || systemDriverHasAdapter()))) {
    const adapter = await requestAdapterWith(undefined, toggles);
    const driver = forcedIcd ? `Vulkan driver from VK_ICD_FILENAMES=${forcedIcd}` : 'system Vulkan driver';
    if (adapter) return { adapter, driverNote: isLavapipe(describeAdapter(adapter)) ? `${driver}: lavapipe (software, Mesa)` : driver };
    if (choice === 'system' || forcedIcd) throw new RunFailure(`the ${driver} gave no WebGPU adapter (try --adapter lavapipe or --adapter swiftshader)`);
    // A remembered answer that no longer holds (a driver removed since): forget it, and take a software driver
    // now (a new Dawn instance reads VK_ICD_FILENAMES afresh, so this process can still switch).
    forgetProbe();
    systemGone = true;
  }
  const systemSaid = systemGone ? 'the system Vulkan driver no longer gives an adapter' : 'the system Vulkan driver gave no adapter';
  let lavapipeSaid = `no lavapipe was found (${SETUP_HINT})`;
  if (choice === 'lavapipe' || choice === 'auto') {
    const icd = findLavapipe(choice === 'lavapipe');
    if (icd) {
      const adapter = await requestAdapterWith(icd, toggles);
      if (adapter) {
        const why = choice === 'auto' ? `${systemSaid}; using lavapipe (software, Mesa)` : 'lavapipe (software, Mesa), as asked';
        return { adapter, driverNote: `${why} from ${icd}` };
      }
      // Its remembered 'yes' no longer holds: the next run asks again.
      forgetProbe({ file: lavapipeProbeFile(icd) });
      if (choice === 'lavapipe') throw new RunFailure(`lavapipe (${icd}) gave no WebGPU adapter when asked in this process (try --adapter swiftshader)`);
      lavapipeSaid = `lavapipe (${icd}) gave none`;
    } else if (choice === 'lavapipe') {
      throw new RunFailure(`no usable lavapipe (Mesa ≥ 24) found: ${SETUP_HINT}; or try --adapter swiftshader`);
    }
  }
  if (!existsSync(SWIFTSHADER_ICD)) {
    throw new RunFailure(
      `no WebGPU adapter: the system driver gave none, no lavapipe was found, and SwiftShader's ICD file ${SWIFTSHADER_ICD} is missing ` +
        `(install it with: apt-get install -y chromium libvulkan1)`,
    );
  }
  const adapter = await requestAdapterWith(SWIFTSHADER_ICD, toggles);
  if (!adapter) throw new RunFailure(`SwiftShader (${SWIFTSHADER_ICD}) gave no WebGPU adapter: is libvulkan1 installed?`);
  const driverNote =
    choice === 'auto'
      ? `${systemSaid} and ${lavapipeSaid}; using SwiftShader (software)`
      : 'SwiftShader (software), as asked';
  return { adapter, driverNote };
}

/** Lets the process exit: Dawn keeps Node alive while the GPU object is referenced. */
export function releaseNodeGpu(): void {
  liveGpus.clear();
}
