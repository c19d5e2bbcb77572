"""What every flow needs from the environment: the database, the reminder settings and the clock.

Tasks take references and dates as parameters and build these here, so flow-run parameters never
carry a database URL (it may hold a password) nor anything about a patient.
"""

import logging
from collections.abc import Callable
from functools import cache

from prefect.context import FlowRunContext, TaskRunContext
from prefect.logging.handlers import APILogHandler

from pathway import AnchorStore, SessionFactory, anchor_store_for, london_today, session_factory_for, utc_now
from pathway.logs import LOGGERS, configure
from pathway.reminders.settings import ReminderSettings
from pathway.settings import Settings

__all__ = ["audit_anchors", "london_today", "reminder_settings", "run_name", "session_factory", "utc_now"]


class _InARun(logging.Filter):
    """Only records made inside a flow or task run go to the run's logs (the relay thread's do not)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def route_logs_to_prefect() -> None:
    """Our structured logs (pathway.logs) reach the Prefect UI: Prefect's API handler on our loggers,
    as PREFECT_LOGGING_EXTRA_LOGGERS would do, in whatever process imports the flows."""
    configure()
    for name in LOGGERS:
        top = logging.getLogger(name)
        if not any(isinstance(h, APILogHandler) for h in top.handlers):
            handler = APILogHandler()
            handler.addFilter(_InARun())
            top.addHandler(handler)


route_logs_to_prefect()


@cache
def _factory(url: str) -> SessionFactory:
    return session_factory_for(url)


def session_factory() -> SessionFactory:
    """One engine per database URL per process (a served process runs many flows)."""
    return _factory(Settings().resolved_database_url())


def audit_anchors() -> AnchorStore:
    """Where this database's audit anchors are kept, and the key that signs them (never in a parameter)."""
    settings = Settings()
    return anchor_store_for(settings, settings.resolved_database_url())


def reminder_settings() -> ReminderSettings:
    return ReminderSettings()


def run_name(flow_name: str) -> Callable[[], str]:
    """A run name with the day swept, e.g. reminder-sweep-2026-06-15 (the parameter, else today)."""

    def name() -> str:
        from prefect.runtime import flow_run

        as_of = flow_run.parameters.get("as_of") or london_today()
        return f"{flow_name}-{as_of}"

    return name
