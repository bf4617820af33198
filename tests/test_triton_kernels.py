"""Runs the Triton kernel checks (tests/triton_kernels_check.py) in Triton's CPU interpreter, in
a child process: TRITON_INTERPRET must be set before triton is imported, and must not leak into
the engine tests of this session."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_triton_kernels_match_the_torch_references_in_the_interpreter():
    pytest.importorskip("triton")
    check = Path(__file__).with_name("triton_kernels_check.py")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(check)],
                            env={**os.environ, "TRITON_INTERPRET": "1"}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout
