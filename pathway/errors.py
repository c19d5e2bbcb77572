"""Errors the services raise. Messages never carry patient identifiers.

PathwayError
 ├── AccountError           an account command that cannot be done (services.accounts)
 ├── SessionEnded           a dashboard session that is over: sign in again (the message says why)
 ├── AuthenticationFailed   a login refused, one message whatever the reason
 │    ├── AccountLocked     too many failures in a row (the same message)
 │    ├── SignInThrottled   too many failures from one network address (refused before any check)
 │    └── SsoRefused        single sign-on claims that give no role, an unlisted site, no usable name
 ├── CommandRejected        bad input or broken rules: every field and rule at once; nothing written
 │    └── NotFound          an unknown patient or pathway reference
 ├── AccessDenied           the actor's role may not do this
 └── ConflictError          someone else changed the pathway since it was read; reload and retry
      └── DatabaseBusy      the database stayed locked by other writers past its wait; retry

Outside the tree (what each part raises; none carries a patient identifier):
PolicyError (ValueError) a policy file that cannot be used; UnknownCodeError, UnknownLeafletError
(KeyError and ValueError) lookups; BackupError > BackupRefused; DeliveryError and ClaimLost (reminders);
CommandLogLineError (a command-log line that is not a command).
"""

from collections.abc import Sequence
from typing import Any

FAILED_LOGIN = "Unknown username or wrong password."
THROTTLED = "Too many failed sign-ins from this network address. Try again in {minutes} minutes."


class PathwayError(Exception):
    """Base of every error the tracker raises on purpose."""


class CommandRejected(PathwayError):
    """A command refused for one or more broken rules, each a (field, rule) pair: `problems` holds them
    all (the shape's and the clinical rules'), `field` and `rule` the first. Its text is every problem,
    `field: rule`, joined by "; "."""

    def __init__(self, field: str, rule: str, *more: tuple[str, str]) -> None:
        self.field = field
        self.rule = rule
        self.problems: tuple[tuple[str, str], ...] = ((field, rule), *more)
        super().__init__("; ".join(f"{name}: {words}" for name, words in self.problems))

    @classmethod
    def of(cls, problems: Sequence[tuple[str, str]]) -> "CommandRejected":
        """One rejection carrying every problem (at least one), each once, in the order found."""
        unique = list(dict.fromkeys(problems))
        return cls(*unique[0], *unique[1:])

    def __reduce__(self) -> tuple[type["CommandRejected"], tuple[Any, ...]]:
        # Rebuilt from its parts when unpickled (Prefect stores a failed run's exception pickled).
        return type(self), (self.field, self.rule, *self.problems[1:])


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


# Errors of the other parts of the package (kept here so every exception has one home).


class CommandLogLineError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeliveryError(RuntimeError):
    """A channel did not take the message (retried with backoff, then recorded as failed)."""


class ClaimLost(RuntimeError):
    """The lock of this sweep's claim was lost (its database connection broke): stop sending, since
    another sweep may now take the rows over."""


class BackupError(RuntimeError):
    """A backup or restore refused (the file exists, or the copy failed a check): nothing was replaced."""


class BackupRefused(BackupError):
    """The file is not a sound backup of this tracker; the live database was not touched."""


class UnknownLeafletError(KeyError, ValueError):
    """No leaflet has this key, identifier or label (or not in this version)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown leaflet"


class PolicyError(ValueError):
    """A policy file that cannot be used: unreadable, or a value outside what the rules allow."""


class UnknownCodeError(KeyError, ValueError):
    """A code that is in none of the code sets searched.

    Subclasses both KeyError and ValueError so callers can catch either.
    """

    def __str__(self) -> str:
        # KeyError.__str__ would wrap the message in quotes.
        return str(self.args[0]) if self.args else "unknown code"


class AccountError(PathwayError):
    """An account command that cannot be done (bad name or password, unknown or duplicate name)."""


class AuthenticationFailed(PathwayError):
    """Unknown name, disabled account or wrong password: one message for all of them."""

    def __init__(self) -> None:
        super().__init__(FAILED_LOGIN)


class AccountLocked(AuthenticationFailed):
    """Too many failures in a row. Same message as any failure, so a lockout reveals no name."""


class SignInThrottled(AuthenticationFailed):
    """Too many failures from one network address: refused before any password is checked."""

    def __init__(self, minutes: int) -> None:
        PathwayError.__init__(self, THROTTLED.format(minutes=minutes))


class SsoRefused(AuthenticationFailed):
    """A single sign-on whose claims cannot open a session here (services.sso_claims): `reason` is the
    audited code, the message says what to do; `detail` (a site, a name) goes to the audit row too."""

    def __init__(self, reason: str, message: str, *, detail: str | None = None) -> None:
        PathwayError.__init__(self, message)
        self.reason = reason
        self.detail = detail


class SessionEnded(PathwayError):
    """The session behind a token is over (or never was): sign in again; the message says why."""

    def __init__(self, message: str = "Please sign in.") -> None:
        super().__init__(message)
