# Environment for this WESTPA simulation: source it before init.sh / run.sh.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The westream checkout (this example lives in its examples/ folder).
repo=${WESTREAM_HOME:-$(cd "$here/../.." && pwd)}
export WEST_SIM_ROOT=${WEST_SIM_ROOT:-$here}
export SIM_NAME=$(basename "$WEST_SIM_ROOT")
export WESTREAM_PYTHON=${WESTREAM_PYTHON:-$repo/.venv/bin/python}
export PATH="$repo/bin:$repo/.venv/bin:$PATH"
