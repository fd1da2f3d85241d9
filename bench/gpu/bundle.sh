#!/usr/bin/env bash
# Packs what bench/gpu (and bench:westpa on the node's CPUs) needs onto a GPU
# node that has no network: the node binary, the production node_modules,
# dist/, the addon and westream-synthetic as built here, and the OpenMM,
# OpenMM-CUDA, mdtraj, wheel and packaging wheels for the node's Python. westream's Python
# package is built there from this checkout (needs a C/C++ compiler and Python.h).
#
#   bench/gpu/bundle.sh [--python 3.12] [--cuda 13] [--out bench/gpu/bundle]
#   # copy the checkout (with the bundle) to the GPU node, then there:
#   bench/gpu/bundle/run.sh [bench/gpu/run.sh options]
#   bench/gpu/bundle/run.sh westpa [bench/westpa/run.mjs options, e.g. --parts 1,3 --results westpa-16-cores]
#
# The wheels go into that Python's own site-packages (--no-deps): the CUDA
# plugin finds libcudart/libnvrtc/libcufft of the matching CUDA major in the
# nvidia-* packages beside it (e.g. a PyTorch cu13x install), or on LD_LIBRARY_PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
py=3.12 cuda=13 out=$root/bench/gpu/bundle
while (($#)); do
  case $1 in
    --python) py=$2; shift 2 ;;
    --cuda) cuda=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench/gpu/bundle.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$root"
[[ -f build/Release/westream.node && -f dist/bundle/westream.cjs ]] || { echo "bench/gpu/bundle.sh: run npm ci first (no dist/ or addon)" >&2; exit 2; }
pin() { grep -i "^$1==" python/requirements.txt | cut -d= -f3; }
openmm=$(pin openmm)
rm -rf "$out" && mkdir -p "$out/wheels"
echo "wheels: openmm $openmm, openmm-cuda-$cuda, mdtraj, wheel and packaging for CPython $py"
platforms=()
for n in 17 24 27 28 31 34 35 39; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version "$py" \
  --implementation cp "${platforms[@]}" -d "$out/wheels" "openmm==$openmm" "openmm-cuda-$cuda==$openmm" "mdtraj==$(pin mdtraj)" "wheel==$(pin wheel)" "packaging==$(pin packaging)"
echo "node $(node --version), production node_modules, dist/, addon, westream-synthetic"
xz -T0 -6 -c "$(command -v node)" > "$out/node.xz"
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
cp package.json package-lock.json "$tmp/"
(cd "$tmp" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
tar -C "$tmp" -cJf "$out/node_modules.tar.xz" node_modules
tar -cJf "$out/build.tar.xz" dist build/Release/westream.node build/Release/westream-synthetic build/Release/westream-watchdog build/Release/libwestream.so*
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the GPU node: unpack this bundle into the checkout, install the wheels and
# westream's Python package into python3 (or WESTREAM_PYTHON), run bench/gpu
# (or, with `westpa` first, bench/westpa/run.mjs on the node's CPUs).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
py=${WESTREAM_PYTHON:-$(command -v python3)}
cd "$root"
if ! command -v node >/dev/null || (( $(node -p 'process.versions.node.split(".")[0]') < 20 )); then
  mkdir -p "$here/bin" && xz -dc "$here/node.xz" > "$here/bin/node" && chmod +x "$here/bin/node"
  export PATH=$here/bin:$PATH
fi
[[ -d node_modules ]] || tar -xJf "$here/node_modules.tar.xz"
tar -xJf "$here/build.tar.xz"
"$py" -m pip install -q --no-index --no-deps --no-compile --disable-pip-version-check "$here"/wheels/*.whl
# westream._openmm (StreamForce, the `force` mode) compiles against the OpenMM just installed (needs g++);
# without it the reporter modes still run.
if ! WESTREAM_OPENMM=1 "$py" -m pip install -q --no-index --no-deps --no-build-isolation --disable-pip-version-check ./python; then
  echo "westream's OpenMM extension did not build (above); installing without it: the bench leaves out the force mode" >&2
  WESTREAM_OPENMM=0 "$py" -m pip install -q --no-index --no-deps --no-build-isolation --disable-pip-version-check ./python
fi
export WESTREAM_PYTHON=$py PYTHONUNBUFFERED=1
# Pre-flight: the node's facts (OpenMM platforms and why CUDA would not load, the channel); the bench says the rest.
node bin/westream.cjs doctor --python "$py" 2>&1 || echo "westream doctor found problems (above); running the benchmark anyway"
node bin/westream.cjs bench --atoms 25000 2>&1 || echo "westream bench failed (above); running the benchmark anyway"
if [[ ${1:-} == westpa ]]; then shift; exec node bench/westpa/run.mjs "$@"; fi
exec bench/gpu/run.sh "$@"
RUN
chmod +x "$out/run.sh"
du -sh "$out"
