"""The exercise clock (modes, persistence) and the three consensus rules."""

from __future__ import annotations

import pytest

from orbitwatch.errors import ValidationError
from orbitwatch.exercise.clock import ExerciseClock
from orbitwatch.exercise.consensus import evaluate
from orbitwatch.exercise.records import Proposal


class Wall:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_paused_and_stepped_clocks_do_not_run():
    w = Wall()
    for mode in ("paused", "stepped"):
        c = ExerciseClock(5000.0, mode, 1.0, wall=w)
        w.t += 3600
        assert c.target() == 5000.0


def test_realtime_and_accelerated():
    w = Wall()
    c = ExerciseClock(5000.0, "realtime", 1.0, wall=w)
    w.t += 120
    assert c.target() == 5120.0
    c.set_mode("accelerated", 60.0)
    w.t += 10
    assert c.target() == 5000.0 + 600.0  # re-anchored when the mode changed (the world was not advanced)
    # The world advances by 300 s of the 600: the rest carries over.
    c.advanced_to(5300.0)
    assert c.target() == pytest.approx(5600.0)


def test_restore_reanchors_so_downtime_does_not_count():
    w = Wall()
    c = ExerciseClock(5000.0, "accelerated", 10.0, wall=w)
    w.t += 60
    c.advanced_to(5600.0)
    state = c.state()
    w.t += 86400  # the server is down for a day
    c2 = ExerciseClock.restore(state, wall=w)
    assert (c2.mode, c2.rate, c2.target()) == ("accelerated", 10.0, 5600.0)
    w.t += 6
    assert c2.target() == 5660.0


def test_bad_mode_and_rate():
    with pytest.raises(ValidationError):
        ExerciseClock(0.0, "warp", wall=Wall())
    with pytest.raises(ValidationError):
        ExerciseClock(0.0, "accelerated", 0.0, wall=Wall())


def _p(rule: str, members=("USA", "GBR", "FRA", "DEU")) -> Proposal:
    return Proposal(1, 0.0, "USA", "t", [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}], rule, 100.0,
                    list(members))


def _vote(p: Proposal, n: str, pos: str, opt: str | None = "a", ts: float = 10.0) -> None:
    p.votes[n] = {"position": pos, "option": opt, "caveats": "", "sim_ts": ts}


def test_unanimity():
    p = _p("unanimity")
    for n, t in (("USA", 1), ("GBR", 2), ("FRA", 3)):
        _vote(p, n, "concur", ts=t)
    assert evaluate(p, 50.0)[0] == "open"
    _vote(p, "DEU", "abstain", ts=40)  # constructive abstention does not block
    assert evaluate(p, 50.0) == ("adopted", "a", 40)
    q = _p("unanimity")
    _vote(q, "USA", "concur")
    _vote(q, "FRA", "nonconcur", ts=7)
    assert evaluate(q, 8.0) == ("rejected", None, 7)
    r = _p("unanimity")
    _vote(r, "USA", "concur")
    assert evaluate(r, 100.0) == ("expired", None, 100.0)


def test_silence_procedure():
    p = _p("silence")
    _vote(p, "USA", "concur", "b")
    assert evaluate(p, 99.0)[0] == "open"
    assert evaluate(p, 100.0) == ("adopted", "b", 100.0)
    q = _p("silence")
    _vote(q, "USA", "concur")
    _vote(q, "DEU", "nonconcur", None, ts=42)  # breaks silence
    assert evaluate(q, 100.0) == ("rejected", None, 42)


def test_majority():
    p = _p("majority", members=("USA", "GBR", "FRA", "DEU", "ITA"))
    _vote(p, "USA", "concur", "b", 1)
    _vote(p, "GBR", "concur", "b", 2)
    _vote(p, "FRA", "concur", "a", 3)
    assert evaluate(p, 50.0)[0] == "open"
    _vote(p, "DEU", "concur", "b", 4)
    assert evaluate(p, 50.0) == ("adopted", "b", 4)
    q = _p("majority")
    _vote(q, "USA", "concur", "a")
    _vote(q, "GBR", "nonconcur", None)
    assert evaluate(q, 100.0) == ("rejected", None, 100.0)
