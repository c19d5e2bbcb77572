"""Patient page: the timeline chart from STAGES with the window shaded, the record, flags, audit; pseudonyms."""

import json
from datetime import timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components import uk_date
from pathway.domain.stages import STAGES
from pathway.store.db import SessionFactory
from tests.dashboard.conftest import NHS, page, texts, today


def _chart(at: AppTest) -> tuple[dict[str, Any], list[pd.DataFrame]]:
    """The one chart's Vega-Lite spec and its datasets (sent beside the spec as Arrow tables)."""
    (chart,) = at.get("vega_lite_chart")
    datasets = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    return json.loads(chart.proto.spec), datasets


def _frame(at: AppTest, column: str) -> pd.DataFrame:
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def test_the_timeline_reads_the_stage_declaration_and_shades_the_window(database: SessionFactory) -> None:
    at = page("patient", "clin", patient_selected="P-TREATED")
    assert not at.exception
    spec, datasets = _chart(at)
    rows = next(d for d in datasets if "label" in d.columns)
    declared = [step.title for stage in STAGES for step in stage.steps]
    labels = list(rows["label"])
    assert labels[0] == "Presentation"
    assert labels[1:] == sorted(labels[1:], key=declared.index)
    assert {"MDT assessment", "Consent with written information", "Procedure", "Registry submission"} <= set(labels)
    sort = next(layer["encoding"]["y"]["sort"] for layer in spec["layer"] if "y" in layer["encoding"])
    assert sort == labels  # the chart's rows keep the declared order
    (window,) = [d.iloc[0] for d in datasets if "start" in d.columns]
    presented = today() - timedelta(days=40)
    assert window["what"] == "14-day treatment window"
    assert window["start"].date() == presented
    assert window["end"].date() == presented + timedelta(days=15)  # shaded through the end of day 14
    assert spec["layer"][0]["mark"]["type"] == "rect"
    procedure = rows.set_index("label").loc["Procedure"]
    assert procedure["done_on"].date() == today() - timedelta(days=35)
    assert procedure["status"] == "done"


def test_the_page_shows_flags_record_steps_and_audit(database: SessionFactory) -> None:
    at = page("patient", "clin", patient_selected="P-TREATED")
    page_text = texts(at)
    assert ":red-badge[red] Registry entry overdue (REGISTRY_SUBMISSION_OVERDUE)" in page_text
    assert "Cy Example" in page_text and "NHS 999 000 0026" in page_text
    steps = _frame(at, "Step")
    assert list(steps["Step"])[:2] == ["Presentation", "Start anticoagulation"]
    assert "done" in set(steps["Status"]) and "overdue" in set(steps["Status"])
    audit = _frame(at, "command")
    assert list(audit["command"]) == [
        "record_diagnosis",
        "start_anticoagulation",
        "record_mdt",
        "record_consent",
        "record_procedure",
        "read_pathway",  # this opening of the record, audited (deps.open_record)
    ]
    assert [e.label for e in at.expander][:2] == ["MDT meetings (1)", "Anticoagulation (1)"]
    assert at.button(key="patient_record").label == "Record for this pathway"


def test_auditors_see_no_name_nhs_number_birth_date_or_hospital_number(database: SessionFactory) -> None:
    at = page("patient", "audit", patient_selected="P-CONSENT")
    assert not at.exception
    spec, datasets = _chart(at)
    page_text = texts(at) + json.dumps(spec) + "".join(d.to_csv() for d in datasets)
    for identifier in ("Ada Testcase", NHS[0], "1970-03-04", "H1"):
        assert identifier not in page_text
    assert "Pathway P-CONSENT" in page_text and "Site: North Vale" in page_text
    assert len(at.button) == 0  # nothing to record


@pytest.mark.parametrize(
    ("pathway", "window"),
    [("P-TREATED", "treated on day 5"), ("P-CONSENT", "9 days left"), ("P-MISSED", "missed by 6 days")],
)
def test_the_window_card_counts_days_left_missed_or_treated(
    database: SessionFactory, pathway: str, window: str
) -> None:
    at = page("patient", "coord", patient_selected=pathway)
    assert {m.label: m.value for m in at.metric}["14-day window"] == window


def test_unknown_reference_and_no_reference(database: SessionFactory) -> None:
    missing = page("patient", "coord", patient_selected="P-NOPE")
    assert [e.value for e in missing.error] == ["No pathway has the reference P-NOPE."]
    empty = page("patient", "coord")
    assert empty.info[0].value.startswith("Choose a pathway on the worklist")
    assert len(empty.dataframe) == 0


def test_the_safety_net_is_shown_with_recorded_text_as_text(database: SessionFactory) -> None:
    from pathway.domain.clock import utc_now
    from pathway.services.commands import execute
    from tests.dashboard.conftest import SEEDER

    check = {
        "command": "record_safety_check",
        "pathway": "P-CONSENT",
        "checked_on": today().isoformat(),
        "platelets": 30,
        "inr": 1.2,
        "haemoglobin": 120,
        "egfr": 80,
        "contraindications": [],
    }
    execute(database, SEEDER, check, recorded_at=utc_now())
    hold = {
        "command": "stop_anticoagulation",
        "pathway": "P-CONSENT",
        "stopped_on": today().isoformat(),
        "reason": "procedure_hold",
        "restart_planned_on": (today() + timedelta(days=2)).isoformat(),
        "plan_approved_by": "Dr *H* <b>Haem</b>",
    }
    execute(database, SEEDER, hold, recorded_at=utc_now())
    at = page("patient", "clin", patient_selected="P-CONSENT")
    shown = [t.value for t in at.text]
    assert f"Latest safety check {uk_date(today())}: platelets 30 x10^9/L (below 50)" in shown
    held = next(line for line in shown if line.startswith("Anticoagulation held"))
    assert "Dr *H* <b>Haem</b>" in held  # a typed name is shown as typed, never rendered
    assert any(line.startswith("Post-thrombotic syndrome: not yet assessable") for line in shown)
    assert "Pre-procedure safety checks (1)" in [e.label for e in at.expander]
