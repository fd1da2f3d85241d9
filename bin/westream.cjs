#!/usr/bin/env node
// Thin entry point: the command line is compiled from src/cli and bundled
// into dist/bundle (scripts/bundle-cli.mjs). CommonJS on purpose: Node 20
// starts a CommonJS entry without compiling its ES module loader.
// Node >= 22.1 keeps compiled code between runs (a no-op on Node 20).
require('node:module').enableCompileCache?.();
const bundle = require('node:path').join(__dirname, '..', 'dist', 'bundle', 'westream.cjs');
if (!require('node:fs').existsSync(bundle)) {
  process.stderr.write(`westream: ${bundle} is missing: build the checkout with \`npm ci\` or \`npm run build\`\n`);
  process.exit(70);
}
const { main } = require(bundle);

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`westream: ${err?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
