#!/usr/bin/env node
// Thin entry point: everything lives in dist/cli (compiled from src/cli).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`westream: ${err?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
