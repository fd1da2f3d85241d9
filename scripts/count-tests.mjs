// Adds up the results of every suite scripts/test.sh ran and prints one
// closing line, "tests: N passed, M failed"; exits 1 if anything failed.
import fs from 'node:fs';
import path from 'node:path';

const [dir, ...failedSuites] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const read = (f) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : undefined);

for (const f of ['vitest.json', 'vitest-gyp.json']) {
  const text = read(f);
  if (!text) continue;
  const r = JSON.parse(text);
  passed += r.numPassedTests;
  failed += r.numFailedTests;
}
const junit = read('pytest.xml');
if (junit) {
  const m = /<testsuite [^>]*errors="(\d+)" failures="(\d+)" skipped="(\d+)" tests="(\d+)"/.exec(junit);
  if (m) {
    const bad = Number(m[1]) + Number(m[2]);
    passed += Number(m[4]) - bad - Number(m[3]);
    failed += bad;
  }
}
const native = read('native.log');
if (native) {
  // One GoogleTest summary per test binary (channel/formats/kernels, openmm).
  for (const m of native.matchAll(/\[\s*PASSED\s*\]\s*(\d+) tests?/g)) passed += Number(m[1]);
  for (const f of native.matchAll(/\[\s*FAILED\s*\]\s*(\d+) tests?, listed below/g)) failed += Number(f[1]);
}
const fuzz = read('fuzz.log');
if (fuzz) {
  const m = /^fuzz: (\d+) passed, (\d+) failed$/m.exec(fuzz);
  if (m) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
}
for (const s of failedSuites) console.log(`suite failed: ${s}`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || failedSuites.length > 0 ? 1 : 0);
