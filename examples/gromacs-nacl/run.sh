#!/usr/bin/env bash
# Runs WESTPA (w_run) with the processes work manager.
set -euo pipefail
cd "$(dirname "$0")"
source ./env.sh
w_run --work-manager processes --n-workers "${WORKERS:-2}" "$@"
