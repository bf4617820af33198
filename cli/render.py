"""How results look in a terminal (rich) and as JSON."""

import json
import sys
from collections.abc import Sequence

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli import terminal
from tools import Page
from tools.search import IngestReport, SearchHit

out = Console(highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """One line on stderr; no markup, no traceback."""
    terminal.line(f"sleuth: {message}")


def as_json(value: BaseModel | Sequence[BaseModel] | dict) -> None:
    if isinstance(value, BaseModel):
        data = value.model_dump(mode="json")
    elif isinstance(value, dict):
        data = value
    else:
        data = [v.model_dump(mode="json") for v in value]
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def hits(results: list[SearchHit]) -> None:
    table = Table(show_header=True, header_style="bold", expand=True, show_lines=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("result", ratio=1)
    for hit in results:
        table.add_row(
            str(hit.rank),
            f"[bold]{escape(hit.title or hit.url)}[/]\n[cyan]{escape(hit.url)}[/]\n{escape(hit.snippet)}",
        )
    out.print(table)


def page(p: Page) -> None:
    out.print(f"[bold]{escape(p.title or p.final_url)}[/]")
    facts = [p.final_url, f"HTTP {p.status}" if p.status else None, p.content_type,
             p.published.date().isoformat() if p.published else None, p.author, p.language,
             "truncated" if p.truncated else None]
    out.print("[dim]" + escape(" · ".join(f for f in facts if f)) + "[/]\n")
    out.print(escape(p.text))


def ingest(report: IngestReport) -> None:
    out.print(
        f"Indexed {report.files} file(s) in {report.seconds:.1f} s: {report.added} added, "
        f"{report.updated} updated, {report.unchanged} unchanged, {len(report.skipped)} skipped."
    )
    for reason in report.skipped[:20]:
        terminal.line(f"  skipped {reason}")
    if len(report.skipped) > 20:
        terminal.line(f"  … and {len(report.skipped) - 20} more skipped")
    for reason in report.cut:
        terminal.line(f"  cut {reason}")


def stats(s: dict) -> None:
    out.print(f"{s['documents']:,} documents from {s['source_files']} file(s), {s['characters']:,} characters")
    out.print(f"[dim]{escape(s['path'])} ({s['bytes_on_disk'] / 1e6:.1f} MB)[/]")


def memory_stats(s: dict) -> None:
    out.print(f"{s['pages']:,} pages in {s['chunks']:,} chunks ({s['tokens']:,} tokens), "
              f"{s['threads']} threads, {s['turns']} turns, {s['runs']} runs")
    if s["truncated_pages"]:
        out.print(f"{s['truncated_pages']} pages were cut to the per-page chunk limit")
    out.print(f"[dim]{escape(s['path'])} ({s['bytes_on_disk'] / 1e6:.1f} MB)[/]")


def chunks(items: list) -> None:
    table = Table(show_header=True, header_style="bold", expand=True, show_lines=True)
    table.add_column("page", justify="right", width=6)
    table.add_column("chunk", ratio=1)
    for c in items:
        table.add_row(f"{c.page_id}#{c.ordinal}", f"[bold]{escape(c.title or c.url)}[/] [cyan]{escape(c.url)}[/]\n{escape(c.text)}")
    out.print(table)


def stored_page(page, items: list) -> None:
    out.print(f"[bold]{escape(page.title or page.url)}[/]  (page {page.id})")
    facts = [page.url, f"fetched {page.fetched_at:%Y-%m-%d %H:%M} UTC", page.backend,
             f"{page.n_chunks} chunks" + (" (cut to the limit)" if page.truncated else "")]
    out.print("[dim]" + escape(" · ".join(f for f in facts if f)) + "[/]\n")
    table = Table(show_header=True, header_style="bold", expand=True)
    for name in ("#", "chars", "tokens", "summary"):
        table.add_column(name, ratio=1 if name == "summary" else None)
    for c in items:
        table.add_row(str(c.ordinal), f"{c.start}-{c.end}", str(c.tokens), escape(c.summary))
    out.print(table)


def threads(items: list) -> None:
    table = Table(show_header=True, header_style="bold", expand=True)
    for name in ("thread", "turns", "runs", "first question", "updated"):
        table.add_column(name)
    for t in items:
        table.add_row(escape(t.id), str(t.turns), str(t.runs), escape(t.first_question or ""), f"{t.updated_at:%Y-%m-%d %H:%M}")
    out.print(table)
