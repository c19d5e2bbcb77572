"""Sites as a managed list (issue 14): admins add and retire sites, audited; registrations, governance
notices and accounts must name a site on the list, so a typo is refused naming the field and listing the
known sites; a synthetic cohort lists its own sites; migration 0011 lists the sites an existing
database already uses."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command as alembic_command
from sqlalchemy import text
from sqlmodel import col, select
from typer.testing import CliRunner

from pathway.cli.main import app
from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.errors import AccessDenied, AccountError, CommandRejected, NotFound
from pathway.services.accounts import add_user, set_sites
from pathway.services.bulk_load import load_cohort
from pathway.services.demo import SITES as DEMO_SITES
from pathway.services.sites import add_site, retire_site
from pathway.store.db import SessionFactory, alembic_config, make_engine, make_session_factory, migrate
from pathway.store.models import AuditEvent, Site
from pathway.views.sites import site_list
from tests.conftest import ADMIN, RECORDED_AT, governance, register, run
from tests.support.commands import database_state

CLINICIAN = Actor("c.lin", Role.clinician)
PASSWORD = "correct horse battery staple"


def _audit(factory: SessionFactory) -> list[AuditEvent]:
    with factory() as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())


def _names(factory: SessionFactory, *, retired: bool = False) -> list[str]:
    with factory() as session:
        return [view.name for view in site_list(session, retired=retired)]


def test_a_typed_site_not_on_the_list_is_refused_naming_the_field_and_the_known_sites(factory: SessionFactory) -> None:
    before = database_state(factory)
    with pytest.raises(CommandRejected) as caught:
        run(factory, register(site="Northvale Gen"))
    rejected = caught.value
    assert rejected.field == "site"
    assert rejected.rule.startswith("Northvale Gen is not on the list of sites; did you mean North Vale")
    assert "known sites: Eastmoor, Elsewhere, Harbour Royal" in rejected.rule  # every site on the list, by name
    assert database_state(factory) == before
    with pytest.raises(CommandRejected, match=r"^site: Northvale Gen is not on the list of sites"):
        run(factory, governance(site="Northvale Gen"))
    # Any spelling of a listed site is that site, stored in the list's spelling.
    run(factory, register(site="NORTH  vale"))
    with factory() as session:
        assert session.exec(text("SELECT site FROM patient")).all() == [("North Vale",)]


def test_an_admin_adds_and_retires_sites_each_change_audited(factory: SessionFactory) -> None:
    added = add_site(factory, ADMIN, "  Westfield   Community ", at=RECORDED_AT)
    assert added.name == "Westfield Community" and added.active
    with pytest.raises(CommandRejected, match="already on the list"):
        add_site(factory, ADMIN, "westfield community", at=RECORDED_AT)
    run(factory, register(site="Westfield Community"))
    retired = retire_site(factory, ADMIN, "WESTFIELD community", at=RECORDED_AT)
    assert not retired.active and retired.retired_by == ADMIN.name
    assert "Westfield Community" not in _names(factory) and "Westfield Community" in _names(factory, retired=True)
    with pytest.raises(CommandRejected, match=r"^site: Westfield Community is retired: it takes no new records"):
        run(factory, register(patient="H2", nhs="9990000018", site="Westfield Community"))
    with pytest.raises(NotFound, match="not on the list of sites"):
        retire_site(factory, ADMIN, "Westfield Community", at=RECORDED_AT)
    add_site(factory, ADMIN, "Westfield Community", at=RECORDED_AT)  # brought back
    run(factory, register(patient="H2", nhs="9990000018", site="Westfield Community"))
    changes = [(e.command, e.site, e.after) for e in _audit(factory) if e.command.endswith("_site")]
    assert changes == [
        ("add_site", "Westfield Community", {"site": "Westfield Community", "retired": False}),
        ("retire_site", "Westfield Community", {"site": "Westfield Community", "retired": True}),
        ("add_site", "Westfield Community", {"site": "Westfield Community", "retired": False}),
    ]


@pytest.mark.parametrize("change", ["add", "retire"])
def test_only_an_admin_changes_the_list_and_a_refusal_is_audited(factory: SessionFactory, change: str) -> None:
    rows = len(_audit(factory))
    with pytest.raises(AccessDenied, match="only an admin"):
        if change == "add":
            add_site(factory, CLINICIAN, "Westfield", at=RECORDED_AT)
        else:
            retire_site(factory, CLINICIAN, "North Vale", at=RECORDED_AT)
    (denied,) = _audit(factory)[rows:]
    assert (denied.actor, denied.command, denied.outcome) == ("c.lin", f"{change}_site", "denied")
    assert "Westfield" not in _names(factory) and "North Vale" in _names(factory)


def test_an_accounts_sites_come_from_the_list(factory: SessionFactory) -> None:
    with pytest.raises(AccountError, match=r"^sites: Northvale Gen is not on the list of sites; did you mean"):
        add_user(factory, "nv.coord", Role.coordinator, PASSWORD, sites=["Northvale Gen"])
    account = add_user(factory, "nv.coord", Role.coordinator, PASSWORD, sites=["north vale"])
    assert account.sites == ["North Vale"]
    with pytest.raises(AccountError, match=r"^sites: Nowhere is not on the list of sites"):
        set_sites(factory, "nv.coord", ["Harbour Royal", "Nowhere"])


def test_a_synthetic_cohort_lists_its_own_sites(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    load_cohort(factory, patients=8, seed=3, today=date(2026, 6, 15), actor=ADMIN)
    assert _names(factory) == sorted(DEMO_SITES)
    assert {e.site for e in _audit(factory) if e.command == "add_site"} == set(DEMO_SITES)
    engine.dispose()


def test_migration_0011_lists_the_sites_an_existing_database_uses(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    alembic_command.upgrade(alembic_config(engine), "0010")
    early, late = "2025-01-02 09:00:00", "2026-03-04 09:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO patient (ref, nhs_number, date_of_birth, sex, site, site_key, recorded_at, recorded_by)"
                " VALUES ('H1', '9434765919', '1970-03-04', 'female', :site, :key, :at, 'x')"
            ),
            {"site": "north  vale", "key": "north vale", "at": late},
        )
        connection.execute(
            text(
                "INSERT INTO governance_notice (site, site_key, notified_on, lead, recorded_at, recorded_by)"
                " VALUES ('North Vale', 'north vale', '2025-01-01', 'Dr L', :at, 'x')"
            ),
            {"at": early},
        )
        connection.execute(
            text(
                "INSERT INTO account (name, role, password_hash, disabled, failed_attempts, created_at, sites)"
                " VALUES ('h.coord', 'coordinator', 'x', 0, 0, :at, :sites)"
            ),
            {"at": late, "sites": '["Harbour Royal"]'},
        )
    migrate(engine)
    with make_session_factory(engine)() as session:
        rows = session.exec(select(Site).order_by(col(Site.name))).all()
    assert [(r.name, r.site_key, r.added_by, r.retired_at) for r in rows] == [
        ("Harbour Royal", "harbour royal", "migration 0011", None),
        ("North Vale", "north vale", "migration 0011", None),  # the first spelling recorded
    ]
    assert rows[1].added_at == datetime(2025, 1, 2, 9, tzinfo=UTC)
    engine.dispose()


def test_the_command_line_adds_lists_and_retires_sites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PATHWAY_OPERATOR", "cli-admin")
    cli = CliRunner()
    assert cli.invoke(app, ["init"]).exit_code == 0
    added = cli.invoke(app, ["sites", "add", "North Vale General"])
    assert added.exit_code == 0 and added.stdout == "site added: North Vale General\n"
    again = cli.invoke(app, ["sites", "add", "north vale general"])
    assert again.exit_code == 1 and again.stderr == "site: North Vale General is already on the list of sites\n"
    assert cli.invoke(app, ["sites", "add", "Harbour Royal"]).exit_code == 0
    assert cli.invoke(app, ["sites", "retire", "Harbour Royal"]).stdout == "site retired: Harbour Royal\n"
    listed = cli.invoke(app, ["sites", "list", "--json"])
    assert [(s["site"], s["status"], s["added_by"]) for s in json.loads(listed.stdout)] == [
        ("North Vale General", "active", "cli-admin")
    ]
    everything = cli.invoke(app, ["sites", "list", "--retired", "--json"])
    assert len(json.loads(everything.stdout)) == 2
    unknown = cli.invoke(app, ["sites", "retire", "Nowhere"])
    assert unknown.exit_code == 1
    assert unknown.stderr == "site: Nowhere is not on the list of sites; known sites: North Vale General\n"
