"""The `sleuth` command line. Each command is a short function whose signature is its help text."""

import asyncio
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from agents import AgentError, SettingsError
from agents.session import open_fetcher, search_backend
from agents.settings import Settings
from attention_runtime import AttentionRuntimeError
from memory import StoreError
from cli import ask_cmd, eval_cmd, memory_cmd, model_cmd, render, terminal
from tools import ToolError
from tools.datafile import describe_os_error
from tools.search import LocalIndex

app = typer.Typer(
    help="sleuth: research a question on the web or in your documents, with cited answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Manage the local corpus that `--backend local` searches.", no_args_is_help=True)
app.add_typer(index_app, name="index")
app.add_typer(memory_cmd.app, name="memory")
app.add_typer(model_cmd.app, name="model")
app.command()(model_cmd.serve)
app.command()(ask_cmd.ask)
app.command()(ask_cmd.history)
app.command()(ask_cmd.show)
app.command("eval")(eval_cmd.eval_cmd)

Backend = typer.Option("--backend", "-b", help="auto (web, falling back to local), duckduckgo or local.")
Json = typer.Option("--json", help="Print JSON instead of formatted text.")


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[Optional[Path], typer.Option(help="Where sleuth keeps its data (env SLEUTH_DATA_DIR).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the engine's own log lines (else in <data dir>/logs/engine.log).")] = False,
) -> None:
    ctx.obj = {"data_dir": data_dir}
    terminal.verbose = verbose
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "INFO" if verbose else "WARNING")


def _settings(ctx: typer.Context, **flags: object) -> Settings:
    return Settings.load(**ctx.obj, **flags)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to search for.")],
    backend: Annotated[Optional[str], Backend] = None,
    max_results: Annotated[Optional[int], typer.Option("--max-results", "-n", help="How many hits.")] = None,
    recency: Annotated[Optional[str], typer.Option(help="Only recent pages: day, week, month or year.")] = None,
    json: Annotated[bool, Json] = False,
) -> None:
    """Search the web or the local corpus and list the hits."""
    if not query.strip():
        raise typer.BadParameter("empty; give the words to search for.", param_hint="QUERY")
    if recency not in (None, "day", "week", "month", "year"):
        raise typer.BadParameter("must be day, week, month or year.", param_hint="--recency")
    s = _settings(ctx, search_backend=backend, max_results=max_results)
    results = asyncio.run(search_backend(s).search(query, max_results=s.max_results, recency=recency))
    if json:
        render.as_json(results)
    elif results:
        render.hits(results)
    else:
        render.error(f"no results for {query!r}.")


@app.command()
def fetch(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="An http(s) URL, or sleuth://doc/<id> from the local corpus.")],
    allow_private: Annotated[bool, typer.Option("--allow-private", help="Allow loopback and private addresses.")] = False,
    robots: Annotated[Optional[bool], typer.Option("--robots/--no-robots", help="Respect robots.txt.")] = None,
    json: Annotated[bool, Json] = False,
) -> None:
    """Fetch one page and print its main text."""
    s = _settings(ctx, allow_private=allow_private or None, respect_robots=robots)

    async def run():
        async with open_fetcher(s) as fetcher:
            return await fetcher.fetch(url)

    page = asyncio.run(run())
    if json:
        render.as_json(page)
    elif page.text:
        render.page(page)
    if not page.text:
        render.error(f"nothing readable at {url}: {(page.error or 'no text').rstrip('.')}.")
        raise typer.Exit(1)


@index_app.command("add")
def index_add(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="JSONL, Markdown, text or HTML files, or folders of them.")],
) -> None:
    """Add documents to the local corpus (adding the same files again changes nothing)."""
    s = _settings(ctx)
    index = LocalIndex(s.corpus_path, s.max_document_bytes)
    for path in paths:
        render.ingest(index.add(path))


@index_app.command("stats")
def index_stats(ctx: typer.Context, json: Annotated[bool, Json] = False) -> None:
    """Show what the local corpus holds."""
    index = LocalIndex(_settings(ctx).corpus_path)
    stats = index.stats()
    render.as_json(stats) if json else render.stats(stats)


INTERRUPTED = 130  # the exit status of a process ended by Ctrl-C (128 + SIGINT)


def main() -> None:
    """The console script: user errors end in one line on stderr and a non-zero exit."""
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")  # vLLM's default is stdout, the answer's
    terminal.route_logs()
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as e:  # usage errors: unknown flag, missing argument, bad value
        ctx = getattr(e, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        render.error(f"{e.format_message()}{hint}")
        sys.exit(e.exit_code)
    except AttentionRuntimeError as e:
        log = f"; the engine's log: {terminal.log_path}." if terminal.log_path else ""
        render.error(str(e).rstrip(".") + log if log else str(e))
        sys.exit(1)
    except SettingsError as e:  # a flag's value refused is a usage error; the file's or environment's is not
        render.error(str(e))
        sys.exit(2 if e.from_flag else 1)
    except (AgentError, ToolError, StoreError) as e:  # each package's base: the message is one sentence
        render.error(str(e))
        sys.exit(1)
    except OSError as e:  # the user's files and folders: missing, not writable, a full disk
        render.error(describe_os_error(e))
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C outside a command's body
        code = INTERRUPTED
    except Exception:  # a bug: its traceback belongs on the terminal, not in the engine's log
        if terminal.log_path is None:
            raise
        traceback.print_exc(file=terminal.err.file)
        sys.exit(1)
    if code == INTERRUPTED:  # the one place Ctrl-C is answered (typer turns it into this exit code)
        render.error(terminal.on_interrupt)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
