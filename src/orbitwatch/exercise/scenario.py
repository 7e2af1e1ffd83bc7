"""Scenario files: the exercise's metadata, participants, objects, MSEL and red cell, validated.

A scenario is YAML (see ``examples/shadow.yaml``). :func:`load_scenario` reads it with line numbers,
checks its shape with pydantic and then its meaning (references between injects, objects and
objectives; markings; times; dependency cycles), and raises :class:`ScenarioError` - a
:class:`~orbitwatch.errors.ValidationError` naming the file, line and field of the first problem and
carrying every problem found in ``errors``.

Vocabulary follows HSEEP: the *MSEL* (Master Scenario Events List) is the list of *injects*; each
inject may state the *expected player actions* it tests, the *objective* and *capability* it serves,
its dependencies (``after``), and a *contingency* (fire only if an expected action has not happened
by a deadline). Injects that change the simulated world (``manoeuvre``, ``breakup``, ``nuclear``,
``jamming``, ``launch``, ``sensor_outage``) are played by the engine; the others (``intel_report``,
``news``, ``diplomatic_message``) are messages delivered to the nations in ``to``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticError

from orbitwatch.errors import ValidationError
from orbitwatch.exercise.times import parse_duration, parse_time
from orbitwatch.exercise.yamlloc import LDict, field_path, line_of, load_located
from orbitwatch.markings import NATIONS, Marking

REGIMES = ("LEO", "MEO", "GEO", "HEO")
OBJECT_TYPES = ("PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN")
ACTION_KINDS = ("acknowledge", "release", "tasking", "manoeuvre", "notify", "demarche", "propose", "vote",
                "break_silence", "comment")
INFO_KINDS = ("intel_report", "news", "diplomatic_message")
WORLD_KINDS = ("manoeuvre", "breakup", "nuclear", "jamming", "launch", "sensor_outage")
INJECT_KINDS = INFO_KINDS + WORLD_KINDS
CONSENSUS_RULES = ("unanimity", "silence", "majority")

Duration = Annotated[str | int | float, Field(description="a duration: '90m', '2h30m', '1d', 'PT2H' or seconds")]
Time = Annotated[str | int | float, Field(description="'T+2h' (offset from STARTEX) or ISO 8601 UTC")]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


def _check_duration(v: Any) -> Any:
    if v is not None:
        parse_duration(v)
    return v


def _check_time(v: Any) -> Any:
    if v is not None:
        parse_time(v, 0.0)
    return v


def _check_marking(v: str | None) -> str | None:
    if v is None:
        return v
    m = Marking.parse(v)
    if m.data_mode not in ("EXERCISE",):
        raise ValueError(f"exercise material must carry the EXERCISE data mode (got {m.data_mode}); "
                         f"write e.g. '{m.classification}//EXERCISE'")
    return v


def _check_nation(v: str) -> str:
    v = v.strip().upper()
    if v not in NATIONS:
        raise ValueError(f"unknown nation {v!r}; expected one of {', '.join(NATIONS)}")
    return v


class ConsensusConfig(_M):
    rule: Literal["unanimity", "silence", "majority"] = "unanimity"
    deadline: Duration = "6h"
    _d = field_validator("deadline")(_check_duration)


class ExerciseMeta(_M):
    name: str = Field(min_length=1)
    description: str = ""
    marking: str = "UNCLASSIFIED//EXERCISE"
    start: str = Field("catalog", description="'catalog' (the newest element-set epoch, to the hour) or "
                                               "ISO 8601 UTC")
    duration: Duration
    step: Duration = "10m"
    lookahead: Duration = Field("24h", description="how far ahead the detectors screen")
    conjunction_km: float = Field(5.0, gt=0, le=100)
    proximity_rtn_km: tuple[float, float, float] = (10.0, 50.0, 10.0)
    consensus: ConsensusConfig = ConsensusConfig()
    seed: int = 0

    _m = field_validator("marking")(_check_marking)
    _d = field_validator("duration", "step", "lookahead")(_check_duration)

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        if v not in ("catalog", "now"):
            _check_time(v)
        return v


class Objective(_M):
    id: str = Field(min_length=1)
    title: str
    capability: str = ""
    description: str = ""


class ObjectFilter(_M):
    """Alternative ways to pick catalogue objects; every given criterion must hold."""

    name: str | None = Field(None, description="case-insensitive substring of the object name")
    norad: int | None = Field(None, ge=1)
    owner: str | None = Field(None, description="SATCAT owner code (US, UK, CIS, PRC...) or partner trigraph")
    type: Literal["PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN"] | None = None
    regime: Literal["LEO", "MEO", "GEO", "HEO"] | None = None
    inclination: tuple[float, float] | None = None
    altitude_km: tuple[float, float] | None = Field(None, description="mean altitude band")
    near: str | None = Field(None, description="object role: prefer objects closest in altitude and plane")
    not_owner: list[str] = Field(default_factory=list)
    limit: int = Field(1, ge=1, le=100_000)


class Placement(_M):
    """A new object placed relative to another at STARTEX (or at the launch time of a launch inject)."""

    relative_to: str
    rtn_km: tuple[float, float, float] = (0.0, -10.0, 0.0)
    name: str = "EXERCISE OBJECT"
    object_id: str | None = None
    object_type: Literal["PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN"] = "PAYLOAD"
    norad: int | None = Field(None, ge=1)
    mass_kg: float = Field(500.0, gt=0)


class Choice(ObjectFilter):
    place: Placement | None = None


class ObjectRole(_M):
    owner: str = Field(min_length=2, max_length=8)
    description: str = ""
    select: list[Choice] = Field(min_length=1)


class Sensors(_M):
    regimes: list[Literal["LEO", "MEO", "GEO", "HEO"]] = Field(default_factory=list)
    latency: Duration = "1h"
    nudet: bool = Field(False, description="detects nuclear detonations (space-based sensors)")
    release_to: list[str] = Field(default_factory=list, description="nations its detections go to by default")
    _d = field_validator("latency")(_check_duration)

    @field_validator("release_to")
    @classmethod
    def _rel(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for x in v:
            x = x.strip().upper()
            if x in ("FVEY", "CSPO", "ALL"):
                out.extend({"FVEY": ["AUS", "CAN", "GBR", "NZL", "USA"], "CSPO": list(NATIONS),
                            "ALL": list(NATIONS)}[x])
            else:
                out.append(_check_nation(x))
        return sorted(set(out))


class AssetSpec(_M):
    ref: str | None = None
    norad: list[int] = Field(default_factory=list)
    select: ObjectFilter | None = None

    @model_validator(mode="after")
    def _one(self) -> AssetSpec:
        if not (self.ref or self.norad or self.select):
            raise ValueError("an asset entry needs 'ref' (an object role), 'norad' (ids) or 'select'")
        return self


class Participant(_M):
    nation: str | None = None
    organisation: str | None = None
    cell: Literal["blue", "white"] = "blue"
    sensors: Sensors = Sensors()
    assets: list[AssetSpec] = Field(default_factory=list)
    region: str | None = Field(None, description="region for service metrics (default: the nation's own)")

    @field_validator("nation")
    @classmethod
    def _n(cls, v: str | None) -> str | None:
        return None if v is None else _check_nation(v)

    @model_validator(mode="after")
    def _who(self) -> Participant:
        if (self.nation is None) == (self.organisation is None):
            raise ValueError("a participant is either a 'nation' (trigraph) or an 'organisation'")
        return self


class ExpectedAction(_M):
    action: Literal[ACTION_KINDS]  # type: ignore[valid-type]
    by: list[str] | str = Field("all", description="nations, 'all', 'any' or 'owner:<role>'")
    within: Duration = "4h"
    from_: Literal["delivery", "fire"] = Field("delivery", alias="from")
    option: str | None = None
    public: bool | None = None
    objective: str | None = Field(None, description="the objective this action serves (default: the inject's)")
    description: str = ""
    _d = field_validator("within")(_check_duration)


class ActionMatch(_M):
    action: Literal[ACTION_KINDS] | list[Literal[ACTION_KINDS]]  # type: ignore[valid-type]
    by: list[str] | str = "any"
    public: bool | None = None
    about: str | None = None
    option: str | None = None


class Contingency(_M):
    expected: ActionMatch
    by: Time
    _t = field_validator("by")(_check_time)


class Approach(_M):
    target: str
    range_km: float = Field(gt=0, le=5000)
    by: Time
    arrive: Literal["stop", "flyby"] = "stop"
    _t = field_validator("by")(_check_time)


class BreakupSpec(_M):
    model: Literal["asat", "collision", "explosion"] = "asat"
    impactor_mass_kg: float = Field(20.0, gt=0)
    impact_speed_kms: float = Field(7.0, gt=0, le=20)
    min_size_m: float = Field(0.1, gt=0)
    max_fragments: int = Field(1500, ge=1, le=50_000)


class _Inject(_M):
    id: str = Field(min_length=1, max_length=64)
    at: Time | None = None
    after: list[str] = Field(default_factory=list)
    delay: Duration | None = None
    contingency: Contingency | None = None
    red_cell: bool = Field(False, description="held until a red-cell rule fires it")
    title: str = ""
    text: str = ""
    from_: str = Field("WHITE", alias="from")
    to: list[str] | str = "all"
    marking: str | None = None
    announce: bool = Field(False, description="also deliver a world-changing inject as a message")
    objective: list[str] | str | None = None
    capability: str = ""
    expected_actions: list[ExpectedAction] = Field(default_factory=list)

    _m = field_validator("marking")(_check_marking)
    _t = field_validator("at")(_check_time)
    _d = field_validator("delay")(_check_duration)


class InfoInject(_Inject):
    kind: Literal["intel_report", "news", "diplomatic_message"]
    about: str | None = None


class ManoeuvreInject(_Inject):
    kind: Literal["manoeuvre"]
    object: str
    dv_rtn_mps: tuple[float, float, float] | None = None
    approach: Approach | None = None

    @model_validator(mode="after")
    def _what(self) -> ManoeuvreInject:
        if (self.dv_rtn_mps is None) == (self.approach is None):
            raise ValueError("a manoeuvre needs exactly one of 'dv_rtn_mps' [R, T, N] or 'approach'")
        return self


class BreakupInject(_Inject):
    kind: Literal["breakup"]
    object: str
    breakup: BreakupSpec = BreakupSpec()


class NuclearInject(_Inject):
    kind: Literal["nuclear"]
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=360)
    alt_km: float = Field(gt=0, le=100_000)
    yield_kt: float = Field(gt=0, le=100_000)
    object: str | None = Field(None, description="the carrier object (destroyed at detonation)")


class JammingInject(_Inject):
    kind: Literal["jamming"]
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=360)
    alt_km: float = Field(0.0, ge=0, le=50)
    eirp_dbw: float = Field(30.0, ge=-30, le=120)
    duration: Duration = "12h"
    tolerance_db: float = Field(24.0, description="J/S above which a receiver loses lock (dB)")
    _d2 = field_validator("duration")(_check_duration)


class LaunchInject(_Inject):
    kind: Literal["launch"]
    owner: str
    place: Placement


class OutageInject(_Inject):
    kind: Literal["sensor_outage"]
    nation: str
    regimes: list[Literal["LEO", "MEO", "GEO", "HEO"]] = Field(default_factory=lambda: list(REGIMES))
    duration: Duration = "12h"
    _d2 = field_validator("duration")(_check_duration)

    @field_validator("nation")
    @classmethod
    def _n(cls, v: str) -> str:
        return _check_nation(v)


Inject = Annotated[InfoInject | ManoeuvreInject | BreakupInject | NuclearInject | JammingInject | LaunchInject
                   | OutageInject, Field(discriminator="kind")]


class RedEffects(_M):
    fire: list[str] = Field(default_factory=list)
    cancel: list[str] = Field(default_factory=list)


class RedCondition(_M):
    action: ActionMatch | None = None
    adopted: str | None = Field(None, description="a collective-response option adopted by consensus")
    fired: str | None = Field(None, description="an inject id that has fired")

    @model_validator(mode="after")
    def _one(self) -> RedCondition:
        if sum(x is not None for x in (self.action, self.adopted, self.fired)) != 1:
            raise ValueError("a condition is exactly one of 'action', 'adopted' or 'fired'")
        return self


class RedRule(_M):
    id: str
    when: RedCondition | None = None
    unless: RedCondition | None = None
    by: Time | None = None
    then: RedEffects
    description: str = ""
    _t = field_validator("by")(_check_time)

    @model_validator(mode="after")
    def _shape(self) -> RedRule:
        if (self.when is None) == (self.unless is None):
            raise ValueError("a red-cell rule has 'when' (react to something) or 'unless' + 'by' (act at a "
                             "deadline unless something happened)")
        if self.unless is not None and self.by is None:
            raise ValueError("'unless' needs 'by' (the deadline)")
        return self


class RedCell(_M):
    actor: str = Field(description="owner code of the adversary (e.g. CIS, PRC)")
    description: str = ""
    rules: list[RedRule] = Field(default_factory=list)


class Scenario(_M):
    exercise: ExerciseMeta
    objectives: list[Objective] = Field(default_factory=list)
    participants: list[Participant] = Field(min_length=1)
    objects: dict[str, ObjectRole] = Field(default_factory=dict)
    msel: list[Inject] = Field(default_factory=list)
    red_cell: RedCell | None = None
    strengths_hint: list[str] = Field(default_factory=list)

    # -- convenience ---------------------------------------------------------------------------------
    @property
    def marking(self) -> Marking:
        return Marking.parse(self.exercise.marking)

    @property
    def nations(self) -> list[str]:
        """Participating nations (blue and white), in NATIONS order."""
        present = {p.nation for p in self.participants if p.nation}
        return [n for n in NATIONS if n in present]

    @property
    def blue_nations(self) -> list[str]:
        present = {p.nation for p in self.participants if p.nation and p.cell == "blue"}
        return [n for n in NATIONS if n in present]

    def participant(self, nation: str) -> Participant | None:
        return next((p for p in self.participants if p.nation == nation), None)

    def inject(self, inject_id: str):
        return next((i for i in self.msel if i.id == inject_id), None)


class ScenarioError(ValidationError):
    """A scenario with problems: ``str()`` is the first one; ``errors`` holds them all."""

    def __init__(self, errors: Sequence[ValidationError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.reason + (f" (and {len(self.errors) - 1} more problem(s))"
                                          if len(self.errors) > 1 else ""),
                         file=first.file, line=first.line, field=first.field)


def load_scenario(source: str | Path, *, text: str | None = None) -> Scenario:
    """Read and validate a scenario file (or ``text`` with ``source`` as its name for messages)."""
    name = str(source)
    if text is None:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"cannot read the scenario: {exc.strerror or exc}", file=name) from None
        name = path.name if len(str(path)) > 80 else str(path)
    tree = load_located(text, file=name)
    if not isinstance(tree, LDict):
        raise ScenarioError([ValidationError("expected a mapping with 'exercise', 'participants', 'msel'...",
                                             file=name, line=1)])
    try:
        scenario = Scenario.model_validate(tree)
    except PydanticError as exc:
        raise ScenarioError([_from_pydantic(e, tree, name) for e in exc.errors()]) from None
    problems = check_semantics(scenario, tree, name)
    if problems:
        raise ScenarioError(problems)
    return scenario


def _from_pydantic(err: dict, tree: Any, file: str) -> ValidationError:
    loc = tuple(err.get("loc", ()))
    # A model-level error of a union member ends in the member's tag (the inject kind): drop it.
    if loc and isinstance(loc[-1], str):
        from orbitwatch.exercise.yamlloc import _MISSING, _child

        node: Any = tree
        for part in loc[:-1]:
            child = _child(node, part)
            node = node if child is _MISSING else child
        if isinstance(node, dict) and loc[-1] not in node and node.get("kind") == loc[-1]:
            loc = loc[:-1]
    msg = err.get("msg", "invalid")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        msg = "unknown field (check the spelling; see docs/exercise.md for the fields allowed here)"
    elif kind == "union_tag_invalid":
        msg = f"unknown inject kind {err.get('input', {}).get('kind')!r}; expected one of {', '.join(INJECT_KINDS)}"
        loc = (*loc, "kind")
    elif kind == "union_tag_not_found":
        msg = f"an inject needs 'kind' (one of {', '.join(INJECT_KINDS)})"
    elif ("input" in err and kind not in ("missing",) and not isinstance(err["input"], dict | list)
          and repr(err["input"]) not in msg):
        msg += f" (got {err['input']!r})"
    return ValidationError(msg, file=file, line=line_of(tree, loc), field=field_path(loc, tree) or None)


def check_semantics(sc: Scenario, tree: Any, file: str) -> list[ValidationError]:
    """Cross-references and meaning: every problem found, each with its line and field."""
    out: list[ValidationError] = []

    def bad(reason: str, *loc: Any) -> None:
        out.append(ValidationError(reason, file=file, line=line_of(tree, loc), field=field_path(loc) or None))

    roles = set(sc.objects)
    objectives = {o.id for o in sc.objectives}
    ids: dict[str, int] = {}
    for k, inj in enumerate(sc.msel):
        if inj.id in ids:
            bad(f"inject id {inj.id!r} is used twice (also msel[{ids[inj.id]}])", "msel", k, "id")
        ids.setdefault(inj.id, k)
    nations = set(sc.nations)
    if not sc.blue_nations:
        bad("no blue (player) nation: at least one participant needs cell 'blue'", "participants")
    seen: set[str] = set()
    for k, p in enumerate(sc.participants):
        key = p.nation or ("ORG " + (p.organisation or ""))
        if key in seen:
            bad(f"participant {key} is listed twice", "participants", k)
        seen.add(key)
        for j, a in enumerate(p.assets):
            if a.ref and a.ref not in roles:
                bad(f"unknown object role {a.ref!r}; defined roles: {', '.join(sorted(roles)) or 'none'}",
                    "participants", k, "assets", j, "ref")
            if a.select and a.select.near and a.select.near not in roles:
                bad(f"unknown object role {a.select.near!r}", "participants", k, "assets", j, "select", "near")
    for role, spec in sc.objects.items():
        for j, ch in enumerate(spec.select):
            if ch.near and ch.near not in roles:
                bad(f"unknown object role {ch.near!r}", "objects", role, "select", j, "near")
            if ch.place and ch.place.relative_to not in roles:
                bad(f"unknown object role {ch.place.relative_to!r}", "objects", role, "select", j, "place",
                    "relative_to")
            if ch.place and ch.place.relative_to == role:
                bad("an object cannot be placed relative to itself", "objects", role, "select", j, "place")

    def check_obj(ref: str | None, *loc: Any) -> None:
        if ref is None:
            return
        if ref in roles or (ref.isdigit() and int(ref) > 0):
            return
        bad(f"unknown object {ref!r}: use a role from 'objects' ({', '.join(sorted(roles)) or 'none'}) or a "
            "NORAD id", *loc)

    def check_nations(value: list[str] | str, *loc: Any, allow: tuple[str, ...] = ("all",)) -> None:
        vals = [value] if isinstance(value, str) else value
        for i, v in enumerate(vals):
            if v in allow or v.startswith("owner:"):
                if v.startswith("owner:") and v[6:] not in roles:
                    bad(f"unknown object role {v[6:]!r} in {v!r}", *loc)
                continue
            if v.upper() not in NATIONS:
                bad(f"unknown nation {v!r}; expected trigraphs ({', '.join(NATIONS)}) or "
                    f"{' / '.join(repr(a) for a in allow)}", *loc, *(() if isinstance(value, str) else (i,)))
            elif v.upper() not in nations:
                bad(f"{v.upper()} is not a participant of this exercise", *loc,
                    *(() if isinstance(value, str) else (i,)))

    for k, inj in enumerate(sc.msel):
        base = ("msel", k)
        for j, dep in enumerate(inj.after):
            if dep not in ids:
                bad(f"unknown inject {dep!r} in 'after'", *base, "after", j)
            elif dep == inj.id:
                bad("an inject cannot depend on itself", *base, "after", j)
        if inj.delay is not None and not inj.after:
            bad("'delay' counts from the injects in 'after'; give 'after' or use 'at'", *base, "delay")
        timed = sum(x is not None for x in (inj.at, inj.contingency)) + bool(inj.after) + inj.red_cell
        if inj.at is not None and inj.contingency is not None:
            bad("an inject has either 'at' or 'contingency' (which fires at its own deadline), not both",
                *base, "contingency")
        if timed == 0:
            bad("the inject never fires: give 'at', 'after', a 'contingency', or 'red_cell: true'", *base)
        objs = [inj.objective] if isinstance(inj.objective, str) else (inj.objective or [])
        for j, o in enumerate(objs):
            if o not in objectives:
                bad(f"unknown objective {o!r}; defined: {', '.join(sorted(objectives)) or 'none'}", *base,
                    "objective", *(() if isinstance(inj.objective, str) else (j,)))
        check_nations(inj.to, *base, "to")
        if inj.from_ not in ("WHITE", "RED") and inj.from_.upper() not in NATIONS:
            # Information may come from anyone (a news agency, an adversary): only trigraphs are checked.
            pass
        for j, ea in enumerate(inj.expected_actions):
            check_nations(ea.by, *base, "expected_actions", j, "by", allow=("all", "any"))
            if ea.objective is not None and ea.objective not in objectives:
                bad(f"unknown objective {ea.objective!r}", *base, "expected_actions", j, "objective")
        if inj.contingency:
            check_nations(inj.contingency.expected.by, *base, "contingency", "expected", "by",
                          allow=("any", "all"))
            check_obj(inj.contingency.expected.about, *base, "contingency", "expected", "about")
        kind = inj.kind
        if kind in ("manoeuvre", "breakup"):
            check_obj(inj.object, *base, "object")
        if kind == "manoeuvre" and inj.approach:
            check_obj(inj.approach.target, *base, "approach", "target")
            if inj.approach.target == inj.object:
                bad("an object cannot approach itself", *base, "approach", "target")
        if kind == "nuclear" and inj.object:
            check_obj(inj.object, *base, "object")
        if kind in INFO_KINDS and getattr(inj, "about", None):
            check_obj(inj.about, *base, "about")
        if kind == "launch" and inj.place.relative_to not in roles:
            bad(f"unknown object role {inj.place.relative_to!r}", *base, "place", "relative_to")
        if kind == "sensor_outage" and inj.nation not in nations:
            bad(f"{inj.nation} is not a participant", *base, "nation")
    # Dependency cycles (after).
    graph = {inj.id: [d for d in inj.after if d in ids] for inj in sc.msel}
    state: dict[str, int] = {}

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        for d in graph.get(n, []):
            if state.get(d) == 1:
                cyc = stack[stack.index(d):] + [d] if d in stack else [n, d]
                bad("dependency cycle: " + " -> ".join(cyc), "msel", ids[n], "after")
            elif state.get(d) is None:
                visit(d, stack + [d])
        state[n] = 2

    for n in graph:
        if state.get(n) is None:
            visit(n, [n])
    if sc.red_cell:
        for k, rule in enumerate(sc.red_cell.rules):
            for field in ("fire", "cancel"):
                for j, ref in enumerate(getattr(rule.then, field)):
                    if ref not in ids:
                        bad(f"unknown inject {ref!r}", "red_cell", "rules", k, "then", field, j)
            for cname in ("when", "unless"):
                cond = getattr(rule, cname)
                if cond is None:
                    continue
                if cond.fired and cond.fired not in ids:
                    bad(f"unknown inject {cond.fired!r}", "red_cell", "rules", k, cname, "fired")
                if cond.action:
                    check_obj(cond.action.about, "red_cell", "rules", k, cname, "action", "about")
                    check_nations(cond.action.by, "red_cell", "rules", k, cname, "action", "by",
                                  allow=("any", "all"))
        held = {i.id for i in sc.msel if i.red_cell}
        fired_by_rule = {r for rule in sc.red_cell.rules for r in rule.then.fire}
        for i in sorted(held - fired_by_rule):
            bad(f"inject {i!r} is held for the red cell but no red-cell rule fires it", "msel", ids[i], "red_cell")
    elif any(i.red_cell for i in sc.msel):
        k = next(k for k, i in enumerate(sc.msel) if i.red_cell)
        bad("'red_cell: true' but the scenario has no 'red_cell' section", "msel", k, "red_cell")
    # Times must parse against a start (relative ones always do; absolute ones are checked at run time).
    if sc.exercise.start not in ("catalog", "now"):
        start = parse_time(sc.exercise.start, None)
        end = start + parse_duration(sc.exercise.duration)
        for k, inj in enumerate(sc.msel):
            if inj.at is not None:
                t = parse_time(inj.at, start)
                if t > end:
                    bad(f"the inject is after ENDEX ({sc.exercise.duration} after STARTEX)", "msel", k, "at")
    return out
