// The `webgpu-mlp/vite` entry: Vite plugins for pages that train with webgpu-mlp.
export { mnist, type MnistPluginOptions } from './mnistPlugin.js';
