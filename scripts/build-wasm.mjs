// Assembles src/render/kernels.wat into dist/render/kernels.wasm (run by
// `npm run build`, `prepare` and the tests' globalSetup, after tsc).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import initWabt from 'wabt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'render', 'kernels.wat');
const target = join(root, 'dist', 'render', 'kernels.wasm');
const wabt = await initWabt();
const features = { simd: true };
const mod = wabt.parseWat('kernels.wat', readFileSync(source, 'utf8'), features);
mod.resolveNames();
mod.validate();
// The function names stay in (a name section of ~300 bytes) so that CPU profiles say which kernel ran.
const { buffer } = mod.toBinary({ log: false, write_debug_names: true });
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, buffer);
mod.destroy();
