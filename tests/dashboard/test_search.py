"""The worklist's lookup: a pathway by reference (any case), NHS number (with or without spaces) or
hospital number, over the whole table; a pseudonymised reader looks up references only."""

from pathway.services.bulk_load import load_cohort
from pathway.store.db import SessionFactory
from pathway.views import queries
from tests.dashboard.conftest import SEEDER, app, today


def _found(database: SessionFactory, text: str, identifiers: bool = True) -> list[str]:
    with database() as session:
        return [hit.pathway for hit in queries.find_pathways(session, text, identifiers=identifiers)]


def test_reference_in_any_case_nhs_number_with_spaces_and_hospital_number(database: SessionFactory) -> None:
    assert _found(database, "p-consent") == ["P-CONSENT"]
    assert _found(database, "  P-Consent ") == ["P-CONSENT"]
    assert _found(database, "943 476 5919") == ["P-CONSENT"] == _found(database, "9434765919")
    assert _found(database, "h1") == ["P-CONSENT"]
    assert _found(database, "P-NOPE") == []


def test_a_pseudonymised_reader_finds_by_reference_only(database: SessionFactory) -> None:
    assert _found(database, "943 476 5919", identifiers=False) == []
    assert _found(database, "H1", identifiers=False) == []
    assert _found(database, "p-consent", identifiers=False) == ["P-CONSENT"]


def test_the_lookup_reaches_past_the_rows_on_screen(database: SessionFactory) -> None:
    load_cohort(database, patients=120, seed=5, today=today(), actor=SEEDER)
    with database() as session:
        last = queries.worklist(session, today())[-1].pathway  # far beyond the first page of 50
    at = app("coord")
    at.text_input(key="worklist_find").input(last.lower()).run()
    assert not at.exception
    links = [link for link in at.get("page_link") if link.proto.label.startswith(last)]
    assert len(links) == 1 and "pathway=" + last in links[0].proto.query_string
