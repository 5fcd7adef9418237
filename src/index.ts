/// <reference types="@webgpu/types" preserve="true" />
// Public API (browser and Node): models, devices, data. Node-only helpers live in src/node/index.ts.
export {
  Model, type CallOptions, type EpochInfo, type Evaluation, type FitOptions, type ModelOptions, type PredictOptions, type StepInfo,
} from './engine/model.js';
export type { PredictClassesOptions } from './engine/model.js';
export { LOSSES, type LossKind } from './data/loss.js';
export type { ModelState, TrainingState } from './engine/modelState.js';
export type { LoadReport, LoadWeightsOptions } from './engine/loadWeights.js';
export type { LayerSummary, ModelSummary } from './engine/summary.js';
export type { TrainingRecipe } from './engine/recipe.js';
export {
  loadModel, downloadModel, saveModelToIndexedDB, loadModelFromIndexedDB, listModelsInIndexedDB, deleteModelFromIndexedDB, type StoredModelInfo,
} from './browser/modelStore.js';
export type { ModelSource } from './data/modelSource.js';
export type { LoadOptions } from './engine/model.js';
export { openBrowserDevice, openDevice, describeAdapter, formatAdapter, type AdapterDescription, type OpenedDevice } from './gpu/device.js';
export { OPTIMIZER_KINDS, type OptimizerConfig, type OptimizerKind } from './engine/optimizer.js';
export { DEFAULT_VARIANTS, type VariantChoices } from './gpu/variants.js';
export { DEFAULT_LAYERS, type NetworkConfig } from './engine/mlp.js';
export { LAYER_KINDS, LAYER_MODULES, parseLayers, formatLayers, type LayerSpec, type LayerFlags } from './layers/index.js';
export { architecture, defaultInputShape, freezeLayers, MNIST_IMAGE, type Architecture, type PlacedLayer } from './layers/architecture.js';
export type { LayerModule, ParameterDecl, StateDecl, LayerDoc, LayerExample, OnnxAttribute, OnnxLayerGraph, TorchModule } from './layers/layer.js';
export type { Shape, InputShape } from './layers/shape.js';
export { activation, type ActivationDefinition, type ActivationArgument, type ActivationSpec } from './layers/activation.js';
export { SCHEDULE_KINDS, parseSchedule, formatSchedule, scheduledLearningRate, type ScheduleConfig, type ScheduleKind } from './engine/schedule.js';
export {
  DEFAULT_EXPERIMENT, checkExperiment, experimentName, sweepConfigs, sampleConfigs, planConfigs, type ExperimentConfig, type SweepAxes,
} from './experiments/config.js';
export { runExperiment, type ExperimentResult, type ExperimentData } from './experiments/run.js';
export { rankResults, resultRows, resultsCsv, resultsJson } from './experiments/table.js';
export { parseIdx, imagesAndLabels, type IdxTensor } from './data/idx.js';
export {
  MNIST_FILES, MNIST_FEATURES, MNIST_CLASSES, MNIST_MEAN, MNIST_STD, parseMnist, splitMnist, type MnistBytes, type MnistSplits, type SplitOptions,
} from './data/mnist.js';
export {
  checkDataset, sliceDataset, pickDataset, inputKindOf, type Dataset, type FloatDataset, type AnyDataset, type InputKind, type Inputs, type Labels,
} from './data/dataset.js';
export { featureStandardization, standardizeFeatures, type FeatureStandardization } from './data/standardize.js';
export { datasetFromArrays, chwToHwc, type ArrayDatasetOptions, type ImageLayout, type LabelsInput } from './data/arrays.js';
export { splitDataset, type DatasetSplitOptions, type DatasetSplits } from './data/split.js';
export { rgbaToRow, type ImageShape } from './data/pixels.js';
export { imageToRow, datasetFromImages, type PageImage, type ImageDatasetOptions } from './data/pageImages.js';
export { csvDataset, parseCsvRecords, type CsvDataset, type CsvOptions, type CsvColumn, type CsvRecord } from './data/csv.js';
export { irisDataset, irisSplits, IRIS_FEATURES, IRIS_CLASSES, type IrisSplitOptions } from './data/iris.js';
export { fetchMnistBytes, type FetchMnistOptions } from './data/mnistFetch.js';
export {
  saveCheckpoint, loadCheckpoint, encodeModelState, decodeModelState, modelOptionsFromCheckpoint, checkpointInput, type SaveOptions,
} from './engine/checkpoint.js';
export { encodeSafetensors, decodeSafetensors, type Tensor, type SafetensorsFile } from './data/safetensors.js';
export { toMnistDigit, type GrayImage } from './data/digitImage.js';
export { defaultVariantsFor } from './gpu/variants.js';
export { PRECISIONS, halfPrecisionVariants, type Precision } from './gpu/precision.js';
export { autotuneVariants, localStorageTuneStore, trainingMatmuls, type TuneStore, type AutotuneOptions } from './tuning/autotune.js';
export {
  EngineError, BadInputError, MisuseError, RunFailure, DeviceLimitError, MissingFeatureError, GpuError, DivergedError, DeviceLostError, exitCodeOf,
} from './errors.js';
export { liveBuffers } from './gpu/buffers.js';
// Types the API above refers to (layer specs, options, kernel variants, layer-module parts), exported so that
// each has its page in the API reference.
export type { LinearSpec } from './layers/linear.js';
export type { Conv2dSpec } from './layers/conv2d.js';
export type { MaxPool2dSpec } from './layers/maxpool2d.js';
export type { AvgPool2dSpec } from './layers/avgpool2d.js';
export type { PoolSpec } from './layers/pooling.js';
export type { LeakyReluArguments } from './layers/leakyrelu.js';
export type { FlattenSpec } from './layers/flatten.js';
export type { BatchnormSpec } from './layers/batchnorm.js';
export type { DropoutSpec } from './layers/dropout.js';
export type { LayerBuffers, LayerPlace, LayerReferenceStep } from './layers/layer.js';
export type { PlacedParameter, PlacedState } from './layers/architecture.js';
export type { Targets } from './data/dataset.js';
export type { Augmentation } from './augment/spec.js';
export type { OnnxOptions } from './export/onnx.js';
export type { OpenDeviceOptions } from './gpu/device.js';
export type { CheckpointTarget } from './engine/checkpoint.js';
export type { ScheduleClock } from './engine/schedule.js';
export type { ExperimentHooks } from './experiments/run.js';
export type { TunedChoice } from './tuning/autotune.js';
export type { MatmulCandidate, ShapeRange } from './gpu/variants.js';
export type { MatmulForm, MatmulShape, MatmulVariant, MatmulEpilogue, MatmulTiling } from '../shaders/matmul.js';
export type { BiasGradVariant } from '../shaders/biasGrad.js';
export type { OptimizerVariant } from '../shaders/optimizer.js';
export type { SoftmaxVariant } from '../shaders/softmaxCrossEntropy.js';
export type { Dispatch, DispatchCost, BufferSlice } from './gpu/dispatch.js';
export type { FusedActivation } from './gpu/ops.js';
export type { ElementwiseOp } from '../shaders/elementwise.js';
export type { Random } from './gpu/random.js';
