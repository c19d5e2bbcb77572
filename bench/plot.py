"""A plot of time against cohort size, as a hand-written SVG (matplotlib is not a dependency)."""

import math
from html import escape
from typing import Any

COLOURS = ["#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6c4f9c", "#00798c", "#8c564b", "#555555"]
DASHES = {"sqlite": "", "postgresql": "6,4"}


def _log_ticks(low: float, high: float) -> list[float]:
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    return [10.0**k for k in range(first, last + 1)]


def _panel(
    title: str,
    unit: str,
    series: list[tuple[str, str, list[tuple[int, float]]]],
    x0: float,
    width: float,
    height: float,
) -> list[str]:
    """One log-log chart: series are (label, backend, [(size, value)])."""
    points = [v for _l, _b, pts in series for _s, v in pts if v > 0]
    sizes = sorted({s for _l, _b, pts in series for s, _v in pts})
    if not points or not sizes:
        return []
    y_ticks = _log_ticks(min(points), max(points))
    x_ticks = _log_ticks(min(sizes), max(sizes))
    left, top, plot_w, plot_h = x0 + 60, 40, width - 80, height - 190
    ly = (math.log10(y_ticks[0]), math.log10(y_ticks[-1]))
    lx = (math.log10(x_ticks[0]), math.log10(x_ticks[-1]))

    def px(size: float) -> float:
        return left + (math.log10(size) - lx[0]) / max(lx[1] - lx[0], 1e-9) * plot_w

    def py(value: float) -> float:
        return top + plot_h - (math.log10(value) - ly[0]) / max(ly[1] - ly[0], 1e-9) * plot_h

    out = [f'<text x="{x0 + width / 2}" y="20" text-anchor="middle" font-weight="bold">{escape(title)}</text>']
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
    for tick in y_ticks:
        y = py(tick)
        label = f"{tick:g}"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{label}</text>')
    for tick in x_ticks:
        x = px(tick)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">{tick:,.0f}</text>')
    out.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 34}" text-anchor="middle" font-size="12">pathways</text>'
    )
    out.append(
        f'<text x="{x0 + 14}" y="{top + plot_h / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 {x0 + 14} {top + plot_h / 2})">{escape(unit)} (log scale)</text>'
    )
    labels = list(dict.fromkeys(label for label, _b, _p in series))
    for label, backend, pts in series:
        colour = COLOURS[labels.index(label) % len(COLOURS)]
        shown = [(s, v) for s, v in sorted(pts) if v > 0]
        if not shown:
            continue
        path = " ".join(f"{'M' if k == 0 else 'L'}{px(s):.1f},{py(v):.1f}" for k, (s, v) in enumerate(shown))
        dash = f' stroke-dasharray="{DASHES.get(backend, "")}"' if DASHES.get(backend) else ""
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for s, v in shown:
            out.append(f'<circle cx="{px(s):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}"/>')
    legend_y = top + plot_h + 52
    for k, label in enumerate(labels):
        colour = COLOURS[k % len(COLOURS)]
        y = legend_y + 16 * k
        out.append(f'<line x1="{left}" y1="{y}" x2="{left + 24}" y2="{y}" stroke="{colour}" stroke-width="3"/>')
        out.append(f'<text x="{left + 30}" y="{y + 4}" font-size="11">{escape(label)}</text>')
    return out


def svg(results: list[dict[str, Any]]) -> str:
    def series(key: str, label: str, field: str = "median_ms") -> list[tuple[str, str, list[tuple[int, float]]]]:
        found = []
        for backend in sorted({r["backend"] for r in results}):
            pts = [
                (r["size"], float(r[key][field]))
                for r in results
                if r["backend"] == backend and isinstance(r.get(key), dict) and field in r[key]
            ]
            if pts:
                found.append((label, backend, pts))
        return found

    reads = [
        *series("top100_flagged", "worklist top 100 flagged"),
        *series("top100_flagged_floor", "its SQL floor"),
        *series("top100_flagged_group_by_floor", "earlier GROUP BY shape (SQL only)"),
        *series("page500", "worklist first page of 500"),
        *series("pathway_detail", "one patient's page"),
        *series("count_open", "severity counts (count_open)"),
        *series("command", "recording a command (p50)", "p50_ms"),
    ]
    jobs = [
        *series("demo_data", "demo-data", "median_s"),
        *series("sweep", "reminder sweep through Prefect", "median_s"),
        *series("dashboard", "dashboard first render", "first_render_median_s"),
    ]
    width, height = 560, 460
    body = _panel("Reads and commands", "milliseconds", reads, 0, width, height)
    body += _panel("Jobs", "seconds", jobs, width, width, height)
    note = "solid: SQLite, dashed: PostgreSQL; medians of repeated runs (docs/benchmarks.md)"
    body.append(f'<text x="{width}" y="{height - 6}" text-anchor="middle" font-size="11">{escape(note)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height}" '
        f'font-family="DejaVu Sans, Arial, sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )
