#!/usr/bin/env bash
# Sets everything up, then runs every test suite: a type check of src and
# test, TypeScript (vitest, against the cmake-js addon), the channel tests
# again against the node-gyp build of the same sources, Python (pytest), and
# the native tests under ASan+UBSan.
# Runs all suites, then fails if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1
out=build-test
rm -rf "$out" && mkdir -p "$out"
failed_suites=()
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "type check (tsc: src and test)"
npx tsc -p tsconfig.test.json || failed_suites+=(tsc)

step "TypeScript tests (vitest, cmake-js addon)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/vitest.json" || failed_suites+=(vitest)

step "channel tests against the node-gyp build (binding.gyp)"
if gyp_addon=$(node scripts/build-gyp.mjs); then
  WESTREAM_ADDON="$gyp_addon" npx vitest run test/channel.test.ts \
    --reporter=default --reporter=json --outputFile.json="$out/vitest-gyp.json" || failed_suites+=(vitest-gyp)
else
  failed_suites+=(node-gyp-build)
fi

step "Python tests (pytest)"
.venv/bin/python -m pytest python/tests -q --junitxml="$out/pytest.xml" || failed_suites+=(pytest)

step "native tests under ASan + UBSan (GoogleTest)"
bash scripts/test-native.sh 2>&1 | tee "$out/native.log"
[ "${PIPESTATUS[0]}" = 0 ] || failed_suites+=(native)

step "decoder fuzzing, short run (libFuzzer under ASan + UBSan; npm run fuzz for 60 s each)"
bash test/fuzz/run.sh "${WESTREAM_FUZZ_SECONDS:-5}" 2>&1 | tee "$out/fuzz.log"
[ "${PIPESTATUS[0]}" = 0 ] || failed_suites+=(fuzz)

# One closing line over all suites.
node scripts/count-tests.mjs "$out" "${failed_suites[@]}"
