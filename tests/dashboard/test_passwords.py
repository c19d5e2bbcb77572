"""A new account's password must be hard to guess, not only long: zxcvbn's estimate (which knows the
common passwords, words, names, keyboard runs, dates and the account's own name) must reach 3 of 4.
The refusal says why, with zxcvbn's advice, and never repeats the password."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pathway.cli.main import app
from pathway.domain.vocabulary import Role
from pathway.errors import AccountError
from pathway.services.accounts import add_user, list_users, password_weakness
from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from tests.dashboard.conftest import CHEAP_HASH, PASSWORD


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SessionFactory:
    for key, value in CHEAP_HASH.items():
        monkeypatch.setenv(key, value)
    engine = make_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    migrate(engine)
    return make_session_factory(engine)


@pytest.mark.parametrize(
    ("password", "advice"),
    [
        ("password123", "very common password"),
        ("qwertyuiop", "top-100 common password"),
        ("1234567890", "top-100 common password"),
        ("Summer2026!", "similar to a commonly used password"),
        ("aaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess'),
        ("nurse.jones99", "too easy to guess"),  # the account name with digits
    ],
)
def test_a_long_enough_but_guessable_password_is_refused_with_advice(
    accounts: SessionFactory, password: str, advice: str
) -> None:
    with pytest.raises(AccountError) as refused:
        add_user(accounts, "nurse.jones", Role.clinician, password)
    message = str(refused.value)
    assert message.startswith("password: too easy to guess (strength ")
    assert "at least 3 needed" in message and advice in message
    assert password not in message
    assert list_users(accounts) == []


@pytest.mark.parametrize(
    "password", [PASSWORD, "bench password, synthetic data only", "Tr0ub4dor&3 x", "7Kp-q2Lm-9RtZ"]
)
def test_hard_to_guess_passwords_are_accepted(accounts: SessionFactory, password: str) -> None:
    assert password_weakness(password, "nurse.jones", 3) is None
    add_user(accounts, "nurse.jones", Role.clinician, password)


def test_the_cli_says_why_a_password_was_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    for key, value in CHEAP_HASH.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    args = ["users", "add", "coord.smith", "--role", "coordinator", "--password-stdin"]
    refused = runner.invoke(app, args, input="password123\n")
    assert refused.exit_code == 1
    assert "password: too easy to guess" in refused.output and "password123" not in refused.output
    assert runner.invoke(app, args, input=f"{PASSWORD}\n").exit_code == 0


def test_demo_accounts_get_generated_passwords_that_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    for key, value in CHEAP_HASH.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    logins = tmp_path / "demo-accounts.json"
    result = runner.invoke(app, ["users", "demo", "--file", str(logins)])
    assert result.exit_code == 0, result.output
    passwords = json.loads(logins.read_text())
    assert len(passwords) == len(Role)
    assert all(password_weakness(p, name, 3) is None for name, p in passwords.items())
