// A page that imports only Model and predicts: what its bundle holds is the engine a page pays for up front.
import { Model } from 'webgpu-mlp';

const adapter = await navigator.gpu.requestAdapter();
const device = await adapter!.requestDevice();
const model = new Model(device, { layers: [{ kind: 'linear', outputs: 64 }, { kind: 'relu' }, { kind: 'linear', outputs: 10 }], seed: 1 });
console.log(await model.predict(new Float32Array(784), { count: 1 }));
