"""Structured logs (structlog): one JSON object per line in production, readable lines on a terminal.

    from pathway.logs import get_logger
    log = get_logger(__name__)
    log.info("command recorded", command="record_mdt", pathway="P1", audit_id=12)

Events go through the standard library's `logging` (logger names under `pathway.`), so whatever handles
those handles them: the console (stderr) here, pytest's capture in tests, and in a flow run Prefect's
API handler, which puts them in the run's logs in the UI (flows/runtime.py attaches it).

Never an identifier: log the pathway reference, site, command and counts, never a patient's name, NHS
number or date of birth. As a second line of defence `scrub` hides any field named like one and masks a
run of ten digits (an NHS number, spaced or not) and a dd/mm/yyyy date in any text value (ISO dates stay:
the sweep's `as_of` is one); tests/flows/test_identifier_leaks.py scans the captured logs.

`PATHWAY_LOG_FORMAT` = `json` | `console` | `auto` (default: console when stderr is a terminal, else JSON);
`PATHWAY_LOG_LEVEL` (default INFO; the command line, which prints its own results, defaults to WARNING).
"""

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

IDENTIFIER_FIELDS = frozenset({"name", "patient_name", "nhs", "nhs_number", "date_of_birth", "dob", "born_on"})
NHS_NUMBER = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
A_DATE_OF_BIRTH = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")
HIDDEN = "[hidden]"
LOGGERS = ("pathway", "flows", "dashboard")  # the stdlib loggers our events go through, by module name
_configured = False


def scrub(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop identifier fields and mask identifier-shaped text (a structlog processor)."""
    for key in [k for k in event if k.lower() in IDENTIFIER_FIELDS]:
        event[key] = HIDDEN
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = A_DATE_OF_BIRTH.sub(HIDDEN, NHS_NUMBER.sub(HIDDEN, value))
    return event


def _renderer(form: str) -> Any:
    if form == "auto":
        form = "console" if sys.stderr.isatty() else "json"
    if form == "console":
        return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    return structlog.processors.JSONRenderer(sort_keys=True)


def configure(form: str | None = None, *, console_level: str | None = None) -> None:
    """Set structlog up once per process (CLI, dashboard, flows call this at start; later calls only
    change what is given). Events reach the stdlib loggers of LOGGERS, at PATHWAY_LOG_LEVEL (default
    INFO); each writes to stderr, at `console_level` when given (the command line's WARNING, as it
    prints its own results), and propagates, so a test's capture and Prefect's handler see them all."""
    global _configured
    if not _configured or form is not None:
        chosen = form or os.environ.get("PATHWAY_LOG_FORMAT", "auto").lower()
        structlog.configure(
            processors=[
                structlog.stdlib.filter_by_level,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                scrub,
                structlog.processors.format_exc_info,
                _renderer(chosen),
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=True,
        )
    level = os.environ.get("PATHWAY_LOG_LEVEL", "INFO").upper()
    for name in LOGGERS:
        top = logging.getLogger(name)
        if not _configured:
            top.setLevel(level)
        console = next((h for h in top.handlers if type(h) is logging.StreamHandler), None)
        if console is None:
            console = logging.StreamHandler()
            console.setFormatter(logging.Formatter("%(message)s"))
            top.addHandler(console)
        if console_level is not None and "PATHWAY_LOG_LEVEL" not in os.environ:
            console.setLevel(console_level.upper())
    _configured = True


def get_logger(name: str) -> Any:
    """A structlog logger named `name` (a module's __name__)."""
    configure()
    return structlog.get_logger(name)
