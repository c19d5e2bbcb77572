"""Hygiene: users never see a traceback, and a save clears only the cached reads it can change."""

import tomllib

from pathway.domain.clock import utc_now
from pathway.services.commands import execute
from pathway.store.db import SessionFactory
from tests.dashboard.conftest import APP, SEEDER, day


def test_users_see_no_error_details() -> None:
    config = tomllib.loads((APP.parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_a_save_clears_the_site_list_only_when_it_can_add_a_site(database: SessionFactory) -> None:
    from dashboard import deps

    before = deps.sites()
    for payload in (
        {"command": "register_patient", "patient": "H9", "nhs_number": "9990000050", "date_of_birth": "1970-03-04"}
        | {"sex": "male", "site": "Eastmoor", "name": "Fy Testcase"},
        {"command": "record_diagnosis", "patient": "H9", "pathway": "P-EAST", "presented_on": day(-1)}
        | {"symptom_onset_on": day(-1), "referred_on": day(-1), "leg": "left", "veins": ["femoral"]}
        | {"imaging": "duplex"},
    ):
        execute(database, SEEDER, payload, recorded_at=utc_now())
    deps.clear_reads("record_consent")  # cannot add a site: the cached list stands
    assert deps.sites() == before
    deps.clear_reads("record_diagnosis")
    assert "Eastmoor" in deps.sites()
