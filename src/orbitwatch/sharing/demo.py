"""Demo identities for ``make run``: one analyst per partner nation, an admin and exercise control."""

from __future__ import annotations

from sqlalchemy import Engine

from orbitwatch.errors import NotFound
from orbitwatch.markings import NATIONS
from orbitwatch.sharing.audit import AuditLog
from orbitwatch.sharing.identity import create_user, get_user, issue_token

DEMO_CLEARANCE = "SECRET"


def demo_username(nation: str) -> str:
    return f"analyst-{nation.lower()}"


def seed_demo_users(engine: Engine, *, audit: AuditLog | None = None, admin_nation: str = "USA",
                    token_days: float = 30.0) -> dict[str, str]:
    """Create (if missing) the demo users and return a fresh token for each.

    Keys are the ten nation trigraphs (user ``analyst-<nation>``: analyst + operator, cleared SECRET),
    ``"admin"`` (``admin``, of ``admin_nation``) and ``"exercise-control"`` (``excon``). Safe to rerun:
    existing users are kept and only get new tokens.
    """
    wanted: list[tuple[str, str, str, tuple[str, ...]]] = [
        (n, demo_username(n), n, ("analyst", "operator")) for n in NATIONS
    ]
    wanted.append(("admin", "admin", admin_nation, ("admin", "analyst")))
    wanted.append(("exercise-control", "excon", admin_nation, ("exercise-control", "analyst")))
    tokens: dict[str, str] = {}
    for key, username, nation, roles in wanted:
        with engine.connect() as conn:
            try:
                get_user(conn, username)
                exists = True
            except NotFound:
                exists = False
        if not exists:
            create_user(engine, username, nation=nation, clearance=DEMO_CLEARANCE, roles=roles,
                        display_name=f"Demo {key}", audit=audit, actor="demo")
        token, _ = issue_token(engine, username, name="demo", days=token_days, audit=audit, actor="demo")
        tokens[key] = token
    return tokens
