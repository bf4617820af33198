import os
import subprocess
import sys

import pytest

from tests.pageserver import PageServer
from tools.netguard import AddressPolicy

# Tests opt in to loopback only: the page server lives there, and every other non-public
# address stays blocked, so a redirect to a private address is still refused.
LOOPBACK = AddressPolicy(allowed_networks=("127.0.0.0/8",))


@pytest.fixture(scope="session")
def server():
    s = PageServer().start()
    yield s
    s.stop()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh data dir and no user config, for code that reads settings."""
    monkeypatch.setenv("SLEUTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SLEUTH_CONFIG", str(tmp_path / "config.toml"))
    return tmp_path / "data"


@pytest.fixture
def sleuth(data_dir):
    """Runs the real `sleuth` command (`python -m cli`) in a fresh data dir, as a user would."""

    def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
        )
    return run


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The single `sleuth: ...` line a user error must produce on stderr (and no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sleuth: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]
