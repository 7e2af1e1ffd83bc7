"""Typed settings, read from ``ORBITWATCH_*`` environment variables (and ``.env``) when asked for.

Built by :func:`get_settings`, never at import time, so tests and exercises can replace them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orbitwatch.errors import ConfigurationError

DEV_SECRET = "dev-only-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORBITWATCH_", env_file=".env", extra="ignore")

    environment: str = "development"  # development | test | production
    database_url: str | None = None
    var_dir: Path = Path("var")
    secret_key: str = DEV_SECRET
    classification_levels: tuple[str, ...] = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET")
    max_request_bytes: int = 50 * 1024 * 1024
    rate_limit_per_minute: int = 6000
    max_page_size: int = 1000
    public_access: bool = False  # anonymous reads of TLP:CLEAR, lowest-level records
    node_nation: str = "USA"  # the nation operating this node (owner of its own sensor data)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment not in ("development", "test") and self.secret_key == DEV_SECRET:
            raise ConfigurationError(
                "ORBITWATCH_SECRET_KEY is the development default; set a long random secret "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) before running "
                f"in {self.environment}")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'orbitwatch.sqlite').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def database_url(explicit: str | None = None) -> str:
    """The database to use: an explicit ``--db``, else ``ORBITWATCH_DATABASE_URL``, else ``./var``."""
    if explicit:
        return explicit
    env = os.environ.get("ORBITWATCH_DATABASE_URL")
    if env:
        return env
    return get_settings().resolved_database_url
