"""The `pathway` command line end to end: init, apply, worklist --format json, show."""

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from pathway.cli.main import app
from tests.conftest import consent, diagnose, governance, mdt, register, start_anticoagulation
from tests.support.sites import list_sites_at


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PATHWAY_OPERATOR", "cli-test")
    runner = CliRunner()
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    list_sites_at(f"sqlite:///{tmp_path / 'cli.db'}")  # the sites the commands name, on the managed list
    return runner


def _log(tmp_path: Path, commands: list[Any]) -> str:
    path = tmp_path / "commands.jsonl"
    path.write_text("\n".join(c if isinstance(c, str) else json.dumps(c) for c in commands) + "\n")
    return str(path)


def _today_pathway() -> list[dict[str, Any]]:
    # Dates relative to the real today, since `apply` records at the current time.
    from datetime import timedelta

    from pathway.domain.clock import london_today

    presented = london_today() - timedelta(days=11)
    return [
        register(),
        diagnose(presented=presented),
        start_anticoagulation(started_on=presented.isoformat()),
        mdt(held_on=(presented + timedelta(days=1)).isoformat()),
    ]


def test_cli_apply_then_worklist_json_shows_flags(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["apply", _log(tmp_path, _today_pathway())])
    assert result.exit_code == 0, result.output
    listed = cli.invoke(app, ["worklist", "--format", "json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert len(rows) == 1
    row = rows[0]
    assert {
        "pathway",
        "patient",
        "site",
        "decision",
        "route",
        "stage",
        "presented_on",
        "window_days_left",
        "flags",
    } <= set(row)
    assert row["pathway"] == "P1" and row["route"] == "special_arrangements" and row["window_days_left"] == 3
    codes = {f["code"]: f["severity"] for f in row["flags"]}
    assert codes == {
        "TREATMENT_WINDOW_AT_RISK": "amber",
        "GOVERNANCE_NOTICE_OUTSTANDING": "amber",
        "CONSENT_OUTSTANDING": "amber",
    }


def test_cli_apply_reports_rejected_lines_and_continues(cli: CliRunner, tmp_path: Path) -> None:
    commands: list[Any] = [
        register(),
        "{not json",
        register(patient="H2"),  # same NHS number: rejected
        *_today_pathway()[1:],
    ]
    result = cli.invoke(app, ["apply", _log(tmp_path, commands)])
    assert result.exit_code == 1
    assert "line 2: command: not valid JSON" in result.stderr
    assert "line 3: nhs_number: already registered to another patient" in result.stderr
    assert "9434765919" not in result.stderr
    rows = json.loads(cli.invoke(app, ["worklist", "--format", "json"]).stdout)
    assert [r["pathway"] for r in rows] == ["P1"]


def test_cli_apply_stop_on_error_stops_at_first_rejection(cli: CliRunner, tmp_path: Path) -> None:
    commands = [register(), register(patient="H2"), *_today_pathway()[1:]]
    result = cli.invoke(app, ["apply", "--stop-on-error", _log(tmp_path, commands)])
    assert result.exit_code == 1
    rows = json.loads(cli.invoke(app, ["worklist", "--format", "json"]).stdout)
    assert rows == []


def test_cli_apply_reads_standard_input(cli: CliRunner) -> None:
    text = "\n".join(json.dumps(c) for c in _today_pathway()) + "\n"
    result = cli.invoke(app, ["apply", "-"], input=text)
    assert result.exit_code == 0, result.output
    assert "4 accepted, 0 rejected" in result.stderr


def test_cli_worklist_as_of_and_filters(cli: CliRunner, tmp_path: Path) -> None:
    cli.invoke(app, ["apply", _log(tmp_path, _today_pathway())])
    rows = json.loads(cli.invoke(app, ["worklist", "--format", "json", "--flag", "MDT_OVERDUE"]).stdout)
    assert rows == []
    future = json.loads(cli.invoke(app, ["worklist", "--format", "json", "--as-of", "2099-01-01"]).stdout)
    assert {f["code"] for f in future[0]["flags"]} >= {"TREATMENT_WINDOW_MISSED"}
    other_site = json.loads(cli.invoke(app, ["worklist", "--format", "json", "--site", "Elsewhere"]).stdout)
    assert other_site == []
    governance_log = _log(tmp_path, [governance()])
    assert cli.invoke(app, ["apply", governance_log]).exit_code == 0
    rows = json.loads(cli.invoke(app, ["worklist", "--format", "json"]).stdout)
    assert "GOVERNANCE_NOTICE_OUTSTANDING" not in {f["code"] for f in rows[0]["flags"]}


def test_cli_show_json_has_steps_flags_and_audit(cli: CliRunner, tmp_path: Path) -> None:
    cli.invoke(
        app, ["apply", _log(tmp_path, [*_today_pathway(), consent(consented_on=_today_pathway()[3]["held_on"])])]
    )
    result = cli.invoke(app, ["show", "P1", "--format", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["pathway"] == "P1" and shown["stage"] in {"governance", "procedure"}
    assert any(s["step"] == "consent" and s["done_on"] for s in shown["steps"])
    assert [a["command"] for a in shown["audit"]] == [
        "record_diagnosis",
        "start_anticoagulation",
        "record_mdt",
        "record_consent",
        "read_pathway",  # this very read: `show` is audited like opening the record on the dashboard
    ]
    assert all(a["actor"] == "cli-test" and a["role"] == "admin" for a in shown["audit"])
    assert cli.invoke(app, ["show", "NOPE"]).exit_code == 1


def test_cli_worklist_table_and_csv(cli: CliRunner, tmp_path: Path) -> None:
    cli.invoke(app, ["apply", _log(tmp_path, _today_pathway())])
    table = cli.invoke(app, ["worklist"])
    assert table.exit_code == 0 and "P1" in table.stdout
    csv_out = cli.invoke(app, ["worklist", "--format", "csv"]).stdout.splitlines()
    assert csv_out[0].startswith("patient,pathway,site")
    assert "TREATMENT_WINDOW_AT_RISK:amber" in csv_out[1]


def test_cli_apply_one_bad_line_is_refused_and_the_run_goes_on(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile lines: each is `line N: reason`, nothing of it is written, and the valid lines after it are
    applied (SQLite and PostgreSQL: the lone surrogate used to crash at the INSERT)."""
    monkeypatch.setenv("PATHWAY_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    notice = json.dumps(governance(site="Hostile Site"))
    lines = [
        b"\xef\xbb\xbf" + json.dumps(register()).encode(),  # a byte-order mark before the first line is fine
        b'{"command": "register_patient", "patient": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        notice.replace("Hostile Site", "Hostile \xff Site").encode("latin-1"),  # not UTF-8
        notice.replace("Hostile Site", "S\\ud800").encode(),  # a lone surrogate, escaped in JSON
        notice.replace('"site"', '"site": "Elsewhere", "site"').encode(),  # the same key twice
        notice.replace('"2026-01-10"', "NaN").encode(),
        b'{"command": "notify_governance", "site": "S", "notified_on": "2026-01-10", "lead": ' + b"9" * 5000 + b"}",
        *[json.dumps(c).encode() for c in _today_pathway()[1:]],
    ]
    log = tmp_path / "hostile.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")

    result = CliRunner().invoke(app, ["apply", str(log)])

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # an exit status, not an exception
    assert result.stderr.splitlines() == [
        "line 2: command: nested too deeply to read",
        "line 3: command: not valid UTF-8 (byte 0xff at position 50)",
        "line 4: site: not valid text (a lone surrogate)",
        'line 5: duplicate key "site"',
        "line 6: command: not valid JSON (NaN is not a number)",
        "line 7: command: not valid JSON (a number of more than 4300 digits)",
        "4 accepted, 6 rejected",
    ]
    rows = json.loads(CliRunner().invoke(app, ["worklist", "--format", "json"]).stdout)
    assert [r["pathway"] for r in rows] == ["P1"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM governance_notice")).scalar() == 0


def test_cli_demo_data_refuses_at_once_more_patients_than_the_test_range_holds(cli: CliRunner) -> None:
    """Issue 15: a million patients used to run for minutes and then die on an NHS number."""
    result = cli.invoke(app, ["demo-data", "--patients", "1000000"])
    assert result.exit_code == 1
    assert "patients: 1,000,000 is more than the 909,091 valid NHS numbers" in result.stderr
    assert "--pathways" in result.stderr
    assert json.loads(cli.invoke(app, ["worklist", "--format", "json"]).stdout) == []


def test_cli_demo_data_pathways_gives_some_patients_a_recurrent_pathway(cli: CliRunner) -> None:
    result = cli.invoke(app, ["demo-data", "--pathways", "25", "--as-of", "2026-06-15"])
    assert result.exit_code == 0, result.output
    assert "loaded 20 patients and 25 pathways" in result.stdout
