"""Commands in a prepared state, and checks that a rejection wrote nothing (shared by the service tests)."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pathway.domain.commands import COMMANDS
from pathway.domain.roles import Actor
from pathway.errors import CommandRejected
from pathway.store.db import SessionFactory
from pathway.store.models import Pathway, metadata
from tests.conftest import (
    ADMIN,
    PRESENTED,
    RECORDED_AT,
    consent,
    diagnose,
    governance,
    mdt,
    open_pathway,
    procedure,
    register,
    run,
    safety_check,
    start_anticoagulation,
)

OTHER_NHS = "9434765927"  # valid check digit, not NHS
TODAY = date(2026, 6, 15)  # RECORDED_AT in Europe/London
BEFORE_PRESENTED = (PRESENTED - timedelta(days=1)).isoformat()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()

ALL_COMMANDS = tuple(COMMANDS)
SITE_COMMANDS = ("register_patient", "record_diagnosis", "notify_governance")
PATHWAY_COMMANDS = tuple(name for name in ALL_COMMANDS if name not in SITE_COMMANDS)

# Each pathway command's event date and a day on which it is accepted in its prepared state.
EVENT_DATE: dict[str, tuple[str, str]] = {
    "start_anticoagulation": ("started_on", "2026-06-01"),
    "stop_anticoagulation": ("stopped_on", "2026-06-10"),
    "record_mdt": ("held_on", "2026-06-02"),
    "enrol_research": ("enrolled_on", "2026-06-03"),
    "record_consent": ("consented_on", "2026-06-03"),
    "schedule_procedure": ("scheduled_on", "2026-06-04"),
    "record_procedure": ("performed_on", "2026-06-05"),
    "submit_registry": ("submitted_on", "2026-06-10"),
    "record_follow_up": ("seen_on", "2026-06-10"),
    "record_anticoagulation_review": ("reviewed_on", "2026-06-10"),
    "record_filter_outcome": ("decided_on", "2026-06-10"),
    "close_pathway": ("closed_on", "2026-06-10"),
    "record_safety_check": ("checked_on", "2026-06-10"),
}
NOT_PLANNED = tuple(name for name in EVENT_DATE if name != "schedule_procedure")

_AFTER_START = {"stop_anticoagulation", "record_anticoagulation_review"}
_AFTER_PROCEDURE = {"submit_registry", "record_follow_up", "record_filter_outcome"}
_AFTER_CONSENT = {"record_procedure", *_AFTER_PROCEDURE}
_AFTER_MDT = {"enrol_research", "record_consent", "schedule_procedure", *_AFTER_CONSENT}


# --- helpers ------------------------------------------------------------------------------------


def database_state(factory: SessionFactory) -> dict[str, Any]:
    """The row count of every table and every pathway's version: what "nothing written" compares."""
    with factory() as session:
        rows = {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }
        versions = dict(session.execute(select(Pathway.ref, Pathway.version)).tuples().all())
    return {"rows": rows, "pathway_versions": versions}


def assert_rejected(
    factory: SessionFactory,
    payload: dict[str, Any],
    *,
    field: str,
    says: tuple[str, ...],
    error: type[CommandRejected] = CommandRejected,
    at: datetime = RECORDED_AT,
    actor: Actor = ADMIN,
) -> CommandRejected:
    """Run a command that must be rejected: exact error type, field named, rule said, nothing written."""
    before = database_state(factory)
    with pytest.raises(CommandRejected) as caught:
        run(factory, payload, at=at, actor=actor)
    rejected = caught.value
    assert type(rejected) is error, f"{type(rejected).__name__}: {rejected}"
    assert rejected.field == field, str(rejected)
    for words in says:
        assert words.lower() in rejected.rule.lower(), str(rejected)
    # Every broken rule is named (the first is the one asked about), each as `field: rule`.
    assert str(rejected) == "; ".join(f"{name}: {rule}" for name, rule in rejected.problems)
    assert database_state(factory) == before
    return rejected


def valid_command(name: str, day: str | None = None) -> dict[str, Any]:
    """A command accepted in the state `prepare(factory, name)` builds (its event date may be replaced)."""
    on = day or (EVENT_DATE[name][1] if name in EVENT_DATE else "2026-06-10")
    p = {"pathway": "P1"}
    builders: dict[str, dict[str, Any]] = {
        "register_patient": register(patient="H200", nhs=OTHER_NHS),
        "record_diagnosis": diagnose(pathway="P2"),
        "notify_governance": governance(site="South Vale", notified_on=on),
        "start_anticoagulation": start_anticoagulation(started_on=on),
        "stop_anticoagulation": {"command": "stop_anticoagulation", **p, "stopped_on": on, "reason": "bleeding"},
        "record_mdt": mdt(held_on=on),
        "enrol_research": {
            "command": "enrol_research",
            **p,
            "study_id": "STUDY-1",
            "ethics_ref": "REC 26/NV/0001",
            "enrolled_on": on,
        },
        "record_consent": consent(consented_on=on),
        "schedule_procedure": {"command": "schedule_procedure", **p, "scheduled_on": on},
        "record_procedure": procedure(performed_on=on),
        "submit_registry": {"command": "submit_registry", **p, "submitted_on": on, "registry_ref": "BSIR-0001"},
        "record_follow_up": {"command": "record_follow_up", **p, "visit": "early", "seen_on": on},
        "record_anticoagulation_review": {
            "command": "record_anticoagulation_review",
            **p,
            "reviewed_on": on,
            "decision": "continue_defined",
        },
        "record_filter_outcome": {"command": "record_filter_outcome", **p, "decided_on": on, "outcome": "retrieved"},
        "close_pathway": {"command": "close_pathway", **p, "closed_on": on, "reason": "completed"},
        "record_safety_check": safety_check(checked_on=on),
    }
    return builders[name]


def prepare(factory: SessionFactory, name: str) -> None:
    """A site notice, patient H100 and open pathway P1 (iliofemoral) with what `name` needs before it."""
    run(factory, governance())
    open_pathway(factory)
    if name in _AFTER_START:
        run(factory, start_anticoagulation())
    if name in _AFTER_MDT:
        run(factory, mdt())
    if name in _AFTER_CONSENT:
        run(factory, consent())
    if name in _AFTER_PROCEDURE:
        run(factory, procedure(ivc_filter="temporary"))


def close(factory: SessionFactory, name: str, closed_on: str = "2026-06-12", reason: str = "withdrawn") -> None:
    """Close P1 in `prepare(name)`'s state: a PMT done is registered first (HTG516 1.3, version 2)."""
    if name in _AFTER_PROCEDURE:
        run(
            factory, {"command": "submit_registry", "pathway": "P1", "submitted_on": "2026-06-06", "registry_ref": "R1"}
        )
    run(factory, {"command": "close_pathway", "pathway": "P1", "closed_on": closed_on, "reason": reason})


def follow_up(visit: str, seen_on: str, **extra: Any) -> dict[str, Any]:
    return {"command": "record_follow_up", "pathway": "P1", "visit": visit, "seen_on": seen_on} | extra


def villalta(items: list[Any], ulcer: Any = False) -> dict[str, Any]:
    return {"items": items, "ulcer": ulcer}


def without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


# --- the helpers themselves ---------------------------------------------------------------------
