#!/usr/bin/env bash
# Install sleuth and its test tools into ./.venv (needs Python 3.11 or newer).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup.sh: sleuth needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 and run again." >&2
    exit 1
fi
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "sleuth is installed in .venv: run 'source .venv/bin/activate', then 'sleuth --help'."
