"""Named accounts for the dashboard (issue 4): argon2 password hashes, lockout, roles, session policy."""

from pathway.accounts.service import (
    AccountError,
    AccountLocked,
    AccountPolicy,
    AccountView,
    AuthenticationFailed,
    SessionEnd,
    account_policy,
    active_role,
    add_user,
    authenticate,
    disable_user,
    list_users,
    session_end,
    session_end_message,
)

__all__ = [
    "AccountError",
    "AccountLocked",
    "AccountPolicy",
    "AccountView",
    "AuthenticationFailed",
    "SessionEnd",
    "account_policy",
    "active_role",
    "add_user",
    "authenticate",
    "disable_user",
    "list_users",
    "session_end",
    "session_end_message",
]
