"""STIX 2.1 export of alerts: a bundle of custom space-event objects with their markings.

Each bundle holds:

* an ``identity`` for the exporting orbitwatch node (``created_by_ref`` of everything else);
* an ``extension-definition`` describing the custom SDO ``x-orbitwatch-space-event`` (STIX 2.1 §7.3:
  new SDOs are declared by an extension definition of type ``new-sdo``);
* one ``x-orbitwatch-space-event`` per alert (kind, severity, time, subjects by NORAD id, actor, the
  detection and its evidence);
* ``marking-definition`` objects: the **official TLP 2.0 definitions** (FIRST TLP 2.0 as published
  for STIX 2.1 with extension ``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``; fixed
  ids, created 2022-10-01) when the alert carries a TLP, and a ``statement`` marking carrying the
  classification and releasability banner (``UNCLASSIFIED//REL TO USA, GBR``), since STIX has no
  native releasability marking. The releasable nations are also a machine-readable property.

Identifiers are UUIDv5 of the alert id, so re-exporting an alert gives the same STIX id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from orbitwatch.markings import Marking
from orbitwatch.threats.alerts import Alert

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_NS = uuid.UUID("6f1c1d1e-5a2b-4c0d-9a43-6f7262697477")  # orbitwatch STIX namespace (fixed)
SPACE_EVENT_TYPE = "x-orbitwatch-space-event"
SPACE_EVENT_EXTENSION = "extension-definition--" + str(uuid.uuid5(_NS, "extension:" + SPACE_EVENT_TYPE))


def _ts(x: float | None) -> str:
    dt = datetime.fromtimestamp(x if x is not None else 0.0, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _strip(x):
    if isinstance(x, dict):
        out = {k: _strip(v) for k, v in x.items() if v is not None}
        return {k: v for k, v in out.items() if v != [] and v != {}}
    if isinstance(x, list):
        return [_strip(v) for v in x if v is not None]
    return x


def tlp_marking_definition(level: str) -> dict:
    """The official STIX 2.1 TLP 2.0 marking definition object for ``level`` (CLEAR ... RED)."""
    return {
        "type": "marking-definition", "spec_version": "2.1", "id": TLP2_IDS[level],
        "created": "2022-10-01T00:00:00.000Z", "name": f"TLP:{level}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level.lower()}},
    }


def statement_marking(marking: Marking, identity_id: str) -> dict:
    """A ``statement`` marking definition carrying the classification/releasability banner."""
    text = str(marking)
    return {
        "type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--" + str(uuid.uuid5(_NS, "statement:" + text)),
        "created": "2024-01-01T00:00:00.000Z", "created_by_ref": identity_id, "name": text,
        "definition_type": "statement",
        "definition": {"statement": f"{text}. Releasable to: {', '.join(sorted(marking.rel_to))}. "
                                    "Do not forward beyond the listed nations."},
    }


def export_bundle(alerts: Sequence[Alert], *, node_name: str = "orbitwatch",
                  now: datetime | None = None) -> dict:
    """A STIX 2.1 bundle (dict) of the alerts with identity, extension and marking definitions."""
    now = now or datetime.now(UTC)
    created = _ts(now.timestamp())
    identity_id = "identity--" + str(uuid.uuid5(_NS, "identity:" + node_name))
    objects: dict[str, dict] = {}
    objects[identity_id] = {"type": "identity", "spec_version": "2.1", "id": identity_id, "created": created,
                            "modified": created, "name": node_name, "identity_class": "system"}
    objects[SPACE_EVENT_EXTENSION] = {
        "type": "extension-definition", "spec_version": "2.1", "id": SPACE_EVENT_EXTENSION,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "created_by_ref": identity_id, "name": SPACE_EVENT_TYPE,
        "description": "A space event detected by orbitwatch: manoeuvre, proximity operation, GEO "
                       "neighbourhood event, breakup or norms-ledger entry, with its evidence.",
        "schema": "https://orbitwatch.invalid/docs/threats.md#stix", "version": "1.0.0",
        "extension_types": ["new-sdo"],
    }
    for a in alerts:
        refs = []
        st = statement_marking(a.marking, identity_id)
        objects[st["id"]] = st
        refs.append(st["id"])
        if a.marking.tlp:
            tm = tlp_marking_definition(a.marking.tlp)
            objects[tm["id"]] = tm
            refs.append(tm["id"])
        sid = f"{SPACE_EVENT_TYPE}--" + str(uuid.uuid5(_NS, a.id))
        objects[sid] = {
            "type": SPACE_EVENT_TYPE, "spec_version": "2.1", "id": sid,
            "created": _ts(a.created_ts), "modified": _ts(a.updated_ts or a.created_ts),
            "created_by_ref": identity_id, "name": a.title, "event_kind": a.kind, "severity": a.severity,
            "state": a.state, "event_time": None if a.event_ts is None else _ts(a.event_ts),
            "subjects": [f"NORAD {s}" for s in a.subjects], "norad_ids": list(a.subjects), "actor": a.actor,
            "classification": a.marking.classification, "releasable_to": a.releasable_to,
            "data_mode": a.marking.data_mode, "orbitwatch_alert_id": a.id,
            "detection": json.loads(json.dumps(a.payload, default=str)),
            "evidence": json.loads(json.dumps(a.evidence.as_dict(), default=str)),
            "object_marking_refs": refs,
            "extensions": {SPACE_EVENT_EXTENSION: {"extension_type": "new-sdo"}},
        }
        # STIX forbids null property values (and empty lists): drop them at every level
        objects[sid] = _strip(objects[sid])
    return {"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": list(objects.values())}
