#!/usr/bin/env bash
# Sets everything up, then streams a real OpenMM simulation (Na+ Cl- in water)
# through the channel into the built-in print pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/westream.js run -- .venv/bin/python examples/openmm-nacl/stream_nacl.py --steps 1000 --interval 50
