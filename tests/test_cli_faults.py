"""What a user can do to sleuth's data folder: make it a file, make it read-only, damage a database,
export into a missing folder. Each is one `sleuth: ...` line, a non-zero exit, and nothing changed."""

import ctypes
import os
import subprocess
import sys

import pytest

from tests.conftest import one_line_error
from tools.search import SAMPLE_CORPUS

READERS = [("index", "stats"), ("search", "--backend", "local", "bourbon"), ("memory", "stats"), ("history",)]
WRITERS = [("index", "add", str(SAMPLE_CORPUS)), ("memory", "import", str(SAMPLE_CORPUS))]

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def _without_root_override() -> None:
    """Run as root would without its power to ignore file permissions (in the child, before exec):
    CI runs as root, for whom a read-only folder is not read-only."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_data_dir_that_is_a_file(sleuth, data_dir):
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.write_text("my notes\n")
    for args in READERS + WRITERS:
        result = sleuth(*args)
        assert result.returncode == 1, args
        assert one_line_error(result) == f"sleuth: {data_dir} is a file, not a folder: choose another --data-dir."
    assert data_dir.read_text() == "my notes\n"


def test_a_read_only_data_dir_is_told_from_a_damaged_one(sleuth, data_dir):
    assert sleuth(*WRITERS[0]).returncode == 0 and sleuth(*WRITERS[1]).returncode == 0
    before = _snapshot(data_dir)
    for path in data_dir.iterdir():
        path.chmod(0o444)
    data_dir.chmod(0o555)
    try:
        for args in READERS + WRITERS:
            result = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True,
                                    timeout=120, preexec_fn=_without_root_override if os.geteuid() == 0 else None)
            assert result.returncode == 1, args
            line = one_line_error(result)
            assert "is read-only" in line and "damaged" not in line, line
    finally:
        data_dir.chmod(0o755)
    assert _snapshot(data_dir) == before


@pytest.mark.parametrize("damage", ["garbage", "middle"])
def test_a_damaged_corpus_is_one_line_and_kept(sleuth, data_dir, damage):
    assert sleuth(*WRITERS[0]).returncode == 0
    corpus = data_dir / "corpus.db"
    for side in data_dir.glob("corpus.db-*"):  # the -wal and -shm files go with the damage
        side.unlink()
    body = bytearray(corpus.read_bytes())
    if damage == "garbage":
        body = bytearray(os.urandom(len(body)))
    else:  # a valid header with its pages overwritten
        body[8192:] = b"\xff" * (len(body) - 8192)
    corpus.write_bytes(body)
    for args in [("index", "stats"), ("search", "--backend", "local", "bourbon"), WRITERS[0],
                 ("fetch", "sleuth://doc/musique:536a2d140cdd")]:
        result = sleuth(*args)
        assert result.returncode == 1, args
        line = one_line_error(result)
        assert f"{corpus} is damaged" in line and "read-only" not in line, line
    assert corpus.read_bytes() == body


def test_export_into_a_missing_folder_and_a_failed_export_keep_the_old_file(sleuth, data_dir, tmp_path):
    missing = tmp_path / "no" / "such" / "out.jsonl"
    result = sleuth("memory", "export", "--out", str(missing))
    assert result.returncode != 0 and str(missing.parent) in one_line_error(result)
    assert not missing.parent.exists()

    out = tmp_path / "out.jsonl"
    out.write_text("last week's export\n")
    data_dir.mkdir(parents=True)
    (data_dir / "memory.db").write_bytes(b"garbage" * 1000)
    result = sleuth("memory", "export", "--out", str(out))
    assert result.returncode == 1 and "damaged" in one_line_error(result)
    assert out.read_text() == "last week's export\n"
    assert list(tmp_path.glob(".out.jsonl*")) == []
