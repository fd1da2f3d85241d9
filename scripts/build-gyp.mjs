// Builds the addon with node-gyp from binding.gyp into build-gyp/, using the
// running Node's own headers (no download), and prints the addon's path.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build-gyp');
fs.mkdirSync(out, { recursive: true });
for (const entry of ['binding.gyp', 'native', 'include']) {
  fs.rmSync(path.join(out, entry), { recursive: true, force: true });
  fs.cpSync(path.join(root, entry), path.join(out, entry), { recursive: true });
}
const modules = path.join(out, 'node_modules');
if (!fs.existsSync(modules)) fs.symlinkSync(path.join(root, 'node_modules'), modules);

const nodedir = path.resolve(process.execPath, '..', '..');
const gyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
execFileSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], {
  cwd: out,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const addon = path.join(out, 'build', 'Release', 'westream.node');
if (!fs.existsSync(addon)) throw new Error(`node-gyp finished but ${addon} is missing`);
console.log(addon);
