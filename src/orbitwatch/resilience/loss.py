"""Service resilience under loss: each nation alone vs the coalition pooled, before and after a scenario.

A scenario is simply the set of NORAD ids it destroys (a breakup's parent and victims, the satellites a
nuclear belt kills by some day, or a list); the effects package computes those sets, this module only
removes them and measures again.

DoD resilience taxonomy elements reported as numbers (the ones that apply to a service over a region):
- **proliferation**: satellites actually serving the region in the window, and the mean in view;
- **diversification**: independent providers (nations / EU / others) and independent systems serving;
- **distribution**: distinct orbital planes (inclination to 2°, ascending node to 15°; GEO as one ring)
  and distinct regimes (LEO / MEO / GEO / HEO) among the serving satellites.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from orbitwatch.formats.records import ElementSet
from orbitwatch.resilience.coverage import coverage_compare
from orbitwatch.resilience.gnss import gnss_compare
from orbitwatch.resilience.regions import Grid, Region
from orbitwatch.resilience.services import (
    ALLIED_GNSS,
    GNSS_PROVIDER,
    OWN_PROVIDERS,
    PARTNERS,
    classify,
    gnss_system,
    provider_of,
)

COALITION = "COALITION"


@dataclass(frozen=True)
class Taxonomy:
    proliferation_serving: int
    proliferation_mean_in_view: float
    diversification_providers: int
    providers: tuple[str, ...]
    diversification_systems: int
    systems: tuple[str, ...]
    distribution_planes: int
    distribution_regimes: int
    regimes: tuple[str, ...]

    def as_dict(self) -> dict:
        d = asdict(self)
        d["providers"] = list(self.providers)
        d["systems"] = list(self.systems)
        d["regimes"] = list(self.regimes)
        return d


def orbital_planes(elsets: Sequence[ElementSet]) -> int:
    """Distinct orbital planes: GEO counts as one ring; others by (inclination/2°, RAAN/15°) cells."""
    cells = set()
    for e in elsets:
        if e.regime == "GEO":
            cells.add(("GEO",))
        elif e.inclination < 2.0:
            cells.add(("EQ", e.regime))
        else:
            cells.add((int(e.inclination // 2.0), int((e.raan % 360.0) // 15.0)))
    return len(cells)


def taxonomy(serving: Sequence[ElementSet], mean_in_view: float,
             owners: Mapping[int, str] | None = None) -> Taxonomy:
    """The taxonomy numbers for the satellites serving a region."""
    providers = sorted({provider_of(e, owners) or "UNKNOWN" for e in serving})
    systems = sorted({classify(e).constellation for e in serving})
    regimes = sorted({e.regime for e in serving})
    return Taxonomy(len(serving), round(float(mean_in_view), 3), len(providers), tuple(providers),
                    len(systems), tuple(systems), orbital_planes(serving), len(regimes), tuple(regimes))


def _delta(before: dict, after: dict, keys: Sequence[str]) -> dict:
    out = {}
    for k in keys:
        b, a = before.get(k), after.get(k)
        out[k] = None if (b is None or a is None) else round(a - b, 6)
    return out


def gnss_under_loss(elsets: Sequence[ElementSet], where: Region | Grid, lost: set[int] | frozenset[int], *,
                    start: datetime | float, hours: float = 24.0, step_s: float = 300.0, step_deg: float = 1.0,
                    mask_deg: float = 10.0, pdop_max: float = 6.0,
                    nations: Sequence[str] = PARTNERS, clock_per_system: bool = False) -> dict:
    """GNSS availability before/after losing ``lost``, per nation alone and for the coalition pooled.

    A nation alone counts only navigation systems its own providers operate (USA: GPS; JPN: QZSS;
    FRA/DEU/ITA: Galileo through the EU); others have none of their own. The coalition pools GPS,
    Galileo and QZSS.
    """
    present = sorted({s for s in (gnss_system(e) for e in elsets) if s})
    own = {n: [s for s in ALLIED_GNSS if GNSS_PROVIDER[s] in OWN_PROVIDERS.get(n, (n,)) and s in present]
           for n in nations}
    sets: dict[str, list[str]] = {s: [s] for s in ALLIED_GNSS if s in present}
    pooled = [s for s in ALLIED_GNSS if s in present]
    if pooled:
        sets[COALITION] = pooled
    kw = dict(start=start, hours=hours, step_s=step_s, step_deg=step_deg, mask_deg=mask_deg, pdop_max=pdop_max,
              clock_per_system=clock_per_system)
    before = gnss_compare(elsets, where, sets, **kw) if sets else {}
    after = gnss_compare(elsets, where, sets, exclude=set(lost), **kw) if sets else {}
    by_id = {e.norad_id: e for e in elsets}

    def row(label: str, systems: list[str]) -> dict:
        if not systems:
            empty = {"availability": 0.0, "pdop_median": None, "satellites": 0}
            return {"systems": [], "before": empty, "after": empty, "change": {"availability": 0.0},
                    "taxonomy_before": None, "taxonomy_after": None}
        # a nation with one system uses that system's result; several would pool (not the case today)
        key = systems[0] if len(systems) == 1 else COALITION
        b, a = before[key], after[key]
        sb, sa = b.summary(), a.summary()
        tb = taxonomy([by_id[i] for i in b.norad_ids], sb["mean_satellites_in_view"])
        ta = taxonomy([by_id[i] for i in a.norad_ids], sa["mean_satellites_in_view"])
        return {"systems": systems, "before": sb, "after": sa,
                "change": _delta(sb, sa, ("availability", "pdop_median", "pdop_p95", "mean_satellites_in_view")),
                "taxonomy_before": tb.as_dict(), "taxonomy_after": ta.as_dict()}

    out = {"service": "GNSS", "lost_count": len(lost), "lost": sorted(lost) if len(lost) <= 500 else None,
           "lost_navigation_satellites":
           sorted(i for i in lost if i in by_id and gnss_system(by_id[i])),
           "nations": {n: row(n, own[n]) for n in nations},
           COALITION.lower(): row(COALITION, pooled)}
    return out


def coverage_under_loss(elsets: Sequence[ElementSet], where: Region | Grid, lost: set[int] | frozenset[int], *,
                        start: datetime | float, hours: float = 24.0, step_s: float = 60.0,
                        step_deg: float = 1.0, min_elevation_deg: float | None = None,
                        half_angle_deg: float | None = None, owners: Mapping[int, str] | None = None,
                        nations: Sequence[str] = PARTNERS) -> dict:
    """Coverage before/after losing ``lost`` for each nation's own satellites and the coalition's pooled.

    ``elsets`` should already be the satellites of the service in question (e.g. the comms or ISR
    satellites); a satellite belongs to a nation when its provider is one of the nation's own
    (``OWN_PROVIDERS``: FRA/DEU/ITA also count EU systems); the coalition pools every partner's and EU.
    """
    prov = {e.norad_id: provider_of(e, owners) for e in elsets}
    groups: dict[str, list[int]] = {}
    for n in nations:
        mine = OWN_PROVIDERS.get(n, (n,))
        groups[n] = [i for i, p in prov.items() if p in mine]
    pooled_providers = set(PARTNERS) | {"EU"}
    groups[COALITION] = [i for i, p in prov.items() if p in pooled_providers]
    lost = set(lost)
    all_groups = {f"{k}|before": v for k, v in groups.items()}
    all_groups.update({f"{k}|after": [i for i in v if i not in lost] for k, v in groups.items()})
    res = coverage_compare(elsets, where, all_groups, start=start, hours=hours, step_s=step_s,
                           step_deg=step_deg, min_elevation_deg=min_elevation_deg, half_angle_deg=half_angle_deg)
    by_id = {e.norad_id: e for e in elsets}

    def row(k: str) -> dict:
        b, a = res[f"{k}|before"], res[f"{k}|after"]
        sb, sa = b.summary(), a.summary()
        tb = taxonomy([by_id[i] for i in b.serving_ids], sb["mean_in_view"], owners)
        ta = taxonomy([by_id[i] for i in a.serving_ids], sa["mean_in_view"], owners)
        return {"satellites": len(groups[k]), "before": sb, "after": sa,
                "change": _delta(sb, sa, ("percent_coverage", "max_gap_s", "mean_revisit_s", "mean_in_view")),
                "taxonomy_before": tb.as_dict(), "taxonomy_after": ta.as_dict()}

    return {"service": "coverage", "lost_count": len(lost), "lost": sorted(lost) if len(lost) <= 500 else None,
            "nations": {n: row(n) for n in nations},
            COALITION.lower(): row(COALITION)}


def lost_ids_from_text(text: str) -> set[int]:
    """``'25544,43013'`` -> {25544, 43013} (used by the CLI's ``--without LIST``)."""
    out = set()
    for tok in text.replace(";", ",").split(","):
        tok = tok.strip()
        if tok:
            out.add(int(tok))
    return out
