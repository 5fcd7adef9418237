// The consumer's own Vite config: MNIST beside the page through the package's plugin.
import { defineConfig } from 'vite';
import { mnist } from 'webgpu-mlp/vite';

export default defineConfig({ plugins: [mnist()] });
