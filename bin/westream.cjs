#!/usr/bin/env node
// Thin entry point: the command line is compiled from src/cli and bundled
// into dist/bundle (scripts/bundle-cli.mjs). CommonJS on purpose: Node 20
// starts a CommonJS entry without compiling its ES module loader.
// Node >= 22.1 keeps compiled code between runs (a no-op on Node 20).
require('node:module').enableCompileCache?.();
const { main } = require('../dist/bundle/westream.cjs');

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`westream: ${err?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
