"""Settings precedence: flags > SLEUTH_* environment > config file > defaults."""

import re

import pytest

from agents import Settings, SettingsError


def test_defaults_put_data_in_the_data_dir_from_the_environment(data_dir):
    s = Settings.load()
    assert s.data_dir == data_dir and s.corpus_path == data_dir / "corpus.db"
    assert s.search_backend == "auto" and s.allow_private is False


def test_flags_beat_environment_beat_config_file(data_dir, tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text('max_results = 7\nsearch_backend = "local"\nread_timeout = 3.5\n')
    s = Settings.load()
    assert (s.max_results, s.search_backend, s.read_timeout) == (7, "local", 3.5)
    monkeypatch.setenv("SLEUTH_MAX_RESULTS", "9")
    assert Settings.load().max_results == 9
    s = Settings.load(max_results=3, search_backend=None)  # a flag left unset does not override
    assert (s.max_results, s.search_backend) == (3, "local")


@pytest.mark.parametrize(
    "config, env, message",
    [
        ("max_results = 0\n", {}, "Invalid setting max_results"),
        ("", {"SLEUTH_SEARCH_BACKEND": "bing"}, "Invalid setting search_backend"),
        ("colour = 'blue'\n", {}, "Invalid setting colour"),
        ("max_results = [\n", {}, "config file"),
    ],
)
def test_bad_values_are_one_clear_error(data_dir, tmp_path, monkeypatch, config, env, message):
    (tmp_path / "config.toml").write_text(config)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError, match=message):
        Settings.load()


def test_the_engine_computes_in_bf16_only_where_the_hardware_does(monkeypatch):
    """On an AVX2-only CPU vLLM emulates bf16 (a 1,503-token prompt 4.2x slower than in float32, README), so sleuth runs float32 there."""
    from attention_runtime import engine

    config = engine.EngineConfig(model="m")
    monkeypatch.setattr(engine, "cpu_flags", lambda: {"avx2", "fma"})
    assert (config.resolved("cpu").dtype, config.resolved("cpu").kv_cache_bytes) == ("float32", 2 << 30)
    monkeypatch.setattr(engine, "cpu_flags", lambda: {"avx2", "avx512f", "amx_bf16"})
    assert (config.resolved("cpu").dtype, config.resolved("cpu").kv_cache_bytes) == ("bfloat16", 1 << 30)
    assert config.resolved("gpu").dtype == "bfloat16"
    assert engine.EngineConfig(model="m", dtype="bfloat16", kv_cache_bytes=5).resolved("cpu").kv_cache_bytes == 5


def test_sleuth_serve_gives_vllm_the_arguments_the_in_process_engine_uses():
    """`sleuth serve` and the in-process engine start vLLM from one set of engine arguments: the
    flags serve passes parse, in vLLM's own parser, back to those arguments."""
    pytest.importorskip("vllm", reason="the engine extra is not installed")
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    from attention_runtime import EngineConfig
    from attention_runtime.engine import vllm_flags

    for build in ("cpu", "gpu"):
        arguments = EngineConfig("/models/m", max_num_seqs=5, seed=3).vllm_arguments(build)
        parsed = vars(make_arg_parser(FlexibleArgumentParser()).parse_args(vllm_flags(arguments)))
        for key, value in arguments.items():
            got = parsed[key]
            got = vars(got) if key == "structured_outputs_config" else got
            assert {k: got[k] for k in value} == value if isinstance(value, dict) else got == value, key


def test_the_evidence_budget_fits_the_context(data_dir):
    assert Settings.load().context_tokens == 500
    assert Settings.load(context_tokens=30232).context_tokens == 30232  # the most a 32k context holds
    with pytest.raises(SettingsError, match="^--context 30233 does not fit .* use at most 30232"):
        Settings.load(context_tokens=30233)
    short = Settings.load(max_model_len=1536)  # the default budget shrinks to fit a short context
    assert short.context_tokens == short.max_context < 500


def test_a_budget_too_large_is_named_where_the_user_wrote_it(data_dir, tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text("context_tokens = 40000\n")
    with pytest.raises(SettingsError, match="^context_tokens = 40000 in " + re.escape(str(tmp_path / "config.toml")) + " does not fit") as e:
        Settings.load()
    assert not e.value.from_flag
    monkeypatch.setenv("SLEUTH_CONTEXT_TOKENS", "35000")  # the environment wins over the file
    with pytest.raises(SettingsError, match="^SLEUTH_CONTEXT_TOKENS=35000 does not fit"):
        Settings.load()
