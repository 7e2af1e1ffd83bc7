"""Rows to what leaves the API: JSON dicts, TLE/3LE text, OMM (via ``orbitwatch.formats``).

Internal columns that encode the marking for SQL (``class_rank``, ``rel_mask``, ``orgs``) and the
ingest bookkeeping (digest, batch) never leave; the human marking banner always does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from orbitwatch.errors import ValidationError

_HIDDEN = frozenset({"class_rank", "rel_mask", "orgs", "digest", "batch_id", "original", "file_line"})

ELSET_FORMATS = ("json", "tle", "3le", "omm-xml", "omm-kvn", "omm-json", "omm-csv")
TEXT_MEDIA = {
    "tle": "text/plain; charset=utf-8",
    "3le": "text/plain; charset=utf-8",
    "omm-xml": "application/xml",
    "omm-kvn": "text/plain; charset=utf-8",
    "omm-json": "application/json",
    "omm-csv": "text/csv; charset=utf-8",
}


def row_dict(row: Any) -> dict[str, Any]:
    m = row._mapping if hasattr(row, "_mapping") else row
    return {k: v for k, v in m.items() if k not in _HIDDEN}


def rows_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [row_dict(r) for r in rows]


def elsets_text(rows: Sequence[Any], fmt: str) -> str:
    """Element sets in a text format. TLE/3LE use the strict writer; OMM the formats package's writers."""
    from orbitwatch.store.queries import element_set_from_row

    if fmt in ("tle", "3le"):
        from orbitwatch.formats.tle import format_tle

        out = []
        for r in rows:
            es = element_set_from_row(r)
            try:
                out.append(format_tle(es, name_line=(fmt == "3le")))
            except ValidationError as exc:
                # An object a TLE cannot carry (catalogue number > 339999): say so in place, go on.
                out.append(f"# {es.norad_id}: {exc.reason}")
        return "".join(s if s.endswith("\n") else s + "\n" for s in out)
    if fmt.startswith("omm-"):
        elsets = [element_set_from_row(r) for r in rows]
        return omm_text(elsets, fmt[4:])
    raise ValidationError(f"unknown format {fmt!r}; expected one of {', '.join(ELSET_FORMATS)}",
                          field="format")


def omm_text(elsets: list, kind: str) -> str:
    try:
        from orbitwatch.formats import omm
    except ImportError:  # pragma: no cover - the formats package provides it
        raise ValidationError("OMM output is not available on this node", field="format") from None
    writer = {"xml": "format_omm_xml", "kvn": "format_omm_kvn", "json": "format_omm_json",
              "csv": "format_omm_csv"}[kind]
    fn = getattr(omm, writer, None)
    if fn is None:
        raise ValidationError(f"OMM {kind.upper()} output is not available on this node", field="format")
    return fn(elsets)
