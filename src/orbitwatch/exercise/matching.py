"""Matching actions against patterns: used by contingency injects, the red cell and the AAR ratings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.exercise.engine import Exercise
    from orbitwatch.exercise.records import Action


def nations_of(ex: Exercise, by) -> tuple[list[str], str]:
    """(nations, quantifier) for ``by``: a list, 'all' (every blue nation), 'any', or 'owner:<role>'."""
    vals = [by] if isinstance(by, str) else list(by)
    if vals == ["all"]:
        return list(ex.scenario.blue_nations), "all"
    if vals == ["any"]:
        return list(ex.scenario.nations), "any"
    out: list[str] = []
    for v in vals:
        if v.startswith("owner:"):
            n = ex.world.owner_nation(ex.world.roles.get(v[6:], -1))
            if n:
                out.append(n)
        else:
            out.append(v.upper())
    return out, "all" if not isinstance(by, str) or by.startswith("owner:") else "all"


def action_about(ex: Exercise, a: Action) -> set[int]:
    """NORAD ids an action concerns (its object/asset/about, or the objects of the alert it handles)."""
    out: set[int] = set()
    p = a.payload
    for key in ("object", "asset", "about"):
        ref = p.get(key)
        if ref is None:
            continue
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            out.add(int(ref))
        elif ref in ex.world.roles:
            out.add(ex.world.roles[ref])
    if "alert" in p:
        al = ex.alert_by_id.get(int(p["alert"])) if str(p["alert"]).isdigit() else None
        if al is not None:
            out.update(al.objects)
    if "proposal" in p and str(p["proposal"]).isdigit():
        pr = ex.proposals.get(int(p["proposal"]))
        if pr is not None and pr.title:
            out.update(ex.proposal_about.get(pr.pid, set()))
    return out


def matches(ex: Exercise, a: Action, match, *, since: float | None = None, until: float | None = None) -> bool:
    """Does action ``a`` fit an ActionMatch/ExpectedAction-like pattern (kind, by, public, about, option)?"""
    if not a.ok:
        return False
    kinds = [match.action] if isinstance(match.action, str) else list(match.action)
    if a.kind not in kinds and not (a.kind == "demarche" and "notify" in kinds):
        return False
    if since is not None and a.sim_ts < since:
        return False
    if until is not None and a.sim_ts > until:
        return False
    by = getattr(match, "by", "any")
    if by not in ("any", "all"):
        nations, _ = nations_of(ex, by)
        if a.nation not in nations:
            return False
    public = getattr(match, "public", None)
    if public is not None and bool(a.payload.get("public", False)) != public:
        return False
    about = getattr(match, "about", None)
    if about is not None:
        ref = ex.world.roles.get(about) if about in ex.world.roles else (int(about) if str(about).isdigit() else None)
        if ref is None or ref not in action_about(ex, a):
            return False
    option = getattr(match, "option", None)
    return not (option is not None and a.payload.get("option") != option and
                option not in [o.get("id") for o in a.payload.get("options", []) if isinstance(o, dict)])


def satisfied(ex: Exercise, match, *, until: float, since: float | None = None) -> bool:
    """True when the pattern is met by the actions so far (``by: all`` needs every listed nation)."""
    by = getattr(match, "by", "any")
    acts = [a for a in ex.actions if matches(ex, a, match, since=since, until=until)]
    if by == "any" or isinstance(by, str) and not by.startswith("owner:") and by != "all":
        return bool(acts)
    nations, _ = nations_of(ex, by)
    done = {a.nation for a in acts}
    return all(n in done for n in nations)
