"""Materialise a pathway's plan: its steps, its flag windows and the summary the worklist reads."""

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col

from pathway.domain import rules
from pathway.domain.policy import Policy
from pathway.domain.record import PathwayRecord
from pathway.domain.vocabulary import SEVERITY_RANK
from pathway.store import tally
from pathway.store.models import FlagWindowRow, Pathway, Step
from pathway.store.repository import table_of

Row = dict[str, Any]


def plan_rows(pathway_id: int, record: PathwayRecord, policy: Policy) -> tuple[list[Row], list[Row], Row]:
    """The pathway's step rows, flag-window rows and summary columns, as plain mappings."""
    steps = rules.plan(record, policy)
    step_rows = [
        {
            "pathway_id": pathway_id,
            "stage": s.stage,
            "code": s.code,
            "owner_role": s.owner.value,
            "due_on": s.due_on,
            "warn_on": s.warn_on,
            "done_on": s.done_on,
        }
        for s in steps
    ]
    window_rows = [
        {
            "pathway_id": pathway_id,
            "code": w.code,
            "severity": w.severity.value,
            "severity_rank": SEVERITY_RANK[w.severity],
            "starts_on": w.starts_on,
            "ends_on": w.ends_on,
            "due_on": w.due_on,
        }
        for w in rules.flag_windows(record, policy)
    ]
    upcoming = rules.next_step(record, steps)
    summary = {
        "decision": record.decision.value if record.decision else None,
        "stage": rules.stage_of(record, steps),
        "next_step": upcoming.code if upcoming else None,
        "next_due_on": upcoming.due_on if upcoming else None,
        "window_closes_on": rules.window_closes_on(record, policy),
        "policy_version": policy.version,
    }
    return step_rows, window_rows, summary


def store_plan(
    session: Session, pathway: Pathway, record: PathwayRecord, policy: Policy, at: datetime, *, first: bool = False
) -> None:
    """Replace the pathway's steps and flag windows, update its summary and the severity tally.

    `first`: the pathway's first plan (its diagnosis). Every other call re-plans a pathway that was open
    when last planned (a closed pathway takes no command and is never re-planned), so the windows
    replaced here were counted in the tally under the pathway's site (pathway.store.tally).

    Every command must bump the optimistic-lock version exactly once: no autoflush while the plan is
    replaced (an early flush would write the pathway twice), and `updated_at` is flagged as changed
    even when a command is recorded at the same instant as the last one.
    """
    assert pathway.id is not None
    with session.no_autoflush:
        session.execute(delete(Step).where(col(Step.pathway_id) == pathway.id))
        window = table_of(FlagWindowRow)
        replaced = session.execute(
            delete(window)
            .where(window.c.pathway_id == pathway.id)
            .returning(window.c.severity_rank, window.c.starts_on, window.c.ends_on, window.c.due_on)
        ).all()
        step_rows, window_rows, summary = plan_rows(pathway.id, record, policy)
        if step_rows:
            session.execute(insert(Step), step_rows)
        if window_rows:
            session.execute(insert(FlagWindowRow), window_rows)
        # The summary still holds the last plan's window_closes_on here: the old contribution's.
        replaced_windows = [tuple(row) for row in replaced]
        before = tally.contribution(None if first else pathway.site_key, replaced_windows, pathway.window_closes_on)
        counted = pathway.site_key if record.closed_on is None else None
        after = tally.contribution(counted, windows_of(window_rows), summary["window_closes_on"])
        tally.apply(session, tally.difference(before, after))
        for name, value in summary.items():
            setattr(pathway, name, value)
        pathway.updated_at = at
        flag_modified(pathway, "updated_at")


def windows_of(window_rows: list[Row]) -> list[tally.Window]:
    """The (rank, starts, ends, due) of window rows, as the tally counts them."""
    return [(row["severity_rank"], row["starts_on"], row["ends_on"], row["due_on"]) for row in window_rows]


def snapshot(pathway: Pathway, record: PathwayRecord) -> dict[str, Any]:
    """The pathway as the audit trail keeps it before and after a command (no patient identifiers)."""

    def plain(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return {
        "pathway": pathway.ref,
        "version": pathway.version,
        "stage": pathway.stage,
        "decision": pathway.decision,
        "next_step": pathway.next_step,
        "next_due_on": plain(pathway.next_due_on),
        "record": plain(asdict(record)),
    }
