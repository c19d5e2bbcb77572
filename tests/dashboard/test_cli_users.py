"""`pathway users add|list|disable|demo` and the `dashboard` command's subprocess."""

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dashboard.launch import WARM_START
from pathway.cli import users as cli_users
from pathway.cli.main import app
from tests.dashboard.conftest import CHEAP_HASH
from tests.support.sites import list_sites_at


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PATHWAY_HOME", str(tmp_path / "home"))
    for key, value in CHEAP_HASH.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    list_sites_at(f"sqlite:///{tmp_path / 'cli.db'}")  # accounts name sites from the managed list
    return runner


def _users(cli: CliRunner) -> list[dict[str, Any]]:
    result = cli.invoke(app, ["users", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed: list[dict[str, Any]] = json.loads(result.output)
    return listed


def test_add_reads_the_password_from_stdin_and_list_never_shows_it(cli: CliRunner) -> None:
    result = cli.invoke(
        app, ["users", "add", "coord.smith", "--role", "coordinator", "--password-stdin"], input="s3cret password\n"
    )
    assert result.exit_code == 0, result.output
    assert "added coord.smith (coordinator)" in result.output
    (user,) = _users(cli)
    assert (user["name"], user["role"], user["disabled"]) == ("coord.smith", "coordinator", False)
    table = cli.invoke(app, ["users", "list"]).output
    assert "coord.smith" in table and "s3cret" not in table and "argon2" not in table


def test_add_refuses_a_password_on_the_command_line_or_a_taken_name(cli: CliRunner) -> None:
    assert cli.invoke(app, ["users", "add", "a.b", "--role", "clinician"]).exit_code == 2
    args = ["users", "add", "a.b", "--role", "clinician", "--password-stdin"]
    assert cli.invoke(app, args, input="long enough pw\n").exit_code == 0
    again = cli.invoke(app, args, input="long enough pw\n")
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert (
        cli.invoke(app, ["users", "add", "c.d", "--role", "surgeon", "--password-stdin"], input="x" * 12).exit_code == 2
    )


def test_disable_marks_the_account_and_unknown_names_fail(cli: CliRunner) -> None:
    cli.invoke(app, ["users", "add", "a.b", "--role", "auditor", "--password-stdin"], input="long enough pw\n")
    assert cli.invoke(app, ["users", "disable", "a.b"]).exit_code == 0
    assert _users(cli)[0]["disabled"] is True
    missing = cli.invoke(app, ["users", "disable", "ghost"])
    assert missing.exit_code == 1 and "no account called ghost" in missing.output


def test_demo_makes_one_account_per_role_once_and_keeps_the_passwords_private(cli: CliRunner, tmp_path: Path) -> None:
    first = cli.invoke(app, ["users", "demo"])
    assert first.exit_code == 0, first.output
    saved = tmp_path / "home" / "demo-accounts.json"
    logins = json.loads(saved.read_text())
    assert set(logins) == {"demo-coordinator", "demo-clinician", "demo-auditor", "demo-admin"}
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert {(u["name"], u["role"]) for u in _users(cli)} == {(n, n.removeprefix("demo-")) for n in logins}
    second = cli.invoke(app, ["users", "demo"])
    assert second.exit_code == 0
    assert json.loads(saved.read_text()) == logins  # the same logins, printed again
    for name, password in logins.items():
        assert f"{name}" in second.output and password in second.output


def test_dashboard_runs_streamlit_headless_on_the_port_with_the_database(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    def fake_call(command: list[str], env: dict[str, str]) -> int:
        seen.update(command=command, env=env)
        return 0

    monkeypatch.setattr(cli_users.subprocess, "call", fake_call)
    wrapper = typer.Typer()
    wrapper.command()(cli_users.dashboard)
    result = CliRunner().invoke(wrapper, ["--port", "8765"])
    assert result.exit_code == 0, result.output
    command = seen["command"]
    assert command[:4] == [sys.executable, "-c", WARM_START, "run"]  # Streamlit's CLI after the heavy imports
    assert command[4].endswith("dashboard/server.py") and Path(command[4]).exists()
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options["--server.port"] == "8765"
    assert options["--server.headless"] == "true"
    assert options["--browser.gatherUsageStats"] == "false"
    assert seen["env"]["PATHWAY_DATABASE_URL"] == f"sqlite:///{tmp_path / 'cli.db'}"


def test_role_sites_and_password_reset_are_audited_under_the_operator(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlmodel import col, select

    from pathway.store.db import make_engine, make_session_factory
    from pathway.store.models import AuditEvent

    monkeypatch.setenv("PATHWAY_OPERATOR", "it.desk")
    add = ["users", "add", "a.b", "--role", "clinician", "--site", "North Vale", "--password-stdin"]
    assert cli.invoke(app, add, input="long enough pw\n").exit_code == 0
    assert "a.b is now coordinator" in cli.invoke(app, ["users", "role", "a.b", "coordinator"]).output
    assert "a.b sees every site" in cli.invoke(app, ["users", "sites", "a.b"]).output
    assert (
        "a.b sees Harbour Royal, North Vale"
        in cli.invoke(app, ["users", "sites", "a.b", "North Vale", "Harbour Royal"]).output
    )
    reset = cli.invoke(app, ["users", "reset-password", "a.b", "--password-stdin"], input="another long one\n")
    assert reset.exit_code == 0 and "password reset for a.b" in reset.output
    weak = cli.invoke(app, ["users", "reset-password", "a.b", "--password-stdin"], input="short\n")
    assert weak.exit_code == 1 and "password: at least 10 characters" in weak.output
    assert _users(cli)[0]["sites"] == "Harbour Royal, North Vale"
    linked = cli.invoke(app, ["users", "sso", "a.b", "sub-42"])
    assert linked.exit_code == 0 and "a.b signs in as 'sub-42'" in linked.output
    assert "a.b has no single sign-on identity" in cli.invoke(app, ["users", "sso", "a.b"]).output
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with make_session_factory(engine)() as session:
        rows = session.exec(select(AuditEvent).where(col(AuditEvent.command).not_in(["init", "replan"]))).all()
    engine.dispose()
    assert [(r.command, r.actor) for r in rows] == [
        ("add_user", "it.desk"),
        ("change_role", "it.desk"),
        ("change_sites", "it.desk"),
        ("change_sites", "it.desk"),
        ("reset_password", "it.desk"),
        ("link_sso", "it.desk"),
        ("link_sso", "it.desk"),
    ]
    assert "long enough" not in repr([(r.before, r.after) for r in rows])
