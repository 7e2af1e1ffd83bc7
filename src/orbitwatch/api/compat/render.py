"""Space-Track output formats: json, csv, xml, html, tle, 3le, kvn (CRLF line ends, as the service)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from html import escape as html_escape
from typing import Any
from xml.sax.saxutils import escape

from orbitwatch.api.compat.classes import text
from orbitwatch.api.compat.predicates import Query
from orbitwatch.errors import ValidationError

EMPTY = "NO RESULTS RETURNED"
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8", "xml": "application/xml",
         "html": "text/html; charset=utf-8", "tle": "text/plain; charset=utf-8",
         "3le": "text/plain; charset=utf-8", "kvn": "text/plain; charset=utf-8"}
ELSET_ONLY = ("tle", "3le", "kvn")


def _columns(q: Query, fields: list[str]) -> list[str]:
    return q.columns or fields


def _meta(q: Query, total: int | None, returned: int) -> dict[str, Any]:
    return {"Total": total if total is not None else returned, "Limit": q.limit, "LimitOffset": q.offset,
            "ReturnedRows": returned, "RequestTime": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "DataVersionCurrent": "Y"}


def as_text_rows(records: list[dict[str, Any]], cols: list[str]) -> list[dict[str, str | None]]:
    return [{c: text(c, r.get(c)) for c in cols} for r in records]


def render(q: Query, records: list[dict[str, Any]], fields: list[str], *, total: int | None = None) -> tuple[str, str]:
    """``(body, media type)`` for the query's format."""
    fmt = q.format
    if fmt in ELSET_ONLY and q.request_class not in ("gp", "gp_history"):
        raise ValidationError(f"format {fmt} is only available for gp and gp_history", field="format")
    if not records and q.emptyresult_show:
        return EMPTY, "text/plain; charset=utf-8"
    cols = _columns(q, fields)
    if fmt == "json" and q.columns is None and q.request_class in ("gp", "gp_history"):
        from orbitwatch.api.compat.classes import gp_json

        body = gp_json(records)  # type: ignore[arg-type]  (GpRecords: one format call per record)
        if q.metadata:
            body = f'{{"request_metadata":{json.dumps(_meta(q, total, len(records)))},"data":{body}}}'
        return body, MEDIA[fmt]
    if fmt == "json":
        rows = as_text_rows(records, cols)
        if q.metadata:
            return json.dumps({"request_metadata": _meta(q, total, len(rows)), "data": rows}), MEDIA[fmt]
        return json.dumps(rows), MEDIA[fmt]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(cols)
        for r in as_text_rows(records, cols):
            w.writerow(["" if r[c] is None else r[c] for c in cols])
        return buf.getvalue(), MEDIA[fmt]
    if fmt == "html":
        head = "".join(f"<th>{html_escape(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{html_escape(v or '')}</td>" for v in r.values()) + "</tr>"
                       for r in as_text_rows(records, cols))
        return f"<table><tr>{head}</tr>{body}</table>", MEDIA[fmt]
    if fmt in ("tle", "3le"):
        lines: list[str] = []
        for r in records:
            if r.get("TLE_LINE1") is None:
                continue
            if fmt == "3le":
                lines.append(r["TLE_LINE0"])
            lines += [r["TLE_LINE1"], r["TLE_LINE2"]]
        return "".join(ln + "\r\n" for ln in lines), MEDIA[fmt]
    if fmt in ("kvn", "xml") and q.request_class in ("gp", "gp_history"):
        from orbitwatch.formats.omm import format_omm_kvn, format_omm_xml
        from orbitwatch.store.queries import element_set_from_row

        elsets = [element_set_from_row(r.get("_row")) for r in records]
        if fmt == "kvn":
            return (format_omm_kvn(elsets, originator="ORBITWATCH") if elsets else ""), MEDIA[fmt]
        return format_omm_xml(elsets, originator="ORBITWATCH"), MEDIA[fmt]
    if fmt == "xml":
        out = ['<?xml version="1.0" encoding="UTF-8"?>', "<xml>"]
        for r in as_text_rows(records, cols):
            out.append("<item>" + "".join(f"<{c}>{escape(v)}</{c}>" if v is not None else f"<{c}/>"
                                          for c, v in r.items()) + "</item>")
        out.append("</xml>")
        return "\n".join(out) + "\n", MEDIA[fmt]
    raise ValidationError(f"format {fmt!r} is not supported", field="format")  # pragma: no cover
