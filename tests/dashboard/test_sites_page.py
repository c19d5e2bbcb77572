"""The Sites page (admins only): the managed list, a site added and one retired, each through the
service (audited); a typo'd site then refused by the recording form's service call is covered in
tests/services/test_sites.py, the page's refusal for other roles in test_access_pages.py."""

from sqlmodel import col, select

from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.dashboard.conftest import page
from tests.support.recording import key, recording


def test_an_admin_adds_and_retires_a_site_and_the_forms_follow(database: SessionFactory) -> None:
    at = page("sites", "boss")
    assert not at.exception
    listed = at.dataframe[0].value
    assert {"North Vale", "Harbour Royal"} <= set(listed["Site"])
    at.text_input(key="sites_new").input("Westfield  Community")
    at = at.button(key="FormSubmitter:sites_add_form-Add site").click().run()
    assert [s.value for s in at.success] == ["Added Westfield Community."]
    at.text_input(key="sites_new").input("westfield community")
    at = at.button(key="FormSubmitter:sites_add_form-Add site").click().run()
    (refused,) = [e.value for e in at.error]  # markdown-literal: the colon escaped, shown as typed
    assert refused.startswith("Not added: site") and refused.endswith(
        "Westfield Community is already on the list of sites"
    )
    register = recording("coord", "register_patient").selectbox(key=key("register_patient", "site"))
    assert "Westfield Community" in register.options
    at.selectbox(key="sites_retire").set_value("Harbour Royal")
    at = at.button(key="FormSubmitter:sites_retire_form-Retire site").click().run()
    assert [s.value for s in at.success] == ["Retired Harbour Royal."]
    table = at.dataframe[0].value
    assert table.loc[table["Site"] == "Harbour Royal", "Status"].tolist() == ["retired"]
    assert (
        "Harbour Royal"
        not in recording("coord", "register_patient").selectbox(key=key("register_patient", "site")).options
    )
    with database() as session:
        changes = session.exec(
            select(AuditEvent.command, AuditEvent.actor, AuditEvent.site)
            .where(col(AuditEvent.command).in_(["add_site", "retire_site"]))
            .order_by(col(AuditEvent.id))
        ).all()
    assert [tuple(c) for c in changes] == [
        ("add_site", "boss", "Westfield Community"),
        ("retire_site", "boss", "Harbour Royal"),
    ]


def test_a_coordinator_opening_the_sites_page_on_its_own_is_refused(database: SessionFactory) -> None:
    at = page("sites", "coord")
    assert not at.exception
    assert [i.value for i in at.info] == ["Only an admin manages the list of sites."]
    assert len(at.dataframe) == 0 and len(at.text_input) == 0
