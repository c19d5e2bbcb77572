"""What each role may do, written out (not read from pathway.domain.roles): the access matrix of the
services (tests/test_access_matrix.py) and of the dashboard's forms (tests/dashboard/test_access_pages.py)."""

from pathway.domain.commands import COMMANDS
from pathway.domain.vocabulary import Role

ALL_COMMANDS = frozenset(COMMANDS)
# Coordinators: referrals, MDT minutes, governance, research enrolment, scheduling, the registry, closure.
COORDINATOR_MAY = frozenset(
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
EXPECTED: dict[Role, frozenset[str]] = {
    Role.admin: ALL_COMMANDS,
    Role.clinician: ALL_COMMANDS,
    Role.coordinator: COORDINATOR_MAY,
    Role.auditor: frozenset(),  # read-only
}
# Every role reads pathways (the auditor pseudonymised, which the dashboard applies).
EXPECTED_READ: dict[Role, bool] = {Role.admin: True, Role.clinician: True, Role.coordinator: True, Role.auditor: True}
