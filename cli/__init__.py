"""The `sleuth` command line (typer): `sleuth search`, `sleuth fetch`, `sleuth index ...`."""

from cli.app import app, main

__all__ = ["app", "main"]
