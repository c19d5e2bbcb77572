"""Property-based tests (hypothesis) of every command with generated valid and invalid input.

Two hypothesis settings profiles, registered here and applied explicitly by the tests of this
package (``profile_settings``), whatever profile is loaded globally:

- ``default``: ~50 examples per command and property, on SQLite; always part of `make test`.
- ``thorough``: 1000 examples per command and property; the tests that use it carry
  ``@pytest.mark.slow`` and run only when ``PATHWAY_HYPOTHESIS_PROFILE=thorough`` is set
  (``PATHWAY_HYPOTHESIS_PROFILE=thorough pytest -m slow tests/properties``).

A PostgreSQL sample (``POSTGRES_EXAMPLES`` per command) runs with the default profile when
``PATHWAY_TEST_POSTGRES_URL`` is set. Every test counts the examples it really executed, asserts
the count reaches the profile's ``max_examples`` and records it in ``EXAMPLE_COUNTS``; the
package's conftest prints the table at the end of the run.

Note: hypothesis reloads the current profile when it is registered again, so registering "default"
here also makes it the process-wide default once this package is imported (no deadline, no example
database, 50 examples); "thorough" is never loaded globally.
"""

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, settings

PROFILE_ENV = "PATHWAY_HYPOTHESIS_PROFILE"
DEFAULT_PROFILE = "default"
THOROUGH_PROFILE = "thorough"
POSTGRES_EXAMPLES = 20

_COMMON = settings(
    deadline=None,  # a database round trip per example: timing varies with the shared machine
    database=None,  # no .hypothesis/ folder in the checkout; failures print their reproduction blob
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile(DEFAULT_PROFILE, parent=_COMMON, max_examples=50)
settings.register_profile(THOROUGH_PROFILE, parent=_COMMON, max_examples=1000)


def selected_profile() -> str:
    """The profile named by PATHWAY_HYPOTHESIS_PROFILE (default when unset)."""
    return os.environ.get(PROFILE_ENV, DEFAULT_PROFILE) or DEFAULT_PROFILE


def profile_settings(name: str, max_examples: int | None = None) -> settings:
    profile = settings.get_profile(name)
    return settings(profile, max_examples=max_examples) if max_examples else profile


@dataclass
class ExampleCount:
    test: str
    command: str
    suite: str
    required: int
    executed: int = 0
    seconds: float = 0.0


# Filled by the tests, printed by tests/properties/conftest.py (pytest_terminal_summary).
EXAMPLE_COUNTS: list[ExampleCount] = []
