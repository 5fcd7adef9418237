// Node entry: everything in the public API plus Dawn device selection and MNIST from disk.
export * from '../index.js';
export { openNodeDevice, releaseNodeGpu, ADAPTER_CHOICES, type AdapterChoice, type NodeDevice, type NodeDeviceOptions } from './gpu.js';
export { loadMnist, defaultMnistDir, readIdxBytes } from './mnistFiles.js';
export { readCsvDataset, readIdxDataset, MAX_CSV_BYTES, type IdxDataset } from './dataFiles.js';
export { saveModelFile, openModelFile, readModelFile, type ModelFile } from './modelFiles.js';
import { readModelFilesWith } from '../data/modelSource.js';
import { readModelBytes } from './modelFiles.js';

// Model.load reads file paths in Node.
readModelFilesWith(readModelBytes);
export { fileTuneStore, defaultTuneFile } from './tuneStore.js';
