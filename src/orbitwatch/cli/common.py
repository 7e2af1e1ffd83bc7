"""Options and helpers shared by every command group."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
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


#: An element-set catalogue is "current" when its newest epoch is within this many days of now.
CURRENT_DAYS = 3.0


def default_start(newest: datetime, now: datetime | None = None) -> tuple[datetime, str | None]:
    """The default window start of ``screen`` and ``detect proximity``: now when the data is current,
    else the newest epoch (an archived catalogue screens its own week), with the warning to print."""
    now = now or datetime.now(UTC)
    if abs((now - newest).total_seconds()) <= CURRENT_DAYS * 86400.0:
        return now.replace(microsecond=0), None
    return newest, (f"newest element set epoch {newest:%Y-%m-%dT%H:%M:%SZ} is more than {CURRENT_DAYS:g} days "
                    f"from now: the window starts at that epoch (use --start to choose)")
