// A short, stable digest of generated WGSL: what keys the autotune cache and what a checkpoint records of the
// kernels that trained it, so a change to any kernel's code (not a hand-kept version number) invalidates both.
// 64 bits of FNV-1a (two 32-bit lanes with different offsets), as 16 hex digits; not cryptographic.
export function codeHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 ^ 0x5bd1e995) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
