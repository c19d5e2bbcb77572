"""All errors at once (issue 14): a command with broken fields and broken clinical rules is refused with
every one of them named, field and rule each, by the service and on the command line, and nothing is
written. Two problems of the command's shape (pydantic) and two of its clinical rules here: a procedure
with an unknown technique and no clot-removal grade, on a pathway with no consent, and a permanent IVC
filter without its indication."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pathway.cli.main import app
from pathway.errors import CommandRejected
from pathway.store.db import SessionFactory
from tests.conftest import diagnose, mdt, procedure, register, run, start_anticoagulation
from tests.support.commands import database_state
from tests.support.sites import list_sites_at

BROKEN = {"technique": "laser", "ivc_filter": "permanent", "filter_indication": None}
EXPECTED_FIELDS = ["technique", "clot_removal", "performed_on", "filter_indication"]  # shape first, then the rules


def _broken_procedure() -> dict[str, Any]:
    payload = procedure(**BROKEN)
    del payload["clot_removal"]
    return {k: v for k, v in payload.items() if v is not None}


def _before_consent() -> list[dict[str, Any]]:
    return [register(), diagnose(), start_anticoagulation(), mdt()]


def test_the_service_names_every_broken_rule_at_once_and_writes_nothing(factory: SessionFactory) -> None:
    for command in _before_consent():
        run(factory, command)
    before = database_state(factory)
    with pytest.raises(CommandRejected) as caught:
        run(factory, _broken_procedure())
    rejected = caught.value
    assert [field for field, _rule in rejected.problems] == EXPECTED_FIELDS
    rules = dict(rejected.problems)
    assert rules["technique"].startswith("must be one of")
    assert rules["clot_removal"] == "is required"
    assert "no consent is recorded" in rules["performed_on"]
    assert "is required for a permanent IVC filter" in rules["filter_indication"]
    assert str(rejected) == "; ".join(f"{field}: {rule}" for field, rule in rejected.problems)
    assert database_state(factory) == before  # not even the refused command's audit row


def test_the_shape_alone_is_reported_when_the_pathway_itself_is_refused(factory: SessionFactory) -> None:
    """A reference the shape refuses leaves no pathway to check the rules on: the shape's problems."""
    for command in _before_consent():
        run(factory, command)
    with pytest.raises(CommandRejected) as caught:
        run(factory, _broken_procedure() | {"pathway": 42})
    assert [field for field, _rule in caught.value.problems] == ["pathway", "technique", "clot_removal"]


def test_the_command_line_prints_every_broken_rule_on_the_lines_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("PATHWAY_OPERATOR_SITES", raising=False)
    cli = CliRunner()
    assert cli.invoke(app, ["init"]).exit_code == 0
    list_sites_at(f"sqlite:///{tmp_path / 'cli.db'}")
    log = tmp_path / "commands.jsonl"
    log.write_text("\n".join(json.dumps(c) for c in [*_before_consent(), _broken_procedure()]) + "\n")
    result = cli.invoke(app, ["apply", str(log)])
    assert result.exit_code == 1
    (line, summary) = result.stderr.splitlines()
    assert line.startswith("line 5: technique: must be one of")
    parts = line.removeprefix("line 5: ").split("; ")
    assert [part.split(":")[0] for part in parts] == EXPECTED_FIELDS
    assert summary == "4 accepted, 1 rejected"
