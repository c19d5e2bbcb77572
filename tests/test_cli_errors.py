"""No traceback and no patient identifier ever reaches a user of the command line (issue 12, item 7).

The CLI runs as a user runs it, in its own process: every failure is one line on standard error and
an exit status (1 refused, 3 the database, 4 unexpected); the details go to $PATHWAY_HOME/logs/cli.log,
which names no patient either.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from pathway.store.db import make_engine
from tests.conftest import governance, register

ROOT = Path(__file__).resolve().parents[1]
IDENTIFIERS = ("9434765919", "Jane Synthetic", "1970-03-04")
FAULT = {
    # A fault at the INSERT of a patient, as a full disk or a revoked right would give.
    "sqlite": ["CREATE TRIGGER fault BEFORE INSERT ON patient BEGIN SELECT simulated_fault(); END"],
    "postgresql": [
        "CREATE FUNCTION simulated_fault() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'simulated fault'; END $$",
        "CREATE TRIGGER fault BEFORE INSERT ON patient FOR EACH ROW EXECUTE FUNCTION simulated_fault()",
    ],
}
CLEAR_FAULT = {
    "sqlite": ["DROP TRIGGER fault"],
    "postgresql": ["DROP TRIGGER fault ON patient", "DROP FUNCTION simulated_fault()"],
}


def pathway_cli(
    args: list[str], home: Path, url: str | None = None, stdin: str | None = None, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATHWAY_")}
    env |= {"PATHWAY_HOME": str(home), "PYTHONPATH": str(ROOT), "COLUMNS": "300"} | (extra or {})
    if url:
        env["PATHWAY_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "pathway.cli.main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


def one_line(stream: str) -> str:
    lines = [line for line in stream.splitlines() if line.strip()]
    assert len(lines) == 1, stream
    assert "Traceback" not in stream and "│" not in stream, stream
    return lines[0]


def test_a_database_error_during_apply_is_one_line_naming_no_patient_and_the_run_goes_on(
    engine: Engine, tmp_path: Path, pathway_home: Path
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    patient = register() | {"name": "Jane Synthetic"}
    log = tmp_path / "commands.jsonl"
    log.write_text(json.dumps(patient) + "\n" + json.dumps(governance()) + "\n")
    with engine.begin() as connection:
        for statement in FAULT[engine.dialect.name]:
            connection.execute(text(statement))
    try:
        result = pathway_cli(["apply", str(log)], pathway_home, url)
    finally:
        with engine.begin() as connection:
            for statement in CLEAR_FAULT[engine.dialect.name]:
                connection.execute(text(statement))

    assert result.returncode == 1, result.stderr
    said = result.stdout + result.stderr
    assert [found for found in IDENTIFIERS if found in said] == [], said
    assert "Traceback" not in said
    rejected, summary = result.stderr.strip().splitlines()
    assert rejected.startswith("line 1: the database refused this command (") and "nothing was recorded" in rejected
    assert summary == "1 accepted, 1 rejected"  # line 2 went on and was recorded
    details = (pathway_home / "logs" / "cli.log").read_text()
    assert "INSERT INTO patient" in details and "pathway apply" in details
    assert [found for found in IDENTIFIERS if found in details] == [], details


@pytest.mark.parametrize(
    ("args", "url", "status", "says"),
    [
        (["worklist"], "postgresql+psycopg://postgres@127.0.0.1:1/nowhere", 3, "cannot reach the database"),
        (["worklist"], "sqlite:////nonexistent-folder/pathway.db", 3, "cannot reach the database"),
        (["show", "P1"], "postgresql+psycopg://postgres:secret@127.0.0.1:1/nowhere", 3, "cannot reach the database"),
        (["audit", "verify"], "sqlite:///{tmp}/empty.db", 3, "database error"),
        (["worklist", "--limit", "99999999999999999999"], "sqlite:///{tmp}/empty.db", 2, "--limit"),
        (["reminders", "list", "--limit", "9223372036854775808"], "sqlite:///{tmp}/empty.db", 2, "--limit"),
        (["restore", "{tmp}"], "sqlite:///{tmp}/empty.db", 1, "restore refused"),
        (["apply", "{tmp}/no-such-log.jsonl"], "sqlite:///{tmp}/empty.db", 2, "no-such-log.jsonl"),
    ],
)
def test_a_failing_command_says_one_line_and_exits_with_a_status(
    tmp_path: Path, pathway_home: Path, args: list[str], url: str, status: int, says: str
) -> None:
    result = pathway_cli([a.format(tmp=tmp_path) for a in args], pathway_home, url.format(tmp=tmp_path))
    assert result.returncode == status, result.stderr
    line = one_line(result.stderr)
    assert says in line and "secret" not in line


def test_database_errors_hide_the_statement_parameters(tmp_path: Path) -> None:
    assert make_engine(f"sqlite:///{tmp_path / 'a.db'}").hide_parameters
    assert make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere").hide_parameters


def test_a_refused_policy_file_is_named_with_its_number_and_allowed_range(tmp_path: Path, pathway_home: Path) -> None:
    """The operator's own file: the CLI says which number, its allowed range and that nothing changed
    (before, it said only "unexpected error (PolicyError)")."""
    policy = (ROOT / "pathway" / "domain" / "policy.toml").read_text()
    wide = tmp_path / "policy.toml"
    wide.write_text(
        policy.replace("[numbers.treatment_window_days]\nvalue = 14", "[numbers.treatment_window_days]\nvalue = 60")
    )
    url = f"sqlite:///{tmp_path / 'a.db'}"
    result = pathway_cli(["init"], pathway_home, url, extra={"PATHWAY_POLICY_FILE": str(wide)})
    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    assert "treatment_window_days" in line and "60" in line and "nothing was changed" in line, line
    assert "unexpected error" not in line
