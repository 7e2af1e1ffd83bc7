"""The ``orbitwatch`` command-line program (typer + rich).

Each command group lives in its own module with a ``register(app)`` function; this module only
assembles them, so ``orbitwatch --help`` stays fast and each group can be read alone.
"""

from __future__ import annotations

import sys

import typer

from orbitwatch.cli import (
    catalog_cmds,
    conjunction_cmds,
    demo_cmds,
    detect_cmds,
    exercise_cmds,
    norms_cmds,
    pc_cmds,
    resilience_cmds,
    sharing_cmds,
    simulate_cmds,
)
from orbitwatch.errors import OrbitwatchError

app = typer.Typer(
    name="orbitwatch",
    help="Coalition space domain awareness: shared marked catalogue, threats, effects, exercises.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



@app.callback()
def _root() -> None:
    """Coalition space domain awareness: shared marked catalogue, threats, effects, exercises."""


_GROUPS = (catalog_cmds, conjunction_cmds, pc_cmds, detect_cmds, norms_cmds, simulate_cmds,
           resilience_cmds, sharing_cmds, exercise_cmds, demo_cmds)
for _module in _GROUPS:
    _module.register(app)


@app.command()
def version() -> None:
    """Print the orbitwatch version."""
    from orbitwatch import __version__

    print(__version__)


def main() -> None:
    try:
        app()
    except OrbitwatchError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
