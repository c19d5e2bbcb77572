"""Per-site access through the dashboard (AppTest, from the entry point as a browser would): a North
Vale coordinator's worklist has no Harbour Royal pathway, and its reference opens nothing."""

from sqlmodel import col, select

from pathway.services.accounts import set_sites
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.dashboard.conftest import app, texts


def test_a_site_coordinator_sees_and_opens_only_their_sites_pathways(database: SessionFactory) -> None:
    regional = app("coord")
    assert "P-HARBOUR" in texts(regional)  # every site before the account is limited
    set_sites(database, "coord", ["North Vale"])
    at = app("coord")
    assert not at.exception
    assert "P-HARBOUR" not in texts(at) and "P-CONSENT" in texts(at)
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
