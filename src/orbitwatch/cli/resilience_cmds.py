"""``orbitwatch resilience gnss|coverage``: what each nation keeps alone and the coalition keeps pooled.

``--region`` is a partner trigraph/name (AUS CAN FRA DEU ITA JPN NZL NOR GBR USA) or a box ``W,S,E,N``.
``--without`` removes what a scenario destroys before measuring again:

- ``25544,43013`` or ``@ids.txt``: a list of catalogue numbers;
- ``nuclear:LAT,LON,ALT_KM,YIELD_KT[@DAY]``: the satellites a burst has killed by DAY (default 90);
- ``breakup:NORAD``: the object that breaks up.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from orbitwatch.cli.common import DbOption, JsonOption, console, emit_json
from orbitwatch.cli.simulate_cmds import CatalogOption, clean, load_world

RegionOption = Annotated[str, typer.Option("--region", help="Partner trigraph/name or a box W,S,E,N (deg).")]
WithoutOption = Annotated[str | None, typer.Option("--without", help="Scenario or list of NORAD ids to remove: "
                                                                     "'1,2,3', '@file', 'nuclear:LAT,LON,ALT,KT[@DAY]',"
                                                                     " 'breakup:NORAD'.")]
StartOption = Annotated[str | None, typer.Option("--start", help="Start ISO UTC (default: newest epoch).")]
HoursOption = Annotated[float, typer.Option("--hours", help="Window length (hours).")]
PlotOption = Annotated[Path | None, typer.Option("--plot", help="PNG: before/after per nation and pooled.")]


def scenario_losses(text: str | None, elsets: list, owners: dict[int, str]) -> tuple[set[int], dict]:
    """The NORAD ids a ``--without`` argument removes, and a description of the scenario."""
    from orbitwatch.errors import ValidationError
    from orbitwatch.resilience.loss import lost_ids_from_text

    if not text:
        return set(), {"kind": "none"}
    t = text.strip()
    try:
        if t.startswith("@"):
            body = Path(t[1:]).read_text()
            ids = lost_ids_from_text(body.replace("\n", ","))
            return ids, {"kind": "list", "file": t[1:], "count": len(ids)}
        if t.lower().startswith("nuclear:"):
            from orbitwatch.effects.nuclear import simulate_detonation

            spec, _, day = t[8:].partition("@")
            lat, lon, alt, kt = (float(x) for x in spec.split(","))
            when = max(e.epoch for e in elsets)
            fx = simulate_detonation(elsets, lat=lat, lon=lon, alt_km=alt, yield_kt=kt, epoch=when, owners=owners)
            d = float(day) if day else 90.0
            ids = fx.lost_by(d)
            return ids, {"kind": "nuclear", "lat": lat, "lon": lon, "alt_km": alt, "yield_kt": kt, "by_day": d,
                         "count": len(ids)}
        if t.lower().startswith("breakup:"):
            n = int(t[8:])
            return {n}, {"kind": "breakup", "parent": n, "count": 1}
        ids = lost_ids_from_text(t)
        return ids, {"kind": "list", "count": len(ids)}
    except (ValueError, OSError) as exc:
        raise ValidationError(f"--without {text!r}: {exc}; expected '1,2,3', '@file', "
                              "'nuclear:LAT,LON,ALT_KM,YIELD_KT[@DAY]' or 'breakup:NORAD'", field="without") from None


def _start(text: str | None, elsets: list):
    from orbitwatch.formats.records import parse_epoch

    if text:
        return parse_epoch(text)
    newest = max(e.epoch for e in elsets)
    return newest.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _csv(text: str | None) -> list[str] | None:
    return [x.strip().upper() for x in text.split(",") if x.strip()] if text else None


def register(app: typer.Typer) -> None:
    """Add ``resilience`` and its commands to the main app."""
    res = typer.Typer(help="Space-service resilience: GNSS and coverage, each nation alone vs the coalition "
                           "pooled, before and after losses.", no_args_is_help=True)
    app.add_typer(res, name="resilience")

    @res.command("gnss")
    def gnss(
        region: RegionOption,
        owners_opt: Annotated[str | None, typer.Option("--owners", help="Providers whose systems to pool, e.g. "
                                                                        "USA,EU,JPN (default: every system alone, "
                                                                        "allied pooled, all pooled).")] = None,
        without: WithoutOption = None,
        start: StartOption = None,
        hours: HoursOption = 24.0,
        step_s: Annotated[float, typer.Option("--step-s", help="Time step (s).")] = 60.0,
        grid_deg: Annotated[float, typer.Option("--grid-deg", help="Grid spacing (deg).")] = 1.0,
        mask_deg: Annotated[float, typer.Option("--mask-deg", help="Elevation mask (deg).")] = 10.0,
        pdop_max: Annotated[float, typer.Option("--pdop-max", help="Availability PDOP limit.")] = 6.0,
        timeseries: Annotated[bool, typer.Option("--timeseries", help="Add per-step DOP/availability to the "
                                                                      "JSON.")] = False,
        clock_per_system: Annotated[bool, typer.Option("--clock-per-system", help="One receiver clock per "
                                                                                  "system (inter-system offsets "
                                                                                  "unknown).")] = False,
        catalog: CatalogOption = None,
        plot: PlotOption = None,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        """GNSS availability (PDOP <= 6, >= 4 satellites above the mask) and DOP over a region."""
        from orbitwatch.resilience.gnss import gnss_compare, standard_sets, systems_of_provider
        from orbitwatch.resilience.loss import gnss_under_loss
        from orbitwatch.resilience.regions import get_region
        from orbitwatch.resilience.services import gnss_system

        elsets, owners, _ = load_world(catalog, db)
        reg = get_region(region)
        t0 = _start(start, elsets)
        nav = [e for e in elsets if gnss_system(e)]
        present = sorted({gnss_system(e) for e in nav})
        lost, scen = scenario_losses(without, elsets, owners)
        if without:
            out = gnss_under_loss(nav, reg, lost, start=t0, hours=hours, step_s=step_s, step_deg=grid_deg,
                                  mask_deg=mask_deg, pdop_max=pdop_max, clock_per_system=clock_per_system)
            out.update({"region": reg.name, "start": t0.isoformat(), "hours": hours, "scenario": scen})
        else:
            provs = _csv(owners_opt)
            if provs:
                systems = sorted({s for p in provs for s in systems_of_provider(p)} & set(present))
                sets = {"+".join(provs): systems}
            else:
                sets = standard_sets(present)
            res_ = gnss_compare(nav, reg, sets, start=t0, hours=hours, step_s=step_s, step_deg=grid_deg,
                                mask_deg=mask_deg, pdop_max=pdop_max, clock_per_system=clock_per_system)
            out = {"service": "GNSS", "region": reg.name, "start": t0.isoformat(), "hours": hours,
                   "systems_present": present, "sets": {k: r.summary() for k, r in res_.items()}}
            if timeseries:
                out["timeseries"] = {k: r.timeseries() for k, r in res_.items()}
            if plot is not None:
                from orbitwatch.effects import plots

                out["plot"] = str(plots.gnss_timeseries(res_, plot, title=f"GNSS over {reg.name} from "
                                                                          f"{t0.isoformat()}"))
        if without and plot is not None:
            from orbitwatch.effects import plots

            labels = list(out["nations"]) + ["COALITION"]
            rows = [out["nations"][n] for n in out["nations"]] + [out["coalition"]]
            out["plot"] = str(plots.before_after_bars(
                labels, [r["before"]["availability"] for r in rows], [r["after"]["availability"] for r in rows],
                plot, title=f"GNSS availability over {reg.name}: alone vs pooled, before/after",
                ylabel="availability", banner="SIMULATED"))
        if json_out:
            emit_json(clean(out))
            return
        console.print(f"[bold]GNSS over {reg.name}[/] from {t0.isoformat()} for {hours:g} h "
                      f"(mask {mask_deg:g}°, PDOP <= {pdop_max:g})")
        if without:
            console.print(f"  scenario: {scen} — {len(lost)} satellites removed")
            for n, r in list(out["nations"].items()) + [("COALITION", out["coalition"])]:
                console.print(f"  {n:<10} {'+'.join(r['systems']) or '(none)':<20} availability "
                              f"{r['before']['availability']:.4f} -> {r['after']['availability']:.4f}")
        else:
            for k, s in out["sets"].items():
                console.print(f"  {k:<10} sats {s['satellites']:>3}  availability {s['availability']:.4f}  "
                              f"PDOP median {s['pdop_median']}  p95 {s['pdop_p95']}  in view "
                              f"{s['mean_satellites_in_view']}")
        if plot is not None:
            console.print(f"  plot: {out['plot']}")

    @res.command("coverage")
    def coverage(
        region: RegionOption,
        owners_opt: Annotated[str | None, typer.Option("--owners", help="Only satellites of these providers "
                                                                        "(e.g. USA,GBR,EU).")] = None,
        service: Annotated[str | None, typer.Option("--service", help="SATCOM, EO/ISR, WEATHER, GNSS ...")] = None,
        constellation: Annotated[str | None, typer.Option("--constellation", help="e.g. STARLINK,ONEWEB")] = None,
        norad: Annotated[str | None, typer.Option("--norad", help="Explicit list of catalogue numbers.")] = None,
        min_elevation: Annotated[float | None, typer.Option("--min-elevation", help="User elevation mask "
                                                                                    "(deg; comms).")] = None,
        half_angle: Annotated[float | None, typer.Option("--half-angle", help="Sensor half-angle (deg; "
                                                                              "ISR).")] = None,
        without: WithoutOption = None,
        start: StartOption = None,
        hours: HoursOption = 24.0,
        step_s: Annotated[float, typer.Option("--step-s", help="Time step (s).")] = 60.0,
        grid_deg: Annotated[float, typer.Option("--grid-deg", help="Grid spacing (deg).")] = 1.0,
        catalog: CatalogOption = None,
        plot: PlotOption = None,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        """Percent coverage, maximum gap and mean revisit: each nation alone and the coalition pooled."""
        from orbitwatch.resilience.loss import coverage_under_loss, lost_ids_from_text
        from orbitwatch.resilience.regions import get_region
        from orbitwatch.resilience.services import select

        elsets, owners, _ = load_world(catalog, db)
        reg = get_region(region)
        t0 = _start(start, elsets)
        if min_elevation is None and half_angle is None:
            min_elevation = 10.0 if (service or "").upper() != "EO/ISR" else None
            half_angle = 30.0 if (service or "").upper() == "EO/ISR" else None
        sel = select(elsets, owners=owners, providers=_csv(owners_opt), constellations=_csv(constellation),
                     services=_csv(service), norad_ids=lost_ids_from_text(norad) if norad else None)
        lost, scen = scenario_losses(without, elsets, owners)
        out = coverage_under_loss(sel, reg, lost, start=t0, hours=hours, step_s=step_s, step_deg=grid_deg,
                                  min_elevation_deg=min_elevation, half_angle_deg=half_angle, owners=owners)
        out.update({"region": reg.name, "start": t0.isoformat(), "hours": hours, "scenario": scen,
                    "selected_satellites": len(sel)})
        if plot is not None:
            from orbitwatch.effects import plots

            labels = [n for n, r in out["nations"].items() if r["satellites"]] + ["COALITION"]
            rows = [out["nations"][n] for n in labels[:-1]] + [out["coalition"]]
            out["plot"] = str(plots.before_after_bars(
                labels, [r["before"]["percent_coverage"] for r in rows],
                [r["after"]["percent_coverage"] for r in rows], plot,
                title=f"Coverage of {reg.name}: alone vs pooled", ylabel="% of time covered",
                banner="SIMULATED" if without else None))
        if json_out:
            emit_json(clean(out))
            return
        crit = f"elevation >= {min_elevation:g}°" if min_elevation is not None else f"half-angle {half_angle:g}°"
        console.print(f"[bold]Coverage of {reg.name}[/] by {len(sel)} satellites ({crit}) from {t0.isoformat()} "
                      f"for {hours:g} h; scenario {scen['kind']} ({len(lost)} removed)")
        console.print(f"  {'':<10} {'sats':>5} {'cover%':>8} {'-> after':>9} {'max gap s':>10} {'revisit s':>10}")
        for n, r in list(out["nations"].items()) + [("COALITION", out["coalition"])]:
            if not r["satellites"]:
                continue
            b, a = r["before"], r["after"]
            console.print(f"  {n:<10} {r['satellites']:>5} {b['percent_coverage']:>8.2f} {a['percent_coverage']:>9.2f} "
                          f"{b['max_gap_s'] or 0:>10.0f} {b['mean_revisit_s'] or 0:>10.0f}")
        if plot is not None:
            console.print(f"  plot: {out['plot']}")
