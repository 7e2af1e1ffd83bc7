"""Benchmark: a 2-tonne collision and its added 30-day collision risk to every allied asset.

Target (issue 6): < 5 min on the project machine. Parent: UOSAT 2 (NORAD 14781, ~690 km) in the
2026-08-18 CelesTrak active catalogue, 2,000 kg, hit by 10 kg at 10 km/s (catastrophic); fragments
>= 10 cm screened against every allied payload with ``conjunctions.screen`` (5 km, with Pc).

By default the screening runs ``--days`` (1) and the 30-day time is extrapolated linearly (the
engine's cost is linear in the window: knots and sweep per object-day); ``--full`` screens the whole
30 days. ``--exclude-constellations`` leaves mega-constellations out of the asset list. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from orbitwatch.effects.breakup import simulate_breakup
from orbitwatch.effects.risk import added_collision_risk, allied_assets
from orbitwatch.resilience.catalog import load_elsets
from orbitwatch.resilience.services import classify

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "catalog" / "celestrak_gp_omm_csv_2026-08-18"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true", help="(accepted for run_all.py; output is always JSON)")
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--full", action="store_true", help="screen all 30 days")
    ap.add_argument("--exclude-constellations", default="")
    args = ap.parse_args()
    elsets, _ = load_elsets(DATA / "active.csv.gz")
    parent = next(e for e in elsets if e.norad_id == 14781)
    t0, c0 = time.perf_counter(), time.process_time()
    cloud = simulate_breakup(parent, mass_kg=2000.0, kind="collision", impactor_mass_kg=10.0, impact_speed_kms=10.0,
                             rng=7)
    t_breakup = time.perf_counter() - t0
    drop = {x.strip().upper() for x in args.exclude_constellations.split(",") if x.strip()}
    assets = [a for a in allied_assets(elsets) if a.norad_id != parent.norad_id
              and classify(a).constellation not in drop]
    days = 30.0 if args.full else args.days
    t1 = time.perf_counter()
    risk = added_collision_risk(cloud.elsets, assets, start=cloud.epoch, days=days)
    t_risk = time.perf_counter() - t1
    s = risk.summary(top=0)
    total_30 = t_breakup + t_risk * (30.0 / days)
    print(json.dumps({
        "benchmark": "breakup_2t_collision_30d_risk", "parent": parent.norad_id, "fragments_over_10cm":
        cloud.count_over(0.1), "element_sets": len(cloud.elsets), "allied_assets": len(assets),
        "excluded_constellations": sorted(drop), "screened_days": days, "breakup_seconds": round(t_breakup, 2),
        "risk_seconds": round(t_risk, 1), "seconds_30d": round(total_30, 1),
        "seconds_30d_extrapolated": not args.full, "cpu_seconds_main_process": round(time.process_time() - c0, 1),
        "target_seconds": 300, "added_conjunctions": s["added_conjunctions"], "assets_at_risk": s["assets_at_risk"],
        "summed_pc": s["summed_pc"]}))


if __name__ == "__main__":
    main()
