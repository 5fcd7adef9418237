// The weights of the best epoch so far, kept in a GPU buffer beside the parameters (a copy, no readback),
// for early stopping and for restoring the best validation epoch at the end of fit.
import { storageBuffer } from '../gpu/buffers.js';
import type { MlpParameters } from './mlp.js';

export class BestWeights {
  private readonly copy: GPUBuffer;

  constructor(private readonly parameters: MlpParameters) {
    this.copy = storageBuffer(parameters.device, parameters.params.size, 'best params');
  }

  keep(): void {
    this.copyBetween(this.parameters.params, this.copy);
  }

  restore(): void {
    this.copyBetween(this.copy, this.parameters.params);
  }

  private copyBetween(from: GPUBuffer, to: GPUBuffer): void {
    const encoder = this.parameters.device.createCommandEncoder();
    encoder.copyBufferToBuffer(from, 0, to, 0, from.size);
    this.parameters.device.queue.submit([encoder.finish()]);
  }

  destroy(): void {
    this.copy.destroy();
  }
}
