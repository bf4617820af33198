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
