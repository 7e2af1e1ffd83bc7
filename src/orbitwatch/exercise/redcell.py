"""A rule-based red cell that reacts to what the blue nations do.

Each rule fires once. ``when`` reacts to a condition as soon as it holds (a blue action, a collective
response adopted, an inject fired); ``unless`` + ``by`` acts at a deadline unless the condition held
before it ("continues the approach unless publicly called out by T+20h"). Effects fire held injects
(``red_cell: true``) at once and cancel pending ones, e.g. back off when called out, or escalate to
jamming when the target satellite evades.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orbitwatch.exercise.matching import satisfied
from orbitwatch.exercise.times import parse_time

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.exercise.engine import Exercise


def condition_time(ex: Exercise, cond, until: float) -> float | None:
    """Earliest time ≤ ``until`` at which the condition held, or None."""
    if cond.fired is not None:
        st = ex.injects.get(cond.fired)
        if st is not None and st.status == "fired" and st.fired_at is not None and st.fired_at <= until:
            return st.fired_at
        return None
    if cond.adopted is not None:
        times = [p.decided_ts for p in ex.proposals.values()
                 if p.status == "adopted" and p.outcome == cond.adopted and p.decided_ts is not None
                 and p.decided_ts <= until]
        return min(times) if times else None
    if cond.action is not None:
        if not satisfied(ex, cond.action, until=until):
            return None
        from orbitwatch.exercise.matching import matches

        times = [a.sim_ts for a in ex.actions if matches(ex, a, cond.action, until=until)]
        return max(times) if getattr(cond.action, "by", "any") == "all" else min(times)
    return None


def evaluate(ex: Exercise, now: float) -> list[tuple[str, float, list[str], list[str]]]:
    """Rules that trigger by ``now``: (rule id, time, injects to fire, injects to cancel)."""
    rc = ex.scenario.red_cell
    if rc is None:
        return []
    out = []
    for rule in rc.rules:
        if rule.id in ex.red_fired:
            continue
        if rule.when is not None:
            t = condition_time(ex, rule.when, now)
            if t is not None:
                out.append((rule.id, max(t, ex.sim_ts), list(rule.then.fire), list(rule.then.cancel)))
        else:
            deadline = parse_time(rule.by, ex.start_ts)
            if now < deadline:
                continue
            if condition_time(ex, rule.unless, deadline) is None:
                out.append((rule.id, deadline, list(rule.then.fire), list(rule.then.cancel)))
            else:
                ex.red_fired[rule.id] = {"time": deadline, "result": "stood down (condition met)"}
    return out
