"""Every broken rule of a command at once: its shape's (pydantic) and its clinical rules'.

A rule is checked inside `Problems.rule()`: its rejection is kept and the next rule is checked, so a
form or a command-log line learns everything wrong with it in one go (issue 14). A command whose shape
is broken is checked as far as it is valid (`partial`): a rule needing a field that was refused already
is skipped, since that field's own problem is reported. An unknown reference (NotFound) is never
mixed with other problems: it stands alone, worded as for any unknown reference.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pathway.errors import CommandRejected, NotFound

Problem = tuple[str, str]  # (field, rule in plain words)


class Problems:
    """The problems found so far, in the order found."""

    def __init__(self, found: Sequence[Problem] = (), *, partial: bool = False) -> None:
        self.found: list[Problem] = list(found)
        self.partial = partial  # the command is only partly valid: rules on refused fields are skipped

    @contextmanager
    def rule(self) -> Iterator[None]:
        """Check one rule: its rejection is kept, not raised."""
        try:
            yield
        except NotFound:
            raise
        except CommandRejected as rejected:
            self.found.extend(rejected.problems)
        except AttributeError:
            if not self.partial:
                raise

    def add(self, field: str, rule: str) -> None:
        self.found.append((field, rule))

    def raise_any(self) -> None:
        """Raise one CommandRejected carrying every problem found, if any (nothing has been written)."""
        if self.found:
            raise CommandRejected.of(self.found)
