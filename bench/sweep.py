"""The reminder sweep end to end through Prefect, in a process of its own (for its peak memory).

The parent (`measure`) runs `python -m bench.sweep AS_OF` with the database, the data folder and a
Prefect server's API URL in the environment; the child runs flows.reminder_sweep once, counts the
flow run's task runs on the server, and prints one JSON object.
"""

import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import text

from pathway.store.db import make_engine

SWEEP_FLOW = Path(__file__).resolve().parents[1] / "flows" / "reminder_sweep.py"


def available() -> str | None:
    """Why the sweep cannot be measured, or None when it can."""
    if not SWEEP_FLOW.exists():
        return "not available: flows/reminder_sweep.py does not exist yet"
    try:
        import flows.reminder_sweep  # noqa: F401
    except Exception as problem:
        return f"not available: flows.reminder_sweep does not import ({type(problem).__name__}: {problem})"
    return None


def reset_notifications(url: str) -> None:
    """Forget every notification and flow trigger, so a repeated sweep does the same work again."""
    engine = make_engine(url)
    with engine.begin() as connection:
        for table in ("notification", "flow_trigger"):
            connection.execute(text(f'DELETE FROM "{table}"'))
    engine.dispose()


def measure(url: str, home: Path, as_of: date, prefect_api: str, times: int) -> dict[str, Any]:
    """Median of `times` sweeps (notifications forgotten before each), task runs, peak memory."""
    env = dict(os.environ)
    for name in [key for key in env if key.startswith("PATHWAY_REMINDER_")]:
        del env[name]
    env |= {
        "PATHWAY_DATABASE_URL": url,
        "PATHWAY_HOME": str(home),
        "PREFECT_API_URL": prefect_api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PATHWAY_REMINDER_BACKOFF_SECONDS": "0",
    }
    runs: list[dict[str, Any]] = []
    for _ in range(times):
        reset_notifications(url)
        (home / "outbox.jsonl").unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "bench.sweep", as_of.isoformat()],
            env=env,
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"sweep child failed ({done.returncode}): {done.stderr[-2000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    seconds = sorted(run["flow_seconds"] for run in runs)
    return {
        "sweep": {
            "median_s": round(seconds[len(seconds) // 2], 3),
            "runs": len(runs),
            "all_s": [round(s, 3) for s in seconds],
            "task_runs": sorted({run["task_runs"] for run in runs}),
            "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
            "sent": runs[-1]["counts"]["sent"],
            "failed": runs[-1]["counts"]["failed"],
            "process_s": round(max(run["process_seconds"] for run in runs), 3),
        }
    }


def _task_runs(flow_run_id: UUID, settle: float = 15.0) -> int:
    """Task runs the server holds for the flow run (they arrive as events: wait until they settle)."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + settle
    seen, stable_since = -1, time.monotonic()
    with get_client(sync_client=True) as client:
        while True:
            found = len(client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))))
            if found != seen:
                seen, stable_since = found, time.monotonic()
            elif found > 0 and time.monotonic() - stable_since > 1.5:
                return found
            if time.monotonic() > deadline:
                return found
            time.sleep(0.25)


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux VmHWM: ru_maxrss also counts the parent's resident
    memory at the fork (kept across exec), so it reported the bench's own size, not the sweep's."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    as_of = date.fromisoformat(sys.argv[1])
    started = time.perf_counter()
    from flows.reminder_sweep import reminder_sweep

    before = time.perf_counter()
    state = reminder_sweep(as_of=as_of, return_state=True)
    flow_seconds = time.perf_counter() - before
    counts = state.result()
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    task_runs = _task_runs(flow_run_id)
    peak = peak_rss_mb()
    sys.stdout.write(
        json.dumps(
            {
                "flow_seconds": flow_seconds,
                "process_seconds": time.perf_counter() - started,
                "counts": counts,
                "task_runs": task_runs,
                "peak_rss_mb": round(peak, 1),
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
