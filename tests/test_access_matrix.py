"""The access-control matrix in the service layer: every role x every command, and every role's read.

Roles come from `pathway.domain.vocabulary.Role` and commands from `pathway.domain.commands.COMMANDS`, so a new role
or command joins the matrix by itself. What each role may do is written out below (EXPECTED), not
read from `pathway.domain.roles`, so a wrong permission in the code fails here. The table follows the
shared design ("Security": `coordinator`, `clinician`, `auditor` read-only and pseudonymised,
`admin`; the service checks the role for every command) and pathway/domain/roles.py's split: coordinators
run the pathway's administration, clinicians record clinical decisions and findings. docs/rules.md
itself names no per-role permissions.

Allowed: the service accepts a valid command in a state where it is valid. Denied: `AccessDenied`,
nothing written to any clinical table, exactly one audit row (outcome `denied`) naming the actor, the
role and the command, and no patient identifier in that row or in the error. A read a role may not do
looks exactly like a pathway that does not exist, and is audited all the same.
"""

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from pathway.domain import roles
from pathway.domain.commands import COMMANDS
from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.errors import AccessDenied, NotFound
from pathway.services.commands import execute, open_record
from pathway.store import audit
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.conftest import NHS, RECORDED_AT, open_pathway
from tests.support.access import ALL_COMMANDS, COORDINATOR_MAY, EXPECTED, EXPECTED_READ
from tests.support.commands import OTHER_NHS, TODAY, database_state, prepare, valid_command

NAME = "Ada Lovelace"
DOB = date(1970, 3, 4)  # the date of birth tests.conftest.register gives every patient
IDENTIFIERS = (
    NHS,
    f"{NHS[:3]} {NHS[3:6]} {NHS[6:]}",
    OTHER_NHS,
    f"{OTHER_NHS[:3]} {OTHER_NHS[3:6]} {OTHER_NHS[6:]}",
    DOB.isoformat(),
    DOB.strftime("%d/%m/%Y"),
    NAME,
    "Lovelace",
)
WHEN = RECORDED_AT + timedelta(minutes=5)  # after the set-up's commands


def actor_for(role: Role) -> Actor:
    return Actor(f"matrix-{role.value}", role)


def payload_for(name: str) -> dict[str, Any]:
    """A valid command in `prepare(name)`'s state, with a clinician named and, for a registration,
    every identifier the command can carry (so a denial that copied them would show)."""
    payload = valid_command(name) | {"by": "Dr Matrix"}
    if name == "register_patient":
        payload |= {"name": NAME, "nhs_number": f"{OTHER_NHS[:3]} {OTHER_NHS[3:6]} {OTHER_NHS[6:]}"}
    return payload


def audit_rows(factory: SessionFactory) -> list[AuditEvent]:
    with factory() as session:
        return list(session.execute(select(AuditEvent).order_by(col(AuditEvent.id))).scalars().all())


def leaked(text: str) -> list[str]:
    return [identifier for identifier in IDENTIFIERS if identifier in text]


def chain_intact(factory: SessionFactory) -> bool:
    with factory() as session:
        return audit.verify(session).intact


# --- the expected table itself ------------------------------------------------------------------


def test_every_role_has_an_expected_row() -> None:
    """A new role must be given its permissions here before the matrix can pass."""
    assert set(EXPECTED) == set(Role) and set(EXPECTED_READ) == set(Role)
    assert all(commands <= ALL_COMMANDS for commands in EXPECTED.values())
    assert COORDINATOR_MAY <= ALL_COMMANDS  # a renamed command fails here, not silently


@pytest.mark.parametrize("role", list(Role))
def test_the_code_grants_each_role_exactly_the_expected_commands(role: Role) -> None:
    assert {name for name in COMMANDS if roles.may_run(role, name)} == EXPECTED[role]
    assert roles.may_read(role) is EXPECTED_READ[role]


def test_the_leak_check_would_see_an_identifier() -> None:
    """The identifier check below can fail: it finds each identifier planted in a row's text."""
    for identifier in IDENTIFIERS:
        assert leaked(json.dumps({"after": {"x": f"... {identifier} ..."}})) != []


# --- every role x every command, through the service --------------------------------------------


@pytest.mark.parametrize("name", sorted(COMMANDS))
@pytest.mark.parametrize("role", list(Role))
def test_role_x_command(factory: SessionFactory, role: Role, name: str) -> None:
    prepare(factory, name)
    actor = actor_for(role)
    before = database_state(factory)
    audited_before = len(audit_rows(factory))
    if name in EXPECTED[role]:
        outcome = execute(factory, actor, payload_for(name), recorded_at=WHEN)
        assert outcome.command == name
        after = database_state(factory)
        assert after != before  # something clinical was written
        row = audit_rows(factory)[-1]
        assert row.id == outcome.audit_id
        assert (row.command, row.outcome, row.actor, row.role) == (name, "accepted", actor.name, role.value)
    else:
        with pytest.raises(AccessDenied) as caught:
            execute(factory, actor, payload_for(name), recorded_at=WHEN)
        assert type(caught.value) is AccessDenied
        assert role.value in str(caught.value) and name in str(caught.value)
        assert leaked(str(caught.value)) == []
        after = database_state(factory)
        assert after["rows"]["audit_event"] == before["rows"]["audit_event"] + 1
        after["rows"]["audit_event"] -= 1
        assert after == before  # no clinical row, no pathway version changed
        rows = audit_rows(factory)
        assert len(rows) == audited_before + 1
        denial = rows[-1]
        assert (denial.command, denial.outcome, denial.actor, denial.role) == (name, "denied", actor.name, role.value)
        assert denial.at == WHEN and denial.clinician == "Dr Matrix"
        assert denial.before is None and denial.after is None and denial.patient_ref is None
        assert leaked(json.dumps(denial.model_dump(), default=str)) == []
    assert chain_intact(factory)


# --- reading a patient's record ------------------------------------------------------------------


def _read(factory: SessionFactory, actor: Actor, ref: str, minutes: int) -> Any:
    return open_record(factory, actor, ref, as_of=TODAY, recorded_at=RECORDED_AT + timedelta(minutes=minutes))


def _refusal(factory: SessionFactory, actor: Actor, ref: str, minutes: int) -> NotFound:
    with pytest.raises(NotFound) as caught:
        _read(factory, actor, ref, minutes)
    return caught.value


@pytest.mark.parametrize("role", list(Role))
def test_role_reads_the_record_as_expected(factory: SessionFactory, role: Role) -> None:
    open_pathway(factory)
    actor = actor_for(role)
    before = database_state(factory)
    if EXPECTED_READ[role]:
        detail = _read(factory, actor, "P1", 5)
        assert detail.pathway.ref == "P1"
        row = audit_rows(factory)[-1]
        assert (row.command, row.outcome, row.actor, row.role, row.pathway_ref) == (
            "read_pathway",
            "read",
            actor.name,
            role.value,
            "P1",
        )
    else:
        _refusal(factory, actor, "P1", 5)
        assert audit_rows(factory)[-1].outcome == "denied"
    after = database_state(factory)
    assert after["rows"]["audit_event"] == before["rows"]["audit_event"] + 1
    after["rows"]["audit_event"] -= 1
    assert after == before  # a read writes nothing but its audit row
    assert chain_intact(factory)


@pytest.mark.parametrize("role", list(Role))
def test_a_refused_read_looks_like_an_unknown_pathway_and_is_audited(
    factory: SessionFactory, role: Role, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever role loses read access gets exactly what a reference that does not exist gets."""
    open_pathway(factory)
    monkeypatch.setattr(roles, "READERS", roles.READERS - {role})
    actor = actor_for(role)
    before = database_state(factory)
    refused = _refusal(factory, actor, "P1", 5)
    unknown = _refusal(factory, actor, "NO-SUCH", 6)
    assert (type(refused), str(refused), refused.field, refused.rule) == (
        type(unknown),
        str(unknown),
        unknown.field,
        unknown.rule,
    )
    assert leaked(str(refused)) == [] and "P1" not in str(refused)
    after = database_state(factory)
    assert after["rows"]["audit_event"] == before["rows"]["audit_event"] + 2
    after["rows"]["audit_event"] -= 2
    assert after == before
    refused_row, unknown_row = audit_rows(factory)[-2:]
    for row, at in ((refused_row, 5), (unknown_row, 6)):
        assert (row.command, row.outcome, row.actor, row.role) == ("read_pathway", "denied", actor.name, role.value)
        assert row.at == RECORDED_AT + timedelta(minutes=at)
        assert leaked(json.dumps(row.model_dump(), default=str)) == []
    # The control: another role keeps reading the same pathway.
    other = next(r for r in Role if r is not role)
    assert _read(factory, actor_for(other), "P1", 7).pathway.ref == "P1"
    assert chain_intact(factory)
