"""Collective decisions: proposals, votes with national caveats, and the three consensus rules.

* ``unanimity`` - adopted when every member has answered and none objects (constructive abstention
  allowed, at least one concurrence); a single non-concurrence rejects it; at the deadline with answers
  missing it expires.
* ``silence`` - the NATO *silence procedure*: adopted at the deadline unless a member breaks silence
  (a non-concurrence) before it; explicit concurrences are recorded but not needed.
* ``majority`` - adopted as soon as more than half of the members concur; otherwise rejected at the
  deadline.

The adopted option is the one with the most concurrences (ties: the first listed), or the first option
under silence when nobody named one.
"""

from __future__ import annotations

from orbitwatch.exercise.records import Proposal

POSITIONS = ("concur", "nonconcur", "abstain")


def leading_option(p: Proposal) -> str | None:
    counts: dict[str, int] = {o["id"]: 0 for o in p.options}
    for v in p.votes.values():
        if v["position"] == "concur" and v.get("option") in counts:
            counts[v["option"]] += 1
    if not counts:
        return None
    best = max(counts.values())
    if best == 0:
        return p.options[0]["id"] if p.options else None
    return next(o["id"] for o in p.options if counts[o["id"]] == best)


def evaluate(p: Proposal, now: float) -> tuple[str, str | None, float | None]:
    """(status, outcome, decided time) of a proposal at ``now`` (status ``open`` while undecided)."""
    if p.status != "open":
        return p.status, p.outcome, p.decided_ts
    votes = {n: v for n, v in p.votes.items() if n in p.members and v["sim_ts"] <= now}
    objections = [v for v in votes.values() if v["position"] == "nonconcur"]
    concur = [v for v in votes.values() if v["position"] == "concur"]
    last_vote = max((v["sim_ts"] for v in votes.values()), default=p.sim_ts)
    if p.rule == "unanimity":
        if objections:
            return "rejected", None, min(v["sim_ts"] for v in objections)
        if len(votes) == len(p.members) and concur:
            return "adopted", leading_option(p), last_vote
        if now >= p.deadline_ts:
            return "expired", None, p.deadline_ts
        return "open", None, None
    if p.rule == "silence":
        if objections:
            return "rejected", None, min(v["sim_ts"] for v in objections)
        if now >= p.deadline_ts:
            return "adopted", leading_option(p), p.deadline_ts
        return "open", None, None
    if p.rule == "majority":
        counts: dict[str | None, list[float]] = {}
        for v in concur:
            counts.setdefault(v.get("option") or (p.options[0]["id"] if p.options else None), []).append(v["sim_ts"])
        for opt, times in counts.items():
            if len(times) * 2 > len(p.members):
                times.sort()
                return "adopted", opt, times[len(p.members) // 2]
        if now >= p.deadline_ts:
            return "rejected", None, p.deadline_ts
        return "open", None, None
    raise ValueError(f"unknown consensus rule {p.rule!r}")
