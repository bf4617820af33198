"""The thresholds of `--attention sparse` on a CPU are this machine's: measured once with vLLM's own
kernel (`attention_runtime.calibration`), kept in the data folder, and followed by the router."""

import json

import pytest

from attention_runtime import calibration
from attention_runtime.calibration import Timings, calibrated, decide
from attention_runtime.params import BreakEven, FlexPrefillParams
from attention_runtime.routing import AttentionSettings, route

# Per-call timings measured by `bench/attention_paged.py` on three machines (README, "Sparse attention"),
# and what the engine showed there: the prefill call of 2,048 new tokens at 16,384, decode calls at 16k,
# 24k and 32k of context, in seconds (at 24k on the Xeon, the README gives the ratio alone).
INTEL_AMX = Timings(0.181, 0.200, 0.409, 0.23, {16384: (0.74e-3, 5.88e-3), 24576: (1.0e-3, 4.57e-3),
                                              32768: (1.86e-3, 6.89e-3)})
INTEL_VEC = Timings(0.902, 0.208, 0.441, 0.23, {16384: (1.55e-3, 2.87e-3), 24576: (1.0e-3, 0.84e-3),
                                              32768: (5.13e-3, 3.47e-3)})
EPYC_VEC_BF16 = Timings(0.510, 0.151, 0.487, 0.23, {16384: (1.19e-3, 1.26e-3), 24576: (1.75e-3, 1.40e-3),
                                                  32768: (2.40e-3, 1.50e-3)})


def test_the_measured_races_give_the_thresholds_the_engine_bore_out():
    # AMX: both paths slower at every length, through the engine too.
    assert decide("amx", INTEL_AMX) == BreakEven("amx", None, None, 0.2)
    # `vec` on the Xeon: the block-sparse attention breaks even near 0.9 of the blocks, so the model's
    # half-dense patterns pay for the index search; HCAM wins from 24k.
    assert decide("vec-bf16", INTEL_VEC) == BreakEven("vec-bf16", 16384, 24576, 0.89)
    # `vec` in bf16 on the AMD EPYC: break-even 0.35, below the model's density, so FlexPrefill made the
    # engine's prefill 1.16x to 1.30x slower there; HCAM won from 24k.
    assert decide("vec-bf16", EPYC_VEC_BF16) == BreakEven("vec-bf16", None, 24576, 0.35)


def test_a_path_that_loses_at_a_longer_context_is_not_taken_below_it():
    t = Timings(1.0, 0.5, 2.0, 0.2, {16384: (1e-3, 0.5e-3), 24576: (1e-3, 1.2e-3), 32768: (1e-3, 0.5e-3)})
    assert decide("vec", t).decode_from == 32768
    assert decide("vec", Timings(1.0, 0.5, 2.0, 0.2, {32768: (1e-3, 0.95e-3)})).decode_from is None  # within noise


def test_thresholds_measured_here_route_before_the_table_and_after_the_user():
    here = BreakEven("vec-bf16", 16384, None, 0.6)
    sparse = AttentionSettings(mode="sparse", measured=here)
    assert route(sparse, 2048, 16384, "vec-bf16") == "flexprefill" and route(sparse, 2048, 16383, "vec-bf16") == "dense"
    assert route(sparse, 1, 32768, "vec-bf16") == "dense"  # HCAM never, on this machine
    assert route(sparse, 2048, 32768, "amx") == "dense"  # measured for another kernel: the table's
    chosen = AttentionSettings(mode="sparse", prefill_from=4096, decode_from=4096, measured=here)
    assert route(chosen, 2048, 4096, "vec-bf16") == "flexprefill" and route(chosen, 1, 4096, "vec-bf16") == "hcam"
    assert AttentionSettings.from_dict(sparse.to_dict()) == sparse  # it travels to vLLM's workers


@pytest.fixture
def small(monkeypatch):
    """Measured at short lengths, so that a real measurement takes seconds."""
    monkeypatch.setattr(calibration, "PREFILL_AT", 1024)
    monkeypatch.setattr(calibration, "PREFILL_NEW", 512)
    monkeypatch.setattr(calibration, "DECODE_AT", (1024, 2048))
    monkeypatch.setattr(calibration, "REPEAT", 1)


def test_a_sparse_engine_is_measured_once_per_machine_and_kept(model_dir, tmp_path, small, monkeypatch):
    store = tmp_path / "calibration.json"
    got = calibrated(AttentionSettings(mode="sparse"), str(model_dir), "bfloat16", 32768, store)
    kernel = calibration.kernel_name(calibration._isa("bfloat16", calibration.attention_shape(str(model_dir))[2]),
                                     "bfloat16")
    assert got.measured is not None and got.measured.kernel == kernel
    assert got.flexprefill.dense_above == got.measured.dense_above  # the patterns follow this machine's break-even
    kept = json.loads(store.read_text())
    (entry,) = kept.values()
    assert entry["thresholds"] == {"kernel": kernel, "prefill_from": got.measured.prefill_from,
                                   "decode_from": got.measured.decode_from, "dense_above": got.measured.dense_above}
    assert entry["timings"]["vllm_prefill"] > 0 and set(entry["timings"]["decode"]) == {"1024", "2048"}

    def measure_again(*args):
        raise AssertionError("measured again on a machine already measured")

    monkeypatch.setattr(calibration, "measure", measure_again)
    assert calibrated(AttentionSettings(mode="sparse"), str(model_dir), "bfloat16", 32768, store) == got


def test_what_the_user_set_is_kept_and_nothing_is_measured_without_need(model_dir, tmp_path, small, monkeypatch):
    store = tmp_path / "calibration.json"
    monkeypatch.setattr(calibration, "measure", lambda *args: pytest.fail("measured without need"))
    chosen = AttentionSettings(mode="sparse", prefill_from=4096, decode_from=8192,
                               flexprefill=FlexPrefillParams(dense_above=0.5))
    assert calibrated(chosen, str(model_dir), "bfloat16", 32768, store) == chosen
    hcam = AttentionSettings(mode="hcam", decode_from=8192)
    assert calibrated(hcam, str(model_dir), "bfloat16", 32768, store) == hcam
    for settings, model, context in ((AttentionSettings(), str(model_dir), 32768),  # dense
                                     (AttentionSettings(mode="sparse"), str(model_dir), 1000),  # a short context
                                     (AttentionSettings(mode="sparse"), "Qwen/not-a-folder", 32768)):
        assert calibrated(settings, model, "bfloat16", context, store) == settings
    assert not store.exists()


def test_an_unreadable_store_is_measured_again_and_replaced(model_dir, tmp_path, small):
    store = tmp_path / "calibration.json"
    store.write_text("{not json")
    got = calibrated(AttentionSettings(mode="hcam"), str(model_dir), "bfloat16", 32768, store)
    assert got.measured is not None and got.flexprefill.dense_above is None  # HCAM alone: FlexPrefill's left as it was
    (key,) = json.loads(store.read_text())
    store.write_text(json.dumps({key: {"thresholds": {"kernel": "vec", "prefill": 1}}}))  # edited by hand, wrongly
    assert calibrated(AttentionSettings(mode="hcam"), str(model_dir), "bfloat16", 32768, store).measured is not None
    assert json.loads(store.read_text())[key]["thresholds"]["kernel"] == got.measured.kernel


def test_sleuth_attention_sparse_takes_this_machines_thresholds(model_dir, data_dir, tmp_path, small, monkeypatch):
    from agents import Settings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    config = Settings.load(attention="sparse").engine_config(str(model_dir))
    assert config.attention.measured is not None
    assert (tmp_path / "cache" / "sleuth" / "calibration.json").is_file()  # sleuth's cache folder, not its data
    assert Settings.load().engine_config(str(model_dir)).attention.measured is None  # dense: nothing to measure


def test_a_cache_folder_that_cannot_be_written_costs_the_kept_timings_only(model_dir, tmp_path, small, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    got = calibrated(AttentionSettings(mode="sparse"), str(model_dir), "bfloat16", 32768, blocked / "calibration.json")
    assert got.measured is not None  # measured and used all the same
    assert "could not keep this machine's sparse attention timings" in caplog.text
