"""Structured logs (pathway/logs.py): JSON off a terminal, readable on one, never an identifier."""

import json
import logging

import pytest

from pathway.logs import configure, get_logger
from pathway.store.db import SessionFactory
from tests.conftest import NHS, diagnose, register, run


def _events(caplog: pytest.LogCaptureFixture, name: str) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == name]


def test_a_recorded_command_is_logged_as_json_with_the_reference_and_no_identifier(
    factory: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    run(factory, register())
    run(factory, diagnose())
    events = _events(caplog, "pathway.services.commands")
    assert [(e["event"], e["command"], e["pathway"]) for e in events] == [
        ("command recorded", "register_patient", None),
        ("command recorded", "record_diagnosis", "P1"),
    ]
    assert {"timestamp", "level", "logger", "audit_id"} <= set(events[-1])
    text = caplog.text
    assert all(identifier not in text for identifier in (NHS, "H100", "1970-03-04"))


def test_identifier_fields_and_identifier_shaped_text_are_hidden(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    get_logger("pathway.test").info(
        "careless", nhs_number="9990000018", name="Ann Other", note="NHS 999 000 0018 born 01/02/1960", pathway="P7"
    )
    (event,) = _events(caplog, "pathway.test")
    assert event["nhs_number"] == event["name"] == "[hidden]"
    assert event["note"] == "NHS [hidden] born [hidden]" and event["pathway"] == "P7"


def test_on_a_terminal_the_lines_are_readable_not_json(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    try:
        configure("console")
        get_logger("pathway.test").info("relayed", events=3)
        (line,) = [r.getMessage() for r in caplog.records if r.name == "pathway.test"]
    finally:
        configure("json")
    assert "relayed" in line and "events=3" in line and not line.startswith("{")
