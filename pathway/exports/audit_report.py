"""The NICE HTG516 special-arrangements audit: every PMT case for a site and period.

Per case: the route, MDT quorum (HTG516 3.8), the governance notice (1.2) or research enrolment (1.1)
in place on or before the procedure, consent with the leaflet version given (1.2), registry status
(1.3), days from presentation to procedure (3.9: within the policy's window, 14 days), complications,
the Villalta score and PTS category at each follow-up (none in the acute phase) and whether PTS is
confirmed (CAVA); and version 2's safety net: the safety check in force on the day, thrombolysis outside
NICE NG158's criteria with its rationale, and patients outside NG158's scope. As CSV, and as one
self-contained HTML file whose charts are inline SVG drawn here, so the report opens offline and can
be mailed as it is.
"""

import re
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from rich.console import Console
from sqlmodel import Session

from pathway.domain.policy import Policy, policy_in_force
from pathway.domain.vocabulary import REQUIRED_MDT_ROLES, Visit
from pathway.exports.registry import PmtCase, load_pmt_cases, mdt_roles, registry_row, registry_status, write_csv

PTS_CATEGORIES = ("none", "mild", "moderate", "severe")
PTS_COLOURS = {"none": "#4c9a2a", "mild": "#e0b000", "moderate": "#e07000", "severe": "#c0282d"}
VISITS = tuple(v.value for v in Visit)
COLUMNS: tuple[str, ...] = (
    "pathway",
    "site",
    "procedure_on",
    "technique",
    "extent",
    "route",
    "presented_on",
    "days_presentation_to_procedure",
    "within_14_days",
    "mdt_held_on",
    "mdt_roles",
    "mdt_quorate",
    "mdt_missing_roles",
    "governance_notified_on",
    "governance_before_procedure",
    "research_enrolled_on",
    "research_before_procedure",
    "arrangements_met",
    "consented_on",
    "information_leaflet",
    "leaflet_version",
    "consent_before_procedure",
    "uncertainties_discussed",
    "registry_status",
    "registry_submitted_on",
    "minimum_data_set_missing",
    "complications",
    "safety_check_on",
    "safety_check_failed",
    "thrombolysis",
    "thrombolysis_criteria_met",
    "outside_criteria_rationale",
    "outside_guidance_scope",
    "outside_scope_plan",
    *(f"{visit}_{item}" for visit in VISITS for item in ("villalta_total", "pts_category")),
    "pts_status",
)
Test = Callable[[dict[str, Any]], Any]
_VERSION = re.compile(r"\bv(\d+(?:\.\d+)*)\s*$", re.IGNORECASE)


def leaflet_version(label: str | None) -> str | None:
    """The version in a leaflet label ("PIL-PMT v1.0" -> "1.0"); None when it names none."""
    found = _VERSION.search(label or "")
    return found.group(1) if found else None


def _on_or_before(day: date | None, limit: date) -> bool | None:
    return None if day is None else day <= limit


def audit_row(case: PmtCase, as_of: date) -> dict[str, Any]:
    """One PMT case; the window is the policy's (HTG516 3.9), PTS categories follow pathway.domain.pts."""
    p, x, rows = case.pathway, case.index, case.rows
    performed = case.performed_on
    roles = mdt_roles(case)
    missing_roles = [r for r in REQUIRED_MDT_ROLES if r not in roles]
    consent = min(rows.consents, key=lambda c: (c["consented_on"], c["id"])) if rows.consents else {}
    enrolled = min((e["enrolled_on"] for e in rows.enrolments), default=None)
    governance = _on_or_before(rows.governance_notified_on, performed)
    research = _on_or_before(enrolled, performed)
    # HTG516 1.1: iliofemoral PMT needs special arrangements; distal PMT only within research.
    met = governance if p.route == "special_arrangements" else research
    mdt_days = [m["held_on"] for m in rows.mdts]
    days = (performed - p.presented_on).days
    registry = registry_row(case, as_of)
    row: dict[str, Any] = {
        "pathway": p.ref,
        "site": p.site,
        "procedure_on": performed,
        "technique": x["technique"],
        "extent": p.extent,
        "route": p.route,
        "presented_on": p.presented_on,
        "days_presentation_to_procedure": days,
        "within_14_days": days <= case.policy.n("treatment_window_days"),
        "mdt_held_on": max(mdt_days) if mdt_days else None,
        "mdt_roles": roles,
        "mdt_quorate": bool(roles) and not missing_roles,
        "mdt_missing_roles": missing_roles,
        "governance_notified_on": rows.governance_notified_on,
        "governance_before_procedure": governance,
        "research_enrolled_on": enrolled,
        "research_before_procedure": research,
        "arrangements_met": bool(met),
        "consented_on": consent.get("consented_on"),
        "information_leaflet": consent.get("information_leaflet"),
        "leaflet_version": leaflet_version(consent.get("information_leaflet")),
        "consent_before_procedure": _on_or_before(consent.get("consented_on"), performed),
        "uncertainties_discussed": consent.get("uncertainties_discussed"),
        "registry_status": registry_status(case, as_of),
        "registry_submitted_on": min((r["submitted_on"] for r in rows.registry), default=None),
        "minimum_data_set_missing": registry["missing"],
        "complications": list(x["complications"] or []),
        "safety_check_on": registry["safety_check_on"],
        "safety_check_failed": registry["safety_check_failed"],
        "thrombolysis": x["technique"] == "pmt_with_thrombolysis",
        "thrombolysis_criteria_met": registry["thrombolysis_criteria_met"],
        "outside_criteria_rationale": x.get("outside_criteria_rationale"),
        "outside_guidance_scope": registry["outside_guidance_scope"],
        "outside_scope_plan": registry["outside_scope_plan"],
    }
    readings = {r.score.visit: r for r in case.pts.readings}
    for visit in VISITS:
        seen = case.visit(visit) or {}
        reading = readings.get(visit)
        row[f"{visit}_villalta_total"] = seen.get("villalta_total")
        row[f"{visit}_pts_category"] = reading.category if reading else None  # none in the acute phase
    row["pts_status"] = case.pts.status
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}


@dataclass(frozen=True)
class Figure:
    """One summary figure: `count` cases of `of` (the cases it applies to)."""

    key: str
    label: str
    count: int
    of: int

    @property
    def share(self) -> float | None:
        return self.count / self.of if self.of else None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "count": self.count, "of": self.of, "share": self.share}


def summary(rows: list[dict[str, Any]], policy: Policy) -> list[Figure]:
    def figure(key: str, label: str, test: Test, among: Test = lambda r: True) -> Figure:
        applicable = [r for r in rows if among(r)]
        return Figure(key, label, sum(1 for r in applicable if test(r)), len(applicable))

    def special(r: dict[str, Any]) -> bool:
        return bool(r["route"] == "special_arrangements")

    window = policy.n("treatment_window_days")
    return [
        figure("within_14_days", f"PMT within {window} days of presentation", lambda r: r["within_14_days"]),
        figure("mdt_quorate", "MDT with vascular surgeon, IR and haematologist", lambda r: r["mdt_quorate"]),
        figure(
            "governance_before_procedure",
            "Governance lead informed before PMT (special arrangements)",
            lambda r: r["governance_before_procedure"],
            special,
        ),
        figure(
            "research_before_procedure",
            "Research enrolment before PMT (research-only route)",
            lambda r: r["research_before_procedure"],
            lambda r: not special(r),
        ),
        figure(
            "consent_with_leaflet",
            "Consent before PMT with a versioned leaflet",
            lambda r: r["consent_before_procedure"] and r["leaflet_version"],
        ),
        figure("registry_submitted", "Registry entry submitted", lambda r: r["registry_status"] == "submitted"),
        figure("registry_complete", "Registry minimum data set complete", lambda r: not r["minimum_data_set_missing"]),
        figure("with_complications", "Cases with complications", lambda r: r["complications"]),
        figure(
            "thrombolysis_outside_criteria",
            "Thrombolysis outside NICE NG158 criteria (each with its rationale below)",
            lambda r: r["thrombolysis_criteria_met"] is False,
            lambda r: r["thrombolysis"],
        ),
        figure(
            "safety_check_failed",
            "Safety check in force on the day failed (platelets, INR, contraindication)",
            lambda r: r["safety_check_failed"],
            lambda r: r["safety_check_on"] is not None,
        ),
        figure("safety_check_missing", "No safety check recorded before PMT", lambda r: r["safety_check_on"] is None),
        figure(
            "outside_guidance_scope",
            "Patients outside NICE NG158's scope (under 18 or pregnant)",
            lambda r: r["outside_guidance_scope"],
        ),
        figure(
            "outside_scope_with_plan",
            "Outside NG158's scope with a specialist plan recorded",
            lambda r: r["outside_scope_plan"],
            lambda r: r["outside_guidance_scope"],
        ),
        figure(
            "pts_confirmed",
            "PTS confirmed (CAVA, as the note above the chart says)",
            lambda r: r["pts_status"] == "confirmed",
        ),
    ]


@dataclass(frozen=True)
class AuditReport:
    as_of: date
    site: str | None
    start: date | None
    end: date | None
    rows: list[dict[str, Any]]
    policy: Policy  # the policy the report was built under: its window and PTS rules are the report's
    limited: bool = False  # read by an account limited to some sites (per-site access): not every site

    @property
    def window_days(self) -> int:
        return self.policy.n("treatment_window_days")

    @property
    def outside_criteria(self) -> list[dict[str, Any]]:
        """Thrombolysis outside NG158's criteria: each case with the rationale recorded for it."""
        return [r for r in self.rows if r["thrombolysis_criteria_met"] is False]

    @property
    def figures(self) -> list[Figure]:
        return summary(self.rows, self.policy)

    @property
    def period(self) -> str:
        start, end = self.start, self.end
        if start and end:
            return f"{start.isoformat()} to {end.isoformat()}"
        if start:
            return f"from {start.isoformat()}"
        return f"up to {end.isoformat()}" if end else "all dates"


def build_audit(
    session: Session,
    as_of: date,
    *,
    site: str | None = None,
    sites: Collection[str] | None,
    start: date | None = None,
    end: date | None = None,
    progress: Console | None = None,
    policy: Policy | None = None,
) -> AuditReport:
    """Every PMT case for the site (all the reader's `sites` when None) whose first PMT falls in [start, end]."""
    policy = policy or policy_in_force()
    cases = load_pmt_cases(session, start=start, end=end, site=site, sites=sites, progress=progress, policy=policy)
    rows = [audit_row(case, as_of) for case in cases]
    return AuditReport(as_of, site, start, end, rows, policy, limited=sites is not None)


def audit_csv(report: AuditReport) -> str:
    return write_csv(report.rows, COLUMNS)


# --- HTML ------------------------------------------------------------------------------------------


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def _figures_html(figures: list[Figure]) -> str:
    rows = []
    for f in figures:
        width = round((f.share or 0) * 100)
        rows.append(
            f'<tr id="figure-{f.key}"><th scope="row">{escape(f.label)}</th><td class="num">{f.count} of {f.of}</td>'
            f'<td class="num">{_pct(f.share)}</td><td class="bar"><div style="width:{width}%"></div></td></tr>'
        )
    return '<table class="figures"><tbody>' + "".join(rows) + "</tbody></table>"


def days_chart(rows: list[dict[str, Any]], window_days: int) -> str:
    """SVG histogram of days from presentation to PMT, with the policy's window line."""
    counts = Counter(min(r["days_presentation_to_procedure"], 29) for r in rows)  # 29 stands for 29 or more
    top = max(counts.values(), default=1)
    bar, height, left, base = 18, 160, 34, 190
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{left + 30 * bar + 10}" height="230">']
    parts.append("<title>Days from presentation to PMT</title>")
    for day in range(30):
        n = counts.get(day, 0)
        h = round(height * n / top)
        colour = "#4c9a2a" if day <= window_days else "#c0282d"
        x = left + day * bar
        parts.append(f'<rect x="{x}" y="{base - h}" width="{bar - 2}" height="{h}" fill="{colour}"><title>')
        parts.append(f"{day}{'+' if day == 29 else ''} days: {n} cases</title></rect>")
        if day % 5 == 0:
            parts.append(f'<text x="{x + bar / 2}" y="{base + 16}" text-anchor="middle">{day}</text>')
    line = left + (window_days + 1) * bar - 1
    parts.append(f'<line x1="{line}" y1="20" x2="{line}" y2="{base}" stroke="#333" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{line + 4}" y="30">{window_days}-day window</text>')
    parts.append(f'<text x="{left - 6}" y="{base - height + 4}" text-anchor="end">{top}</text>')
    parts.append(f'<text x="{left - 6}" y="{base}" text-anchor="end">0</text>')
    parts.append(f'<text x="{left + 15 * bar}" y="{base + 34}" text-anchor="middle">days (29 = 29 or more)</text>')
    return "".join(parts) + "</svg>"


def pts_chart(rows: list[dict[str, Any]]) -> str:
    """SVG stacked bars: PTS category at each follow-up visit (acute-phase scores carry none)."""
    width, left, row_height = 420, 70, 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{left + width + 10}" '
        f'height="{row_height * len(VISITS) + 40}"><title>PTS category at each follow-up</title>'
    ]
    for i, visit in enumerate(VISITS):
        counts = Counter(r[f"{visit}_pts_category"] for r in rows if r[f"{visit}_pts_category"])
        total = sum(counts.values())
        y = 10 + i * row_height
        parts.append(f'<text x="{left - 6}" y="{y + 17}" text-anchor="end">{visit}</text>')
        x = float(left)
        for category in PTS_CATEGORIES:
            n = counts.get(category, 0)
            if not n:
                continue
            w = width * n / total
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_height - 8}" '
                f'fill="{PTS_COLOURS[category]}"><title>{visit} {category}: {n} of {total}</title></rect>'
            )
            x += w
        if not total:
            parts.append(f'<text x="{left}" y="{y + 17}">no scores recorded</text>')
    legend_y = 10 + len(VISITS) * row_height + 12
    for i, category in enumerate(PTS_CATEGORIES):
        x = left + i * 100
        parts.append(f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" fill="{PTS_COLOURS[category]}"/>')
        parts.append(f'<text x="{x + 16}" y="{legend_y}">{category}</text>')
    return "".join(parts) + "</svg>"


def _pts_note(policy: Policy) -> str:
    months, gap = policy.n("pts_assessment_months"), policy.n("pts_confirmation_months")
    threshold = policy.n("pts_villalta_threshold")
    return (
        f"Scores taken before {months} months from presentation are acute phase, not diagnostic: they carry no "
        f"category. PTS is confirmed (CAVA) by a score of {threshold} or more on two visits at least {gap} months "
        f"apart, both from {months} months, or by an ulcer from {months} months."
    )


def _rationales_html(rows: list[dict[str, Any]]) -> str:
    """Each case given thrombolysis outside NG158's criteria, with the rationale recorded (text as text)."""
    if not rows:
        return '<p id="outside-criteria">None in this period.</p>'
    items = "".join(
        f'<tr><th scope="row">{escape(r["pathway"])}</th><td>{escape(str(r["procedure_on"]))}</td>'
        f"<td>{escape(r['outside_criteria_rationale'] or 'no rationale recorded')}</td></tr>"
        for r in rows
    )
    return (
        '<table id="outside-criteria" class="figures"><thead><tr><th>Pathway</th><th>Procedure</th>'
        f"<th>Rationale recorded</th></tr></thead><tbody>{items}</tbody></table>"
    )


def _html_cell(value: Any) -> str:
    if value is None:
        return '<td class="absent">—</td>'
    if isinstance(value, bool):
        return f'<td class="{"yes" if value else "no"}">{"yes" if value else "no"}</td>'
    if isinstance(value, list):
        words = escape(", ".join(str(v) for v in value)) or "none"
        if len(value) > 3:  # long lists fold away so a case stays on one line
            return f'<td class="list"><details><summary>{len(value)} items</summary>{words}</details></td>'
        return f'<td class="list">{words}</td>'
    return f"<td>{escape(str(value))}</td>"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse}td,th{padding:.25rem .5rem;border-bottom:1px solid #ddd;text-align:left;font-size:.85rem}
.num{text-align:right}.bar{width:220px}.bar div{height:12px;background:#2b6cb0}
.cases{display:block;overflow-x:auto}.cases td{white-space:nowrap}.cases td.list{white-space:normal;min-width:14rem}
.cases th{position:sticky;top:0;background:#f4f4f4;white-space:nowrap}
td.no{color:#c0282d;font-weight:600}td.absent{color:#999}svg text{font-size:11px}.note{color:#555;font-size:.85rem}
"""


def audit_html(report: AuditReport) -> str:
    """The report as one HTML file: no scripts, no network, nothing to install."""
    site = escape(report.site or ("all the reader's sites" if report.limited else "all sites"))
    header = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        f'<tr id="case-{escape(r["pathway"])}">' + "".join(_html_cell(r.get(c)) for c in COLUMNS) + "</tr>"
        for r in report.rows
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>PMT audit: {site}, {escape(report.period)}</title><style>{_STYLE}</style></head>
<body>
<h1>NICE HTG516 audit: percutaneous mechanical thrombectomy for acute leg DVT</h1>
<p>Site: <strong>{site}</strong>. Period (procedure date): <strong>{escape(report.period)}</strong>.
Status as of {report.as_of.isoformat()}. Cases: <strong id="case-count">{len(report.rows)}</strong>.</p>
<p class="note">Pathway references only: no names, NHS numbers or dates of birth.</p>
<h2>Summary</h2>
{_figures_html(report.figures)}
<h2>Days from presentation to procedure</h2>
{days_chart(report.rows, report.window_days)}
<h2>Post-thrombotic syndrome (Villalta) at each follow-up</h2>
<p class="note">{_pts_note(report.policy)}</p>
{pts_chart(report.rows)}
<h2>Thrombolysis outside NICE NG158 criteria</h2>
{_rationales_html(report.outside_criteria)}
<h2>Cases</h2>
<table class="cases"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>
</body></html>
"""
