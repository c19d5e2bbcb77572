"""Altair charts: the pathway timeline and the report figures."""

from datetime import timedelta
from typing import Any

import altair as alt
import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no pandas-stubs in the lock

from pathway import Timeline

STATUS_COLOURS = {
    "done": "#2e7d32",
    "done_late": "#9e9d24",
    "overdue": "#c62828",
    "due": "#ef6c00",
    "upcoming": "#78909c",
    "event": "#1565c0",
}
STATUS_WORDS = {
    "done": "done",
    "done_late": "done late",
    "overdue": "overdue",
    "due": "due now",
    "upcoming": "upcoming",
    "event": "event",
}


def timeline_chart(timeline: Timeline, *, height_per_row: int = 34) -> alt.LayerChart:
    """One row per step in declared stage order: a bar from warning to due date, a tick at the due
    date, a diamond on the done date; the 14-day treatment window shaded; today as a dashed line."""
    rows = pd.DataFrame(
        [
            {
                "label": row.step,
                "stage": row.stage,
                "order": row.order,
                "owner": row.owner_role,
                "warn_on": pd.Timestamp(row.warn_on),
                "due_on": pd.Timestamp(row.due_on) + pd.Timedelta(hours=12),
                "done_on": pd.Timestamp(row.done_on) if row.done_on else None,
                "status": STATUS_WORDS[row.status],
            }
            for row in timeline.rows
        ]
    )
    order = list(dict.fromkeys(rows.sort_values("order")["label"]))
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    colour = alt.Color(
        "status:N",
        title="Status",
        scale=alt.Scale(domain=list(STATUS_WORDS.values()), range=list(STATUS_COLOURS.values())),
    )
    tooltip = [
        alt.Tooltip("stage:N", title="Stage"),
        alt.Tooltip("label:N", title="Step"),
        alt.Tooltip("owner:N", title="Owner"),
        alt.Tooltip("warn_on:T", title="From", format="%Y-%m-%d"),
        alt.Tooltip("due_on:T", title="Due", format="%Y-%m-%d"),
        alt.Tooltip("done_on:T", title="Done", format="%Y-%m-%d"),
        alt.Tooltip("status:N", title="Status"),
    ]
    window = pd.DataFrame(
        [
            {
                "start": pd.Timestamp(timeline.presented_on),
                # Shade through the end of day 14, the last day the window is open.
                "end": pd.Timestamp(timeline.window_closes_on + timedelta(days=1)),
                "what": f"{(timeline.window_closes_on - timeline.presented_on).days}-day treatment window",
            }
        ]
    )
    shade = (
        alt.Chart(window)
        .mark_rect(color="#ffcdd2", opacity=0.45)
        .encode(x=alt.X("start:T", title=None, axis=alt.Axis(format="%d %b %Y")), x2="end:T", tooltip=["what:N"])
    )
    shade_label = (
        alt.Chart(window)
        .mark_text(align="left", baseline="top", dx=4, dy=4, color="#b71c1c", fontWeight="bold")
        .encode(x="start:T", y=alt.value(0), text="what:N")
    )
    bars = alt.Chart(rows).mark_bar(height=12, opacity=0.55).encode(x="warn_on:T", x2="due_on:T", y=y, color=colour)
    due = alt.Chart(rows).mark_tick(thickness=2, size=20, color="#37474f").encode(x="due_on:T", y=y, tooltip=tooltip)
    done = (
        alt.Chart(rows)
        .transform_filter("isValid(datum.done_on)")
        .mark_point(shape="diamond", size=140, filled=True)
        .encode(x="done_on:T", y=y, color=colour, tooltip=tooltip)
    )
    today = pd.DataFrame([{"today": pd.Timestamp(timeline.as_of) + pd.Timedelta(hours=12), "what": "today"}])
    rule = alt.Chart(today).mark_rule(strokeDash=[6, 4], color="#212121").encode(x="today:T", tooltip=["what:N"])
    height = max(160, height_per_row * len(order))
    return alt.LayerChart(layer=[shade, bars, due, done, rule, shade_label]).properties(height=height)


def days_to_procedure_chart(table: pd.DataFrame, window_days: int) -> alt.LayerChart:
    bars = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("days:Q", title="Days from presentation to procedure", bin=False),
            y=alt.Y("pathways:Q", title="Pathways"),
            color=alt.Color(
                "within_window:N",
                title="Within window",
                scale=alt.Scale(domain=[True, False], range=["#2e7d32", "#c62828"]),
            ),
            tooltip=["days:Q", "pathways:Q"],
        )
    )
    line = (
        alt.Chart(pd.DataFrame([{"days": window_days + 0.5, "what": f"day {window_days}"}]))
        .mark_rule(strokeDash=[6, 4], color="#b71c1c", size=2)
        .encode(x="days:Q", tooltip=["what:N"])
    )
    return alt.LayerChart(layer=[bars, line]).properties(height=260)


def share_by_month_chart(table: pd.DataFrame) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month of presentation"),
            y=alt.Y(
                "share_within_window:Q",
                title="Treated within window",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            tooltip=[
                "month:O",
                "procedural:Q",
                "treated_within_window:Q",
                "treated_late:Q",
                "not_treated:Q",
                alt.Tooltip("share_within_window:Q", format=".0%"),
            ],
        )
        .properties(height=240)
    )
    return chart


def count_bars(table: pd.DataFrame, category: str, value: str, title: str, **colour: Any) -> alt.Chart:
    encoding: dict[str, Any] = {
        "y": alt.Y(f"{category}:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)),
        "x": alt.X(f"{value}:Q", title=title),
        "tooltip": [f"{category}:N", f"{value}:Q"],
    }
    if colour:
        encoding["color"] = alt.Color(
            f"{colour['field']}:N", scale=alt.Scale(domain=colour["domain"], range=colour["range"]), title=None
        )
    chart: alt.Chart = alt.Chart(table).mark_bar().encode(**encoding).properties(height=max(120, 26 * len(table)))
    return chart
