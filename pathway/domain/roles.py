"""Who may do what. The services check this on every command; hiding a button is not a control."""

from dataclasses import dataclass

from pathway.domain.vocabulary import Role
from pathway.errors import AccessDenied

CLINICAL_COMMANDS = frozenset(
    {
        "record_diagnosis",
        "start_anticoagulation",
        "stop_anticoagulation",
        "record_mdt",
        "enrol_research",
        "record_consent",
        "schedule_procedure",
        "record_procedure",
        "submit_registry",
        "record_follow_up",
        "record_anticoagulation_review",
        "record_filter_outcome",
        "close_pathway",
        "register_patient",
        "notify_governance",
        "record_safety_check",  # version 2: a clinical finding, recorded by clinicians (and admin)
    }
)
# Coordinators run the pathway's administration: referrals, MDT minutes, governance, scheduling,
# the registry and closure. Clinical decisions and findings are recorded by clinicians.
COORDINATOR_COMMANDS = frozenset(
    {
        "register_patient",
        "record_diagnosis",
        "record_mdt",
        "notify_governance",
        "enrol_research",
        "schedule_procedure",
        "submit_registry",
        "close_pathway",
    }
)

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.admin: CLINICAL_COMMANDS,
    Role.clinician: CLINICAL_COMMANDS,
    Role.coordinator: COORDINATOR_COMMANDS,
    Role.auditor: frozenset(),
}


@dataclass(frozen=True)
class Actor:
    """A named account (dashboard) or the operator running the CLI, with one role."""

    name: str
    role: Role

    @property
    def sees_identifiers(self) -> bool:
        """Auditors read pseudonymised records: no names, NHS numbers or dates of birth."""
        return self.role is not Role.auditor


# Every role reads pathways (auditors pseudonymised); the set exists so a read can be refused.
READERS = frozenset({Role.admin, Role.clinician, Role.coordinator, Role.auditor})


def may_read(role: Role) -> bool:
    return role in READERS


def may_run(role: Role, command: str) -> bool:
    return command in PERMISSIONS[role]


def authorise(actor: Actor, command: str) -> None:
    if not may_run(actor.role, command):
        raise AccessDenied(f"role {actor.role.value} may not run {command}")
