"""``orbitwatch simulate breakup|nuclear|jamming``: effects of hostile acts on the catalogue (SIMULATED).

The catalogue comes from ``--catalog FILE`` (TLE/3LE/OMM) or the store (``--db URL``, default database).
Every product is marked SIMULATED.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from orbitwatch.cli.common import DbOption, JsonOption, console, emit_json

CatalogOption = Annotated[Path | None, typer.Option("--catalog", help="Catalogue file (TLE/3LE/OMM); "
                                                                      "default: the store (--db).")]


def clean(value: Any) -> Any:
    """JSON-safe: NaN/inf -> null, numpy -> Python, sets -> sorted lists."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(clean(v) for v in value)
    if hasattr(value, "tolist"):
        return clean(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def load_world(catalog: Path | None, db: str | None) -> tuple[list, dict[int, str], dict[int, dict]]:
    """(element sets, owner map, object facts) from a file or the store; errors go to stderr."""
    from orbitwatch.cli.common import err_console
    from orbitwatch.resilience.catalog import elsets_from_store, load_elsets

    if catalog is not None:
        elsets, errors = load_elsets(catalog)
        if errors:
            err_console.print(f"[yellow]{len(errors)} record(s) skipped in {catalog}; first: {errors[0]}[/]")
        return elsets, {}, {}
    elsets, owners, facts = elsets_from_store(db)
    if not elsets:
        from orbitwatch.errors import NotFound

        raise NotFound("the store holds no element sets: ingest a catalogue first or pass --catalog FILE")
    return elsets, owners, facts


def _epoch(text: str | None):
    if text is None:
        return None
    from orbitwatch.formats.records import parse_epoch

    return parse_epoch(text)


def _filter_assets(assets: list, spec: str | None, exclude: str | None, owners: dict[int, str]) -> list:
    """``--assets USA,GBR,25544`` (providers and/or ids) and ``--exclude-constellations STARLINK``."""
    from orbitwatch.resilience.services import classify, provider_of

    if spec:
        toks = [t.strip().upper() for t in spec.split(",") if t.strip()]
        ids = {int(t) for t in toks if t.isdigit()}
        provs = {t for t in toks if not t.isdigit()}
        assets = [a for a in assets if a.norad_id in ids or (provider_of(a, owners) or "") in provs]
    if exclude:
        drop = {t.strip().upper() for t in exclude.split(",") if t.strip()}
        assets = [a for a in assets if classify(a).constellation not in drop]
    return assets


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and its commands to the main app."""
    sim = typer.Typer(help="Simulate hostile acts: debris-generating breakups, nuclear bursts, GNSS jamming "
                           "(all products SIMULATED).", no_args_is_help=True)
    app.add_typer(sim, name="simulate")

    @sim.command("breakup")
    def breakup(
        norad: Annotated[int, typer.Option("--norad", help="Catalogue number of the object that breaks up.")],
        kind: Annotated[str, typer.Option("--kind", help="collision | explosion | asat")] = "collision",
        mass_kg: Annotated[float | None, typer.Option("--mass-kg", help="Parent mass (default: store/CARA "
                                                                        "mass, else 1000 kg).")] = None,
        impactor_mass: Annotated[float | None, typer.Option("--impactor-mass", help="kg (collision/asat)")] = None,
        impact_speed: Annotated[float | None, typer.Option("--impact-speed", help="km/s (collision/asat)")] = None,
        epoch: Annotated[str | None, typer.Option("--epoch", help="Breakup time, ISO UTC (default: the "
                                                                  "parent's element-set epoch).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same cloud).")] = 1,
        days: Annotated[float, typer.Option("--days", help="Risk window (days).")] = 30.0,
        threshold_km: Annotated[float, typer.Option("--threshold-km", help="Screening distance.")] = 5.0,
        risk_min_cm: Annotated[float, typer.Option("--risk-min-size-cm", help="Fragments screened for risk "
                                                                              "(>= this size).")] = 10.0,
        no_risk: Annotated[bool, typer.Option("--no-risk", help="Skip the 30-day risk screening.")] = False,
        store: Annotated[bool, typer.Option("--store", help="Add the fragments to the store (--db) as "
                                                            "SIMULATED objects.")] = False,
        out_file: Annotated[Path | None, typer.Option("--out", help="Write the fragment element sets as OMM "
                                                                    "(.csv = CelesTrak CSV, else KVN).")] = None,
        assets_opt: Annotated[str | None, typer.Option("--assets", help="Limit the allied assets screened: "
                                                                        "providers (USA,GBR,EU) and/or NORAD ids "
                                                                        "(default: every allied payload).")] = None,
        exclude_const: Annotated[str | None, typer.Option("--exclude-constellations",
                                                          help="Leave these out of the assets, e.g. "
                                                               "STARLINK,ONEWEB,KUIPER (screening cost "
                                                               "grows with the number of assets).")] = None,
        catalog: CatalogOption = None,
        plot_dir: Annotated[Path | None, typer.Option("--plot-dir", help="Write gabbard.png and "
                                                                         "altitude_density.png here.")] = None,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        """Break an object up (NASA standard breakup model) and assess the added risk to allied assets."""
        from orbitwatch.effects.breakup import next_simulated_base, simulate_breakup
        from orbitwatch.effects.risk import added_collision_risk, allied_assets
        from orbitwatch.errors import NotFound

        elsets, owners, facts = load_world(catalog, db)
        parent = next((e for e in elsets if e.norad_id == norad), None)
        if parent is None:
            raise NotFound(f"object {norad} is not in the catalogue")
        fact = facts.get(norad, {})
        mass = mass_kg or fact.get("mass_kg") or 1000.0
        cloud = simulate_breakup(parent, mass_kg=float(mass), kind=kind, impactor_mass_kg=impactor_mass,
                                 impact_speed_kms=impact_speed, epoch=_epoch(epoch), rng=seed,
                                 elset_min_size_m=risk_min_cm / 100.0, object_type=fact.get("object_type"),
                                 norad_base=next_simulated_base(e.norad_id for e in elsets))
        out = cloud.summary()
        out["mass_source"] = "--mass-kg" if mass_kg else ("store" if fact.get("mass_kg") else "default 1000 kg")
        if out_file is not None:
            from orbitwatch.formats.omm import format_omm_csv, format_omm_kvn

            text = (format_omm_csv(cloud.elsets) if out_file.suffix.lower() == ".csv"
                    else format_omm_kvn(cloud.elsets, originator="ORBITWATCH SIMULATED"))
            out_file.write_text(text)
            out["out"] = str(out_file)
        if store:
            from orbitwatch.settings import database_url
            from orbitwatch.store.engine import open_engine
            from orbitwatch.store.ingest import ingest_records

            engine = open_engine(database_url(db))
            rep = ingest_records(engine, [*cloud.elsets, *cloud.satcat_records()], source="simulate:breakup",
                                 marking=cloud.marking, fmt="simulated")
            engine.dispose()
            out["stored"] = {"accepted": rep.accepted, "duplicates": rep.duplicates, "marking": str(cloud.marking)}
        if not no_risk:
            types = {k: v.get("object_type") for k, v in facts.items() if v.get("object_type")}
            assets = [a for a in allied_assets(elsets, owners, types or None) if a.norad_id != norad]
            assets = _filter_assets(assets, assets_opt, exclude_const, owners)
            risk = added_collision_risk(cloud.elsets, assets, start=cloud.epoch, days=days,
                                        threshold_km=threshold_km, owners=owners)
            out["risk"] = risk.summary()
        if plot_dir is not None:
            import numpy as np

            from orbitwatch.effects import plots
            from orbitwatch.effects.orbits import apsides_km

            pe, ap = apsides_km(np.array([e.mean_motion for e in elsets]), np.array([e.eccentricity for e in elsets]))
            leo = (ap < 2500) & (pe > 100)
            out["plots"] = [str(plots.gabbard(cloud, plot_dir / "gabbard.png")),
                            str(plots.altitude_density(cloud, plot_dir / "altitude_density.png",
                                                       background=(pe[leo], ap[leo]) if leo.sum() > 1 else None))]
        if json_out:
            emit_json(clean(out))
            return
        console.print(f"[bold]SIMULATED[/] {kind} of {parent.object_name or norad} ({norad}) at "
                      f"{cloud.epoch.isoformat()} — parent {out['parent_mass_kg']:g} kg ({out['mass_source']})")
        console.print(f"  fragments >= 1 cm: {out['fragments_over_1cm']:,}   >= 10 cm: {out['fragments_over_10cm']:,}"
                      f"   element sets: {out['element_sets']:,} (NORAD {out['norad_range']})")
        if "risk" in out:
            r = out["risk"]
            console.print(f"  {days:g}-day added risk: {r['added_conjunctions']} conjunctions within "
                          f"{threshold_km:g} km with {r['assets_at_risk']} of {r['assets_screened']} allied assets, "
                          f"summed Pc {r['summed_pc']:.2e}")
            for a in r["assets"][:15]:
                console.print(f"    {a['norad_id']:>6} {a['name'] or '':<24} {a['owner'] or '':<4} "
                              f"n={a['added_conjunctions']:<3} ΣPc={a['summed_pc']:.2e}")
        for p in out.get("plots", []):
            console.print(f"  plot: {p}")

    @sim.command("nuclear")
    def nuclear(
        lat: Annotated[float, typer.Option("--lat", help="Burst latitude (deg).")],
        lon: Annotated[float, typer.Option("--lon", help="Burst longitude (deg).")],
        alt_km: Annotated[float, typer.Option("--alt-km", help="Burst altitude (km).")],
        yield_kt: Annotated[float, typer.Option("--yield-kt", help="Yield (kt TNT).")],
        epoch: Annotated[str | None, typer.Option("--epoch", help="Burst time ISO UTC (default: newest "
                                                                  "element-set epoch).")] = None,
        catalog: CatalogOption = None,
        plot: Annotated[Path | None, typer.Option("--plot", help="Attrition curves PNG.")] = None,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        """High-altitude nuclear detonation: prompt kills, belt attrition of the payloads by day 30/90/365,
        lost services (debris and rocket bodies are left out of the attrition)."""
        from orbitwatch.effects.nuclear import simulate_detonation
        from orbitwatch.resilience.services import is_payload

        elsets, owners, facts = load_world(catalog, db)
        when = _epoch(epoch) or max(e.epoch for e in elsets)
        types = {k: v.get("object_type") for k, v in facts.items()}
        payloads = [e for e in elsets if is_payload(e, types)]
        fx = simulate_detonation(payloads, lat=lat, lon=lon, alt_km=alt_km, yield_kt=yield_kt, epoch=when,
                                 owners=owners)
        out = fx.summary()
        if plot is not None:
            from orbitwatch.effects import plots
            from orbitwatch.resilience.services import PARTNERS

            out["plot"] = str(plots.attrition(fx, plot, owners=list(PARTNERS)))
        if json_out:
            emit_json(clean(out))
            return
        b = out["belt"]
        console.print(f"[bold]SIMULATED[/] {yield_kt:g} kt at {alt_km:g} km ({lat:g}, {lon:g}) {when.isoformat()}")
        console.print(f"  belt: L={b['l_burst']}, {b['electrons_trapped']:.2e} electrons trapped, peak flux "
                      f"{b['peak_flux_e_cm2_s']:.2e} e/cm²/s; prompt: {out['prompt_killed']} killed of "
                      f"{out['prompt_in_line_of_sight']} in line of sight")
        console.print("  fraction lost by day     30       90      365   (satellites)")
        for k, row in out["attrition"].items():
            console.print(f"  {k:<20} {row['30']:8.3f} {row['90']:8.3f} {row['365']:8.3f}   ({row['satellites']})")
        console.print("  lost services (by day 365):")
        for r in out["lost_services_365"][:20]:
            console.print(f"    {r['service']:<8} {r['constellation']:<14} {r['lost']}/{r['satellites']}")
        if plot is not None:
            console.print(f"  plot: {out['plot']}")

    @sim.command("jamming")
    def jamming(
        lat: Annotated[float, typer.Option("--lat", help="Jammer latitude (deg).")],
        lon: Annotated[float, typer.Option("--lon", help="Jammer longitude (deg).")],
        eirp_dbw: Annotated[float, typer.Option("--eirp-dbw", help="Jammer EIRP toward receivers (dBW).")],
        alt_m: Annotated[float, typer.Option("--alt-m", help="Jammer height (m); airborne = thousands.")] = 10.0,
        freq_mhz: Annotated[float, typer.Option("--freq-mhz", help="Jammed frequency (MHz).")] = 1575.42,
        tolerance_db: Annotated[float, typer.Option("--tolerance-db", help="Receiver J/S tolerance (dB).")] = 24.0,
        receiver_alt_m: Annotated[float, typer.Option("--receiver-alt-m", help="Receiver height (m).")] = 2.0,
        signal_dbw: Annotated[float, typer.Option("--signal-dbw", help="GNSS received power (dBW).")] = -158.5,
        region: Annotated[str | None, typer.Option("--region", help="Also report the share of this region "
                                                                    "(trigraph or W,S,E,N) denied.")] = None,
        plot: Annotated[Path | None, typer.Option("--plot", help="J/S map PNG.")] = None,
        json_out: JsonOption = False,
    ) -> None:
        """GNSS jamming: J/S over the area around a jammer and the denied area for a receiver tolerance."""
        from orbitwatch.effects.jamming import jamming_map

        m = jamming_map(lat, lon, eirp_dbw=eirp_dbw, alt_m=alt_m, freq_hz=freq_mhz * 1e6, tolerance_db=tolerance_db,
                        receiver_alt_m=receiver_alt_m, signal_dbw=signal_dbw)
        out = m.summary()
        out["data_mode"] = "SIMULATED"
        if region:
            from orbitwatch.resilience.regions import get_region

            reg = get_region(region)
            grid = reg.grid(min(0.1, max(m.step_deg, 0.02)))
            out["region"] = {"name": reg.name, "share_denied": round(m.region_share_denied(grid), 6),
                             "area_km2": round(float(grid.area_km2.sum()), 0)}
        if plot is not None:
            from orbitwatch.effects import plots

            out["plot"] = str(plots.jamming(m, plot))
        if json_out:
            emit_json(clean(out))
            return
        console.print(f"[bold]SIMULATED[/] jammer {eirp_dbw:g} dBW at ({lat:g}, {lon:g}, {alt_m:g} m), "
                      f"{freq_mhz:g} MHz, tolerance {tolerance_db:g} dB")
        console.print(f"  radio horizon {out['radio_horizon_km']} km, free-space denial range "
                      f"{out['free_space_denial_km']} km -> denied out to {out['max_denied_range_km']} km, "
                      f"{out['denied_area_km2']:,.0f} km²")
        if region:
            console.print(f"  {out['region']['name']}: {100 * out['region']['share_denied']:.3f} % of the area denied")
        if plot is not None:
            console.print(f"  plot: {out['plot']}")
