"""Fixtures for API tests: a node on a fresh database with one user per nation x clearance."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from orbitwatch.api import create_app
from orbitwatch.settings import Settings
from orbitwatch.sharing import identity
from orbitwatch.sharing.principal import Principal
from orbitwatch.sharing.testing import all_principals
from orbitwatch.store.engine import open_engine


class AsgiClient:
    """A synchronous face over ``httpx.AsyncClient(ASGITransport)`` on one private event loop.

    Cheaper per request than Starlette's TestClient (no portal thread hop per call), which matters for
    the thousands of requests of the authorisation matrix.
    """

    def __init__(self, app):
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node")

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kw))

    def get(self, url: str, **kw) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw) -> httpx.Response:
        return self.request("POST", url, **kw)

    def delete(self, url: str, **kw) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    @property
    def cookies(self):
        return self._client.cookies

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self.app.state.node.audit_buffer.close()
        self._loop.close()


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
    base = dict(environment="test", rate_limit_per_minute=10_000_000, public_access=True,
                secret_key="test-secret-key-for-the-audit-chain")
    base.update(kw)
    return Settings(**base)


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
