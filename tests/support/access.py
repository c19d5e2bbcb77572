"""What each role may do, written out (not read from pathway.domain.roles): the access matrix of the
services (tests/test_access_matrix.py) and of the dashboard's forms (tests/dashboard/test_access_pages.py)."""

import ast
from pathlib import Path

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


APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"


def navigation_pages() -> list[str]:
    """Every page file the entry point registers with st.navigation, in declaration order."""
    calls = [
        node
        for node in ast.walk(ast.parse(APP.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Page"
    ]
    pages = [call.args[0].value for call in calls if call.args and isinstance(call.args[0], ast.Constant)]
    assert len(pages) == len(calls), "every st.Page names its file as a literal"
    return sorted(str(p) for p in pages)
