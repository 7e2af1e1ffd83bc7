"""Exercise time: offsets from the exercise start (``T+6h``), durations (``90m``, ``1d2h``, ``PT6H``).

Scenario authors write times the way an MSEL does, relative to STARTEX: ``T+2h30m``, ``T+1d``,
``T-30m`` (before STARTEX, for intelligence that predates play), a bare duration ``45m`` (= ``T+45m``), an
ISO 8601 duration ``PT2H30M``, or an absolute ISO 8601 UTC time. Internally every time is UTC seconds
since 1970 (float), every duration seconds (float).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from orbitwatch.errors import ValidationError

_UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0}
_COMPACT = re.compile(r"^(?:(\d+(?:\.\d+)?)(w|d|h|min|m|s))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|min|m|s)")
_ISO_DUR = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_OFFSET = re.compile(r"^T\s*([+-])\s*(.+)$")

DURATION_HELP = "a duration like '90m', '2h30m', '1d', '45s' or 'PT2H30M'"
TIME_HELP = "an offset from STARTEX like 'T+2h30m' (or 'T-1h'), or an ISO 8601 UTC time"


def parse_duration(text: str | float | int, *, field: str | None = None) -> float:
    """Seconds in a duration. Numbers are seconds; strings use ``w d h m s`` units or ISO 8601 ``PT..``."""
    if isinstance(text, bool):
        raise ValidationError(f"expected {DURATION_HELP}, got {text!r}", field=field)
    if isinstance(text, int | float):
        if text < 0:
            raise ValidationError(f"a duration cannot be negative (got {text})", field=field)
        return float(text)
    s = str(text).strip().lower().replace(" ", "")
    if _COMPACT.match(s):
        return sum(float(v) * _UNITS[u] for v, u in _PART.findall(s))
    m = _ISO_DUR.match(s.upper())
    if m and any(m.groups()):
        d, h, mi, se = (float(x) if x else 0.0 for x in m.groups())
        return d * 86400.0 + h * 3600.0 + mi * 60.0 + se
    raise ValidationError(f"expected {DURATION_HELP}, got {text!r}", field=field)


def parse_time(text: str | float | int, start_ts: float | None, *, field: str | None = None) -> float:
    """UTC seconds of an exercise time: ``T+offset``, a bare duration (after STARTEX) or ISO 8601 UTC.

    ``start_ts`` is STARTEX (UTC seconds); it may be None only for absolute times.
    """
    if isinstance(text, datetime):
        dt = text if text.tzinfo else text.replace(tzinfo=UTC)
        return dt.timestamp()
    s = str(text).strip()
    m = _OFFSET.match(s.upper())
    if m:
        if start_ts is None:
            raise ValidationError("a relative time needs the exercise start", field=field)
        sign = 1.0 if m.group(1) == "+" else -1.0
        return start_ts + sign * parse_duration(m.group(2), field=field)
    if isinstance(text, int | float) or _COMPACT.match(s.lower().replace(" ", "")) or s.upper().startswith("P"):
        if start_ts is None:
            raise ValidationError("a relative time needs the exercise start", field=field)
        return start_ts + parse_duration(text, field=field)
    try:
        return parse_iso(s)
    except ValueError:
        raise ValidationError(f"expected {TIME_HELP}, got {text!r}", field=field) from None


def parse_iso(text: str) -> float:
    """UTC seconds of an ISO 8601 time (``Z`` or offset; naive means UTC)."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def iso(ts: float) -> str:
    """ISO 8601 UTC with seconds and a ``Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def offset_label(ts: float, start_ts: float) -> str:
    """``T+1d02h30m`` style label of a time relative to STARTEX (minute resolution)."""
    d = ts - start_ts
    sign = "+" if d >= 0 else "-"
    minutes = int(round(abs(d) / 60.0))
    days, rem = divmod(minutes, 1440)
    hours, mins = divmod(rem, 60)
    body = (f"{days}d" if days else "") + f"{hours:02d}h{mins:02d}m"
    return f"T{sign}{body}"


def human_duration(seconds: float | None) -> str:
    """``2h05m`` / ``35m`` / ``1d03h`` for reports; an em dash for None."""
    if seconds is None:
        return "—"
    minutes = int(round(seconds / 60.0))
    if minutes < 60:
        return f"{minutes}m"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{mins:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"
