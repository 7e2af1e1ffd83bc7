"""Users, API tokens, browser sessions and passwords.

* Tokens are ``ow_`` + 32 random bytes (URL-safe base64). Only their SHA-256 is stored; a token is
  shown once, when issued. Tokens expire (default 90 days) and can be revoked one by one; revoking a
  user kills its tokens and sessions.
* Sessions (the browser's ``HttpOnly``, ``SameSite=Strict`` cookie) are random ids stored the same way.
* Passwords are optional (token-only accounts have none) and stored with scrypt. A login for an unknown
  user spends the same time as for a known one, so response times do not reveal account names.

Every act here that changes who may do what is written to the audit chain when an
:class:`~orbitwatch.sharing.audit.AuditLog` is given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from orbitwatch.errors import AuthenticationError, NotFound, ValidationError
from orbitwatch.markings import DEFAULT_SCHEME, NATIONS, ClassificationScheme, nation_bit
from orbitwatch.sharing.audit import AuditLog
from orbitwatch.sharing.principal import ROLES, Principal
from orbitwatch.store.schema_sharing import api_tokens, sessions, users

TOKEN_PREFIX = "ow_"
DEFAULT_TOKEN_DAYS = 90.0
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
_ORGANISATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._&-]{0,63}$")
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str | None
    nation: str | None
    organisation: str | None
    clearance: str
    roles: tuple[str, ...]
    created_at: float
    revoked_at: float | None
    has_password: bool

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "display_name": self.display_name,
                "nation": self.nation, "organisation": self.organisation, "clearance": self.clearance,
                "roles": list(self.roles), "created_at": self.created_at, "revoked_at": self.revoked_at,
                "has_password": self.has_password}

    def principal(self, auth: str = "token") -> Principal:
        return Principal(username=self.username, nation=self.nation, clearance=self.clearance,
                         roles=frozenset(self.roles), organisation=self.organisation, user_id=self.id,
                         auth=auth)


@dataclass(frozen=True)
class TokenInfo:
    id: int
    username: str
    prefix: str
    name: str | None
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "prefix": self.prefix, "name": self.name,
                "created_at": self.created_at, "expires_at": self.expires_at,
                "revoked_at": self.revoked_at, "last_used_at": self.last_used_at}


# -- secrets --------------------------------------------------------------------------------------
def secret_digest(secret: str) -> str:
    """SHA-256 hex of a token or session id: what the database stores instead of the secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret(prefix: str = TOKEN_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValidationError("password too short: use at least 8 characters", field="password")
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(dk).decode()}"


_DUMMY_HASH = None


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; with ``stored=None`` spends the same time and answers False."""
    global _DUMMY_HASH
    if stored is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password("not-a-real-password")
        stored, real = _DUMMY_HASH, False
    else:
        real = True
    try:
        _, n, r, p, salt, dk = stored.split("$")
        computed = hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=base64.b64decode(salt),
                                  n=int(n), r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(computed, base64.b64decode(dk)) and real


# -- users ----------------------------------------------------------------------------------------
def _user_info(r) -> UserInfo:
    return UserInfo(int(r.id), r.username, r.display_name, r.nation, r.organisation, r.clearance,
                    tuple(x for x in (r.roles or "").split(",") if x), float(r.created_at),
                    r.revoked_at, r.password_hash is not None)


def create_user(engine: Engine, username: str, *, nation: str | None = None,
                organisation: str | None = None, clearance: str = "UNCLASSIFIED",
                roles: tuple[str, ...] | list[str] = ("analyst",), password: str | None = None,
                display_name: str | None = None, scheme: ClassificationScheme = DEFAULT_SCHEME,
                organisations: tuple[str, ...] | None = None, audit: AuditLog | None = None,
                actor: str = "cli", now: float | None = None) -> UserInfo:
    """Add a user. Exactly one of ``nation`` (a partner trigraph) or ``organisation`` must be given.

    ``organisations``, when given, is the node's configured list of partner organisations.
    """
    if not _USERNAME.match(username or ""):
        raise ValidationError(f"invalid username {username!r}: letters, digits and . _ @ - (max 128), "
                              "starting with a letter or digit", field="username")
    if (nation is None) == (organisation is None):
        raise ValidationError("a user belongs to exactly one nation or one partner organisation",
                              field="nation")
    if nation is not None:
        nation = nation.strip().upper()
        nation_bit(nation)
    if organisation is not None:
        if not _ORGANISATION.match(organisation):
            raise ValidationError(f"invalid organisation {organisation!r}", field="organisation")
        if organisations is not None and organisation not in organisations:
            raise ValidationError(f"organisation {organisation!r} is not a configured partner "
                                  f"organisation ({', '.join(organisations) or 'none configured'})",
                                  field="organisation")
    clearance = scheme.normalise(clearance)
    if organisation is not None and clearance != scheme.lowest:
        raise ValidationError(f"partner organisations hold no clearance above {scheme.lowest}",
                              field="clearance")
    roles = tuple(dict.fromkeys(r.strip().lower() for r in roles if r.strip()))
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValidationError(f"unknown role(s) {', '.join(sorted(unknown))}; expected {', '.join(ROLES)}",
                              field="roles")
    pw = hash_password(password) if password is not None else None
    now = time.time() if now is None else now
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise ValidationError(f"user {username!r} already exists", field="username")
        uid = conn.execute(insert(users).values(
            username=username, display_name=display_name, nation=nation, organisation=organisation,
            clearance=clearance, roles=",".join(roles), password_hash=pw, created_at=now,
        )).inserted_primary_key[0]
        if audit is not None:
            audit.append(conn, actor=actor, action="user_add", resource=f"user/{username}",
                         nation=nation, detail={"nation": nation, "organisation": organisation,
                                                "clearance": clearance, "roles": list(roles)})
        row = conn.execute(select(users).where(users.c.id == uid)).one()
    return _user_info(row)


def get_user(conn: Connection, username: str) -> UserInfo:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"user {username!r} not found")
    return _user_info(row)


def list_users(conn: Connection, *, nation: str | None = None,
               include_revoked: bool = True) -> list[UserInfo]:
    q = select(users).order_by(users.c.username)
    if nation:
        q = q.where(users.c.nation == nation)
    if not include_revoked:
        q = q.where(users.c.revoked_at.is_(None))
    return [_user_info(r) for r in conn.execute(q)]


def set_password(engine: Engine, username: str, password: str) -> None:
    with engine.begin() as conn:
        n = conn.execute(update(users).where(users.c.username == username)
                         .values(password_hash=hash_password(password))).rowcount
    if not n:
        raise NotFound(f"user {username!r} not found")


def revoke_user(engine: Engine, username: str, *, audit: AuditLog | None = None, actor: str = "cli",
                now: float | None = None) -> UserInfo:
    """Disable a user and everything it authenticates with (tokens, sessions)."""
    now = time.time() if now is None else now
    with engine.begin() as conn:
        info = get_user(conn, username)
        conn.execute(update(users).where(users.c.id == info.id).values(revoked_at=now))
        conn.execute(update(api_tokens).where(api_tokens.c.user_id == info.id,
                                              api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
        conn.execute(update(sessions).where(sessions.c.user_id == info.id,
                                            sessions.c.revoked_at.is_(None)).values(revoked_at=now))
        if audit is not None:
            audit.append(conn, actor=actor, action="user_revoke", resource=f"user/{username}",
                         nation=info.nation)
        return get_user(conn, username)


# -- tokens ---------------------------------------------------------------------------------------
def issue_token(engine: Engine, username: str, *, name: str | None = None,
                days: float | None = DEFAULT_TOKEN_DAYS, audit: AuditLog | None = None,
                actor: str = "cli", now: float | None = None) -> tuple[str, TokenInfo]:
    """A fresh API token for ``username``: returns the secret (shown once) and its record."""
    now = time.time() if now is None else now
    if days is not None and days <= 0:
        raise ValidationError("token lifetime must be positive (days)", field="days")
    token = new_secret()
    with engine.begin() as conn:
        info = get_user(conn, username)
        if info.revoked_at is not None:
            raise ValidationError(f"user {username!r} is revoked; no new tokens", field="username")
        tid = conn.execute(insert(api_tokens).values(
            user_id=info.id, token_hash=secret_digest(token), prefix=token[:10], name=name,
            created_at=now, expires_at=None if days is None else now + days * 86400.0,
        )).inserted_primary_key[0]
        if audit is not None:
            audit.append(conn, actor=actor, action="token_issue", resource=f"user/{username}",
                         nation=info.nation, detail={"token_id": int(tid), "prefix": token[:10],
                                                     "days": days})
        row = conn.execute(_token_select().where(api_tokens.c.id == tid)).one()
    return token, _token_info(row)


def _token_select():
    return select(api_tokens, users.c.username).join(users, users.c.id == api_tokens.c.user_id)


def _token_info(r) -> TokenInfo:
    return TokenInfo(int(r.id), r.username, r.prefix, r.name, float(r.created_at), r.expires_at,
                     r.revoked_at, r.last_used_at)


def list_tokens(conn: Connection, username: str | None = None) -> list[TokenInfo]:
    q = _token_select().order_by(api_tokens.c.id)
    if username:
        q = q.where(users.c.username == username)
    return [_token_info(r) for r in conn.execute(q)]


def revoke_token(engine: Engine, token_id: int | None = None, *, token: str | None = None,
                 audit: AuditLog | None = None, actor: str = "cli", now: float | None = None) -> TokenInfo:
    """Revoke one token, by id or by its secret."""
    now = time.time() if now is None else now
    with engine.begin() as conn:
        q = _token_select()
        if token is not None:
            q = q.where(api_tokens.c.token_hash == secret_digest(token))
        elif token_id is not None:
            q = q.where(api_tokens.c.id == token_id)
        else:
            raise ValidationError("give a token id or the token", field="token")
        row = conn.execute(q).first()
        if row is None:
            raise NotFound("token not found")
        conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(revoked_at=now))
        if audit is not None:
            audit.append(conn, actor=actor, action="token_revoke", resource=f"user/{row.username}",
                         detail={"token_id": int(row.id), "prefix": row.prefix})
        return _token_info(conn.execute(_token_select().where(api_tokens.c.id == row.id)).one())


def authenticate_token(conn: Connection, token: str, *, now: float | None = None) -> Principal:
    """The principal a bearer token stands for; :class:`AuthenticationError` if unknown, expired or
    revoked (one message for all three, so a caller cannot probe which)."""
    now = time.time() if now is None else now
    digest = secret_digest(token)
    row = conn.execute(
        select(users, api_tokens.c.token_hash, api_tokens.c.expires_at.label("t_expires"),
               api_tokens.c.revoked_at.label("t_revoked"))
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == digest)).first()
    if (row is None or not hmac.compare_digest(row.token_hash, digest) or row.t_revoked is not None
            or row.revoked_at is not None or (row.t_expires is not None and row.t_expires <= now)):
        raise AuthenticationError("invalid, expired or revoked token")
    return _user_info(row).principal("token")


def touch_token(engine: Engine, token: str, now: float | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.token_hash == secret_digest(token))
                     .values(last_used_at=time.time() if now is None else now))


# -- passwords and sessions -----------------------------------------------------------------------
def check_login(engine: Engine, username: str, password: str, *, now: float | None = None) -> Principal:
    """Username + password (or one of the user's API tokens as the password, for scripts written for
    services that only know passwords). Same error and about the same time for every failure."""
    now = time.time() if now is None else now
    if not _USERNAME.match(username or ""):
        verify_password(password, None)  # same time as a real check: names are not probed by timing
        raise AuthenticationError("invalid username or password")
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
        stored = row.password_hash if row is not None else None
        ok = verify_password(password, stored)
        if row is not None and not ok and password.startswith(TOKEN_PREFIX):
            try:
                p = authenticate_token(conn, password, now=now)
                ok = p.username == row.username
            except AuthenticationError:
                ok = False
        if row is None or not ok or row.revoked_at is not None:
            raise AuthenticationError("invalid username or password")
        return _user_info(row).principal("session")


def valid_username(name: str) -> bool:
    return bool(_USERNAME.match(name or ""))


def create_session(engine: Engine, principal: Principal, *, hours: float = 12.0, client: str | None = None,
                   now: float | None = None) -> str:
    """A new browser session for ``principal``; returns the session id to put in the cookie."""
    if principal.user_id is None:
        raise ValidationError("only a stored user can hold a session", field="username")
    now = time.time() if now is None else now
    sid = new_secret("ows_")
    with engine.begin() as conn:
        conn.execute(insert(sessions).values(user_id=principal.user_id, session_hash=secret_digest(sid),
                                             created_at=now, expires_at=now + hours * 3600.0,
                                             client=(client or "")[:64]))
    return sid


def session_principal(conn: Connection, sid: str, *, now: float | None = None) -> Principal:
    now = time.time() if now is None else now
    digest = secret_digest(sid)
    row = conn.execute(
        select(users, sessions.c.session_hash, sessions.c.expires_at.label("s_expires"),
               sessions.c.revoked_at.label("s_revoked"))
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.session_hash == digest)).first()
    if (row is None or not hmac.compare_digest(row.session_hash, digest) or row.s_revoked is not None
            or row.revoked_at is not None or row.s_expires <= now):
        raise AuthenticationError("session expired or unknown; log in again")
    return _user_info(row).principal("session")


def end_session(engine: Engine, sid: str, *, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    with engine.begin() as conn:
        return bool(conn.execute(update(sessions).where(sessions.c.session_hash == secret_digest(sid),
                                                        sessions.c.revoked_at.is_(None))
                                 .values(revoked_at=now)).rowcount)


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


__all__ = [
    "NATIONS", "TOKEN_PREFIX", "TokenInfo", "UserInfo", "authenticate_token", "check_login",
    "count_users", "create_session", "create_user", "end_session", "get_user", "hash_password",
    "issue_token", "list_tokens", "list_users", "revoke_token", "revoke_user", "secret_digest",
    "session_principal", "set_password", "touch_token", "verify_password",
]
