"""The dashboard worklist's first render in Debian's chromium, and the dashboard process's peak RSS.

Each run starts a fresh dashboard server (dashboard.launch: the heavy imports are paid before it
answers), signs a coordinator in with Playwright driving chromium (`executable_path`, never
`playwright install`), and times from the click on "Sign in" until the worklist's table holds rows
and the script has finished. A fresh server per run, so every run is a first render (Streamlit's
caches start empty). The peak RSS is the server process's high-water mark (VmHWM).
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "streamlit_app.py"
ACCOUNT = "bench-coordinator"
PASSWORD = "bench password, synthetic data only"
# Cheap argon2 for the benchmark account only (the hash records its own parameters).
CHEAP_HASH = {"PATHWAY_ARGON2_TIME_COST": "1", "PATHWAY_ARGON2_MEMORY_KIB": "64"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def available() -> str | None:
    """Why the dashboard cannot be measured, or None when it can."""
    if not APP.exists():
        return "not available: dashboard/streamlit_app.py does not exist yet"
    if shutil.which("chromium") is None:
        return "not available: Debian's chromium is not installed (make browser)"
    try:
        import playwright.sync_api  # noqa: F401

        import dashboard.launch  # noqa: F401
    except Exception as problem:
        return f"not available: {type(problem).__name__}: {problem}"
    return None


def measure(url: str, home: Path, times: int) -> dict[str, Any]:
    """Median first render over `times` fresh servers, and the highest peak RSS among them."""
    env = dict(os.environ) | CHEAP_HASH | {"PATHWAY_DATABASE_URL": url, "PATHWAY_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.dashboard", str(times)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dashboard child failed ({done.returncode}): {done.stderr[-2000:]}")
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = sorted(run["first_render_s"] for run in runs)
    return {
        "dashboard": {
            "first_render_median_s": round(seconds[len(seconds) // 2], 3),
            "first_render_all_s": [round(s, 3) for s in seconds],
            "runs": len(runs),
            "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
            "heading_median_s": round(sorted(run["heading_s"] for run in runs)[len(runs) // 2], 3),
            "server_start_s": round(max(run["server_start_s"] for run in runs), 3),
        }
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _ensure_account() -> None:
    from pathway.domain.vocabulary import Role
    from pathway.errors import AccountError
    from pathway.services.accounts import add_user
    from pathway.settings import Settings
    from pathway.store.db import make_engine, make_session_factory

    engine = make_engine(Settings().resolved_database_url())
    with contextlib.suppress(AccountError):  # there from an earlier run
        add_user(make_session_factory(engine), ACCOUNT, Role.coordinator, PASSWORD)
    engine.dispose()


def _one_render(log: Path) -> dict[str, Any]:
    from playwright.sync_api import expect, sync_playwright

    from dashboard.launch import start_dashboard, stop_dashboard

    port = _free_port()
    started = time.perf_counter()
    with log.open("ab") as output:
        server = start_dashboard(port, dict(os.environ), address="127.0.0.1", timeout=180, log=output)
    server_start = time.perf_counter() - started
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
            page.set_default_timeout(180_000)
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_label("Username").fill(ACCOUNT)
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            clicked = time.perf_counter()
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
            heading = time.perf_counter() - clicked
            grid = page.get_by_test_id("stDataFrame").get_by_role("gridcell", include_hidden=True)
            expect(grid.first).to_be_attached()
            expect(page.get_by_text("As of")).to_be_visible()
            expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
            rendered = time.perf_counter() - clicked
            browser.close()
        return {
            "first_render_s": rendered,
            "heading_s": heading,
            "server_start_s": server_start,
            "peak_rss_mb": _peak_rss_mb(server.pid),
        }
    finally:
        stop_dashboard(server)


def main() -> None:
    times = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    _ensure_account()
    log = Path(os.environ.get("PATHWAY_HOME", ".")) / "dashboard-bench.log"
    runs = [_one_render(log) for _ in range(times)]
    sys.stdout.write(json.dumps(runs) + "\n")


if __name__ == "__main__":
    main()
