"""Errors the services raise. Messages never carry patient identifiers.

PathwayError
 ├── CommandRejected        bad input or a broken rule: names the field and the rule; nothing written
 │    └── NotFound          an unknown patient or pathway reference
 ├── AccessDenied           the actor's role may not do this
 └── ConflictError          someone else changed the pathway since it was read; reload and retry
      └── DatabaseBusy      the database stayed locked by other writers past its wait; retry
"""


class PathwayError(Exception):
    """Base of every error the tracker raises on purpose."""


class CommandRejected(PathwayError):
    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")

    def __reduce__(self) -> tuple[type["CommandRejected"], tuple[str, str]]:
        # Rebuilt from its parts when unpickled (Prefect stores a failed run's exception pickled).
        return type(self), (self.field, self.rule)


class NotFound(CommandRejected):
    pass


class AccessDenied(PathwayError):
    pass


class ConflictError(PathwayError):
    """`subject` names what changed, e.g. "pathway P1" or "patient H100"."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        super().__init__(f"{subject} was changed by someone else since you read it; reload and try again")

    def __reduce__(self) -> tuple[type["ConflictError"], tuple[str]]:
        return type(self), (self.subject,)


class DatabaseBusy(ConflictError):
    """SQLite's write lock stayed taken past the busy timeout: nothing was recorded, nothing conflicts.
    A ConflictError still, so every caller that offers a retry offers it here too."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        PathwayError.__init__(
            self, f"the pathway database was busy with other saves, so nothing was recorded for {subject}; try again"
        )
