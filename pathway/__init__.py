"""The tracker's public surface: what the adapters (the `pathway` command, the dashboard, the flows) use
from the core besides `pathway.services.*` and `pathway.views.*` (docs/architecture.md).

Commands change the record through `execute` (one command, one transaction, one audit row); reads go
through the views; a read that must be audited (a record opened, an identifiable download) goes through
the services. The names below are the domain's vocabulary the adapters show and the few store handles
they pass along (a session factory, an anchor store), never a table or a session.
"""

from pathway import errors
from pathway.domain import commands
from pathway.domain.clock import LONDON, london_date, london_today, utc_now
from pathway.domain.commands import COMMANDS, PathwayCommand
from pathway.domain.policy import LIMITS, Policy, policy_in_force
from pathway.domain.roles import Actor, may_read, may_run
from pathway.domain.rules import FLAG_BY_CODE, FLAGS, Flag
from pathway.domain.stages import STAGE_CLOSED, STAGE_COMPLETE, STAGES, STEPS
from pathway.domain.text import markdown_literal, site_key
from pathway.domain.timeline import Timeline, build_timeline
from pathway.domain.vocabulary import REQUIRED_MDT_ROLES, VILLALTA_ITEMS, Role, Route
from pathway.errors import (
    AccessDenied,
    CommandRejected,
    ConflictError,
    DatabaseBusy,
    NotFound,
    PathwayError,
    PolicyError,
)
from pathway.services.audit_trail import AnchorStore, AuditCheck, anchor_store_for, check_audit
from pathway.services.commands import Outcome, execute, open_record
from pathway.store.db import Database, SessionFactory, open_database, session_factory_for
from pathway.store.failures import (
    DatabaseFailure,
    database_label,
    error_kind,
    failed_statement,
    transient,
    unreachable,
)
from pathway.views.queries import PathwayDetail, WorklistRow, pathway_detail, worklist
from pathway.views.reading import read

__all__ = [
    "COMMANDS",
    "FLAGS",
    "FLAG_BY_CODE",
    "LIMITS",
    "LONDON",
    "REQUIRED_MDT_ROLES",
    "STAGES",
    "STAGE_CLOSED",
    "STAGE_COMPLETE",
    "STEPS",
    "VILLALTA_ITEMS",
    "AccessDenied",
    "Actor",
    "AnchorStore",
    "AuditCheck",
    "CommandRejected",
    "ConflictError",
    "Database",
    "DatabaseBusy",
    "DatabaseFailure",
    "Flag",
    "NotFound",
    "Outcome",
    "PathwayCommand",
    "PathwayDetail",
    "PathwayError",
    "Policy",
    "PolicyError",
    "Role",
    "Route",
    "SessionFactory",
    "Timeline",
    "WorklistRow",
    "anchor_store_for",
    "build_timeline",
    "check_audit",
    "commands",
    "database_label",
    "error_kind",
    "errors",
    "execute",
    "failed_statement",
    "london_date",
    "london_today",
    "markdown_literal",
    "may_read",
    "may_run",
    "open_database",
    "open_record",
    "pathway_detail",
    "policy_in_force",
    "read",
    "session_factory_for",
    "site_key",
    "transient",
    "unreachable",
    "utc_now",
    "worklist",
]
