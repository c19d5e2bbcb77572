"""The local Prefect stack of `make demo`: a Prefect server and the process serving every deployment.

    processes = start_local_stack(Path(".pathway"))   # UI at http://127.0.0.1:4200
    ...
    stop_local_stack(processes)

Prefect's files (its SQLite database, logs) live under home/"prefect", inside the project's local
data folder; both processes get PATHWAY_HOME=home so the served flows use the demo database.

`temporary_server()` is the one-command server of `pathway reminders run` when no PREFECT_API_URL is
set: like Prefect's own temporary server, but tethered (flows.tether), so it stops when the command
ends, even when the command is killed with SIGKILL (Prefect's own stops only at a normal exit).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def stack_environment(home: Path, port: int) -> dict[str, str]:
    """The environment of every process of the stack (server, serving process, workers, flow runs)."""
    env = dict(os.environ)
    env.update(
        PATHWAY_HOME=str(home.resolve()),
        PREFECT_HOME=str((home / "prefect").resolve()),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # Each process imports Prefect (seconds of compiling without bytecode): keep the bytecode in the
        # data folder, even where PYTHONDONTWRITEBYTECODE is set, so only the first process pays.
        PYTHONPYCACHEPREFIX=str((home / "prefect" / "pycache").resolve()),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def wait_for_health(port: int, server: subprocess.Popen[bytes], *, timeout: float = 120.0) -> float:
    """Poll /api/health until it answers; fail at once if the server exits. Returns seconds waited."""
    started = time.monotonic()
    url = f"http://127.0.0.1:{port}/api/health"
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with status {server.returncode}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass  # not listening yet
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"the Prefect server did not answer {url} within {timeout:.0f} s")
        time.sleep(0.25)


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        # Own process group: stopping the stack stops each process's children too.
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def start_local_stack(home: Path, port: int = 4200, *, timeout: float = 120.0) -> list[subprocess.Popen[bytes]]:
    """Start the Prefect server, wait for its health endpoint, then start serving the deployments."""
    prefect_home = home / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)
    env = stack_environment(home, port)
    server_command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = _start(server_command, env, prefect_home / "server.log")
    try:
        wait_for_health(port, server, timeout=timeout)
    except BaseException:
        stop_local_stack([server])
        raise
    serving = _start([sys.executable, "-m", "flows.serve"], env, prefect_home / "serve.log")
    return [server, serving]


def stop_local_stack(processes: list[subprocess.Popen[bytes]], *, timeout: float = 30.0) -> None:
    """Interrupt each process group (serving first), as Ctrl-C would; kill a group that hangs."""
    for process in reversed(processes):
        if process.poll() is not None:
            continue
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass(frozen=True)
class TemporaryServer:
    api_url: str
    tether_pid: int  # the process that stops the server when this one ends


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def temporary_server(*, timeout: float = 120.0) -> Iterator[TemporaryServer]:
    """A Prefect API server (no UI) for this process only, stopped when it ends, however it ends."""
    import prefect
    from prefect.settings import get_current_settings

    port = _free_port()
    env = os.environ | get_current_settings().to_environment_variables(exclude_unset=True)
    env |= {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    server = [
        *(sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent)),
        *("--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "error", "--lifespan", "on"),
    ]
    # Only this process holds the pipe's write end (os.pipe is not inherited by other children): when
    # it ends, the tether reads end of file and stops the server's process group.
    read_end, write_end = os.pipe()
    try:
        tether = subprocess.Popen(
            [sys.executable, "-m", "flows.tether", *server], stdin=read_end, env=env, cwd=ROOT, start_new_session=True
        )
    finally:
        os.close(read_end)
    try:
        wait_for_health(port, tether, timeout=timeout)
        yield TemporaryServer(f"http://127.0.0.1:{port}/api", tether.pid)
    finally:
        _drain_prefect_workers()  # the run's logs and events reach the server before it stops
        os.close(write_end)  # the tether stops the server
        try:
            tether.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(tether.pid, signal.SIGKILL)
            tether.wait()


def _drain_prefect_workers() -> None:
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)
    EventsWorker.drain_all(timeout=30)
