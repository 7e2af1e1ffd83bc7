"""Options and helpers shared by every command group."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: ORBITWATCH_DATABASE_URL, "
                                                          "else the SQLite file under ./var/).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def emit_json(obj: Any) -> None:
    """One JSON document (or line) on stdout."""
    sys.stdout.write(json.dumps(obj, default=str) + "\n")
