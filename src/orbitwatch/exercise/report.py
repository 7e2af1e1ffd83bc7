"""The after-action report / improvement plan (HSEEP AAR/IP) as HTML and PDF.

Sections: overview (scenario, participants, catalogue, engines used), objectives with P/S/M/U ratings
from expected versus actual actions, a timeline chart of injects, detections and actions per nation,
the metrics (time to detect, time to share, decision latency per nation, time to consensus, service
availability and assets lost), strengths, areas for improvement, and the improvement plan. The exercise
marking banner heads and foots every page: in the HTML as fixed page furniture (repeated on every
printed page), in the PDF drawn on each page.

HTML with jinja2; PDF with matplotlib's PdfPages (no LaTeX, no browser).
"""

from __future__ import annotations

import base64
import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from orbitwatch.exercise.metrics import RATINGS, compute, fmt_time, strengths_and_improvements
from orbitwatch.exercise.times import human_duration, iso

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.exercise.engine import Exercise

_KIND_COLOURS = {"proximity": "#d62728", "manoeuvre": "#ff7f0e", "conjunction": "#7f7f7f", "breakup": "#8c564b",
                 "nudet": "#9467bd", "asset_lost": "#000000", "jamming": "#e377c2", "sensor_outage": "#bcbd22",
                 "new_object": "#17becf"}
_ACTION_MARKERS = {"acknowledge": ".", "release": "^", "tasking": "P", "manoeuvre": "X", "notify": "s",
                   "demarche": "D", "propose": "*", "vote": "v", "break_silence": "x", "comment": "_"}


def timeline_figure(ex: Exercise, *, width_in: float = 11.0):
    """Matplotlib figure: rows WHITE (injects), RED (red cell) and one per nation; x in hours from STARTEX."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = ["WHITE", "RED", *ex.participants]
    y = {r: len(rows) - 1 - i for i, r in enumerate(rows)}
    fig, ax = plt.subplots(figsize=(width_in, 0.42 * len(rows) + 1.8))
    h = lambda ts: (ts - ex.start_ts) / 3600.0  # noqa: E731
    for inj in ex.scenario.msel:
        st = ex.injects[inj.id]
        if st.status == "fired" and st.fired_at is not None:
            ax.plot(h(st.fired_at), y["WHITE"], marker="v", color="black", ms=8, zorder=3)
            ax.annotate(inj.id, (h(st.fired_at), y["WHITE"]), xytext=(0, 7), textcoords="offset points",
                        ha="center", fontsize=7)
    for rule_id, info in ex.red_fired.items():
        if info.get("fire"):
            ax.plot(h(info["time"]), y["RED"], marker="v", color="#d62728", ms=8)
            ax.annotate(rule_id, (h(info["time"]), y["RED"]), xytext=(0, 7), textcoords="offset points",
                        ha="center", fontsize=6, color="#d62728")
    # Group points so each series is one artist (thousands of alerts on a real catalogue).
    groups: dict[tuple[str, bool, bool], list[tuple[float, float]]] = {}
    for d in ex.deliveries:
        if d.item_type != "alert" or d.nation not in y:
            continue
        al = ex.alert_by_id[d.item_id]
        groups.setdefault((al.kind, bool(al.causes), d.via == "own"), []).append((h(d.sim_ts), y[d.nation] + 0.12))
    labelled = set()
    for (kind, cued, own), pts in sorted(groups.items()):
        colour = _KIND_COLOURS.get(kind, "#1f77b4")
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, ls="none", marker="o", ms=7 if cued else 3, color=colour, mfc=colour if own else "none",
                alpha=0.95 if cued else 0.35, label=kind if kind not in labelled else None)
        labelled.add(kind)
    acts: dict[str, list[tuple[float, float]]] = {}
    for a in ex.actions:
        if a.nation in y and a.ok:
            acts.setdefault(a.kind, []).append((h(a.sim_ts), y[a.nation] - 0.18))
    for kind, pts in sorted(acts.items()):
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, ls="none", marker=_ACTION_MARKERS.get(kind, "o"), ms=6, color="#1f77b4",
                label=f"action: {kind}")
    for p in ex.proposals.values():
        if p.decided_ts is not None:
            ax.axvline(h(p.decided_ts), color="green" if p.status == "adopted" else "red", lw=1, ls="--", alpha=0.7)
            ax.annotate(f"{p.status}: {p.outcome or p.title[:20]}", (h(p.decided_ts), len(rows) - 0.4),
                        fontsize=7, color="green" if p.status == "adopted" else "red", rotation=0, ha="left")
    ax.set_yticks(list(y.values()))
    ax.set_yticklabels(list(y.keys()), fontsize=8)
    ax.set_xlim(-0.5, max(1.0, h(ex.end_ts)) + 0.5)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.set_xlabel("hours from STARTEX " + iso(ex.start_ts))
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Timeline: injects (▼), alerts (● own detection, ○ received), actions (blue), decisions (dashed)",
                 fontsize=9)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=6, fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def _png_b64(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode()


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ name }} — After-Action Report / Improvement Plan</title>
<style>
 body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 3.2em 2.5em;
 color: #111; }
 .banner { position: fixed; left: 0; right: 0; text-align: center; font-weight: bold; padding: 4px;
           background: #0a7d2c; color: white; letter-spacing: .05em; z-index: 10; }
 .banner.top { top: 0; } .banner.bottom { bottom: 0; }
 h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #444; margin-top: 1.6em; } h3 { margin-bottom: .3em; }
 table { border-collapse: collapse; margin: .5em 0 1em; font-size: .88em; }
 th, td { border: 1px solid #bbb; padding: 3px 7px; text-align: left; vertical-align: top; }
 th { background: #eee; }
 .P { background: #c8f0c8; } .S { background: #eef7b5; } .M { background: #fbd9a6; } .U { background: #f6b3b3;
 }
 .small { font-size: .8em; color: #444; }
 img { max-width: 100%; }
 @media print { h2 { page-break-before: auto; } table, img { page-break-inside: avoid; } }
</style></head><body>
<div class="banner top">{{ banner }}</div>
<div class="banner bottom">{{ banner }}</div>
<h1>{{ name }} — After-Action Report / Improvement Plan</h1>
<p class="small">Generated {{ generated }} by orbitwatch. Exercise {{ status.id }} · {{ status.status }} ·
STARTEX {{ status.start }} · ENDEX {{ status.end }} · simulated time reached {{ status.sim_time }}.</p>

<h2>1. Overview</h2>
<p>{{ description }}</p>
<table>
<tr><th>Participants</th><td>{{ status.participants|join(", ") }}</td></tr>
<tr><th>Catalogue</th><td>{{ status.catalog.description }} ({{ status.catalog.objects }} objects)</td></tr>
<tr><th>Step / look-ahead</th><td>{{ step }} / {{ lookahead }}</td></tr>
<tr><th>Object roles</th><td>{% for r, n in roles.items() %}{{ r }} = {{ n }} ({{ names.get(n, "") }}
){% if not loop.last %}; {% endif %}{% endfor %}</td></tr>
<tr><th>Alerts raised</th><td>{% for k, v in metrics.alerts_by_kind.items() %}{{ k }}: {{ v }}
{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>
<tr><th>Models used</th><td>{% for k, v in engines.items() %}{{ k }}: {{ v.engine }}{% if v.note %}
 ({{ v.note }}){% endif %}{% if not loop.last %}; {% endif %}{% endfor %}</td></tr>
</table>

<h2>2. Objectives and ratings</h2>
<table><tr><th>Objective</th><th>Capability</th><th>Expected</th><th>On time</th><th>Late</th><th>Missed</th>
<th>Rating</th></tr>
{% for o in metrics.objectives %}<tr><td>{{ o.id }}: {{ o.title }}</td><td>{{ o.capability }}</td>
<td>{{ o.expected }}</td>
<td>{{ o.on_time }}</td><td>{{ o.late }}</td><td>{{ o.missed }}</td><td class="{{ o.rating }}
"><b>{{ o.rating }}</b> — {{ o.rating_text }}</td></tr>
{% endfor %}</table>
<p class="small">Ratings: {% for code, floor, text in ratings %}<b>{{ code }}</b> {{ text }}
{% if floor >= 0 %} (score ≥ {{ floor }}){% endif %}{% if not loop.last %}; {% endif %}{% endfor %}.
Score = (on time + ½ late) / expected actions due.</p>
<h3>Expected versus actual actions</h3>
<table><tr><th>Inject</th><th>Action</th><th>Nation</th><th>Could start</th><th>Done</th><th>Within</th>
<th>Status</th></tr>
{% for r in metrics.expected_actions %}<tr><td>{{ r.inject }}</td><td>{{ r.action }}</td><td>{{ r.nation }}
</td>
<td>{{ t(r.start) }}</td><td>{{ t(r.done) }}</td><td>{{ dur(r.within_s) }}</td><td>{{ r.status }}</td></tr>
{% endfor %}</table>

<h2>3. Timeline</h2>
<img alt="timeline of injects, detections and actions per nation" src="data:image/png;base64,{{ timeline }}">
<h3>Master Scenario Events List as played</h3>
<table><tr><th>Inject</th><th>Kind</th><th>Title</th><th>Status</th><th>Fired</th><th>Result</th></tr>
{% for i in injects %}<tr><td>{{ i.id }}</td><td>{{ i.kind }}</td><td>{{ i.title }}</td><td>{{ i.status }}
</td><td>{{ t(i.fired) }}</td><td class="small">{{ i.summary }}</td></tr>
{% endfor %}</table>

<h2>4. Metrics</h2>
<h3>Time to detect and time to share</h3>
<table><tr><th>Inject</th><th>Kind</th><th>Fired</th><th>First alert</th><th>Time to detect</th>
<th>Time to share (all {{ status.participants|length }})</th><th>Never informed</th></tr>
{% for d in metrics.detection %}<tr><td>{{ d.inject }}</td><td>{{ d.kind }}</td><td>{{ t(d.fired) }}</td>
<td>{% if d.first_alert %}{{ d.first_alert_nation }} ({{ d.first_alert_kind }}) {{ t(d.first_alert) }}
{% else %}—{% endif %}</td>
<td>{{ dur(d.time_to_detect_s) }}</td><td>{{ dur(d.time_to_share_s) }}</td>
<td>{{ d.never_informed|join(", ") or "—" }}</td></tr>
{% endfor %}</table>
<h3>Decision latency per nation</h3>
<table><tr><th>Nation</th><th>Median time to acknowledge</th><th>Median time to first action</th>
<th>Acknowledged</th><th>Actions</th><th>Refused</th></tr>
{% for n, d in metrics.decision_latency.items() %}<tr><td>{{ n }}</td><td>{{ dur(d.median_ack_s) }}</td>
<td>{{ dur(d.median_action_s) }}</td>
<td>{{ d.acknowledged }}</td><td>{{ d.actions }}</td><td>{{ d.refused }}</td></tr>{% endfor %}</table>
<h3>Time to consensus</h3>
{% if metrics.consensus %}<table><tr><th>Proposal</th><th>By</th><th>Rule</th><th>Proposed</th>
<th>Outcome</th><th>Time to consensus</th><th>Caveats</th><th>Silent</th></tr>
{% for c in metrics.consensus %}<tr><td>{{ c.title }}</td><td>{{ c.proposer }}</td><td>{{ c.rule }}</td>
<td>{{ t(c.proposed) }}</td>
<td>{{ c.status }}{% if c.outcome %}: {{ c.outcome }}{% endif %}</td><td>{{ dur(c.time_to_consensus_s) }}</td>
<td class="small">{% for n, cv in c.caveats.items() %}{{ n }}: {{ cv }}<br>{% endfor %}</td>
<td>{{ c.silent|join(", ") or "—" }}</td></tr>
{% endfor %}</table>{% else %}<p>No collective response was proposed.</p>{% endif %}
<h3>Service availability and assets lost</h3>
<table><tr><th>Nation</th><th>Assets</th><th>Lost</th><th>Failing ≤ 30 d</th><th>≤ 1 year</th><th>Kept</th>
<th>GNSS STARTEX</th><th>GNSS worst (jammed)</th><th>GNSS ENDEX</th><th>Territory jammed</th></tr>
{% for n, a in metrics.service.assets.items() %}{% set g = metrics.service.get("gnss", {}).get(n, {}) %}
<tr><td>{{ n }}</td><td>{{ a.assets }}</td><td>{{ a.lost }}</td>
<td>{{ a.failing_30d }}</td><td>{{ a.failing_365d }}</td><td>{{ pct(a.kept_share) }}</td>
<td>{{ pct(g.get("before")) }}</td>
<td>{{ pct(g.get("worst")) }}</td><td>{{ pct(g.get("after")) }}</td><td>{{ pct(g.get("jammed_share")) }}</td></tr>
{% endfor %}</table>
<p class="small">Objects destroyed: {{ metrics.service.objects_destroyed }};
 satellites failed: {{ metrics.service.satellites_failed }};
satellites expected to fail within 30 days of ENDEX: {{ metrics.service.satellites_failing_30d }}.
GNSS: pooled GPS + Galileo + QZSS, PDOP ≤ 6 with ≥ 4 satellites above 10° over each nation's territory.</p>

<h2>5. Strengths</h2>
<ul>{% for s in strengths %}<li>{{ s }}</li>{% endfor %}</ul>
<h2>6. Areas for improvement</h2>
<ul>{% for a in afi %}<li>{{ a.issue }}</li>{% endfor %}{% if not afi %}<li>None observed.</li>{% endif %}
</ul>
<h2>7. Improvement plan</h2>
<table><tr><th>#</th><th>Capability</th><th>Issue / area for improvement</th><th>Corrective action</th>
<th>Primary responsible</th><th>Start</th><th>Completion</th></tr>
{% for a in afi %}<tr><td>{{ loop.index }}</td><td>{{ a.capability }}</td><td>{{ a.issue }}</td>
<td>{{ a.action }}</td><td>{{ a.owner }}</td><td></td><td></td></tr>{% endfor %}
</table>
<p class="small">All data in this report is EXERCISE data. {{ banner }}</p>
</body></html>
"""


def _inject_rows(ex: Exercise) -> list[dict]:
    out = []
    for inj in ex.scenario.msel:
        st = ex.injects[inj.id]
        r = st.result or {}
        keys = ("total_dv_mps", "dv_mps", "arrival_range_km", "fragments", "fragments_over_10cm", "prompt",
                "failures_within_horizon", "radius_km", "affected", "to", "until", "l_shell")
        summary = ", ".join(f"{k}={r[k]}" for k in keys if k in r and r[k] not in (None, [], {}))
        if st.error:
            summary = (summary + "; " if summary else "") + st.error
        out.append({"id": inj.id, "kind": inj.kind, "title": inj.title, "status": st.status, "fired": st.fired_at,
                    "summary": summary})
    return out


def context(ex: Exercise, *, gnss: bool = True) -> dict:
    from datetime import UTC, datetime

    from orbitwatch.exercise.engines import engine_report
    from orbitwatch.exercise.times import parse_duration

    m = compute(ex, gnss=gnss)
    strengths, afi = strengths_and_improvements(ex, m)
    names = {k: (ex.world.info[k].name if k in ex.world.info else "") for k in ex.world.roles.values()}
    engines = engine_report()
    engines.setdefault("screening", {"engine": "orbitwatch.exercise.screening (assets vs catalogue, incremental)",
                                     "note": ""})
    return {
        "name": ex.name, "banner": str(ex.banner), "description": ex.scenario.exercise.description,
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "status": m["exercise"], "metrics": m,
        "strengths": strengths, "afi": afi, "ratings": RATINGS, "roles": ex.world.roles, "names": names,
        "engines": engines, "injects": _inject_rows(ex),
        "step": human_duration(ex.step_s), "lookahead": human_duration(parse_duration(ex.scenario.exercise.lookahead)),
    }


def render_html(ex: Exercise, ctx: dict | None = None) -> str:
    import jinja2

    ctx = ctx or context(ex)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
    tpl = env.from_string(_TEMPLATE)
    fig = timeline_figure(ex)
    try:
        png = _png_b64(fig)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return tpl.render(**ctx, timeline=png, t=lambda ts: fmt_time(ex, ts), dur=human_duration,
                      pct=lambda x: "—" if x is None else f"{100.0 * x:.1f} %")


def _page(pdf, banner: str, title: str, lines: list[str], *, fontsize: float = 8.0) -> None:
    import matplotlib.pyplot as plt

    per_page = 62
    chunks = [lines[i:i + per_page] for i in range(0, max(1, len(lines)), per_page)] or [[]]
    for k, chunk in enumerate(chunks):
        fig = plt.figure(figsize=(8.27, 11.69))  # A4 portrait
        _banner(fig, banner)
        fig.text(0.06, 0.93, title + (f" (continued {k + 1})" if k else ""), fontsize=13, weight="bold")
        fig.text(0.06, 0.905, "\n".join(chunk), fontsize=fontsize, va="top", family="monospace")
        pdf.savefig(fig)
        plt.close(fig)


def _banner(fig, banner: str) -> None:
    for yy in (0.985, 0.012):
        fig.text(0.5, yy, banner, ha="center", va="center", fontsize=10, weight="bold", color="white",
                 bbox={"facecolor": "#0a7d2c", "edgecolor": "none", "pad": 3})


def _wrap(text: str, width: int = 100, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ") or [""]


def render_pdf(ex: Exercise, path: str | Path, ctx: dict | None = None) -> Path:
    """The same report as a PDF (matplotlib PdfPages), the banner on every page."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    ctx = ctx or context(ex)
    m = ctx["metrics"]
    banner = ctx["banner"]
    t = lambda ts: fmt_time(ex, ts)  # noqa: E731
    path = Path(path)
    with PdfPages(path) as pdf:
        st = ctx["status"]
        lines = [f"Exercise {st['id']} - {st['status']}", f"STARTEX {st['start']}   ENDEX {st['end']}",
                 f"Simulated time reached {st['sim_time']}", "", *_wrap(ctx["description"] or ""), "",
                 f"Participants: {', '.join(st['participants'])}",
                 f"Catalogue: {st['catalog'].get('description')} ({st['catalog'].get('objects')} objects)",
                 f"Step {ctx['step']}, detection look-ahead {ctx['lookahead']}", "", "Object roles:"]
        lines += [f"  {r} = {n} ({ctx['names'].get(n, '')})" for r, n in ctx["roles"].items()]
        lines += ["", "Alerts raised: " + ", ".join(f"{k} {v}" for k, v in m["alerts_by_kind"].items()), "",
                  "Models used:"]
        for k, v in ctx["engines"].items():
            lines += _wrap(f"{k}: {v['engine']}" + (f" ({v['note']})" if v.get("note") else ""), 95, "  ")
        _page(pdf, banner, f"{ctx['name']} - After-Action Report / Improvement Plan", lines)
        lines = [f"{'Objective':<58} {'Exp':>3} {'On':>3} {'Late':>4} {'Miss':>4}  Rating", "-" * 90]
        for o in m["objectives"]:
            first = True
            for ln in _wrap(f"{o['id']}: {o['title']}", 56):
                lines.append(f"{ln:<58} {o['expected']:>3} {o['on_time']:>3} {o['late']:>4} {o['missed']:>4}  "
                             f"{o['rating']} {o['rating_text']}" if first else ln)
                first = False
        lines += ["", "Expected versus actual actions:", f"{'Inject':<7} {'Action':<13} {'Nation':<12} "
                  f"{'Could start':<22} {'Done':<22} Status", "-" * 100]
        for r in m["expected_actions"]:
            lines.append(f"{r['inject']:<7} {r['action']:<13} {str(r['nation'])[:12]:<12} "
                         f"{t(r['start'])[:21]:<22} {t(r['done'])[:21]:<22} {r['status']}")
        _page(pdf, banner, "Objectives and ratings", lines)
        fig = timeline_figure(ex, width_in=11.0)
        fig.set_size_inches(11.69, 8.27)
        _banner(fig, banner)
        fig.subplots_adjust(top=0.9, bottom=0.22)
        pdf.savefig(fig)
        plt.close(fig)
        lines = ["Master Scenario Events List as played:"]
        for i in ctx["injects"]:
            lines += _wrap(f"{i['id']} [{i['kind']}] {i['status']} {t(i['fired'])}: {i['title']}", 100)
            if i["summary"]:
                lines += _wrap(i["summary"], 96, "    ")
        lines += ["", "Time to detect / time to share:"]
        for d in m["detection"]:
            lines.append(f"  {d['inject']:<6} {d['kind']:<12} detect {human_duration(d['time_to_detect_s']):>7}  "
                         f"share {human_duration(d['time_to_share_s']):>7}  first {d['first_alert_nation'] or '-'}"
                         f"  never informed: {', '.join(d['never_informed']) or '-'}")
        lines += ["", "Decision latency per nation (median to acknowledge / to first action):"]
        for n, d in m["decision_latency"].items():
            lines.append(f"  {n}  ack {human_duration(d['median_ack_s']):>7}  "
                         f"action {human_duration(d['median_action_s']):>7}"
                         f"  actions {d['actions']:>3}  refused {d['refused']}")
        lines += ["", "Time to consensus:"]
        for c in m["consensus"] or []:
            lines += _wrap(f"  {c['title']} ({c['proposer']}, {c['rule']}): {c['status']} {c['outcome'] or ''} "
                           f"after {human_duration(c['time_to_consensus_s'])}", 100)
            for n, cv in c["caveats"].items():
                lines += _wrap(f"{n} caveat: {cv}", 96, "      ")
        if not m["consensus"]:
            lines.append("  No collective response was proposed.")
        lines += ["", "Service availability and assets lost:",
                  f"  {'Nation':<6} {'Assets':>6} {'Lost':>5} {'Fail30d':>7} {'GNSS start':>10} {'worst':>7} "
                  f"{'GNSS end':>9} {'Jammed':>7}"]
        gn = m["service"].get("gnss", {})
        for n, a in m["service"]["assets"].items():
            g = gn.get(n, {})

            def p(x):
                return "-" if x is None else f"{100 * x:.1f}%"

            lines.append(f"  {n:<6} {a['assets']:>6} {a['lost']:>5} {a['failing_30d']:>7} {p(g.get('before')):>10} "
                         f"{p(g.get('worst')):>7} {p(g.get('after')):>9} {p(g.get('jammed_share')):>7}")
        _page(pdf, banner, "Timeline and metrics", lines)
        lines = ["Strengths:"]
        for s in ctx["strengths"]:
            lines += _wrap("- " + s, 100)
        lines += ["", "Areas for improvement and improvement plan:"]
        for k, a in enumerate(ctx["afi"], 1):
            lines += _wrap(f"{k}. [{a['capability']}] {a['issue']}", 100)
            lines += _wrap(f"Corrective action: {a['action']} (primary responsible: {a['owner']})", 96, "    ")
        _page(pdf, banner, "Strengths, areas for improvement, improvement plan", lines)
        info = pdf.infodict()
        info["Title"] = f"{ctx['name']} AAR/IP - {banner}"
        info["Subject"] = banner
    return path


def write_report(ex: Exercise, out_dir: str | Path, *, gnss: bool = True) -> dict[str, Path]:
    """Write ``<name>-aar.html``, ``<name>-aar.pdf`` and ``<name>-metrics.json`` into ``out_dir``."""
    import json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = context(ex, gnss=gnss)
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in ex.name.lower()) or "exercise"
    html = out / f"{stem}-aar.html"
    html.write_text(render_html(ex, ctx), encoding="utf-8")
    pdf = render_pdf(ex, out / f"{stem}-aar.pdf", ctx)
    js = out / f"{stem}-metrics.json"
    js.write_text(json.dumps({**ctx["metrics"], "strengths": ctx["strengths"], "improvements": ctx["afi"]},
                             default=str, indent=1), encoding="utf-8")
    return {"html": html, "pdf": pdf, "json": js}
