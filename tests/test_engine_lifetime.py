"""However `sleuth ask` ends (Ctrl-C, SIGTERM, kill -9), the engine's processes end with it; and only
sleuth's own lines reach the terminal (the engine's go to the data folder's log, or to the terminal
with --verbose). A real `sleuth ask` with its own engine, stopped once the research has begun."""

import json
import os
import select
import signal
import subprocess
import sys
import time

import psutil
import pytest

pytestmark = pytest.mark.engine

QUESTION = "Which company makes Kentucky Tavern, and where is it based?"


def _ask_until_researching(model_dir, tmp_path, *flags: str) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """`sleuth [flags] ask --json --stream`, returned once its first event is printed, with its descendants."""
    from tools.search import SAMPLE_CORPUS

    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    (data / "models" / model_dir.name).symlink_to(model_dir)
    env = {**os.environ, "SLEUTH_DATA_DIR": str(data), "SLEUTH_CONFIG": str(tmp_path / "none.toml"),
           "SLEUTH_SERVE_URL": "http://127.0.0.1:9/v1"}  # its own engine, even beside a running `sleuth serve`
    subprocess.run([sys.executable, "-m", "cli", "index", "add", str(SAMPLE_CORPUS)], env=env, check=True,
                   capture_output=True)
    stderr = open(tmp_path / "stderr.txt", "w")  # a file, not a pipe: --verbose writes more than a pipe holds
    # sleuth starts with Ctrl-C's default action, as from a terminal, even when these tests run in a
    # background job, whose children inherit an ignored SIGINT: a handler (unlike SIG_IGN) is not
    # inherited across exec, so one is set while sleuth starts.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "cli", *flags, "ask", "--search", "local", "--json", "--stream",
                                 QUESTION], env=env, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    stderr.close()
    out, deadline = b"", time.monotonic() + 600
    while b"\n" not in out:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
        assert chunk, f"no event from sleuth ask (exit {proc.poll()}): {(tmp_path / 'stderr.txt').read_text()[-2000:]}"
        out += chunk
    assert "type" in json.loads(out.split(b"\n")[0])
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children, "the engine runs in processes of its own"
    return proc, children


def _all_ended(children: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The children still running after `timeout` seconds (a zombie has ended: only its entry is left)."""
    _, alive = psutil.wait_procs(children, timeout=timeout)
    return [p for p in alive if _status(p) != psutil.STATUS_ZOMBIE]


def _status(p: psutil.Process) -> str:
    try:
        return p.status()
    except psutil.NoSuchProcess:
        return psutil.STATUS_ZOMBIE


def _ended(proc: subprocess.Popen) -> int:
    code = proc.wait(timeout=120)
    proc.stdout.close()
    return code


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "sigkill"])
def test_the_engine_ends_with_sleuth_ask(model_dir, tmp_path, how):
    flags = ("--verbose",) if how == "sigkill" else ()
    proc, children = _ask_until_researching(model_dir, tmp_path, *flags)
    try:
        if how == "ctrl-c":
            # the engine is out of sleuth's process group: Ctrl-C reaches sleuth alone, which says so
            # (in the group, the engine core shut down first and sleuth's request failed with a traceback)
            engine = [c for c in children if c.name().startswith("VLLM::")]
            assert engine and all(os.getpgid(c.pid) != proc.pid for c in engine)
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends the foreground group on Ctrl-C
        else:
            proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        code = _ended(proc)
        still = _all_ended(children, timeout=60)
        assert not still, f"left running after {how}: {[(p.pid, p.name()) for p in still]}"
    finally:  # whatever the outcome, nothing of this run outlives the test
        for p in [proc, *children]:
            try:
                p.kill()
            except (ProcessLookupError, psutil.NoSuchProcess):
                pass
    stderr = (tmp_path / "stderr.txt").read_text()
    log = tmp_path / "data" / "logs" / "engine.log"
    if how == "ctrl-c":
        assert code == 130
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert lines and all(line.startswith("sleuth: ") for line in lines), stderr[-2000:]
        assert "stopped; the run is checkpointed" in stderr
        assert "sleuth engine: vLLM CPU build" in log.read_text()  # the engine's lines went to its log
    elif how == "sigterm":
        assert code == -signal.SIGTERM
    else:
        assert code == -signal.SIGKILL
        assert "sleuth engine: vLLM" in stderr and not log.exists()  # --verbose: the engine's lines on the terminal
