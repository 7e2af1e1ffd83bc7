"""Added collision risk of a simulated debris cloud to allied assets, through the screening engine.

The fragments (SIMULATED element sets) and the assets are screened together with
``orbitwatch.conjunctions.screen.screen`` in one-vs-all mode (primaries = the assets), over ``days``
from the breakup; every fragment-asset approach within ``threshold_km`` counts, and the engine's Pc
(default TLE covariance model, combined hard-body radius 20 m) is summed per asset. Asset-asset
approaches are not "added" risk and are left out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from orbitwatch.formats.records import ElementSet
from orbitwatch.resilience.services import OWN_PROVIDERS, PARTNERS, provider_of

#: Temporary catalogue numbers for fragments while screening, when the SGP4 kernel cannot take
#: numbers above 339999 (sgp4's Alpha-5 limit); mapped back before results leave this module.
_SCREEN_ALIAS_BASE = 300_000


@dataclass
class AssetRisk:
    norad_id: int
    name: str | None
    owner: str | None
    conjunctions: int = 0
    summed_pc: float = 0.0
    summed_pc_max: float = 0.0
    max_pc: float = 0.0
    closest_km: float | None = None
    fragments: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"norad_id": self.norad_id, "name": self.name, "owner": self.owner,
                "added_conjunctions": self.conjunctions, "summed_pc": self.summed_pc,
                "summed_pc_max": self.summed_pc_max, "max_pc": self.max_pc, "closest_km": self.closest_km}


@dataclass
class AddedRisk:
    days: float
    threshold_km: float
    fragments_screened: int
    assets_screened: int
    assets: list[AssetRisk]
    seconds: float
    flags: dict[int, str] = field(default_factory=dict)
    available: bool = True
    note: str = ""

    @property
    def total_conjunctions(self) -> int:
        return sum(a.conjunctions for a in self.assets)

    def by_nation(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for a in self.assets:
            k = a.owner or "UNKNOWN"
            row = out.setdefault(k, {"assets": 0, "assets_at_risk": 0, "added_conjunctions": 0, "summed_pc": 0.0})
            row["assets"] += 1
            row["assets_at_risk"] += int(a.conjunctions > 0)
            row["added_conjunctions"] += a.conjunctions
            row["summed_pc"] += a.summed_pc
        return out

    def summary(self, *, top: int | None = None) -> dict:
        at_risk = sorted((a for a in self.assets if a.conjunctions), key=lambda a: (-a.summed_pc, -a.conjunctions))
        rows = at_risk if top is None else at_risk[:top]
        return {"available": self.available, "note": self.note, "days": self.days, "threshold_km": self.threshold_km,
                "fragments_screened": self.fragments_screened, "assets_screened": self.assets_screened,
                "assets_at_risk": len(at_risk), "added_conjunctions": self.total_conjunctions,
                "summed_pc": sum(a.summed_pc for a in self.assets), "by_nation": self.by_nation(),
                "assets": [a.as_dict() for a in rows], "seconds": round(self.seconds, 1)}


def allied_assets(elsets: Sequence[ElementSet], owners: Mapping[int, str] | None = None,
                  object_types: Mapping[int, str] | None = None) -> list[ElementSet]:
    """Payloads of the ten partners (and EU systems). Without object types every named partner
    satellite counts (the name table only knows payloads)."""
    allied = set(PARTNERS) | {"EU"}
    out = []
    for e in elsets:
        if object_types and (object_types.get(e.norad_id) or "PAYLOAD").upper() != "PAYLOAD":
            continue
        if (provider_of(e, owners) or "") in allied:
            out.append(e)
    return out


def _needs_alias() -> bool:
    try:
        from orbitwatch.kernels.propagation import satrec_of
    except ImportError:  # pragma: no cover
        return False
    probe = ElementSet(norad_id=800_000, epoch=datetime(2020, 1, 1).astimezone(), mean_motion=15.0,
                       eccentricity=0.001, inclination=50.0, raan=0.0, arg_perigee=0.0, mean_anomaly=0.0,
                       source_format="simulated")
    try:
        satrec_of(probe)
    except ValueError:
        return True
    return False


def added_collision_risk(fragments: Sequence[ElementSet], assets: Sequence[ElementSet], *, start: datetime,
                         days: float = 30.0, threshold_km: float = 5.0, owners: Mapping[int, str] | None = None,
                         workers: int | None = None) -> AddedRisk:
    """Conjunction counts and summed Pc added to each asset by ``fragments`` over ``days``."""
    t0 = time.perf_counter()
    rows = {e.norad_id: AssetRisk(e.norad_id, e.object_name, _nation(e, owners)) for e in assets}
    try:
        from orbitwatch.conjunctions.screen import screen
    except ImportError:  # pragma: no cover - only before the screening engine existed
        return AddedRisk(days, threshold_km, len(fragments), len(assets), list(rows.values()), 0.0, available=False,
                         note="screening engine (orbitwatch.conjunctions.screen) not available")
    alias: dict[int, int] = {}
    frags = list(fragments)
    if _needs_alias() and any(f.norad_id > 339_999 for f in frags):
        renum = []
        for k, f in enumerate(frags):
            a = _SCREEN_ALIAS_BASE + k
            alias[a] = f.norad_id
            renum.append(replace(f, norad_id=a))
        frags = renum
    frag_ids = {f.norad_id for f in frags}
    if not frags or not rows:
        return AddedRisk(days, threshold_km, len(frags), len(rows), list(rows.values()), time.perf_counter() - t0)
    # Fragments against assets only: asset-asset conjunctions are not added risk, and leaving them out
    # means the allied fleet is propagated but never searched from.
    res = screen(frags + list(assets), start=start, days=days, threshold_km=threshold_km,
                 primaries=sorted(frag_ids), secondaries=list(rows), with_pc=True, workers=workers)
    for ev in res.events:
        if ev.norad1 in rows and ev.norad2 in frag_ids:
            asset, frag = ev.norad1, ev.norad2
        elif ev.norad2 in rows and ev.norad1 in frag_ids:
            asset, frag = ev.norad2, ev.norad1
        else:
            continue
        r = rows[asset]
        r.conjunctions += 1
        r.summed_pc += ev.pc or 0.0
        r.summed_pc_max += ev.pc_max or 0.0
        r.max_pc = max(r.max_pc, ev.pc or 0.0)
        r.closest_km = ev.miss_km if r.closest_km is None else min(r.closest_km, ev.miss_km)
        r.fragments.append(alias.get(frag, frag))
    flags = {alias.get(k, k): v for k, v in res.flags.items()}
    return AddedRisk(days, threshold_km, len(frags), len(rows), list(rows.values()), time.perf_counter() - t0,
                     flags=flags)


def _nation(e: ElementSet, owners: Mapping[int, str] | None) -> str | None:
    p = provider_of(e, owners)
    if p == "EU":
        return "EU"
    return p if p in OWN_PROVIDERS else p
