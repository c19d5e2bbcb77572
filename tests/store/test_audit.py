"""The audit trail is append-only (database triggers) and hash-chained (pathway audit verify)."""

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from pathway.cli.main import app
from pathway.store import audit
from pathway.store.db import SessionFactory, make_engine, migrate
from tests.conftest import consent, mdt, open_pathway, run, start_anticoagulation
from tests.support.sites import list_sites


def _record_some(factory: SessionFactory) -> None:
    open_pathway(factory)
    run(factory, start_anticoagulation())
    run(factory, mdt())
    run(factory, consent())


def _verify(factory: SessionFactory) -> audit.ChainReport:
    with factory() as session:
        return audit.verify(session)


def test_audit_rows_form_an_intact_chain(factory: SessionFactory) -> None:
    _record_some(factory)
    report = _verify(factory)
    assert report.intact and report.rows == 5


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"])
def test_database_refuses_changes_to_audit_rows(factory: SessionFactory, engine: Engine, statement: str) -> None:
    _record_some(factory)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert _verify(factory).intact


def _drop_triggers(engine: Engine) -> None:
    """What an attacker with database rights could do; the chain must still tell."""
    with engine.begin() as connection:
        for statement in audit.DROP_TRIGGERS[engine.dialect.name]:
            connection.execute(text(statement))


def test_verify_names_the_first_altered_row(factory: SessionFactory, engine: Engine) -> None:
    _record_some(factory)
    _drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET clinician = 'Dr Forged' WHERE id = 3"))
    report = _verify(factory)
    assert report.first_bad_id == 3 and "content" in (report.reason or "")


def test_verify_detects_a_deleted_row(factory: SessionFactory, engine: Engine) -> None:
    _record_some(factory)
    _drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = 2"))
    report = _verify(factory)
    assert report.first_bad_id == 3 and "missing" in (report.reason or "")


def test_verify_detects_a_relinked_row(factory: SessionFactory, engine: Engine) -> None:
    _record_some(factory)
    _drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET prev_hash = :g WHERE id = 4"), {"g": audit.GENESIS})
    assert _verify(factory).first_bad_id == 4


def test_cli_audit_verify_exit_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv("PATHWAY_DATABASE_URL", url)
    engine = make_engine(url)
    migrate(engine)
    from pathway.store.db import make_session_factory

    list_sites(make_session_factory(engine))
    _record_some(make_session_factory(engine))
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 5 rows" in ok.stdout
    _drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET command = 'close_pathway' WHERE id = 2"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "broken: row 2: its content does not match" in broken.stderr


def test_open_record_audits_each_read(factory: SessionFactory) -> None:
    from datetime import date

    from pathway.domain.roles import Actor
    from pathway.domain.vocabulary import Role
    from pathway.services.commands import open_record
    from tests.conftest import RECORDED_AT

    _record_some(factory)
    reader = Actor("coord-9", Role.coordinator)
    detail = open_record(factory, reader, "P1", as_of=date(2026, 6, 15), recorded_at=RECORDED_AT)
    assert detail.pathway.ref == "P1"
    with factory() as session:
        from sqlmodel import col, select

        from pathway.store.models import AuditEvent

        last = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert last is not None and (last.command, last.outcome, last.actor, last.pathway_ref) == (
        "read_pathway",
        "read",
        "coord-9",
        "P1",
    )
    assert _verify(factory).intact


def test_open_record_refusal_looks_like_not_found(factory: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from pathway.domain.roles import Actor
    from pathway.domain.vocabulary import Role
    from pathway.errors import NotFound
    from pathway.services import commands as services
    from tests.conftest import RECORDED_AT

    _record_some(factory)
    monkeypatch.setattr(services, "may_read", lambda role: role is not Role.auditor)
    auditor = Actor("audit-9", Role.auditor)
    with pytest.raises(NotFound) as refused:
        services.open_record(factory, auditor, "P1", as_of=date(2026, 6, 15), recorded_at=RECORDED_AT)
    with pytest.raises(NotFound) as unknown:
        services.open_record(factory, auditor, "NO-SUCH", as_of=date(2026, 6, 15), recorded_at=RECORDED_AT)
    assert str(refused.value) == str(unknown.value)
