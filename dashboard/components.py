"""Turning read-side values into what pages show: words for codes, markers, tables and CSV.

Identifiers are removed here, before anything reaches the browser: hiding a column in
`column_config` would still send its data, so auditors' frames never contain them.

Text a user typed (references, names, sites, anything recorded) is shown as text, never as
markdown: a whole line of it goes to `st.text` (no parsing at all), and a piece of it inside a
sentence that Streamlit renders as markdown (titles, captions, alerts) goes through `plain` first.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no pandas-stubs in the lock
import streamlit as st

from pathway import FLAG_BY_CODE, LONDON, STAGE_CLOSED, STAGE_COMPLETE, STAGES, STEPS, Flag, markdown_literal
from pathway.exports.csv_file import write_csv
from pathway.views.queries import WorklistRow

SEVERITIES = ("red", "amber")
# Streamlit theme colours for each severity (badges in markdown, pills and cells in tables).
COLOURS = {"red": "red", "amber": "orange"}
STAGE_TITLES = {s.code: s.title for s in STAGES} | {STAGE_COMPLETE: "Complete", STAGE_CLOSED: "Closed"}
IDENTIFIER_KEYS = ("patient", "name", "nhs_number", "date_of_birth")


# WCAG 2.4.7: a keyboard focus ring everywhere, unlike the sidebar's current-page highlight (a
# tinted background): a thick dark outline only on keyboard focus (:focus-visible).
FOCUS_CSS = """<style>
:focus-visible { outline: 3px solid #0b3d91 !important; outline-offset: 2px !important; }
[data-testid="stSidebarNav"] a:focus-visible { outline: 3px solid #0b3d91 !important; text-decoration: underline; }
</style>"""


def focus_style() -> None:
    st.html(FOCUS_CSS)


# The sidebar folds away under 1,000 px (issue 14), as Streamlit's own "auto" does only at 768 px:
# at 800 px an open sidebar squeezed the cards and filters into "Sta... o.". Once per page load,
# unless the user has chosen open or closed before (Streamlit keeps that choice in localStorage,
# which this leaves as it found it), so the sidebar's own button still opens it again.
NARROW_PX = 1000
FOLD_JS = f"""export default function () {{
  if (window.innerWidth >= {NARROW_PX} || window.pathwaySidebarFolded) return;
  window.pathwaySidebarFolded = true;
  const chosen = () => Object.keys(window.localStorage).filter((k) => k.startsWith("stSidebarCollapsed-"));
  const before = chosen();
  if (before.length) return;
  const fold = document.querySelector(
    '[data-testid="stSidebar"][data-collapsed="false"] [data-testid="stSidebarCollapseButton"] button'
  );
  if (!fold) return;
  fold.click();
  for (const key of chosen()) if (!before.includes(key)) window.localStorage.removeItem(key);
}}
"""
_fold_sidebar = st.components.v2.component("pathway_fold_sidebar", html="<span></span>", js=FOLD_JS)


def fold_sidebar_when_narrow() -> None:
    """Mount the (invisible) script that folds the sidebar away on a narrow screen."""
    with st.sidebar:
        _fold_sidebar(key="fold_sidebar", height=0)


def plain(text: object) -> str:
    """User text made literal inside a sentence that Streamlit renders as markdown (pathway.domain.text)."""
    return markdown_literal(text)


def words(code: str | None) -> str:
    """A code in plain words (flags, steps, stages, vocabulary values)."""
    if code is None:
        return ""
    if code in FLAG_BY_CODE:
        return FLAG_BY_CODE[code].words
    if code in STEPS:
        return STEPS[code][1].title
    return code.replace("_", " ")


def stage_words(code: str) -> str:
    """A stage's declared title (stage and step codes overlap, so stages have their own lookup)."""
    return STAGE_TITLES.get(code, code.replace("_", " "))


def flag_label(code: str, severity: str) -> str:
    """Plain words with the code beside; the severity is spelt out too, not only shown in colour."""
    return f"{severity}: {words(code)} ({code})"


def flag_text(flag: Flag) -> str:
    """A flag as Streamlit markdown: a coloured severity badge, then the words and the code."""
    severity = flag.severity.value
    return f":{COLOURS[severity]}-badge[{severity}] {words(flag.code)} ({flag.code})"


# Every label a flag can take, with its colour, for the worklist's pill column.
FLAG_LABELS = [flag_label(code, severity) for code in FLAG_BY_CODE for severity in SEVERITIES]
FLAG_LABEL_COLOURS = [COLOURS[severity] for _code in FLAG_BY_CODE for severity in SEVERITIES]


SELECTED = "patient_selected"  # session state: the pathway last opened, for the pages that follow


def pathway_in_url(key: str, label: str = "Pathway reference") -> str:
    """The pathway this page is about, kept in the URL (?pathway=REF) so a reload or a shared link opens it.

    The URL wins (a link, the back button), then the pathway last opened in this session; what the
    user types goes back into the URL and the session.
    """
    url = st.query_params.get("pathway", "")
    if url and url != st.session_state.get(SELECTED):
        st.session_state[SELECTED] = url
        st.session_state[key] = url
    st.session_state.setdefault(key, st.session_state.get(SELECTED, ""))
    ref = st.text_input(label, key=key, placeholder="Pick a row on the worklist, or type").strip()
    st.session_state[SELECTED] = ref
    if ref:
        st.query_params["pathway"] = ref
    else:
        st.query_params.pop("pathway", None)
    return ref


WORKLIST_URL = "worklist"  # query parameter and session key: the worklist's own query string, for the way back


def remember_worklist() -> None:
    """Keep the worklist's filters that a patient or recording page's URL carries (?worklist=site%3D...).

    Opening a pathway from the worklist rewrites the worklist's history entry (Streamlit puts the new
    page's parameters on it), so after a reload the browser's Back finds no filters in its URL; the
    worklist then takes them from here (dashboard/app_pages/worklist.py).
    """
    if back := st.query_params.get(WORKLIST_URL):
        st.session_state[WORKLIST_URL] = back


def nhs_number(digits: str | None) -> str:
    """An NHS number as it is read aloud and printed: 943 476 5919."""
    if not digits:
        return ""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 and digits.isdigit() else digits


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def identity_line(detail: Any, as_of: date, *, identifiers: bool) -> str:
    """Who this pathway belongs to, for st.text (plain text, no markdown): NHS number first (hazard H7).

    A name or a site cannot restyle the line or put another number before the real one; runs of
    white space in them are closed up so a typed line break cannot push the number out of view.
    """
    patient = detail.patient
    if identifiers:
        born = patient.date_of_birth
        parts = [
            f"NHS {nhs_number(patient.nhs_number)}",
            patient.name or "(no name recorded)",
            f"born {uk_date(born)} ({age_on(born, as_of)})",
            f"hospital number {patient.ref}",
            patient.sex,
            patient.site,
        ]
    else:
        parts = [f"Site: {patient.site}", f"Sex: {patient.sex}"]
    return " · ".join(" ".join(str(part).split()) for part in parts)


def london_time(instant: datetime) -> str:
    return instant.astimezone(LONDON).strftime("%d %b %Y %H:%M")


def uk_date(value: date | None) -> str:
    """A calendar date as UK readers write it: 6 Dec 2026 (blank when there is none)."""
    return f"{value.day} {value:%b %Y}" if value else ""


def shown_date(iso_day: str | None) -> str:
    """A date the read side gives as ISO text (PathwayDetail.as_dict), shown the UK way."""
    return uk_date(date.fromisoformat(iso_day)) if iso_day else ""


def uk_dates_in(text: str) -> str:
    """ISO dates inside a sentence the read side wrote (never user text), shown the UK way."""
    return _ISO_DAY.sub(lambda m: shown_date(m[0]), text)


def days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def window_words(days_left: int | None) -> str:
    """The treatment window in words: never '0 days left' for a missed one, never '1 days'."""
    if days_left is None:
        return ""
    if days_left < 0:
        return f"missed by {days(-days_left)}"
    if days_left == 0:
        return "closes today"
    return f"{days(days_left)} left"


def worklist_frame(rows: Sequence[WorklistRow], *, identifiers: bool) -> pd.DataFrame:
    """The worklist as shown: one row per open pathway, most urgent first (the query's order)."""
    records = []
    for row in rows:
        left = row.window_days_left
        record: dict[str, Any] = {
            "severity": [row.severity] if row.severity else [],  # one coloured pill
            "pathway": row.pathway,
            "patient": row.patient,
            "site": row.site,
            "flags": [flag_label(f.code, f.severity.value) for f in row.flags],
            # Words, not a bar: a missed window reads "missed by N days", never "0 days left".
            "window": window_words(left),
            "next_step": words(row.next_step),
            "next_due_on": row.next_due_on,
            "owner_role": row.owner_role or "",
            "route": words(row.route),
            "stage": stage_words(row.stage),
            "decision": words(row.decision),
        }
        if not identifiers:
            del record["patient"]
        records.append(record)
    columns = [k for k in WORKLIST_COLUMNS if identifiers or k != "patient"]
    return pd.DataFrame.from_records(records, columns=columns)


WORKLIST_COLUMNS = (
    "severity",
    "pathway",
    "patient",
    "window",
    "next_step",
    "next_due_on",
    "owner_role",
    "flags",
    "stage",
    "route",
    "site",
    "decision",
)


def worklist_columns(window_days: int) -> dict[str, Any]:
    cc = st.column_config
    return {
        "severity": cc.MultiselectColumn(
            "Severity",
            width="small",
            options=list(SEVERITIES),
            color=[COLOURS[s] for s in SEVERITIES],
            help="The most urgent standing flag: red or amber",
        ),
        "pathway": cc.TextColumn("Pathway", pinned=True),
        "patient": cc.TextColumn("Patient"),
        "site": cc.TextColumn("Site"),
        "flags": cc.MultiselectColumn(
            "Flags", width="large", options=FLAG_LABELS, color=FLAG_LABEL_COLOURS, help="Plain words, code beside"
        ),
        "window": cc.TextColumn(
            f"{window_days}-day window",
            width="medium",  # "missed by 12 days" whole
            help="Days left in the treatment window, or by how many days it was missed (blank: none planned)",
        ),
        "next_step": cc.TextColumn("Next step"),
        "next_due_on": cc.DateColumn("Due", format="D MMM YYYY"),
        "owner_role": cc.TextColumn("Owner"),
        "route": cc.TextColumn("Route"),
        "stage": cc.TextColumn("Stage"),
        "decision": cc.TextColumn("MDT decision"),
    }


def worklist_csv(rows: Iterable[WorklistRow], *, identifiers: bool) -> str:
    """Every filtered row, plain values (flags as 'CODE severity due' with words), UK dates, formula-safe."""
    fields = ["pathway", "patient", "site", "severity", "flags", "window_days_left", "next_step", "next_due_on"]
    fields += ["owner_role", "route", "stage", "decision", "presented_on"]
    if not identifiers:
        fields.remove("patient")

    def shown(row: WorklistRow) -> dict[str, Any]:
        data = row.as_dict()
        data["flags"] = "; ".join(
            f"{f.code} {f.severity.value} due {csv_date(f.due_on)} ({words(f.code)})" for f in row.flags
        )
        data["presented_on"] = csv_date(row.presented_on)
        data["next_due_on"] = csv_date(row.next_due_on)
        return data

    return write_csv((shown(row) for row in rows), fields)


def without_identifiers(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in IDENTIFIER_KEYS}


def frame(items: Iterable[Any]) -> pd.DataFrame:
    """Dataclasses or mappings as a table."""
    return pd.DataFrame([asdict(i) if is_dataclass(i) and not isinstance(i, type) else dict(i) for i in items])


def csv_date(value: date | None) -> str:
    """A date in a CSV download: DD/MM/YYYY, as UK spreadsheets read it (blank when there is none)."""
    return value.strftime("%d/%m/%Y") if value else ""


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(LONDON).strftime("%d/%m/%Y %H:%M") if value.tzinfo else value
    if isinstance(value, date):
        return csv_date(value)
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return csv_date(date.fromisoformat(value))
    return None if _missing(value) else value


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other containers
        return False


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def shown_values(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows as shown on screen: UK dates (6 Dec 2026), codes kept, blank (never "None") when empty."""

    def one(value: Any) -> str:
        if isinstance(value, datetime):
            return london_time(value)
        if isinstance(value, date):
            return uk_date(value)
        if isinstance(value, str) and _ISO_DAY.fullmatch(value):
            return uk_date(date.fromisoformat(value))
        if value is None or _missing(value):
            return ""
        if isinstance(value, list):
            return ", ".join(one(v) for v in value)
        return str(value)

    return pd.DataFrame([{k: one(v) for k, v in row.items()} for row in records])


def csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as a download: the one formula-safe CSV writer (pathway.exports.csv_file), UK dates."""
    records = [{k: _csv_value(v) for k, v in row.items()} for row in table.to_dict("records")]
    return write_csv(records, [str(c) for c in table.columns]).encode("utf-8")


def download(table: pd.DataFrame, name: str, key: str) -> None:
    st.download_button(
        "Download CSV",
        data=csv_bytes(table),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=key,
        on_click="ignore",  # a download is no reason to rerun the page
    )


def iso(value: date | None) -> str:
    return value.isoformat() if value else ""
