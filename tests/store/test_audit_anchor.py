"""`pathway audit verify` against someone with rights on the database (issue 12, item 6), on SQLite
(triggers dropped) and PostgreSQL (triggers bypassed with session_replication_role = replica):

- a deleted tail, or a row rewritten with every later hash recomputed, is caught by the anchor kept
  outside the database (head hash and row count, signed with PATHWAY_AUDIT_KEY);
- a direct edit, insert or delete in a clinical table is caught by comparing each clinical row with
  the fingerprint its audit row recorded; a changed name, NHS number or date of birth by the anchor;
- the anchor file cannot be rewritten without the key; without a key the anchors are unsigned and
  verify says so.
"""

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import col, select
from typer.testing import CliRunner, Result

from pathway.cli.main import app
from pathway.services.bulk_load import load_cohort
from pathway.store import audit
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.conftest import ADMIN, consent, mdt, open_pathway, run, start_anticoagulation


@pytest.fixture
def cli(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return CliRunner()


def record_some(factory: SessionFactory) -> None:
    open_pathway(factory)  # register H100, diagnose P1
    run(factory, start_anticoagulation())
    run(factory, mdt())
    run(factory, consent())


def verify(cli: CliRunner) -> Result:
    return cli.invoke(app, ["audit", "verify"])


def broken(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.stderr


def tamper(engine: Engine, *statements: str) -> None:
    """What someone with rights on the database can do: bypass the append-only triggers and write."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for statement in audit.DROP_TRIGGERS["sqlite"]:
                connection.execute(text(statement))
        for statement in statements:
            connection.execute(text(statement))


def test_verify_prints_and_anchors_the_head_and_row_count(
    cli: CliRunner, factory: SessionFactory, pathway_home: Path
) -> None:
    record_some(factory)
    result = verify(cli)
    assert result.exit_code == 0, result.output
    with factory() as session:
        head = session.exec(select(AuditEvent.hash).order_by(col(AuditEvent.id).desc())).first()
    assert f"audit trail intact: 5 rows, head {head}" in result.stdout
    (line,) = (pathway_home / "audit-anchors.jsonl").read_text().splitlines()
    anchor = json.loads(line)
    assert (anchor["rows"], anchor["head"], anchor["source"]) == (5, head, "verify") and anchor["mac"]


def test_verify_catches_a_deleted_tail(cli: CliRunner, factory: SessionFactory, engine: Engine) -> None:
    record_some(factory)
    assert verify(cli).exit_code == 0  # anchored at 5 rows
    tamper(engine, "DELETE FROM audit_event WHERE id > 3")
    with factory() as session:
        assert audit.verify(session).intact  # the chain alone cannot tell: what is left links up
    said = broken(verify(cli))
    assert "3 rows" in said and "anchored at 5 rows" in said and "deleted" in said


def test_verify_catches_a_row_rewritten_with_every_later_hash_recomputed(
    cli: CliRunner, factory: SessionFactory, engine: Engine
) -> None:
    record_some(factory)
    assert verify(cli).exit_code == 0
    with factory() as session:
        rows = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    previous, updates = audit.GENESIS, []
    for row in rows:
        if row.id == 2:
            row.clinician = "Dr Forged"
        row.prev_hash = previous
        row.hash = previous = audit.chain_hash(previous, row)
        updates.append(
            f"UPDATE audit_event SET clinician = {'NULL' if row.clinician is None else repr(row.clinician)}, "
            f"prev_hash = '{row.prev_hash}', hash = '{row.hash}' WHERE id = {row.id}"
        )
    tamper(engine, *updates)
    with factory() as session:
        assert audit.verify(session).intact  # every link recomputed: the chain alone cannot tell
    said = broken(verify(cli))
    assert "row 5" in said and "rewritten" in said


CLINICAL_EDITS = {
    "consent date moved": ("UPDATE consent SET consented_on = '2026-06-02'", "consent"),
    "MDT rationale rewritten": ("UPDATE mdt_meeting SET rationale = 'forged'", "mdt_meeting"),
    "leg swapped": ("UPDATE pathway SET leg = 'right'", "pathway"),
    "patient moved site": ("UPDATE patient SET site = 'Elsewhere'", "patient"),
    "consent deleted": ("DELETE FROM consent", "consent"),
    "schedule inserted": (
        "INSERT INTO procedure_schedule (pathway_id, scheduled_on, recorded_at, recorded_by) "
        "SELECT pathway_id, '2026-06-20', recorded_at, recorded_by FROM consent",
        "procedure_schedule",
    ),
    "pathway closed": ("UPDATE pathway SET closed_on = '2026-06-10', close_reason = 'withdrawn'", "pathway"),
}


@pytest.mark.parametrize("edit", list(CLINICAL_EDITS))
def test_verify_catches_a_direct_edit_of_a_clinical_table(
    cli: CliRunner, factory: SessionFactory, engine: Engine, edit: str
) -> None:
    record_some(factory)
    assert verify(cli).exit_code == 0
    statement, table = CLINICAL_EDITS[edit]
    tamper(engine, statement)
    said = broken(verify(cli))
    assert f"{table}:" in said, said


def test_verify_catches_a_changed_nhs_number_after_the_anchor(
    cli: CliRunner, factory: SessionFactory, engine: Engine
) -> None:
    record_some(factory)
    assert verify(cli).exit_code == 0
    tamper(engine, "UPDATE patient SET nhs_number = '9434765870'")
    said = broken(verify(cli))
    assert "name, NHS number or date of birth" in said
    assert "9434765870" not in said and "9434765919" not in said


def test_the_anchor_file_cannot_be_rewritten_without_the_key(
    cli: CliRunner, factory: SessionFactory, engine: Engine, pathway_home: Path
) -> None:
    record_some(factory)
    assert verify(cli).exit_code == 0
    tamper(engine, "DELETE FROM audit_event WHERE id > 3")
    # ...and the anchor rewritten to match what is left, by someone who can write the file but has no key.
    with factory() as session:
        head = session.exec(select(AuditEvent.hash).where(AuditEvent.id == 3)).one()
    file = pathway_home / "audit-anchors.jsonl"
    anchor = json.loads(file.read_text()) | {"rows": 3, "head": head}
    file.write_text(json.dumps(anchor) + "\n")
    said = broken(verify(cli))
    assert "anchor" in said and "key" in said


def test_without_a_key_verify_still_anchors_unsigned_and_says_so(
    cli: CliRunner, factory: SessionFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch, pathway_home: Path
) -> None:
    monkeypatch.delenv("PATHWAY_AUDIT_KEY")
    record_some(factory)
    first = verify(cli)
    assert first.exit_code == 0, first.output
    assert "not signed" in first.stderr and "PATHWAY_AUDIT_KEY" in first.stderr
    assert json.loads((pathway_home / "audit-anchors.jsonl").read_text())["mac"] is None
    tamper(engine, "DELETE FROM audit_event WHERE id > 3")
    assert "deleted" in broken(verify(cli))  # a change made in the database alone is still caught


def test_bulk_loaded_rows_are_checked_like_recorded_ones(
    cli: CliRunner, factory: SessionFactory, engine: Engine
) -> None:
    load_cohort(factory, patients=20, seed=3, today=date(2026, 6, 15), actor=ADMIN)
    record_some(factory)
    assert verify(cli).exit_code == 0, verify(cli).output
    tamper(engine, "UPDATE procedure SET device = 'forged' WHERE id = (SELECT min(id) FROM procedure)")
    assert "procedure:" in broken(verify(cli))


def test_signed_anchors_need_the_key_to_be_checked(
    cli: CliRunner, factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_some(factory)
    assert verify(cli).exit_code == 0
    monkeypatch.delenv("PATHWAY_AUDIT_KEY")  # a run that forgot the key cannot vouch for signed anchors
    assert "no PATHWAY_AUDIT_KEY is set to check it" in broken(verify(cli))
    monkeypatch.setenv("PATHWAY_AUDIT_KEY", "another key")
    assert "signed with another key" in broken(verify(cli))


def test_the_demo_generates_an_audit_key_outside_the_database_and_verify_signs_with_it(
    tmp_path: Path, pathway_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PATHWAY_AUDIT_KEY")
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    runner = CliRunner()
    demo = runner.invoke(app, ["demo", "--no-serve", "--patients", "10"])
    assert demo.exit_code == 0, demo.output
    key = pathway_home / "audit.key"
    assert len(key.read_text()) == 64 and key.stat().st_mode & 0o777 == 0o600
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "anchored (signed)" in result.stdout and result.stderr == ""
