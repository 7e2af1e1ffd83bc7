"""The one exception tree of orbitwatch.

Every error the project raises on purpose derives from :class:`OrbitwatchError`. The HTTP API maps
these classes to statuses in exactly one place (``orbitwatch.api.problems``); the CLI prints their
message and exits non-zero. Messages say what was wrong, where, and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass


class OrbitwatchError(Exception):
    """Base class of every error orbitwatch raises deliberately."""


class ConfigurationError(OrbitwatchError):
    """A setting is missing or unsafe (e.g. a default secret outside development)."""


class ValidationError(OrbitwatchError, ValueError):
    """Input data is malformed. Carries where (file, line, field) and why.

    ``str(err)`` reads like ``catalog.tle:12: field 'checksum': expected 7, computed 3``.
    """

    def __init__(self, reason: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.reason = reason
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file:
            where += str(self.file)
        if self.line is not None:
            where += f":{self.line}"
        head = f"{where}: " if where else ""
        fld = f"field '{self.field}': " if self.field else ""
        return f"{head}{fld}{self.reason}"

    def located(self, *, file: str | None = None, line: int | None = None) -> ValidationError:
        """Return a copy with the file and/or line filled in where they were unknown."""
        return ValidationError(self.reason, file=self.file or file,
                               line=self.line if self.line is not None else line, field=self.field)

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}


class MarkingError(ValidationError):
    """A security marking string or combination is invalid."""


class NotFound(OrbitwatchError):
    """The record does not exist *or is not released to the caller* (never say which)."""


class PermissionDenied(OrbitwatchError):
    """The caller is authenticated but may not perform this action."""


class AuthenticationError(OrbitwatchError):
    """No valid credentials were presented."""


class RateLimited(OrbitwatchError):
    def __init__(self, retry_after_s: float):
        self.retry_after_s = retry_after_s
        super().__init__(f"rate limit exceeded; retry after {retry_after_s:.0f} s")


class PropagationError(OrbitwatchError):
    """SGP4 could not propagate an object (decayed, eccentricity out of range, ...)."""


@dataclass(frozen=True)
class RecordError:
    """A per-record problem in a batch: the batch goes on, the record is reported."""

    file: str | None
    line: int | None
    field: str | None
    reason: str

    @classmethod
    def from_exc(cls, exc: ValidationError) -> RecordError:
        return cls(exc.file, exc.line, exc.field, exc.reason)

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        return str(ValidationError(self.reason, file=self.file, line=self.line, field=self.field))
