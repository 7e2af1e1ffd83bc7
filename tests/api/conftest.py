"""Fixtures for API tests: a node on a fresh database with one user per nation x clearance."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from orbitwatch.api import create_app
from orbitwatch.api.testing import AsgiClient, node_settings
from orbitwatch.settings import Settings
from orbitwatch.sharing import identity
from orbitwatch.sharing.principal import Principal
from orbitwatch.sharing.testing import all_principals
from orbitwatch.store.engine import open_engine


@dataclass
class Node:
    engine: object
    client: AsgiClient
    tokens: dict[str, str]  # username -> token
    principals: list[Principal]

    def headers(self, p: Principal | str) -> dict[str, str]:
        name = p if isinstance(p, str) else p.username
        if name == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def make_settings(**kw) -> Settings:
    return node_settings(**kw)


def seed_principals(engine, principals: list[Principal]) -> dict[str, str]:
    tokens = {}
    for p in principals:
        if p.is_anonymous:
            continue
        identity.create_user(engine, p.username, nation=p.nation, organisation=p.organisation,
                             clearance=p.clearance, roles=tuple(p.roles))
        tokens[p.username], _ = identity.issue_token(engine, p.username)
    return tokens


@pytest.fixture
def node(db_url):
    engine = open_engine(db_url)
    principals = all_principals()
    principals.append(Principal("admin", "USA", "SECRET", roles=frozenset({"admin", "analyst"})))
    tokens = seed_principals(engine, principals)
    app = create_app(make_settings(), engine)
    client = AsgiClient(app)
    try:
        yield Node(engine, client, tokens, principals)
    finally:
        client.close()
        engine.dispose()
