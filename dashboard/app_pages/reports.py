"""Reports: timing against the 14-day window, stages, flags, complications and registry completeness."""

from typing import Any

import streamlit as st

from dashboard import auth, charts, components, deps
from pathway import policy_in_force

actor = auth.require_actor()
st.title("Reports")
as_of = deps.today()
window = policy_in_force().n("treatment_window_days")
whose = "All pathways" if actor.sites is None else "Pathways of your sites"  # per-site access: the views limit it
st.caption(f"{whose}, as of {components.uk_date(as_of)}. Counts only: no patient identifiers.")


def section(name: str, title: str, explanation: str) -> Any:
    st.subheader(title)
    st.caption(explanation)
    table = components.frame(deps.report(actor, name, as_of))
    if table.empty:
        st.markdown("Nothing to report yet.")
        return None
    return table


table = section(
    "days_to_procedure",
    "Days from presentation to procedure",
    f"Pathways by days from presentation to their first procedure; the dashed line is day {window} (NICE HTG516 3.9).",
)
if table is not None:
    st.altair_chart(charts.days_to_procedure_chart(table, window), width="stretch")
    components.download(table, "days-to-procedure", key="reports_days_csv")

table = section(
    "window_by_month",
    f"Treated within the {window}-day window, by month of presentation",
    "Of the pathways whose MDT chose a procedure (PMT, CDT or open thrombectomy).",
)
if table is not None:
    st.altair_chart(charts.share_by_month_chart(table), width="stretch")
    st.dataframe(table, hide_index=True, key="reports_window_table")
    components.download(table, "treated-within-window-by-month", key="reports_window_csv")

table = section("pathways_by_stage", "Pathways by stage", "Every pathway, open or closed, by where it stands.")
if table is not None:
    st.altair_chart(charts.count_bars(table, "title", "pathways", "Pathways"), width="stretch")
    components.download(table, "pathways-by-stage", key="reports_stage_csv")

table = section("flags_by_type", "Standing flags by type", "Open pathways carrying each flag today.")
if table is not None:
    table["flag"] = table["words"] + " (" + table["code"] + ")"
    bars = charts.count_bars(
        table, "flag", "pathways", "Pathways", field="severity", domain=["red", "amber"], range=["#c62828", "#ef6c00"]
    )
    st.altair_chart(bars, width="stretch")
    components.download(table.drop(columns=["flag"]), "flags-by-type", key="reports_flags_csv")

table = section(
    "complications", "Complications", "Complications recorded at procedures, with their share of procedures."
)
if table is not None:
    st.dataframe(
        table,
        hide_index=True,
        key="reports_complications_table",
        column_config={"share_of_procedures": st.column_config.NumberColumn("Share", format="percent")},
    )
    components.download(table, "complications", key="reports_complications_csv")

table = section(
    "registry_completeness",
    "Registry completeness",
    "PMT pathways by month of the first PMT: registry entries made, awaited and overdue (NICE HTG516 1.3).",
)
if table is not None:
    st.dataframe(
        table,
        hide_index=True,
        key="reports_registry_table",
        column_config={"completeness": st.column_config.NumberColumn("Completeness", format="percent")},
    )
    components.download(table, "registry-completeness", key="reports_registry_csv")
