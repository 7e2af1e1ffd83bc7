"""The ``orbitwatch`` command-line program (typer + rich).

Each command group lives in its own module with a ``register(app)`` function; this module only
assembles them, so ``orbitwatch --help`` stays fast and each group can be read alone.

``orbitwatch NAME ...`` imports and registers only the group that defines ``NAME``: typer builds every
registered command's parameters before it runs one (a tenth of a second for all the groups, most of a
short command's start-up), and each group's imports cost more. Anything else (``--help``, no command, a
name not in :data:`_COMMAND_GROUPS` or no longer in the group it names) gets the whole program, so the
table can only ever make a command slower to start, never change what it does. ``from orbitwatch.cli
import app`` is the whole program too.
"""

from __future__ import annotations

import importlib
import sys

import typer

from orbitwatch.errors import OrbitwatchError

#: The command group modules, in ``--help`` order.
_GROUP_MODULES = ("catalog_cmds", "conjunction_cmds", "pc_cmds", "detect_cmds", "norms_cmds", "simulate_cmds",
                  "resilience_cmds", "sharing_cmds", "exercise_cmds", "demo_cmds")
#: Top-level command -> the group module that registers it (start-up speed only; see the module docstring).
_COMMAND_GROUPS = {
    "ingest": "catalog_cmds", "catalog": "catalog_cmds", "screen": "conjunction_cmds",
    "conjunctions": "conjunction_cmds", "pc": "pc_cmds", "detect": "detect_cmds", "alerts": "detect_cmds",
    "norms": "norms_cmds", "simulate": "simulate_cmds", "resilience": "resilience_cmds", "serve": "sharing_cmds",
    "users": "sharing_cmds", "audit": "sharing_cmds", "release": "sharing_cmds", "exercise": "exercise_cmds",
    "demo": "demo_cmds",
}


def _new_app() -> typer.Typer:
    root = typer.Typer(
        name="orbitwatch",
        help="Coalition space domain awareness: shared marked catalogue, threats, effects, exercises.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    root.callback()(_root)
    return root


def _root() -> None:
    """Coalition space domain awareness: shared marked catalogue, threats, effects, exercises."""


def version() -> None:
    """Print the orbitwatch version."""
    from orbitwatch import __version__

    print(__version__)


def _build(modules: tuple[str, ...]) -> typer.Typer:
    root = _new_app()
    for name in modules:
        importlib.import_module(f"orbitwatch.cli.{name}").register(root)
    root.command()(version)
    return root


def _names(root: typer.Typer) -> set[str]:
    names = {c.name or c.callback.__name__.replace("_", "-") for c in root.registered_commands if c.callback}
    return names | {g.name for g in root.registered_groups if g.name}


def _app_for(argv: list[str]) -> typer.Typer:
    """The program with only the group that defines ``argv[0]``, or the whole program."""
    name = argv[0] if argv else None
    if name == "version":
        return _build(())
    module = _COMMAND_GROUPS.get(name) if name else None
    if module is not None:
        root = _build((module,))
        if name in _names(root):
            return root
    return _build(_GROUP_MODULES)


def __getattr__(name: str):
    if name == "app":  # the whole program (tests drive it with typer's CliRunner)
        root = _build(_GROUP_MODULES)
        globals()["app"] = root
        return root
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    try:
        _app_for(sys.argv[1:])()
    except OrbitwatchError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
