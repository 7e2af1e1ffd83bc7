"""What an exercise produces, as plain records: alerts, messages, deliveries, actions, proposals.

Each record carries its marking (always the EXERCISE data mode, the exercise's classification, and a
releasability that says exactly which nations have it). They are persisted by
:mod:`orbitwatch.exercise.persist` into the marked tables of :mod:`orbitwatch.store.schema_exercise`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orbitwatch.exercise.times import iso
from orbitwatch.markings import Marking


@dataclass
class Alert:
    aid: int
    detection_id: int
    kind: str
    severity: str
    sim_ts: float
    nation: str  # originator: whose sensors produced it
    title: str
    detail: dict
    causes: list[str]
    marking: Marking
    objects: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.aid, "detection": self.detection_id, "kind": self.kind, "severity": self.severity,
                "time": iso(self.sim_ts), "originator": self.nation, "title": self.title, "detail": self.detail,
                "objects": self.objects, "marking": str(self.marking)}


@dataclass
class Message:
    mid: int
    sim_ts: float
    kind: str  # intel_report | news | diplomatic_message | notify | demarche | statement | decision | proposal
    sender: str
    recipients: list[str]  # nations, or ["PUBLIC"]
    title: str
    body: str
    ref: str | None
    public: bool
    marking: Marking

    def as_dict(self) -> dict:
        return {"id": self.mid, "time": iso(self.sim_ts), "kind": self.kind, "from": self.sender,
                "to": self.recipients, "title": self.title, "body": self.body, "ref": self.ref,
                "public": self.public, "marking": str(self.marking)}


@dataclass
class Delivery:
    item_type: str  # alert | message | proposal
    item_id: int
    nation: str
    sim_ts: float
    via: str  # own (its own detection) | auto-share | release | message | proposal
    by_nation: str | None = None

    def as_dict(self) -> dict:
        return {"item_type": self.item_type, "item_id": self.item_id, "nation": self.nation,
                "time": iso(self.sim_ts), "via": self.via, "by": self.by_nation}


@dataclass
class Action:
    aid: int
    sim_ts: float
    wall_ts: float
    nation: str
    username: str | None
    kind: str
    payload: dict
    result: dict
    ok: bool
    marking: Marking

    def as_dict(self) -> dict:
        return {"id": self.aid, "time": iso(self.sim_ts), "nation": self.nation, "user": self.username,
                "kind": self.kind, "payload": self.payload, "result": self.result, "ok": self.ok,
                "marking": str(self.marking)}


@dataclass
class Proposal:
    pid: int
    sim_ts: float
    proposer: str
    title: str
    options: list[dict]  # {id, text, public}
    rule: str
    deadline_ts: float
    members: list[str]
    status: str = "open"  # open | adopted | rejected | expired
    outcome: str | None = None
    decided_ts: float | None = None
    votes: dict[str, dict] = field(default_factory=dict)
    marking: Marking | None = None

    def option(self, oid: str | None) -> dict | None:
        return next((o for o in self.options if o["id"] == oid), None)

    def as_dict(self) -> dict:
        return {"id": self.pid, "time": iso(self.sim_ts), "proposer": self.proposer, "title": self.title,
                "options": self.options, "rule": self.rule, "deadline": iso(self.deadline_ts),
                "members": self.members, "status": self.status, "outcome": self.outcome,
                "decided": iso(self.decided_ts) if self.decided_ts is not None else None,
                "votes": {n: dict(v, time=iso(v["sim_ts"])) for n, v in self.votes.items()},
                "marking": str(self.marking) if self.marking else None}


@dataclass
class InjectState:
    inject_id: str
    status: str = "pending"  # pending | fired | cancelled | failed
    fired_at: float | None = None
    result: dict = field(default_factory=dict)
    error: str | None = None
    forced: bool = False  # fired by a red-cell rule

    def as_dict(self) -> dict:
        return {"id": self.inject_id, "status": self.status,
                "fired_at": iso(self.fired_at) if self.fired_at is not None else None,
                "result": self.result, "error": self.error}
