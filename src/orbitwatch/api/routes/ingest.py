"""Upload TLE/3LE, OMM or SATCAT documents with a marking."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from orbitwatch.api.deps import CurrentUser, State, require_role
from orbitwatch.api.problems import problem_responses
from orbitwatch.errors import PermissionDenied
from orbitwatch.markings import Marking

router = APIRouter(tags=["ingest"], responses=problem_responses(401, 403, 413, 422, 429))

INGEST_ROLES = ("analyst", "operator", "admin")
Fmt = Literal["auto", "tle", "omm", "satcat", "omm-kvn", "omm-xml", "omm-json", "omm-csv", "satcat-celestrak",
              "satcat-spacetrack", "satcat-cara"]


@router.post("/api/v1/ingest", summary="Ingest a document with a marking",
             dependencies=[require_role(*INGEST_ROLES)])
async def ingest(state: State, user: CurrentUser, file: Annotated[UploadFile, File()],
                 marking: Annotated[str, Form(max_length=512, description="e.g. 'SECRET//REL TO USA, GBR'")],
                 format: Annotated[Fmt, Form()] = "auto",
                 source: Annotated[str, Form(max_length=64)] = "upload",
                 strict: Annotated[bool, Form()] = False) -> JSONResponse:
    """Parse and store the file in one transaction. The uploader's nation must be in the marking (an
    originator can always read what it marked); the ingest is written to the audit chain in the same
    transaction. Bad records are reported by file, line and field; good ones load (unless ``strict``)."""
    if user.nation is None:
        raise PermissionDenied("only national users ingest data")
    m = Marking.parse(marking, scheme=state.scheme)
    m.check_originator(user.nation)
    data = await file.read()
    name = (file.filename or "upload")[:200]

    def audit_batch(conn, batch: dict) -> None:
        state.audit.append(conn, actor=user.username, nation=user.nation, action="ingest",
                           resource=f"ingest/{name}",
                           detail={"marking": str(m), "source": source, "format": format,
                                   "bytes": len(data), **{k: batch.get(k) for k in
                                                          ("batch_id", "accepted", "duplicates", "rejected")}})

    from starlette.concurrency import run_in_threadpool

    from orbitwatch.store.ingest import ingest_bytes

    report = await run_in_threadpool(
        ingest_bytes, state.engine, data, name, fmt=format, source=source, nation=user.nation, marking=m,
        strict=strict, user=user.username, on_batch=audit_batch)
    body = report.as_dict()
    body["file"] = name
    body["marking"] = str(m)
    return JSONResponse(body)
