// The package has no "main" field, so its one file is imported by path.
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** Template tag: `#if ${cond}` … `#elif ${cond}` … `#else` … `#endif` choose WGSL text at build time. */
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
