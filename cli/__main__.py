"""`python -m cli` runs the `sleuth` command."""

from cli.app import main

main()
