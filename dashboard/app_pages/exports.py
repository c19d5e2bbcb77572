"""Exports: the registry file and the NICE HTG516 audit report for a site and period, and one pathway
as a FHIR R4B bundle. The registry file and the audit carry no patient identifiers, so every role may
take them; the FHIR bundle carries the NHS number, name and date of birth, so auditors may not."""

from datetime import date, timedelta
from typing import Any

import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no pandas-stubs in the lock
import streamlit as st

from dashboard import auth, components, deps, forms
from pathway.errors import NotFound
from pathway.exports.audit_report import AuditReport, audit_csv, audit_html, build_audit
from pathway.exports.registry import registry_export, write_csv, write_json
from pathway.services.downloads import audited, export_fhir
from pathway.views.reading import read

actor = auth.require_actor()
st.title("Exports")
as_of = deps.today()


@st.cache_data(ttl="5m", max_entries=20, show_spinner="Reading PMT cases…")
def exports(as_of: date, site: str | None, start: date, end: date, sites: tuple[str, ...] | None) -> dict[str, Any]:
    """The registry rows and the audit report for one choice of site and period, as plain values, over
    the reader's `sites` (per-site access, applied by the exports themselves; part of the cache key)."""
    rows = read(deps.session_factory(), registry_export, as_of, start=start, end=end, site=site, sites=sites)
    report = read(deps.session_factory(), build_audit, as_of, site=site, sites=sites, start=start, end=end)
    return {"registry": rows, "report": report}


def fhir_bundle(ref: str, as_of: date) -> Any:
    """One pathway's Bundle, read fresh (never cached: it holds identifiers); the service audits it
    (one `export_fhir` row) and refuses another site's pathway like an unknown one."""
    return export_fhir(deps.session_factory(), actor, ref, as_of=as_of, recorded_at=deps.now())


st.subheader("Registry file and audit report")
st.caption(
    "Every PMT case whose first PMT falls in the period (NICE HTG516 1.3: registry entry of every case). "
    "No names, NHS numbers or dates of birth: age only."
)
left, middle, right = st.columns(3)
# Per-site access: the exports read only the account's sites whatever is chosen here (another site's
# cases are not found); the list offers those sites, and "All your sites" for an account limited to some.
own_sites = [s for s in deps.sites() if actor.sees_site(s)]
site = left.selectbox(
    "Site",
    [None, *own_sites],
    format_func=lambda s: s or ("All sites" if actor.sites is None else "All your sites"),
    key="exports_site",
)
# UK order; the calendar's first day follows the browser's language (Monday for en-GB: docs/deploy.md).
start = middle.date_input(
    "First procedure date", value=as_of - timedelta(days=365), key="exports_from", format=forms.UK_DATE
)
end = right.date_input("Last procedure date", value=as_of, key="exports_to", format=forms.UK_DATE)
if not isinstance(start, date) or not isinstance(end, date) or start > end:
    st.error("Choose a first date on or before the last date.")
    st.stop()

found = exports(as_of, site, start, end, deps.sites_of(actor))
rows: list[dict[str, Any]] = found["registry"]
report: AuditReport = found["report"]
place = (site or "all-sites").replace(" ", "-").lower()
stem = f"{place}-{start.isoformat()}-to-{end.isoformat()}"
figures = {f.key: f for f in report.figures}
shown = ("within_14_days", "registry_complete", "consent_with_leaflet", "mdt_quorate")
columns = st.columns(len(shown) + 1)
columns[0].metric("PMT cases", len(rows))
for column, name in zip(columns[1:], shown, strict=True):
    share = figures[name].share
    column.metric(figures[name].label, "n/a" if share is None else f"{share:.0%}")
if rows:
    missing = pd.DataFrame(
        [
            {"pathway": r["pathway"], "missing items": len(r["missing"]), "missing": ", ".join(r["missing"])}
            for r in rows
        ]
    )
    st.dataframe(missing, hide_index=True, key="exports_missing")

# The registry file names no one but lists pathway references: each file made is audited (on the click).
registry: dict[str, Any] = {
    "rows": lambda _content: len(rows),
    "site": site,
    "filters": {"from": start.isoformat(), "to": end.isoformat()},
}
downloads = st.columns(4)
downloads[0].download_button(
    "Registry file (CSV)",
    audited(deps.session_factory(), actor, "registry_csv", lambda: write_csv(rows), clock=deps.now, **registry),
    f"registry-{stem}.csv",
    "text/csv",
    key="exports_registry_csv",
    on_click="ignore",
)
downloads[1].download_button(
    "Registry file (JSON)",
    audited(deps.session_factory(), actor, "registry_json", lambda: write_json(rows), clock=deps.now, **registry),
    f"registry-{stem}.json",
    "application/json",
    key="exports_registry_json",
    on_click="ignore",
)
downloads[2].download_button(
    "Audit report (HTML)",
    audit_html(report),
    f"audit-{stem}.html",
    "text/html",
    key="exports_audit_html",
    on_click="ignore",
)
downloads[3].download_button(
    "Audit report (CSV)", audit_csv(report), f"audit-{stem}.csv", "text/csv", key="exports_audit_csv", on_click="ignore"
)

st.divider()
st.subheader("One pathway as FHIR")
if not actor.sees_identifiers:
    st.info("A FHIR bundle carries the NHS number, name and date of birth: the auditor role cannot export it.")
    st.stop()
default = st.session_state.get("patient_selected", "")
ref = st.text_input("Pathway reference", value=default, key="exports_pathway").strip()
if not ref:
    st.info("Type a pathway reference to export it as a FHIR R4B bundle.")
    st.stop()
try:
    bundle = fhir_bundle(ref, as_of)
except NotFound:
    st.error(f"No pathway has the reference {components.plain(ref)}.")
    st.stop()
kinds = pd.Series([entry.resource.get_resource_type() for entry in bundle.entry or []]).value_counts(sort=False)
st.dataframe(kinds.rename_axis("resource").reset_index(name="count"), hide_index=True, key="exports_fhir_resources")
st.download_button(
    "FHIR bundle (JSON)",
    bundle.model_dump_json(indent=2),
    f"{ref}-fhir-{as_of.isoformat()}.json",
    "application/fhir+json",
    key="exports_fhir_json",
    on_click="ignore",
)
