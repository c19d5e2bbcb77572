"""Per-site access in the service layer: an account limited to some sites sees and records only their
patients; another site's pathway looks exactly like an unknown reference, and the attempt is audited.
Every command is tried by a clinician of the other site (Harbour Royal) on North Vale's records."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from pathway.domain.commands import COMMANDS
from pathway.domain.roles import Actor
from pathway.domain.text import site_key
from pathway.domain.vocabulary import Role
from pathway.errors import AccessDenied, NotFound
from pathway.exports.audit_report import audit_html, build_audit
from pathway.exports.registry import registry_export
from pathway.services.commands import execute, open_record
from pathway.services.downloads import export_fhir
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from pathway.views import notifications, queries, reports
from tests.conftest import (
    RECORDED_AT,
    consent,
    diagnose,
    governance,
    mdt,
    open_pathway,
    procedure,
    register,
    run,
    start_anticoagulation,
    treated_pathway,
)
from tests.support.commands import OTHER_NHS, TODAY, database_state, prepare, valid_command
from tests.support.reminders import sweep

HARBOUR = Actor("h.clin", Role.clinician, frozenset({site_key("Harbour Royal")}))
NORTH = Actor("n.clin", Role.clinician, frozenset({site_key("north vale")}))  # any spelling of the site
REGIONAL = Actor("r.clin", Role.clinician)
SITE_LEVEL = {"register_patient", "notify_governance"}


def _audit(factory: SessionFactory) -> list[AuditEvent]:
    with factory() as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_another_sites_clinician_can_run_no_command_on_its_records(factory: SessionFactory, name: str) -> None:
    prepare(factory, name)
    before = database_state(factory)
    rows_before = len(_audit(factory))
    expected = AccessDenied if name in SITE_LEVEL else NotFound
    with pytest.raises(expected) as refused:
        execute(factory, HARBOUR, valid_command(name), recorded_at=RECORDED_AT)
    if expected is NotFound:  # the same words as a reference that does not exist
        assert str(refused.value) in (
            "pathway: no pathway has this reference",
            "patient: no patient has this reference",
        )
    after = database_state(factory)
    assert after["rows"] | {"audit_event": rows_before} == before["rows"]
    (row,) = _audit(factory)[rows_before:]
    assert (row.actor, row.command, row.outcome) == ("h.clin", name, "denied")
    # The same command by a clinician of the record's own site is accepted.
    payload = valid_command(name)
    own = Actor("own", Role.clinician, frozenset({site_key(payload["site"])})) if "site" in payload else NORTH
    execute(factory, own, payload, recorded_at=RECORDED_AT)


def test_opening_another_sites_pathway_looks_unknown_and_is_audited(factory: SessionFactory) -> None:
    open_pathway(factory)
    with pytest.raises(NotFound) as other:
        open_record(factory, HARBOUR, "P1", as_of=TODAY, recorded_at=RECORDED_AT)
    with pytest.raises(NotFound) as unknown:
        open_record(factory, HARBOUR, "P-NONE", as_of=TODAY, recorded_at=RECORDED_AT)
    assert str(other.value) == str(unknown.value)
    denied = _audit(factory)[-2]
    assert (denied.command, denied.outcome, denied.pathway_ref, denied.actor) == (
        "read_pathway",
        "denied",
        "P1",
        "h.clin",
    )
    assert open_record(factory, NORTH, "P1", as_of=TODAY, recorded_at=RECORDED_AT).pathway.ref == "P1"
    assert open_record(factory, REGIONAL, "P1", as_of=TODAY, recorded_at=RECORDED_AT).pathway.ref == "P1"


def test_the_worklist_and_its_counts_show_only_the_readers_sites(factory: SessionFactory) -> None:
    open_pathway(factory)
    run(factory, register(patient="H900", nhs=OTHER_NHS, site="Harbour Royal"))
    run(factory, diagnose(pathway="P9", patient="H900"))
    as_of = TODAY
    with factory() as session:

        def refs(actor: Actor, **filters: Any) -> list[str]:
            return [r.pathway for r in queries.worklist(session, as_of, sites=actor.sites, limit=50, **filters)]

        assert set(refs(REGIONAL)) == {"P1", "P9"}
        assert refs(NORTH) == ["P1"] and refs(HARBOUR) == ["P9"]
        assert refs(NORTH, site="Harbour Royal") == []  # a filter cannot widen what the reader sees
        assert [r.pathway for r in queries.worklist(session, as_of, sites=NORTH.sites)] == ["P1"]  # ungrouped path too
        assert reports.count_worklist(session, as_of, sites=NORTH.sites) == 1
        assert sum(queries.count_open(session, as_of, sites=HARBOUR.sites).values()) == 1
        assert sum(queries.count_open(session, as_of).values()) == 2
        # The search box finds only the reader's sites too: another site's pathway is "not found".
        assert [hit.pathway for hit in queries.find_pathways(session, "p9", sites=NORTH.sites)] == []
        assert [hit.pathway for hit in queries.find_pathways(session, "p9", sites=HARBOUR.sites)] == ["P9"]
        assert [hit.pathway for hit in queries.find_pathways(session, OTHER_NHS, sites=NORTH.sites)] == []
        assert [hit.pathway for hit in queries.find_pathways(session, "p9")] == ["P9"]


def test_a_fhir_export_of_another_sites_pathway_is_refused_and_audited(factory: SessionFactory) -> None:
    open_pathway(factory)
    # One audited path for a FHIR bundle (services.downloads.export_fhir): per-site access is checked there.
    assert export_fhir(factory, NORTH, "P1", as_of=TODAY, recorded_at=RECORDED_AT).entry
    with pytest.raises(NotFound, match="no pathway has this reference"):
        export_fhir(factory, HARBOUR, "P1", as_of=TODAY, recorded_at=RECORDED_AT)
    allowed, denied = _audit(factory)[-2:]
    assert (allowed.command, allowed.outcome, allowed.actor) == ("export_fhir", "read", "n.clin")
    assert (denied.command, denied.outcome, denied.pathway_ref, denied.actor) == (
        "export_fhir",
        "denied",
        "P1",
        "h.clin",
    )


def _two_sites_treated(factory: SessionFactory) -> None:
    """A PMT done at North Vale (P1) and one at Harbour Royal (P9), each with its governance notice."""
    treated_pathway(factory, "P1")
    run(factory, governance(site="Harbour Royal"))
    run(factory, register(patient="H900", nhs=OTHER_NHS, site="Harbour Royal"))
    run(factory, diagnose(pathway="P9", patient="H900"))
    for command in (start_anticoagulation("P9"), mdt("P9"), consent("P9"), procedure("P9")):
        run(factory, command)


def test_every_report_counts_only_the_readers_sites(factory: SessionFactory) -> None:
    _two_sites_treated(factory)
    as_of = date(2026, 8, 1)  # past the registry deadline: both PMT cases overdue
    with factory() as session:

        def totals(actor: Actor) -> tuple[int, ...]:
            sites = actor.sites
            return (
                sum(r.pathways for r in reports.days_to_procedure(session, sites=sites)),
                sum(r.procedural for r in reports.window_by_month(session, sites=sites)),
                sum(r.pathways for r in reports.pathways_by_stage(session, sites=sites)),
                sum(r.pathways for r in reports.flags_by_type(session, as_of, sites=sites)),
                sum(r.procedures for r in reports.complications(session, sites=sites)),
                sum(r.pmt_pathways for r in reports.registry_completeness(session, as_of, sites=sites)),
            )

        everyone, north, harbour = totals(REGIONAL), totals(NORTH), totals(HARBOUR)
    assert north == harbour and all(north)  # the same pathway at each site: the same counts, none empty
    assert everyone == tuple(n + h for n, h in zip(north, harbour, strict=True))


def test_exports_hold_only_the_readers_sites(factory: SessionFactory) -> None:
    _two_sites_treated(factory)
    with factory() as session:

        def cases(actor: Actor, site: str | None = None) -> list[str]:
            return [r["pathway"] for r in registry_export(session, TODAY, site=site, sites=actor.sites)]

        assert sorted(cases(REGIONAL)) == ["P1", "P9"]
        assert cases(NORTH) == ["P1"] and cases(HARBOUR) == ["P9"]
        assert cases(NORTH, site="Harbour Royal") == []  # choosing another site cannot widen what is read
        audit = build_audit(session, TODAY, sites=NORTH.sites)
        assert [r["pathway"] for r in audit.rows] == ["P1"]
        assert "all the reader&#x27;s sites" in audit_html(audit) or "all the reader's sites" in audit_html(audit)
        assert [r["pathway"] for r in build_audit(session, TODAY, site="Harbour Royal", sites=NORTH.sites).rows] == []


def test_reminders_list_only_the_readers_sites(factory: SessionFactory, tmp_path: Path) -> None:
    open_pathway(factory)
    run(factory, register(patient="H900", nhs=OTHER_NHS, site="Harbour Royal"))
    run(factory, diagnose(pathway="P9", patient="H900"))
    assert sweep(factory, tmp_path, date(2026, 6, 5))["sent"] >= 2
    with factory() as session:
        everyone = {n.pathway for n in notifications.recent_notifications(session, sites=None)}
        north = {n.pathway for n in notifications.recent_notifications(session, sites=NORTH.sites)}
        harbour = {n.pathway for n in notifications.recent_notifications(session, sites=HARBOUR.sites)}
        other = notifications.pathway_notifications(session, "P9", sites=NORTH.sites)
        failed = notifications.failed_notifications(session, sites=HARBOUR.sites)
    assert everyone == {"P1", "P9"} and north == {"P1"} and harbour == {"P9"}
    assert other == [] and failed == []


def test_a_rerun_of_an_opened_record_is_checked_again_and_not_audited_again(factory: SessionFactory) -> None:
    open_pathway(factory)
    open_record(factory, NORTH, "P1", as_of=TODAY, recorded_at=RECORDED_AT)
    rows = len(_audit(factory))
    assert open_record(factory, NORTH, "P1", as_of=TODAY, recorded_at=RECORDED_AT, reopened=True).pathway.ref == "P1"
    assert len(_audit(factory)) == rows  # a rerun of the same page: not a new opening
    # The account's sites changed since the opening (or the page was given another reference): refused
    # like an unknown reference, and the refusal is audited even on a rerun.
    with pytest.raises(NotFound, match="no pathway has this reference"):
        open_record(factory, HARBOUR, "P1", as_of=TODAY, recorded_at=RECORDED_AT, reopened=True)
    (denied,) = _audit(factory)[rows:]
    assert (denied.command, denied.outcome, denied.actor) == ("read_pathway", "denied", "h.clin")
