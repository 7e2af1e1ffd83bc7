"""Users, tokens (hashed, expiring, revocable), passwords and sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from orbitwatch.errors import AuthenticationError, MarkingError, NotFound, ValidationError
from orbitwatch.sharing import identity as idt
from orbitwatch.sharing.audit import AuditLog
from orbitwatch.sharing.demo import seed_demo_users
from orbitwatch.store.engine import open_engine
from orbitwatch.store.schema_sharing import api_tokens, users


@pytest.fixture
def engine(db_url):
    e = open_engine(db_url)
    yield e
    e.dispose()


def test_token_is_stored_hashed_and_authenticates(engine):
    idt.create_user(engine, "alice", nation="GBR", clearance="SECRET", roles=["analyst"])
    token, info = idt.issue_token(engine, "alice", name="script", now=1000.0)
    assert token.startswith("ow_") and len(token) > 40
    with engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
        assert token not in stored and stored == idt.secret_digest(token)
        p = idt.authenticate_token(conn, token, now=1001.0)
    assert (p.username, p.nation, p.clearance, p.roles) == ("alice", "GBR", "SECRET", frozenset({"analyst"}))
    assert info.prefix == token[:10]


def test_token_expiry_and_revocation(engine):
    idt.create_user(engine, "bob", nation="USA", clearance="CONFIDENTIAL")
    token, info = idt.issue_token(engine, "bob", days=1, now=0.0)
    with engine.connect() as conn:
        idt.authenticate_token(conn, token, now=86399.0)
        with pytest.raises(AuthenticationError):
            idt.authenticate_token(conn, token, now=86400.0)
    token2, info2 = idt.issue_token(engine, "bob", days=None)
    idt.revoke_token(engine, info2.id)
    with engine.connect() as conn, pytest.raises(AuthenticationError, match="invalid, expired or revoked"):
        idt.authenticate_token(conn, token2)
    with engine.connect() as conn, pytest.raises(AuthenticationError, match="invalid, expired or revoked"):
        idt.authenticate_token(conn, "ow_" + "x" * 43)


def test_revoking_a_user_kills_tokens_and_sessions(engine):
    u = idt.create_user(engine, "carol", nation="FRA", clearance="SECRET", password="correct horse")
    token, _ = idt.issue_token(engine, "carol")
    sid = idt.create_session(engine, u.principal())
    idt.revoke_user(engine, "carol")
    with engine.connect() as conn:
        with pytest.raises(AuthenticationError):
            idt.authenticate_token(conn, token)
        with pytest.raises(AuthenticationError):
            idt.session_principal(conn, sid)
    with pytest.raises(AuthenticationError):
        idt.check_login(engine, "carol", "correct horse")
    with pytest.raises(ValidationError, match="revoked"):
        idt.issue_token(engine, "carol")


def test_password_login_same_error_for_unknown_user_and_bad_password(engine):
    idt.create_user(engine, "dave", nation="NOR", clearance="RESTRICTED", password="s3cret-pass")
    assert idt.check_login(engine, "dave", "s3cret-pass").nation == "NOR"
    with pytest.raises(AuthenticationError) as bad:
        idt.check_login(engine, "dave", "wrong-pass")
    with pytest.raises(AuthenticationError) as unknown:
        idt.check_login(engine, "nobody", "wrong-pass")
    assert str(bad.value) == str(unknown.value)
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == "dave")).scalar_one()
    assert stored.startswith("scrypt$") and "s3cret" not in stored


def test_token_works_as_password_for_its_own_user_only(engine):
    idt.create_user(engine, "erin", nation="JPN", clearance="SECRET")
    idt.create_user(engine, "frank", nation="ITA", clearance="SECRET")
    token, _ = idt.issue_token(engine, "erin")
    assert idt.check_login(engine, "erin", token).username == "erin"
    with pytest.raises(AuthenticationError):
        idt.check_login(engine, "frank", token)


def test_session_expires(engine):
    u = idt.create_user(engine, "gina", nation="CAN", clearance="SECRET")
    sid = idt.create_session(engine, u.principal(), hours=1, now=0.0)
    with engine.connect() as conn:
        assert idt.session_principal(conn, sid, now=3599.0).username == "gina"
        with pytest.raises(AuthenticationError):
            idt.session_principal(conn, sid, now=3600.0)
    assert idt.end_session(engine, sid)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"nation": "RUS"}, "unknown nation"),
    ({"nation": "GBR", "organisation": "ACME"}, "exactly one nation"),
    ({}, "exactly one nation"),
    ({"nation": "GBR", "clearance": "TOP SECRET"}, "unknown classification"),
    ({"nation": "GBR", "roles": ["god"]}, "unknown role"),
    ({"organisation": "ACME", "clearance": "SECRET"}, "no clearance above"),
    ({"nation": "GBR", "password": "short"}, "too short"),
])
def test_create_user_validation(engine, kwargs, match):
    with pytest.raises((ValidationError, MarkingError), match=match):
        idt.create_user(engine, "henry", **kwargs)


def test_bad_usernames_and_duplicates(engine):
    with pytest.raises(ValidationError, match="invalid username"):
        idt.create_user(engine, "no spaces", nation="GBR")
    idt.create_user(engine, "ivy", nation="GBR")
    with pytest.raises(ValidationError, match="already exists"):
        idt.create_user(engine, "ivy", nation="GBR")
    with engine.connect() as conn, pytest.raises(NotFound):
        idt.get_user(conn, "nobody")


def test_configured_organisations_only(engine):
    with pytest.raises(ValidationError, match="not a configured partner organisation"):
        idt.create_user(engine, "op", organisation="EVILCORP", organisations=("ACME",))
    u = idt.create_user(engine, "op", organisation="ACME", organisations=("ACME",))
    assert u.principal().organisation == "ACME" and u.principal().nation is None


def test_demo_users_one_per_nation_and_rerunnable(engine):
    log = AuditLog(b"k")
    tokens = seed_demo_users(engine, audit=log)
    assert set(tokens) == {"USA", "AUS", "CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "NOR", "NZL", "admin",
                           "exercise-control"}
    again = seed_demo_users(engine, audit=log)
    assert again["GBR"] != tokens["GBR"]
    with engine.connect() as conn:
        assert idt.authenticate_token(conn, tokens["GBR"]).nation == "GBR"
        assert "admin" in idt.authenticate_token(conn, again["admin"]).roles
        assert idt.authenticate_token(conn, again["exercise-control"]).has_role("exercise-control")
        assert len(idt.list_users(conn)) == 12
        assert log.verify(conn).ok
