"""What a unit of work costs in SQL statements, counted on the engine (SQLAlchemy's
`before_cursor_execute`): one recorded command, one flow run's stages (the record read and planned
once, not once per stage), and the registry export (a constant number of statements, not per case)."""

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine

from pathway.domain.stages import STAGES
from pathway.exports.registry import registry_export
from pathway.reminders.automation import load_plan, run_stage
from pathway.reminders.settings import ReminderSettings
from pathway.services.bulk_load import load_cohort
from pathway.store.db import make_session_factory
from tests.conftest import ADMIN, run, safety_check, treated_pathway
from tests.support.statements import counting

DAY = date(2026, 6, 15)


def _selects_from(sent: list[str], table: str) -> int:
    return sum(1 for s in sent if s.startswith("SELECT") and f" FROM {table} " in f"{s} ")


def test_a_recorded_command_reads_each_table_of_the_record_once(sqlite_engine: Engine) -> None:
    factory = make_session_factory(sqlite_engine)
    treated_pathway(factory)
    with counting(sqlite_engine) as statements:
        run(factory, safety_check("P1", "2026-06-06"))
    # 1 BEGIN, 1 pathway, 13 record rows, the insert and its fingerprint read, the plan, the trigger, the audit row.
    assert len(statements) <= 26, statements.sent
    for table in ("mdt_meeting", "consent", "procedure", "follow_up_visit", "patient"):
        assert _selects_from(statements.sent, table) == 1, table


def test_a_flow_run_reads_and_plans_the_record_once(sqlite_engine: Engine, tmp_path: Path) -> None:
    factory = make_session_factory(sqlite_engine)
    treated_pathway(factory)
    settings = ReminderSettings()
    with counting(sqlite_engine) as statements:
        planned = load_plan(factory, "P1", DAY)  # as flows/patient_pathway.py does, once per run
        for stage in STAGES:
            run_stage(factory, planned, stage.code, as_of=DAY, settings=settings, clock=lambda: datetime.now(UTC))
    assert _selects_from(statements.sent, "mdt_meeting") == 1
    # The record (13) once, then only the two requests this pathway makes (claim, deliver, mark).
    assert len(statements) <= 35, statements.sent


def test_the_registry_export_costs_the_same_statements_for_more_cases(sqlite_engine: Engine) -> None:
    factory = make_session_factory(sqlite_engine)
    load_cohort(factory, patients=60, seed=7, today=date(2026, 11, 1), actor=ADMIN)
    with counting(sqlite_engine) as few, factory() as session:
        fewer_cases = len(registry_export(session, date(2026, 11, 1), end=date(2026, 5, 1), sites=None))
    with counting(sqlite_engine) as many, factory() as session:
        more_cases = len(registry_export(session, date(2026, 11, 1), sites=None))
    assert 0 < fewer_cases < more_cases
    assert len(few) == len(many) <= 20, many.sent
