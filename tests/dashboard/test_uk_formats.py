"""UK conventions on screen and in downloads: 6 Dec 2026 on screen, DD/MM/YYYY in CSV, blank (never
"None") in empty cells, timestamps in Europe/London."""

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from dashboard.components import csv_bytes, shown_values, uk_date, worklist_csv
from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.dashboard.conftest import page, today


def test_screen_dates_are_uk_and_empty_cells_blank() -> None:
    shown = shown_values([{"on": "2026-12-06", "done": None, "when": datetime(2026, 7, 1, 12, 30, tzinfo=UTC)}])
    assert shown.iloc[0].to_dict() == {"on": "6 Dec 2026", "done": "", "when": "01 Jul 2026 13:30"}  # BST


def test_csv_downloads_carry_uk_dates_and_london_times() -> None:
    table = pd.DataFrame([{"day": date(2026, 12, 6), "at": datetime(2026, 7, 1, 12, 30, tzinfo=UTC), "n": 3}])
    assert csv_bytes(table).decode().splitlines()[1] == "06/12/2026,01/07/2026 13:30,3"


def test_the_worklist_csv_has_uk_dates(database: SessionFactory) -> None:
    with database() as session:
        rows = queries.worklist(session, today())
    consent = next(line for line in worklist_csv(rows, identifiers=True).splitlines() if line.startswith("P-CONSENT"))
    presented = (today() - timedelta(days=5)).strftime("%d/%m/%Y")
    assert presented in consent and (today() - timedelta(days=5)).isoformat() not in consent


def test_the_patient_page_shows_uk_dates_and_no_none(database: SessionFactory) -> None:
    at = page("patient", "clin", patient_selected="P-TREATED")
    steps = next(f.value for f in at.dataframe if "Step" in f.value.columns)
    assert uk_date(today() - timedelta(days=35)) in set(steps["Done"])
    for frame in at.dataframe:
        cells = frame.value.astype(str).to_numpy().ravel().tolist()
        assert "None" not in cells and "nan" not in cells
    assert f"presented {uk_date(today() - timedelta(days=40))}" in at.caption[0].value
