"""Scripted player responses for headless runs (tests, rehearsals, benchmarks).

A players file is YAML::

    players:
      - nations: [USA]                 # or 'all' (every blue nation)
        when: {alert: proximity, about: inspector}
        after: 20m                     # reaction time after the item reached that nation
        do: {action: acknowledge}      # acts on the alert that triggered it
      - nations: all
        when: {proposal: any}
        after: 2h
        do: {action: vote, position: concur, option: joint-statement}
      - nations: [GBR]
        when: {at: T+30h}
        do: {action: notify, to: PUBLIC, about: inspector, public: true, text: "..."}

Triggers: ``alert`` (kind or list, optional ``about`` role and ``min_severity``), ``message`` (inject id or
message kind), ``proposal: any`` (or a title substring), ``at`` (a time). A rule acts once per nation and
triggering item (``once: true``: once per nation). ``do`` is an action of :mod:`orbitwatch.exercise.actions`;
``alert``/``message``/``proposal`` targets default to the triggering item.
"""

from __future__ import annotations

import heapq
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from orbitwatch.errors import ValidationError
from orbitwatch.exercise.detect import SEVERITIES
from orbitwatch.exercise.scenario import ScenarioError, _from_pydantic
from orbitwatch.exercise.times import parse_duration, parse_time
from orbitwatch.exercise.yamlloc import load_located

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.exercise.engine import Exercise


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Trigger(_M):
    alert: str | list[str] | None = None
    about: str | None = None
    min_severity: Literal["info", "low", "medium", "high", "critical"] | None = None
    message: str | None = None
    proposal: str | None = None
    at: str | None = None


class Rule(_M):
    nations: list[str] | str = "all"
    when: Trigger
    after: str | int | float = 0
    do: dict[str, Any]
    once: bool = False


class PlayersFile(_M):
    players: list[Rule] = Field(default_factory=list)


def load_players(source: str | Path, *, text: str | None = None) -> PlayersFile:
    name = str(source)
    if text is None:
        text = Path(source).read_text(encoding="utf-8")
        name = Path(source).name
    tree = load_located(text, file=name)
    try:
        pf = PlayersFile.model_validate(tree)
    except PydanticError as exc:
        raise ScenarioError([_from_pydantic(e, tree, name) for e in exc.errors()]) from None
    for k, r in enumerate(pf.players):
        try:
            parse_duration(r.after)
            if r.when.at is not None:
                parse_time(r.when.at, 0.0)
        except ValidationError as exc:
            raise ValidationError(exc.reason, file=name, line=tree["players"].lines[k],
                                  field=f"players[{k}]") from None
        if "action" not in r.do:
            raise ValidationError("'do' needs 'action' (acknowledge, release, vote, ...)", file=name,
                                  line=tree["players"].lines[k], field=f"players[{k}].do")
    return pf


class ScriptedPlayers:
    """Turns deliveries into timed actions following the rules; deterministic, restart-safe (each
    scheduled action has a key and is skipped when an action with that key already exists)."""

    def __init__(self, pf: PlayersFile):
        self.pf = pf
        self._seen = 0
        self._queue: list[tuple[float, int, str, str, dict]] = []
        self._counter = 0
        self._keys: set[str] = set()
        self._timed_done = False

    def _nations(self, ex: Exercise, rule: Rule) -> list[str]:
        if rule.nations == "all" or rule.nations == ["all"]:
            return list(ex.scenario.blue_nations)
        vals = [rule.nations] if isinstance(rule.nations, str) else rule.nations
        return [n.upper() for n in vals]

    def _push(self, ts: float, nation: str, key: str, payload: dict) -> None:
        if key in self._keys:
            return
        self._keys.add(key)
        self._counter += 1
        heapq.heappush(self._queue, (ts, self._counter, nation, key, payload))

    def _trigger_matches(self, ex: Exercise, trig: Trigger, d) -> bool:
        if d.item_type == "alert" and trig.alert is not None:
            al = ex.alert_by_id.get(d.item_id)
            kinds = [trig.alert] if isinstance(trig.alert, str) else trig.alert
            if al is None or ("any" not in kinds and al.kind not in kinds):
                return False
            if trig.about is not None:
                nid = ex.world.roles.get(trig.about)
                if nid is None or nid not in al.objects:
                    return False
            return not (trig.min_severity and SEVERITIES.index(al.severity) < SEVERITIES.index(trig.min_severity))
        if d.item_type == "message" and trig.message is not None:
            m = ex.message_by_id.get(d.item_id)
            return m is not None and (m.ref == trig.message or m.kind == trig.message or trig.message == "any")
        if d.item_type == "proposal" and trig.proposal is not None:
            p = ex.proposals.get(d.item_id)
            return p is not None and (trig.proposal == "any" or trig.proposal.lower() in p.title.lower())
        return False

    def schedule(self, ex: Exercise) -> None:
        """Look at deliveries made since the last call and queue the reactions."""
        new = ex.deliveries[self._seen:]
        self._seen = len(ex.deliveries)
        for k, rule in enumerate(self.pf.players):
            nations = self._nations(ex, rule)
            delay = parse_duration(rule.after)
            if rule.when.at is not None:
                if not self._timed_done:
                    t = parse_time(rule.when.at, ex.start_ts)
                    for n in nations:
                        self._push(t + delay, n, f"r{k}:{n}:at", dict(rule.do))
                continue
            for d in new:
                if d.nation not in nations or not self._trigger_matches(ex, rule.when, d):
                    continue
                key = f"r{k}:{d.nation}" if rule.once else f"r{k}:{d.nation}:{d.item_type}{d.item_id}"
                payload = dict(rule.do)
                target = {"alert": "alert", "message": "message", "proposal": "proposal"}[d.item_type]
                payload.setdefault(target, d.item_id)
                self._push(d.sim_ts + delay, d.nation, key, payload)
        self._timed_done = True

    def due(self, ex: Exercise, until: float) -> list[tuple[float, str, str, dict]]:
        """Queued actions due by ``until``: (time, nation, key, payload)."""
        done = {a.payload.get("script_key") for a in ex.actions}
        out = []
        while self._queue and self._queue[0][0] <= until:
            ts, _, nation, key, payload = heapq.heappop(self._queue)
            if key in done:
                continue
            out.append((ts, nation, key, payload))
        return out
