"""Start the dashboard as a child process and wait until it answers (for `make demo` and browser tests).

    proc = start_dashboard(8501, os.environ | {"PATHWAY_DATABASE_URL": url})

`python -m dashboard.launch --port 8501` does the same and then waits for the server to stop.
"""

import argparse
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

# Streamlit's ASGI server with the session cookie's routes (dashboard/server.py runs dashboard/streamlit_app.py).
DASHBOARD_APP = Path(__file__).resolve().with_name("server.py")
APP = DASHBOARD_APP
# Import the heavy libraries before the server starts, so the first page a user opens does not
# pay for them (seconds on a busy two-core machine); then hand over to Streamlit's own CLI. The ORM's
# mappers are configured here too (70 ms of the first query otherwise), and everything imported so
# far is frozen out of the garbage collector: Streamlit collects after every script run
# (runner.postScriptGC), and walking these long-lived modules' objects each time took about 0.15 s,
# once between the sign-in and the worklist and once while the browser draws it.
WARM_START = "; ".join(
    (
        "import gc, altair, pandas, pyarrow, argon2, sqlalchemy.orm, pathway.services.accounts, pathway.views.reports",
        "from streamlit.web.cli import main",
        "sqlalchemy.orm.configure_mappers()",
        "gc.collect()",
        "gc.freeze()",
        "main()",
    )
)
READY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.2


# Loopback only unless asked: the dashboard speaks plain HTTP, so reaching it from other machines
# needs TLS in front (docs/deploy.md), and then the proxy is what listens on the network.
DEFAULT_ADDRESS = "127.0.0.1"


def dashboard_command(port: int, address: str = DEFAULT_ADDRESS) -> list[str]:
    """The command line that serves the dashboard (`pathway dashboard` uses it too): Streamlit's own CLI
    after the warm start, so a served dashboard's first pages are as quick as the measured ones."""
    return [
        sys.executable,
        "-c",
        WARM_START,
        "run",
        str(DASHBOARD_APP),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        "--server.address",
        address,
    ]


class DashboardDidNotStart(RuntimeError):
    pass


def is_healthy(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_dashboard(
    port: int,
    env: dict[str, str],
    *,
    address: str = DEFAULT_ADDRESS,
    timeout: float = READY_TIMEOUT_SECONDS,
    log: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start Streamlit on `port` and return once /_stcore/health answers; raises if it never does."""
    proc = subprocess.Popen(
        dashboard_command(port, address),
        env=env,
        cwd=APP.parents[1],
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    wait_until_healthy(proc, port, address, timeout)
    return proc


def wait_until_healthy(proc: subprocess.Popen[bytes], port: int, address: str, timeout: float) -> None:
    """Return once /_stcore/health answers on the address served; stop the process and raise if it
    exits first or never answers within `timeout`."""
    host = "127.0.0.1" if address in ("0.0.0.0", "") else address
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DashboardDidNotStart(f"streamlit exited with status {proc.returncode}")
        if is_healthy(port, host):
            return
        time.sleep(POLL_SECONDS)  # polling interval, not a wait for readiness
    stop_dashboard(proc)
    raise DashboardDidNotStart(f"no answer from /_stcore/health on port {port} within {timeout:.0f} s")


def stop_dashboard(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the dashboard and wait until it is ready.")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--address", default=DEFAULT_ADDRESS)
    args = parser.parse_args()
    proc = start_dashboard(args.port, dict(os.environ), address=args.address, log=sys.stdout.buffer)
    sys.stdout.write(f"dashboard ready on http://{args.address}:{args.port}\n")
    sys.stdout.flush()
    try:
        proc.wait()
    except KeyboardInterrupt:
        stop_dashboard(proc)


if __name__ == "__main__":
    main()
