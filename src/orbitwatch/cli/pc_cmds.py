"""``orbitwatch pc``: probability of collision for CCSDS CDMs or JSON-lines conjunctions.

Input is either CDM files (``--cdm FILE``, repeatable, or plain file arguments; KVN or XML) or, when no
file is given, JSON lines on standard input, one conjunction per line::

    {"r1": [m, m, m], "v1": [m/s ×3], "cov1": [[6×6 m, m/s]], "r2": ..., "v2": ..., "cov2": ..., "hbr": m}

in one inertial frame (an optional ``"id"`` is echoed back). One JSON line per conjunction is printed
with ``pc_foster_2d``, ``pc_chan``, ``pc_max`` (Alfano maximum over covariance scaling), with
``--monte-carlo N`` also ``pc_monte_carlo`` and ``pc_monte_carlo_ci95`` ([lo, hi], Clopper–Pearson),
plus ``warnings``. A bad line or file gives a JSON line with ``error`` naming the line number (or file)
and the reason; the others are still computed, and the exit status is 1 at the end if any failed.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from orbitwatch.cli.common import emit_json

_SCALINGS = ("both", "primary", "secondary", "separate")


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf → null, numpy scalars/arrays → Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):
        return _clean(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _vector(obj: dict, key: str, shape: tuple[int, ...] | None, line: int) -> Any:
    import numpy as np

    if key not in obj:
        raise ValueError(f"missing key {key!r}")
    try:
        arr = np.asarray(obj[key], dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{key!r} must be numbers, got {obj[key]!r:.60}") from None
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{key!r} must have shape {list(shape)}, got {list(arr.shape)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{key!r} contains NaN or infinite values")
    return arr


def _parse_json_line(text: str, line: int) -> dict:
    import numpy as np

    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object with r1, v1, cov1, r2, v2, cov2, hbr")
    out = {k: _vector(obj, k, (3,), line) for k in ("r1", "v1", "r2", "v2")}
    for k in ("cov1", "cov2"):
        c = _vector(obj, k, None, line)
        if c.shape not in ((6, 6), (3, 3)):
            raise ValueError(f"{k!r} must be a 6x6 (or 3x3) matrix, got shape {list(c.shape)}")
        if not np.allclose(c, c.T, rtol=1e-9, atol=0.0):
            raise ValueError(f"{k!r} is not symmetric")
        out[k] = c if c.shape == (6, 6) else _pad6(c)
    hbr = _vector(obj, "hbr", (), line)
    if hbr < 0:
        raise ValueError("'hbr' must be >= 0 m")
    out["hbr"] = float(hbr)
    out["id"] = obj.get("id")
    return out


def _pad6(c):
    import numpy as np

    full = np.zeros((6, 6))
    full[:3, :3] = c
    return full


def _cdm_item(path: Path, hbr_override: float | None) -> dict:
    from orbitwatch.conjunctions.covariance import conjunction_from_cdm
    from orbitwatch.formats.cdm import read_cdm_path

    cdm = read_cdm_path(path)
    conj = conjunction_from_cdm(cdm, hbr=hbr_override)
    if conj.hbr is None:
        raise ValueError("no hard-body radius: the CDM has no 'COMMENT HBR = ...' line; give --hbr METRES")
    return {
        "r1": conj.r1, "v1": conj.v1, "cov1": conj.cov1, "r2": conj.r2, "v2": conj.v2, "cov2": conj.cov2,
        "hbr": conj.hbr, "extra_warnings": conj.warnings + cdm.warnings,
        "meta": {"source": str(path), "message_id": cdm.message_id,
                 "tca": cdm.tca.isoformat().replace("+00:00", "Z") if cdm.tca else None,
                 "object1": cdm.object1.designator, "object2": cdm.object2.designator,
                 "cdm_collision_probability": cdm.collision_probability,
                 "covariance": "CDM (RTN, rotated to inertial)"},
    }


def pc_command(
    files: Annotated[list[Path] | None, typer.Argument(help="CDM files (same as --cdm).", show_default=False)]
    = None,
    cdm: Annotated[list[Path] | None, typer.Option("--cdm", help="A CCSDS CDM file (KVN or XML); repeatable.",
                                                   show_default=False)] = None,
    monte_carlo: Annotated[int, typer.Option("--monte-carlo", min=0, metavar="N",
                                             help="Also run an N-sample Monte Carlo per conjunction.")] = 0,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed for --monte-carlo.")] = None,
    hbr: Annotated[float | None, typer.Option("--hbr", min=0.0, help="Override the hard-body radius [m].")]
    = None,
    max_scaling: Annotated[str, typer.Option("--max-scaling", help="Covariance scaling for pc_max: both "
                                             "(Alfano 2005), primary, secondary or separate.")] = "both",
    no_tca_adjust: Annotated[bool, typer.Option("--no-tca-adjust", help="Do not move the states to the "
                                                "exact linear closest approach first.")] = False,
) -> None:
    """Probability of collision (Foster/CARA 2D, Chan, Alfano max, optional Monte Carlo) as JSON lines."""
    import numpy as np

    from orbitwatch.errors import OrbitwatchError
    from orbitwatch.kernels.pc import assess, pc_max_alfano, pc_monte_carlo

    if max_scaling not in _SCALINGS:
        raise typer.BadParameter(f"expected one of {', '.join(_SCALINGS)}", param_hint="--max-scaling")
    paths = list(cdm or []) + list(files or [])
    items: list[dict] = []  # each: either {"error": ...} or inputs
    if paths:
        for p in paths:
            try:
                items.append(_cdm_item(p, hbr))
            except (OrbitwatchError, ValueError, OSError) as exc:
                items.append({"error": {"source": str(p), "error": str(exc)}})
    else:
        for lineno, text in enumerate(sys.stdin, start=1):
            if not text.strip():
                continue
            try:
                item = _parse_json_line(text, lineno)
            except ValueError as exc:
                items.append({"error": {"line": lineno, "error": f"line {lineno}: {exc}"}})
                continue
            if hbr is not None:
                item["hbr"] = hbr
            item["meta"] = {"line": lineno, **({"id": item["id"]} if item.get("id") is not None else {}),
                            "covariance": "given (inertial)"}
            item["extra_warnings"] = []
            items.append(item)

    good = [it for it in items if "error" not in it]
    results: dict[int, dict] = {}
    if good:
        stack = {k: np.stack([np.asarray(it[k], dtype=float) for it in good]) for k in
                 ("r1", "v1", "cov1", "r2", "v2", "cov2", "hbr")}
        args = (stack["r1"], stack["v1"], stack["cov1"], stack["r2"], stack["v2"], stack["cov2"], stack["hbr"])
        res = assess(*args, adjust_tca=not no_tca_adjust)
        pcmax, scale, diluted = res.pc_max, res.pc_max_scale, res.diluted
        if max_scaling != "both":
            m = pc_max_alfano(*args, scaling=max_scaling, adjust_tca=not no_tca_adjust)
            pcmax, scale, diluted = m.pc_max, m.scale_max, m.diluted
        rng = np.random.default_rng(seed)
        for i, it in enumerate(good):
            row = dict(it["meta"])
            row.update({
                "hbr_m": float(stack["hbr"][i]),
                "miss_m": float(res.miss_m[i]),
                "relative_speed_ms": float(res.relative_speed_ms[i]),
                "pc_foster_2d": float(res.pc_foster_2d[i]),
                "pc_chan": float(res.pc_chan[i]),
                "pc_max": float(pcmax[i]),
                "pc_max_scale": float(scale[i]),
                "pc_max_diluted": bool(diluted[i]),
                "pc_max_scaling": max_scaling,
            })
            if monte_carlo:
                mc = pc_monte_carlo(*(a[i] for a in args), n=monte_carlo, rng=rng)
                row.update({"pc_monte_carlo": float(mc.pc),
                            "pc_monte_carlo_ci95": [float(mc.lo), float(mc.hi)],
                            "pc_monte_carlo_n": monte_carlo})
            row["warnings"] = list(it["extra_warnings"]) + res.warnings[i]
            results[id(it)] = row
    failed = False
    for it in items:
        if "error" in it:
            failed = True
            emit_json(_clean(it["error"]))
        else:
            emit_json(_clean(results[id(it)]))
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``orbitwatch pc`` to the main app."""
    app.command("pc")(pc_command)
