// The declarations for TypeScript 6 and later (exports condition "types@>=6.0"): the same files without the
// reference to @webgpu/types, because from TypeScript 6 on lib.dom declares WebGPU itself and both together are
// duplicate declarations (hundreds of errors under skipLibCheck: false).
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const from = 'dist/types';
const to = 'dist/types-ts6';
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
const reference = /^\/\/\/ <reference types="@webgpu\/types" preserve="true" \/>\n/m;
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.d.ts')) {
      const text = readFileSync(path, 'utf8');
      if (reference.test(text)) writeFileSync(path, text.replace(reference, ''));
    }
  }
};
walk(to);
