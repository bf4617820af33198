import asyncio
import os
import subprocess
import sys

import pytest

from attention_runtime import DEFAULT, Engine, EngineConfig, entry, prepare
from attention_runtime.params import FlexPrefillParams, HCAMParams
from attention_runtime.routing import AttentionSettings
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


# The real engine with the default catalogue model. The first run converts the model into pytest's
# cache folder (about 2 minutes); each engine starts once per session (about 1 minute on 2 cores).
# The sparse engine routes from 1,024 tokens (the default is 4,096): the sparse paths are the same, and
# prompts a quarter as long keep the sparse tests to about a minute and a half on 2 cores.
SPARSE_FROM = 1024
LONGEST_PROMPT = SPARSE_FROM + 64  # the engines serve the sparse-attention tests' long prompts too
# bfloat16 whatever the CPU: the two session engines live together beside a third in a subprocess, and a
# float32 engine of the default model peaked at 11.4 GB (bf16: about 7 GB) on this 24 GiB machine.
DTYPE = "bfloat16"


@pytest.fixture(scope="session")
def model_dir(request):
    return prepare(entry(DEFAULT), request.config.cache.mkdir("sleuth-model") / DEFAULT)


@pytest.fixture(scope="session")
def probe(tmp_path_factory):
    path = tmp_path_factory.mktemp("probe") / "attention.jsonl"
    os.environ["SLEUTH_ATTENTION_PROBE"] = str(path)  # inherited by vLLM's worker processes
    return path


def _session_engine(config: EngineConfig):
    loop = asyncio.new_event_loop()
    e = loop.run_until_complete(Engine.shared(config))
    yield e, loop
    e.shutdown()
    pending = asyncio.all_tasks(loop)  # vLLM's output handler: stop it before the loop closes
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()


@pytest.fixture(scope="session")
def engine(model_dir, probe):
    """The engine as sleuth starts it by default: dense attention."""
    yield from _session_engine(EngineConfig(model=str(model_dir), max_model_len=LONGEST_PROMPT, dtype=DTYPE))


@pytest.fixture(scope="session")
def sparse_engine(model_dir, probe):
    """`--attention sparse` from SPARSE_FROM tokens, with every FlexPrefill pattern used (by default a
    pattern keeping over the kernel's break-even (`params.DENSE_ABOVE`) is left to vLLM's kernel, and at these
    lengths every pattern does, bench/attention_engine.py) and HCAM scaled to the shorter context: the 8 best 32-token chunks
    besides the first 64 and the last 256 tokens (the defaults, 64 chunks and 1,024 tokens, would
    attend to everything below 3,100 tokens)."""
    settings = AttentionSettings(mode="sparse", prefill_from=SPARSE_FROM, decode_from=SPARSE_FROM,
                                 flexprefill=FlexPrefillParams(dense_above=1.0), hcam=HCAMParams(top_k=8, local=256))
    yield from _session_engine(EngineConfig(model=str(model_dir), max_model_len=LONGEST_PROMPT, dtype=DTYPE,
                                                  attention=settings))


def on_loop(engine_and_loop):
    """Run coroutines (several: concurrently) on an engine's event loop, where vLLM's output
    handler lives; returns the result, or the list of results."""
    _, loop = engine_and_loop

    def run(*coros):
        async def together():
            return await asyncio.gather(*coros)

        results = loop.run_until_complete(together())
        return results[0] if len(coros) == 1 else results

    return run


@pytest.fixture
def run(engine):
    return on_loop(engine)
