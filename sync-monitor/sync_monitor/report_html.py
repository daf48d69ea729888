"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched."""

from __future__ import annotations

from html import escape

from .pipelines import parse_state_id
from .report import ReportData, RunPoint

COLORS = {"created": "#2e7d32", "updated": "#1565c0", "failed": "#c62828", "success": "#2e7d32",
          "failed_run": "#c62828", "running": "#f9a825"}
PALETTE = ("#c62828", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e", "#ad1457", "#283593", "#558b2f")
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1b1b1b;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#555;margin-bottom:16px}.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px 16px;min-width:110px}
.card b{display:block;font-size:22px}.card span{color:#555}
table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #e0e0e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}code{background:#f3f3f3;padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
svg{background:#fff;border:1px solid #ddd;border-radius:8px}.legend span{margin-right:14px}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}.ok{color:#2e7d32}.bad{color:#c62828}
#in-error td:last-child{min-width:260px}
.bar{height:18px;background:#e0e0e0;border-radius:9px;overflow:hidden;max-width:520px}.bar div{height:100%}
"""


def render_report(data: ReportData) -> str:
    """The whole page."""
    totals = data.totals()
    cards = "".join(f'<div class="card" id="count-{key}"><b>{value}</b><span>{escape(label)}</span></div>'
                    for key, value, label in (
                        ("runs", totals["runs"], "runs"), ("failed_runs", totals["failed_runs"], "failed runs"),
                        ("created", totals["created"], "created"), ("updated", totals["updated"], "updated"),
                        ("failed", totals["failed"], "participant failures"),
                        ("in_error", totals["in_error"], "participants in error now")))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Eventmaker → Salesforce sync report</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>{CSS}</style></head>
<body>
<h1>Eventmaker → Salesforce sync</h1>
<div class="sub">Environment <b>{escape(data.environment)}</b> · generated {escape(data.generated_at)} ·
{len(data.points)} runs from Meltano's run history</div>
<div class="cards">{cards}</div>
<h2>Run history</h2>{_timeline(data.points)}{_runs_table(data.points)}
<h2>Failures by error code</h2>{_failures(data)}
<h2>Participants in error now</h2>{_in_error(data)}
<h2>Salesforce API budget</h2>{_budget(data)}
</body></html>
"""


def _timeline(points: list[RunPoint]) -> str:
    """One bar per run: created / updated / failed stacked, the status as a dot under it."""
    if not points:
        return "<p>No run yet: <code>meltano invoke sync-monitor:sync</code>.</p>"
    width, height, top, bottom = max(360, 28 * len(points) + 60), 220, 20, 40
    peak = max([p.outcome("created") + p.outcome("updated") + p.outcome("failed") for p in points] + [1])
    step = (width - 60) / len(points)
    parts = []
    for i, point in enumerate(points):
        x, base = 50 + i * step, height - bottom
        for name in ("created", "updated", "failed"):
            size = (height - top - bottom) * point.outcome(name) / peak
            if size:
                parts.append(f'<rect x="{x:.1f}" y="{base - size:.1f}" width="{step * 0.7:.1f}" height="{size:.1f}" '
                             f'fill="{COLORS[name]}"><title>{name} {point.outcome(name)}</title></rect>')
                base -= size
        status = point.run.status
        title = escape(f"{point.run.started_at:%Y-%m-%d %H:%M} {status} {point.run.state_id}"
                       + (f" – {point.error}" if point.error else "")) if point.run.started_at else escape(status)
        parts.append(f'<circle class="run-{status}" cx="{x + step * 0.35:.1f}" cy="{height - bottom + 12}" r="5" '
                     f'fill="{COLORS["failed_run" if status == "failed" else status]}"><title>{title}</title></circle>')
        if point.run.started_at:
            parts.append(f'<text x="{x + step * 0.35:.1f}" y="{height - 6}" font-size="9" text-anchor="middle">'
                         f'{point.run.started_at:%H:%M}</text>')
    axis = f'<text x="6" y="{top + 4}" font-size="11">{peak}</text><text x="6" y="{height - bottom}" font-size="11">0</text>'
    legend = "".join(f'<span><i class="sw" style="background:{COLORS[n]}"></i>{n}</span>' for n in ("created", "updated", "failed"))
    return (f'<svg id="timeline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="runs">{axis}{"".join(parts)}</svg><div class="legend">{legend}'
            f'<span>● run status (green success, red failed)</span></div>')


def _runs_table(points: list[RunPoint]) -> str:
    rows = []
    for point in reversed(points):
        run, duration = point.run, point.duration_seconds
        css = "ok" if run.status == "success" else "bad"
        rows.append(
            f'<tr class="run-row {css}"><td>{escape(_when(run.started_at))}</td>'
            f'<td title="{escape(run.state_id)}">{escape(pipeline_name(run.state_id))}</td>'
            f'<td class="{css}">{escape(run.status)}</td><td>{"" if duration is None else f"{duration:.0f} s"}</td>'
            f'<td>{point.outcome("created")}</td><td>{point.outcome("updated")}</td><td>{point.outcome("failed")}</td>'
            f'<td>{point.calls}</td><td>{escape(point.error or "")}</td></tr>')
    head = "<tr><th>started (UTC)</th><th>pipeline</th><th>status</th><th>duration</th><th>created</th>" \
           "<th>updated</th><th>failed</th><th>SF calls</th><th>error</th></tr>"
    return f'<table id="runs">{head}{"".join(rows)}</table>' if rows else ""


def _failures(data: ReportData) -> str:
    by_code = data.failures_by_code()
    if not by_code:
        return "<p>No participant failed in these runs.</p>"
    points, width, height = data.points, max(360, 28 * len(data.points) + 60), 180
    peak = max([sum(counts[i] for counts in by_code.values()) for i in range(len(points))] + [1])
    step, parts = (width - 60) / len(points), []
    for i in range(len(points)):
        base = height - 20
        for (code, counts), color in zip(by_code.items(), PALETTE * 4):
            size = (height - 40) * counts[i] / peak
            if size:
                parts.append(f'<rect x="{50 + i * step:.1f}" y="{base - size:.1f}" width="{step * 0.7:.1f}" '
                             f'height="{size:.1f}" fill="{color}"><title>{escape(code)} {counts[i]}</title></rect>')
                base -= size
    legend = "".join(f'<span><i class="sw" style="background:{color}"></i>{escape(code)} ({sum(counts)})</span>'
                     for (code, counts), color in zip(by_code.items(), PALETTE * 4))
    return (f'<svg id="failures" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<text x="6" y="24" font-size="11">{peak}</text>{"".join(parts)}</svg><div class="legend">{legend}</div>')


def _in_error(data: ReportData) -> str:
    if data.unavailable:
        return f'<p class="bad">Could not read the participants: {escape(data.unavailable)}</p>'
    if not data.in_error:
        return "<p>No participant is in error.</p>"
    rows = "".join(
        f'<tr class="participant-row"><td>{escape(row.get("uid") or "")}</td><td>{escape(row.get("name") or "")}</td>'
        f'<td>{escape(row.get("email") or "")}</td><td><b>{escape(row.get("error_code") or "")}</b><br>'
        f'{escape(row.get("error_message") or "")}</td><td>{escape(row.get("hint") or "")}</td>'
        f'<td><code>{escape(data.resend_prefix)} --uid {escape(row.get("uid") or "")}</code></td></tr>'
        for row in data.in_error)
    head = "<tr><th>uid</th><th>name</th><th>email</th><th>error</th><th>what to do</th><th>then resend</th></tr>"
    return (f'<table id="in-error">{head}{rows}</table><p>All of them at once: '
            f'<code>{escape(data.resend_prefix)} --status error</code></p>')


def _budget(data: ReportData) -> str:
    usage = data.budget
    calls = sum(p.calls for p in data.points)
    if not usage:
        return f"<p>No run reported the org's API usage yet ({calls} calls counted).</p>"
    percent = min(float(usage["percent"]), 100.0)
    color = "#c62828" if percent >= 80 else "#ef6c00" if percent >= 50 else "#2e7d32"
    return (f'<div id="budget"><p>{usage["used"]} of {usage["limit"]} daily API requests used '
            f'({usage["percent"]:.1f}%), {usage["left"]} left, at the last run. These runs made {calls} calls.</p>'
            f'<div class="bar"><div style="width:{percent:.1f}%;background:{color}"></div></div></div>')


def pipeline_name(state_id: str) -> str:
    """`sync`, `resend`, `sync:slice-1`, ... for a state id of this project; the state id itself otherwise."""
    parsed = parse_state_id(state_id)
    if parsed is None or parsed.pipeline is None:
        return state_id
    return parsed.pipeline.job + (f":{parsed.suffix}" if parsed.suffix else "")


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else ""
