"""`pathway dashboard` listens on loopback unless told otherwise (`--address`): it speaks plain HTTP,
so another machine reaches it only through a TLS proxy in front (docs/deploy.md)."""

import ipaddress
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dashboard.launch import stop_dashboard, wait_until_healthy
from pathway.cli import users as cli_users
from pathway.cli.main import app
from pathway.cli.users import dashboard_command
from tests.dashboard.conftest import CHEAP_HASH


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on `port`, from the kernel's tables (Linux)."""
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            # Each 32-bit word is in host (little-endian) order.
            raw = bytes.fromhex(address)
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, width, 4))
            found.add(str(ipaddress.ip_address(words)))
    return found


def test_the_dashboard_command_listens_on_loopback_by_default() -> None:
    command = dashboard_command(8501)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"


def test_address_option_is_passed_to_streamlit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATHWAY_DATABASE_URL", f"sqlite:///{tmp_path / 'd.db'}")
    ran: list[list[str]] = []

    def call(command: list[str], **_: Any) -> int:
        ran.append(command)
        return 0

    monkeypatch.setattr(cli_users.subprocess, "call", call)
    runner = CliRunner()
    default = runner.invoke(app, ["dashboard", "--port", "9001"])
    everywhere = runner.invoke(app, ["dashboard", "--port", "9002", "--address", "0.0.0.0"])
    assert default.exit_code == everywhere.exit_code == 0, default.output + everywhere.output
    assert [c[c.index("--server.address") + 1] for c in ran] == ["127.0.0.1", "0.0.0.0"]
    assert "http://127.0.0.1:9001" in default.output and "TLS" in default.output


def test_pathway_dashboard_listens_only_on_loopback(tmp_path: Path) -> None:
    port = _free_port()
    env = os.environ | CHEAP_HASH | {"PATHWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    env |= {"PATHWAY_HOME": str(tmp_path)}
    pathway = Path(sys.executable).with_name("pathway")
    with (tmp_path / "dashboard.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(pathway), "dashboard", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_healthy(proc, port, "127.0.0.1", 90)
            assert listening_addresses(port) == {"127.0.0.1"}
        finally:
            stop_dashboard(proc)
