"""Fixtures of the property tests and the example-count table printed at the end of the run."""

from collections.abc import Iterator

import pytest

from tests.properties import EXAMPLE_COUNTS
from tests.properties.databases import SqliteStates, sqlite_states


@pytest.fixture(scope="session")
def states() -> Iterator[SqliteStates]:
    """Template SQLite files of the prepared states, shared by every property test of the run."""
    with sqlite_states() as made:
        yield made


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not EXAMPLE_COUNTS:
        return
    terminalreporter.section("hypothesis examples executed per command")
    total = 0
    for count in EXAMPLE_COUNTS:
        total += count.executed
        terminalreporter.write_line(
            f"{count.test:<10} {count.suite:<14} {count.command:<31} "
            f"{count.executed:>5} examples (required {count.required:>4})  {count.seconds:7.1f} s"
        )
    seconds = sum(count.seconds for count in EXAMPLE_COUNTS)
    terminalreporter.write_line(f"total: {total} examples in {seconds:.1f} s")
