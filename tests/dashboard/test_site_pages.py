"""Per-site access through the dashboard (AppTest, from the entry point as a browser would): a North
Vale coordinator's worklist has no Harbour Royal pathway, and its reference opens nothing; a Harbour
Royal coordinator's reports, reminders and exports hold nothing of North Vale's. The command line's
side is tests/test_cli_sites.py; the services' is tests/services/test_site_access.py."""

from pathlib import Path

import pytest
from sqlmodel import col, select

from pathway.domain.text import site_key
from pathway.services.accounts import set_sites
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.dashboard.conftest import NHS, app, page, texts, today
from tests.support.access import navigation_pages
from tests.support.reminders import sweep


def test_a_site_coordinator_sees_and_opens_only_their_sites_pathways(database: SessionFactory) -> None:
    regional = app("coord")
    assert "P-HARBOUR" in texts(regional)  # every site before the account is limited
    set_sites(database, "coord", ["North Vale"])
    at = app("coord")
    assert not at.exception
    assert "P-HARBOUR" not in texts(at) and "P-CONSENT" in texts(at)
    offered = at.selectbox(key="site").options  # the site filter names the account's own sites only
    assert "North Vale" in offered and "All your sites" in offered and "Harbour Royal" not in offered
    assert "Harbour Royal" in app("boss").selectbox(key="site").options  # every site for a regional account
    at.session_state["patient_selected"] = "P-HARBOUR"  # as a shared link or a typed reference would
    at.switch_page("app_pages/patient.py").run()
    assert [e.value for e in at.error] == ["No pathway has the reference P-HARBOUR."]
    assert "Ed Fictor" not in texts(at)
    with database() as session:
        row = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert row is not None and (row.command, row.outcome, row.pathway_ref) == ("read_pathway", "denied", "P-HARBOUR")
    at.session_state["exports_pathway"] = "P-HARBOUR"
    at.switch_page("app_pages/exports.py").run()
    assert "No pathway has the reference P-HARBOUR." in [e.value for e in at.error]


NORTH_VALE_PATHWAYS = ("P-CONSENT", "P-MISSED", "P-TREATED", "P-QUIET")


def test_every_page_and_export_as_a_user_of_the_other_site(database: SessionFactory, tmp_path: Path) -> None:
    """A Harbour Royal coordinator: reports, reminders and exports hold nothing of North Vale's, whose
    pathways a regional account sees on the same pages."""
    assert sweep(database, tmp_path, today())["sent"] > 0  # reminders for the flags standing at both sites
    seen: dict[str, dict[str, str]] = {}
    for who, sites in (("regional", None), ("harbour", ["Harbour Royal"])):
        set_sites(database, "coord", sites)
        # A page run on its own: the session holds the account's sites as the entry point leaves them.
        keys = None if sites is None else [site_key(s) for s in sites]
        seen[who] = {}
        for name in ("reports", "reminders", "exports"):
            at = page(name, "coord", auth_sites=keys)
            assert not at.exception, (who, name)
            seen[who][name] = texts(at)
        exports = page("exports", "coord", auth_sites=keys)
        seen[who]["export sites"] = " ".join(str(o) for o in exports.selectbox(key="exports_site").options)
    regional, harbour = seen["regional"], seen["harbour"]
    # P-TREATED (North Vale) is the one procedure: its complication and registry case are North Vale's.
    assert "access-site haematoma" in regional["reports"] and "access-site haematoma" not in harbour["reports"]
    assert "Pathways of your sites" in harbour["reports"]
    assert any(ref in regional["reminders"] for ref in NORTH_VALE_PATHWAYS)
    assert "P-TREATED" in regional["exports"] and "PMT cases 1" in regional["exports"]
    assert "North Vale" in regional["export sites"] and "North Vale" not in harbour["export sites"]
    assert "All your sites" in harbour["export sites"]
    for name in ("reports", "reminders", "exports"):
        assert not any(ref in harbour[name] for ref in NORTH_VALE_PATHWAYS), name
        assert not any(person in harbour[name] for person in ("Ada Testcase", "Bo Sample", "Cy Example")), name
    assert "PMT cases 0" in harbour["exports"]


def test_a_rerun_of_the_patient_page_checks_the_site_again(database: SessionFactory) -> None:
    """The patient page reads through the site-checked service on every rerun, not only the first opening:
    an account moved to another site meanwhile sees the same 'no pathway' as for an unknown reference."""
    set_sites(database, "coord", ["Harbour Royal"])
    at = app("coord")
    at.session_state["patient_selected"] = "P-HARBOUR"
    at.switch_page("app_pages/patient.py").run()
    assert not at.exception and "Ed Fictor" in texts(at)
    set_sites(database, "coord", ["North Vale"])  # the open session follows at its next run
    at.run()  # a click or a widget change reruns the page with the same pathway
    assert [e.value for e in at.error] == ["No pathway has the reference P-HARBOUR."]
    assert "Ed Fictor" not in texts(at)
    with database() as session:
        row = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert row is not None and (row.command, row.outcome, row.pathway_ref) == ("read_pathway", "denied", "P-HARBOUR")


@pytest.mark.parametrize(
    "page_file", sorted(set(navigation_pages()) - {"app_pages/sites.py"}), ids=lambda p: Path(p).stem
)
def test_every_page_as_a_user_of_the_other_site_shows_nothing_of_north_vale(
    database: SessionFactory, page_file: str
) -> None:
    """Every page a coordinator opens, with a North Vale record selected (as a shared link would), for
    a coordinator of Harbour Royal: no North Vale pathway, patient or identifier anywhere; the selected
    reference only in 'no pathway has this reference'."""
    set_sites(database, "coord", ["Harbour Royal"])
    at = app("coord")
    at.session_state["patient_selected"] = "P-TREATED"
    at.switch_page(page_file).run()
    assert not at.exception, at.exception
    shown = texts(at)
    others = [ref for ref in NORTH_VALE_PATHWAYS if ref != "P-TREATED"]
    assert not any(ref in shown for ref in others), page_file
    assert not any(name in shown for name in ("Ada Testcase", "Bo Sample", "Cy Example", "Di Mockford")), page_file
    assert not any(nhs in shown.replace(" ", "") for nhs in NHS[:4]), page_file
    mentions = [line for line in shown.splitlines() if "P-TREATED" in line]
    assert all("No pathway has the reference P-TREATED." in line for line in mentions), mentions
