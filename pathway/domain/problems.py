"""Every broken rule of a command at once: its shape's (pydantic) and its clinical rules'.

A rule is checked inside `Problems.rule()`: its rejection is kept and the next rule is checked, so a
form or a command-log line learns everything wrong with it in one go (issue 14). A command whose shape
is broken is checked as far as it is valid (`partial`): a rule needing a field that was refused already
is skipped, since that field's own problem is reported. An unknown reference (NotFound) is never
mixed with other problems: it stands alone, worded as for any unknown reference.
"""

from collections.abc import Sequence
from types import TracebackType

from pathway.errors import CommandRejected, NotFound

Problem = tuple[str, str]  # (field, rule in plain words)


class Problems:
    """The problems found so far, in the order found."""

    def __init__(self, found: Sequence[Problem] = (), *, partial: bool = False) -> None:
        self.found: list[Problem] = list(found)
        self.partial = partial  # the command is only partly valid: rules on refused fields are skipped

    def rule(self) -> "_Rule":
        """Check one rule: its rejection is kept, not raised."""
        return _Rule(self)

    def add(self, field: str, rule: str) -> None:
        self.found.append((field, rule))

    def raise_any(self) -> None:
        """Raise one CommandRejected carrying every problem found, if any (nothing has been written)."""
        if self.found:
            raise CommandRejected.of(self.found)


class _Rule:
    """Problems.rule's context. A class, not @contextmanager: every command checks several rules and
    the bulk loader checks millions of commands (a generator context cost 5% of its time, issue 15)."""

    __slots__ = ("problems",)

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _trace: TracebackType | None
    ) -> bool:
        if error is None or isinstance(error, NotFound):
            return False  # nothing raised, or an unknown reference: it stands alone
        if isinstance(error, CommandRejected):
            self.problems.found.extend(error.problems)
            return True
        return isinstance(error, AttributeError) and self.problems.partial
