"""Per-site access on the command line: `--operator-sites` (PATHWAY_OPERATOR_SITES) limits every read,
command and export to those sites, another site's pathway reading exactly like an unknown reference
(and the attempt audited), as for a dashboard account limited to some sites."""

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from pathway.cli.main import app
from pathway.store.db import make_engine, make_session_factory
from pathway.store.models import AuditEvent
from tests.conftest import consent, diagnose, governance, mdt, procedure, register, start_anticoagulation
from tests.support.commands import OTHER_NHS
from tests.support.sites import list_sites_at

NORTH = ["--operator-sites", "North Vale"]


def _treated(pathway: str, patient: str, nhs: str, site: str) -> list[dict[str, Any]]:
    return [
        governance(site=site),
        register(patient=patient, nhs=nhs, site=site),
        diagnose(pathway=pathway, patient=patient),
        start_anticoagulation(pathway),
        mdt(pathway),
        consent(pathway),
        procedure(pathway),
    ]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PATHWAY_OPERATOR", "cli-test")
    monkeypatch.delenv("PATHWAY_OPERATOR_SITES", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    list_sites_at(f"sqlite:///{tmp_path / 'cli.db'}")
    log = tmp_path / "commands.jsonl"
    commands = _treated("P1", "H100", "9434765919", "North Vale") + _treated("P9", "H900", OTHER_NHS, "Harbour Royal")
    log.write_text("\n".join(json.dumps(c) for c in commands) + "\n")
    result = runner.invoke(app, ["apply", str(log)])
    assert result.exit_code == 0, result.output
    return runner


def _last_audit(tmp_path: Path) -> AuditEvent:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        with make_session_factory(engine)() as session:
            row = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    finally:
        engine.dispose()
    assert row is not None
    return row


def test_reads_and_exports_show_only_the_operators_sites(cli: CliRunner) -> None:
    listed = cli.invoke(app, [*NORTH, "worklist", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [row["pathway"] for row in json.loads(listed.stdout)] == ["P1"]
    everyone = cli.invoke(app, ["worklist", "--format", "json"])
    assert sorted(row["pathway"] for row in json.loads(everyone.stdout)) == ["P1", "P9"]
    registry = cli.invoke(app, [*NORTH, "export", "registry", "--format", "json"])
    assert registry.exit_code == 0, registry.output
    assert [row["pathway"] for row in json.loads(registry.stdout)] == ["P1"]
    chosen = cli.invoke(app, [*NORTH, "export", "registry", "--format", "json", "--site", "Harbour Royal"])
    assert json.loads(chosen.stdout) == []  # naming another site cannot widen what the operator reads
    audit = cli.invoke(app, [*NORTH, "report", "audit", "--format", "csv"])
    assert audit.exit_code == 0, audit.output
    assert "P1" in audit.stdout and "P9" not in audit.stdout
    reminders = cli.invoke(app, [*NORTH, "reminders", "list", "--format", "json"])
    assert reminders.exit_code == 0, reminders.output
    assert all(row["pathway"] == "P1" for row in json.loads(reminders.stdout))


@pytest.mark.parametrize(
    "command",
    [["show", "{ref}"], ["export", "fhir", "{ref}"]],
    ids=["show", "export-fhir"],
)
def test_another_sites_pathway_reads_as_unknown_and_is_audited(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("PATHWAY_OPERATOR_SITES", "north vale")  # the variable, in any spelling of the site

    def run(ref: str) -> Any:
        return cli.invoke(app, [part.format(ref=ref) for part in command])

    other, unknown = run("P9"), run("P-NONE")
    assert other.exit_code == unknown.exit_code == 1
    assert other.stderr == unknown.stderr == "pathway: no pathway has this reference\n"
    assert "P9" not in other.stdout and "Harbour" not in other.stdout
    refused = _last_audit(tmp_path)
    assert (refused.outcome, refused.pathway_ref) == ("denied", None)  # the unknown one, audited last
    run("P9")
    refused = _last_audit(tmp_path)
    assert (refused.actor, refused.outcome, refused.pathway_ref) == ("cli-test", "denied", "P9")
    assert run("P1").exit_code == 0
    assert (_last_audit(tmp_path).outcome, _last_audit(tmp_path).pathway_ref) == ("read", "P1")


def test_a_command_on_another_sites_pathway_is_rejected_like_an_unknown_one(cli: CliRunner, tmp_path: Path) -> None:
    log = tmp_path / "more.jsonl"
    visit = {"command": "close_pathway", "pathway": "{ref}", "closed_on": "2026-06-12", "reason": "withdrawn"}
    log.write_text("\n".join(json.dumps(visit).replace("{ref}", ref) for ref in ("P9", "P-NONE")) + "\n")
    result = cli.invoke(app, [*NORTH, "apply", str(log)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].removeprefix("line 1: ") == lines[1].removeprefix("line 2: ")
    assert lines[0] == "line 1: pathway: no pathway has this reference"
