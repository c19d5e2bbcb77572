"""Worklist page: order, markers, words beside codes, the window bar, filters, paging, pseudonymised rows."""

import json
from datetime import timedelta
from math import ceil

from pathway.domain.clock import utc_now
from pathway.services.bulk_load import load_cohort
from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.dashboard.conftest import SEEDER, page, today


def test_open_windows_first_fewest_days_left_then_red_with_markers_and_words(database: SessionFactory) -> None:
    # Today's 14-day cases (window still open) come first, fewest days left first; then the red backlog.
    at = page("worklist", "coord")
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["pathway"]) == ["P-CONSENT", "P-HARBOUR", "P-QUIET", "P-MISSED", "P-TREATED"]
    assert list(table["window"]) == ["9 days left", "12 days left", "13 days left", "missed by 6 days", ""]
    assert [list(s) for s in table["severity"]] == [["amber"], [], [], ["red"], ["red"]]
    consent = table.set_index("pathway").loc["P-CONSENT"]
    assert list(consent["flags"]) == ["amber: Consent not yet recorded (CONSENT_OUTSTANDING)"]
    assert consent["window"] == "9 days left"  # presented 5 days ago: 9 days left of 14
    assert (consent["next_step"], consent["owner_role"]) == ("Consent with written information", "clinician")
    assert consent["route"] == "special arrangements" and consent["stage"] == "Information and consent"
    missed = table.set_index("pathway").loc["P-MISSED"]
    assert "red: 14-day treatment window missed (TREATMENT_WINDOW_MISSED)" in list(missed["flags"])
    assert missed["window"] == "missed by 6 days"  # presented 20 days ago: never "0 days left"
    assert {m.label: m.value for m in at.metric} == {
        ":red[Red]": "2",
        ":orange[Amber]": "1",
        "Open pathways": "5",
        "Matching filters": "5",
    }


def test_window_words_say_missed_and_use_the_singular() -> None:
    from dashboard.components import window_words

    assert window_words(-8) == "missed by 8 days" and window_words(-1) == "missed by 1 day"
    assert window_words(0) == "closes today"
    assert window_words(1) == "1 day left" and window_words(2) == "2 days left"
    assert window_words(None) == ""


def test_the_countdown_is_words_dates_are_uk_and_the_as_of_time_is_shown(database: SessionFactory) -> None:
    at = page("worklist", "coord")
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["window"]["type_config"]["type"] == "text"
    assert columns["next_due_on"]["type_config"]["format"] == "D MMM YYYY"
    assert columns["flags"]["type_config"]["type"] == "multiselect"  # flags as coloured pills
    pills = {o["value"]: o["color"] for o in columns["severity"]["type_config"]["options"]}
    assert pills == {"red": "red", "amber": "orange"}  # red and amber pills
    caption = at.caption[0].value
    assert caption.startswith(f"As of **{today():%d %b %Y}") and "(Europe/London), refreshed every minute" in caption
    assert at.download_button[0].label == "Download CSV"


def test_filters_by_site_flag_stage_and_route(database: SessionFactory) -> None:
    at = page("worklist", "coord")
    at.selectbox(key="site").set_value("Harbour Royal").run()
    assert list(at.dataframe[0].value["pathway"]) == ["P-HARBOUR"]
    at.selectbox(key="site").set_value(None)
    at.selectbox(key="flag").set_value("REGISTRY_SUBMISSION_OVERDUE").run()
    assert list(at.dataframe[0].value["pathway"]) == ["P-TREATED"]
    at.selectbox(key="flag").set_value(None)
    at.selectbox(key="stage").set_value("consent").run()
    assert list(at.dataframe[0].value["pathway"]) == ["P-CONSENT"]
    at.selectbox(key="stage").set_value(None)
    at.selectbox(key="route").set_value("research_only").run()
    assert list(at.dataframe[0].value["pathway"]) == ["P-HARBOUR"]
    at.selectbox(key="route").set_value(None)
    at.toggle(key="flagged").set_value(True).run()
    assert list(at.dataframe[0].value["pathway"]) == ["P-CONSENT", "P-MISSED", "P-TREATED"]
    assert not at.exception


def test_flag_filter_shows_words_with_the_code(database: SessionFactory) -> None:
    at = page("worklist", "coord")
    flag = at.selectbox(key="flag")
    assert "Consent not yet recorded (CONSENT_OUTSTANDING)" in flag.options


def test_pages_of_fifty_read_from_the_database(database: SessionFactory) -> None:
    load_cohort(database, patients=120, seed=5, today=today(), actor=SEEDER)
    at = page("worklist", "coord")
    total = int(next(m.value for m in at.metric if m.label == "Matching filters"))
    assert total > 100
    first = list(at.dataframe[0].value["pathway"])
    assert len(first) == 50
    assert at.pagination[0].num_pages == ceil(total / 50)
    at.pagination[0].set_value(2).run()
    second = list(at.dataframe[0].value["pathway"])
    assert len(second) == 50 and not set(first) & set(second)
    assert "showing 51–100 of" in at.caption[0].value


def test_auditors_see_no_patient_column(database: SessionFactory) -> None:
    at = page("worklist", "audit")
    table = at.dataframe[0].value
    assert "patient" not in table.columns
    assert not any(ref in table.to_csv() for ref in ("H1", "H2", "Ada"))
    assert table["pathway"].iloc[0] == "P-CONSENT"


def test_worklist_csv_has_plain_values_and_no_identifiers_for_auditors(database: SessionFactory) -> None:
    from dashboard.components import worklist_csv
    from pathway.views import queries

    with database() as session:
        rows = queries.worklist(session, today())
    full = worklist_csv(rows, identifiers=True).splitlines()
    assert full[0].startswith("pathway,patient,site,severity,flags,window_days_left")
    consent = next(line for line in full if line.startswith("P-CONSENT"))
    assert "CONSENT_OUTSTANDING amber due" in consent and ",9," in consent
    pseudonymised = worklist_csv(rows, identifiers=False)
    assert "patient" not in pseudonymised.splitlines()[0] and ",H1," not in pseudonymised


def test_the_timed_refresh_ends_an_idle_session(database: SessionFactory) -> None:
    # The refresh runs only the fragment, not the entry point, so the fragment checks the session itself.
    idle = utc_now() - timedelta(minutes=31)
    at = page("worklist", "coord", auth_last_active_at=idle)
    assert "auth_user" not in at.session_state
    assert [w.value for w in at.warning] == ["Please sign in to see this page."]
    assert len(at.dataframe) == 0


def test_the_timed_refresh_is_not_activity(database: SessionFactory) -> None:
    at = page("worklist", "coord", auth_last_active_at=utc_now() - timedelta(minutes=20))
    assert [d.key for d in at.dataframe if d.key == "worklist_table"] == ["worklist_table"]
    assert utc_now() - at.session_state["auth_last_active_at"] >= timedelta(minutes=19)


def test_the_older_backlog_is_grouped_by_age_below_todays_list(database: SessionFactory) -> None:
    # P-MISSED (no MDT, window missed) and P-TREATED (registry overdue) are the seeded backlog.
    at = page("worklist", "coord")
    assert not at.exception
    groups = [e.label for e in at.expander if e.label.startswith("Overdue ")]
    assert len(groups) == 4
    counts = {label.rsplit(" (", 1)[0]: int(label.rsplit("(", 1)[1].rstrip(")")) for label in groups}
    with database() as session:
        backlog = queries.backlog_by_age(session, today())
    expected = {g.words: g.count for g in backlog}
    assert counts == expected and sum(counts.values()) >= 2
    # A closed group's rows are not read nor sent; opened, each shows its rows.
    assert not [frame for frame in at.dataframe if str(frame.key).startswith("backlog_")]
    for group in backlog:
        at.session_state[f"backlog_open_{group.first_day}"] = True
    at.run()
    assert not at.exception
    shown = {ref for frame in at.dataframe if str(frame.key).startswith("backlog_") for ref in frame.value["pathway"]}
    assert {"P-MISSED", "P-TREATED"} <= shown
    assert "P-CONSENT" not in shown  # its window is open: today's list has it
