"""`python -m bench` (`make bench`): load each cohort, measure, write docs/benchmarks.{json,md,svg}.

python -m bench                                  # 1,000, 10,000 and 100,000 on SQLite and PostgreSQL
python -m bench --sizes 1000,10000 --repeats 5   # a quicker look
python -m bench --national                       # issue 15: 1,000 and 1,000,000 pathways on PostgreSQL
                                                 # (BENCH_NATIONAL=1 make bench; its own section of the report)
"""

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench import dashboard, measure, report, sweep
from bench.databases import Scratch, postgres_server, scratch
from bench.machine import describe, load_average
from pathway.domain.clock import london_today
from pathway.store.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
SEED = 7
LARGE = 100_000  # from this size up, demo-data runs --load-repeats-large times
# From this size up a cohort is given in pathways (`demo-data --pathways N`: 4 in 5 of N patients, the
# rest recurrences), since the 999 test range holds only 909,091 patients (docs/rules.md).
NATIONAL = 1_000_000


def say(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class Plan:
    sizes: list[int]
    as_of: date
    repeats: int
    commands: int
    detail_pathways: int
    load_repeats: int
    load_repeats_large: int
    sweep_repeats: int
    dashboard_repeats: int
    registry_repeats: int
    prefect_api: str | None
    sweep_missing: str | None
    dashboard_missing: str | None


def demo_data(url: str, home: Path, size: int, as_of: date) -> tuple[float, float]:
    """One `pathway demo-data` process into `url`: (wall seconds, CPU seconds of it and its workers)."""
    env = dict(os.environ) | {"PATHWAY_DATABASE_URL": url, "PATHWAY_HOME": str(home)}
    count = "--pathways" if size >= NATIONAL else "--patients"
    command = [sys.executable, "-m", "pathway.cli.main", "demo-data", count, str(size), "--seed", str(SEED)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*command, "--as-of", as_of.isoformat()], env=env, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@contextmanager
def prefect_server(folder: Path) -> Iterator[str]:
    """A local Prefect server for the sweeps (its files in the scratch folder); yields its API URL."""
    from flows.local_stack import stop_local_stack, wait_for_health

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = folder / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ) | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    with (home / "server.log").open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        say(f"Prefect server answered after {wait_for_health(port, server, timeout=300):.0f} s")
        yield f"http://127.0.0.1:{port}/api"
    finally:
        stop_local_stack([server])


def guarded(name: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A measurement, or a note of why it failed (the rest of the run goes on)."""
    try:
        return run()
    except Exception as problem:
        say(f"{name} failed: {type(problem).__name__}: {problem}")
        traceback.print_exc()
        return {name: {"skipped": f"failed: {type(problem).__name__}: {str(problem)[:300]}"}}


def one_cohort(plan: Plan, space: Scratch, size: int, save: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Load a cohort of `size` with demo-data (timed), then measure everything on it; `save` keeps what
    is measured so far after each step (a million-pathway run takes most of an hour). The registry
    export, the longest at a million, comes last."""
    backend = space.backend
    entry: dict[str, Any] = {"backend": backend, "size": size}
    home = space.folder / f"home-{size}"
    home.mkdir(exist_ok=True)
    loads = plan.load_repeats_large if size >= LARGE else plan.load_repeats
    walls, cpus, url = [], [], ""
    for k in range(max(1, loads)):
        if url:
            space.drop(url)
        url = space.fresh(f"{size}")
        wall, cpu = demo_data(url, home, size, plan.as_of)
        say(f"{backend} {size:,}: demo-data {k + 1}/{loads} in {wall:.1f} s (CPU {cpu:.1f} s)")
        walls.append(wall)
        cpus.append(cpu)
    entry["demo_data"] = {
        "median_s": round(statistics.median(walls), 2),
        "cpu_s": round(statistics.median(cpus), 2),
        "all_s": [round(w, 2) for w in walls],
        "runs": len(walls),
    }
    entry["url"] = url  # kept for the interleaved scaling rounds, dropped after them
    save(entry)
    engine = make_engine(url)
    try:
        entry["load_average_before_reads"] = load_average()
        entry |= guarded("worklist", lambda: measure.worklist_pages(engine, plan.as_of, plan.repeats))
        entry |= guarded("count_open", lambda: measure.severity_counts(engine, plan.as_of, plan.repeats))
        refs = measure.sample_pathways(engine, plan.commands + 5 + plan.detail_pathways)
        details, commanded = refs[: plan.detail_pathways], refs[plan.detail_pathways :]
        entry |= guarded("pathway_detail", lambda: measure.patient_page(engine, plan.as_of, details))
        entry |= guarded("command", lambda: measure.commands(engine, plan.as_of, commanded))
        say(f"{backend} {size:,}: reads and commands measured")
        save(entry)
    finally:
        engine.dispose()
    if plan.sweep_missing is not None or plan.prefect_api is None:
        entry["sweep"] = {"skipped": plan.sweep_missing or "no Prefect server"}
    else:
        api = plan.prefect_api
        entry |= guarded("sweep", lambda: sweep.measure(url, home, plan.as_of, api, plan.sweep_repeats))
        say(f"{backend} {size:,}: sweep {entry['sweep']}")
        save(entry)
    if plan.dashboard_missing is not None:
        entry["dashboard"] = {"skipped": plan.dashboard_missing}
    elif size in (min(plan.sizes), max(plan.sizes)):
        entry |= guarded("dashboard", lambda: dashboard.measure(url, home, plan.dashboard_repeats))
        say(f"{backend} {size:,}: dashboard {entry['dashboard']}")
    save(entry)
    engine = make_engine(url)
    try:
        entry |= guarded("registry_export", lambda: measure.registry(engine, plan.as_of, plan.registry_repeats))
        say(f"{backend} {size:,}: registry export {entry['registry_export']}")
    finally:
        engine.dispose()
    save(entry)
    return entry


def interleave(plan: Plan, entries: list[dict[str, Any]]) -> None:
    """The worklist on every size of one backend in interleaved rounds (for the scaling target)."""
    engines = {entry["size"]: make_engine(entry["url"]) for entry in entries}
    try:
        found = guarded("scaling", lambda: {"by_size": measure.scaling(engines, plan.as_of, plan.repeats)})
    finally:
        for engine in engines.values():
            engine.dispose()
    for entry in entries:
        entry |= found.get("by_size", {}).get(entry["size"], {})
    say(f"{entries[0]['backend']}: interleaved worklist rounds on every size measured")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks against the SQL floor.")
    parser.add_argument("--sizes", default=None, help="default 1000,10000,100000 (--national: 1000,1000000)")
    parser.add_argument("--backends", default=None, help="default sqlite,postgresql (--national: postgresql)")
    parser.add_argument(
        "--national",
        action="store_true",
        default=os.environ.get("BENCH_NATIONAL") == "1",
        help="issue 15's million-pathway tier, its slow measurements once; kept beside the other results",
    )
    parser.add_argument("--registry-repeats", type=int, default=None, help="timed registry exports (default 3)")
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds of each read")
    parser.add_argument("--commands", type=int, default=50, help="timed commands (after 5 untimed)")
    parser.add_argument("--detail-pathways", type=int, default=15)
    parser.add_argument("--load-repeats", type=int, default=3, help="demo-data runs below 100,000")
    parser.add_argument("--load-repeats-large", type=int, default=1, help="demo-data runs at 100,000 and up")
    parser.add_argument("--sweep-repeats", type=int, default=3)
    parser.add_argument("--dashboard-repeats", type=int, default=3)
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--no-dashboard", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    if args.national:  # a million pathways: one load, one sweep and one registry export take minutes each
        args.sizes = args.sizes or f"1000,{NATIONAL}"
        args.backends = args.backends or "postgresql"
        args.sweep_repeats = min(args.sweep_repeats, 1)
        args.registry_repeats = args.registry_repeats or 1
    args.sizes = args.sizes or "1000,10000,100000"
    args.backends = args.backends or "sqlite,postgresql"
    args.registry_repeats = args.registry_repeats or 3
    started = time.perf_counter()
    server = postgres_server()
    machine = describe(server)
    if server is not None:
        server.dispose()
    sweep_missing = "not run (--no-sweep)" if args.no_sweep else sweep.available()
    dashboard_missing = "not run (--no-dashboard)" if args.no_dashboard else dashboard.available()
    results: list[dict[str, Any]] = []
    progress = Path(tempfile.gettempdir()) / f"pathway-bench-progress-{os.getpid()}.json"
    say(f"what is measured so far is kept in {progress}")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pathway-bench-")))
        prefect_api = stack.enter_context(prefect_server(work)) if sweep_missing is None else None
        plan = Plan(
            sizes=sorted(int(s) for s in args.sizes.split(",")),
            as_of=london_today(),
            repeats=args.repeats,
            commands=args.commands,
            detail_pathways=args.detail_pathways,
            load_repeats=args.load_repeats,
            load_repeats_large=args.load_repeats_large,
            sweep_repeats=args.sweep_repeats,
            dashboard_repeats=args.dashboard_repeats,
            registry_repeats=args.registry_repeats,
            prefect_api=prefect_api,
            sweep_missing=sweep_missing,
            dashboard_missing=dashboard_missing,
        )
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            try:
                space = stack.enter_context(scratch(backend))
            except ConnectionError as problem:
                say(f"{backend}: skipped: {problem}")
                continue
            mine: list[dict[str, Any]] = []
            for size in plan.sizes:

                def save(entry: dict[str, Any], done: list[dict[str, Any]] = results + mine) -> None:
                    progress.write_text(json.dumps([*done, entry], indent=1, default=str))

                mine.append(one_cohort(plan, space, size, save))
            interleave(plan, mine)
            for entry in mine:
                space.drop(entry.pop("url"))
            results += mine
    machine["load_average_at_end"] = load_average()
    settings = {k: v for k, v in vars(plan).items() if k not in ("prefect_api",)} | {"seed": SEED}
    settings["total_minutes"] = round((time.perf_counter() - started) / 60, 1)
    report.write(args.out, machine, settings, results, national=args.national)
    say(f"wrote {args.out / 'benchmarks.md'} ({settings['total_minutes']} minutes)")
    for target in (report.national_targets if args.national else report.targets)(results):
        state = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        say(f"{state}: {target['target']} on {target['backend']}: {target['measured']} {target['unit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
