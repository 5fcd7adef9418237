// LAVAPIPE_VARIANTS as they were at 416a542 (before the side-by-side comparisons of this folder).
// Engine modules from ROOT (default: this checkout), loaded at run time: any checkout can be measured.
const root = (await import('node:path')).resolve(process.env.ROOT ?? process.cwd());
const { DEFAULT_VARIANTS } = await import(`${root}/src/gpu/variants.ts`);
const register = (form: MatmulForm, vec4: boolean, tileRows: number, tileCols: number, extra: Partial<MatmulCandidate> = {}): MatmulCandidate =>
  ({ form, vec4, tileRows, tileCols, workgroupSize: 64, ...extra });
export const OLD: VariantChoices = {
  ...DEFAULT_VARIANTS,
  matmul: { ...DEFAULT_VARIANTS.matmul, tn: [register('tn', true, 8, 8, { workgroupSize: 128, when: { minOutputs: 1 << 16 } }), register('tn', false, 8, 4)] },
  matmulByShape: { 'nn 8192×16×200': register('nn', true, 4, 4), 'nn 128×128×256': register('nn', false, 8, 4) },
};
