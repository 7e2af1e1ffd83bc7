"""The exercise clock: paused, real time, accelerated ×N, or stepped by the white cell.

The clock maps wall time to simulated time. Its whole state is a few numbers (mode, rate, the
simulated time at the last anchor and the wall time of that anchor) that the engine stores with the
exercise, so an exercise resumes exactly where it was after a restart. While the server is down the
simulated time does not run on: on load the clock is re-anchored at the stored simulated time.

The engine advances the world in whole steps (``step_s``, 10 simulated minutes by default): in
``realtime``/``accelerated`` mode it catches up with :meth:`target` whenever it is asked (each API call
and the runner's tick); in ``stepped`` mode only the white cell's *step* moves it; ``paused`` holds it.
The wall clock is a parameter so tests (and replays) can drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from orbitwatch.errors import ValidationError

MODES = ("paused", "realtime", "accelerated", "stepped")


@dataclass
class ExerciseClock:
    sim_ts: float  # simulated UTC seconds at the anchor (also: where the world has been advanced to)
    mode: str = "paused"
    rate: float = 1.0
    anchor_wall: float = 0.0
    wall: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        self._check(self.mode, self.rate)
        if not self.anchor_wall:
            self.anchor_wall = self.wall()

    @staticmethod
    def _check(mode: str, rate: float) -> None:
        if mode not in MODES:
            raise ValidationError(f"unknown clock mode {mode!r}; expected one of {', '.join(MODES)}", field="mode")
        if not (0 < rate <= 100_000):
            raise ValidationError(f"rate must be in (0, 100000], got {rate}", field="rate")

    @property
    def running(self) -> bool:
        return self.mode in ("realtime", "accelerated")

    def target(self) -> float:
        """Simulated time the clock says it is now (the world may still have to catch up)."""
        if not self.running:
            return self.sim_ts
        speed = 1.0 if self.mode == "realtime" else self.rate
        return self.sim_ts + (self.wall() - self.anchor_wall) * speed

    def advanced_to(self, sim_ts: float) -> None:
        """The world has been advanced to ``sim_ts``: re-anchor there (keeps running clocks honest:
        any time spent stepping is not lost, the remainder carries over)."""
        if self.running:
            speed = 1.0 if self.mode == "realtime" else self.rate
            self.anchor_wall += (sim_ts - self.sim_ts) / speed
        else:
            self.anchor_wall = self.wall()
        self.sim_ts = sim_ts

    def set_mode(self, mode: str, rate: float | None = None) -> None:
        rate = self.rate if rate is None else float(rate)
        self._check(mode, rate)
        self.anchor_wall = self.wall()
        self.mode = mode
        self.rate = rate

    def state(self) -> dict:
        return {"sim_ts": self.sim_ts, "mode": self.mode, "rate": self.rate, "anchor_wall": self.anchor_wall}

    @classmethod
    def restore(cls, state: dict, *, wall: Callable[[], float] = time.time) -> ExerciseClock:
        """The clock as stored, re-anchored now (down time does not count)."""
        return cls(float(state["sim_ts"]), state.get("mode", "paused"), float(state.get("rate", 1.0)), wall(), wall)
