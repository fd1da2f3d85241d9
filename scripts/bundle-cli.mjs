// Bundles the command line (dist/cli/main.js, compiled by tsc) into a few
// CommonJS files in dist/bundle/: one loaded at start-up, one per part that
// a command loads when it runs. Every WESTPA segment starts a westream
// process, and Node 20 pays for each file it resolves and for its ES module
// loader (bench:westpa, "process start-up"); the library (dist/index.js)
// stays as tsc writes it. dist/bundle/modules.json lists the modules in each
// file, so test/cli-startup.test.ts can check what a command loads.
import fs from 'node:fs';
import path from 'node:path';
import { rolldown } from 'rolldown';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'dist', 'bundle'); // two levels below the root, as dist/core/native.js is

const bundle = await rolldown({
  cwd: root,
  input: { westream: path.join(root, 'dist', 'cli', 'main.js') },
  platform: 'node',
  logLevel: 'warn',
  // rxjs's and yaml's ES modules: the CommonJS builds that their 'node' exports name cannot be tree-shaken.
  resolve: {
    alias: {
      rxjs: path.join(root, 'node_modules', 'rxjs', 'dist', 'esm', 'index.js'),
      yaml: path.join(root, 'node_modules', 'yaml', 'browser', 'index.js'),
    },
  },
});
fs.rmSync(out, { recursive: true, force: true });
const { output } = await bundle.write({ dir: out, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs' });
await bundle.close();

const rel = (id) => path.relative(root, id.replace(/^\0/, ''));
const modules = Object.fromEntries(output.filter((o) => o.type === 'chunk').map((c) => [c.fileName, c.moduleIds.map(rel)]));
fs.writeFileSync(path.join(out, 'modules.json'), JSON.stringify(modules, null, 1) + '\n');
