"""How results look in a terminal (rich) and as JSON."""

import json
import sys
from collections.abc import Sequence

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tools import Page
from tools.search import IngestReport, SearchHit

out = Console(highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """One line on stderr; no markup, no traceback."""
    print(f"sleuth: {message}", file=sys.stderr)


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
        print(f"  skipped {reason}", file=sys.stderr)
    if len(report.skipped) > 20:
        print(f"  … and {len(report.skipped) - 20} more skipped", file=sys.stderr)


def stats(s: dict) -> None:
    out.print(f"{s['documents']:,} documents from {s['source_files']} file(s), {s['characters']:,} characters")
    out.print(f"[dim]{escape(s['path'])} ({s['bytes_on_disk'] / 1e6:.1f} MB)[/]")
