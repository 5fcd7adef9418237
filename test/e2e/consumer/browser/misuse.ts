// Must not compile: a GPUQueue is not a GPUDevice (it would, were the WebGPU types `any`).
import { Model, openBrowserDevice } from 'webgpu-mlp';

const { device } = await openBrowserDevice();
new Model(device.queue);
