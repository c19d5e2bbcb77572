"""A pathway's timeline as plain rows for a chart: read from the one stage declaration (pathway.domain.stages).

Rows come in the order the stages and steps are declared, with the declared titles, so adding a
stage there adds it to the dashboard's chart. Presentation comes first, and the 14-day treatment
window is given as a span the chart shades.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from pathway.domain.policy import Policy, policy_in_force
from pathway.domain.stages import STAGES

PRESENTATION = "Presentation"
# Where each declared step sits in the chart, top to bottom.
_ORDER: dict[str, tuple[int, str, str]] = {}
for _stage in STAGES:
    for _step in _stage.steps:
        _ORDER[_step.code] = (len(_ORDER) + 1, _stage.title, _step.title)


class StepLike(Protocol):
    code: str
    owner_role: str
    warn_on: date
    due_on: date
    done_on: date | None


@dataclass(frozen=True)
class TimelineRow:
    order: int
    stage: str
    step: str
    code: str
    owner_role: str
    warn_on: date
    due_on: date
    done_on: date | None
    status: str  # done, done_late, overdue, due, upcoming, event


@dataclass(frozen=True)
class Timeline:
    presented_on: date
    window_closes_on: date  # the last day of the treatment window (day 14)
    as_of: date
    rows: tuple[TimelineRow, ...]


def step_status(warn_on: date, due_on: date, done_on: date | None, as_of: date) -> str:
    if done_on is not None:
        return "done_late" if done_on > due_on else "done"
    if as_of > due_on:
        return "overdue"
    return "due" if as_of >= warn_on else "upcoming"


def build_timeline(
    presented_on: date, steps: Iterable[StepLike], as_of: date, *, policy: Policy | None = None
) -> Timeline:
    """The presentation event, then each planned step (due and done dates), in declaration order."""
    window = (policy or policy_in_force()).n("treatment_window_days")
    rows = [
        TimelineRow(
            0, PRESENTATION, PRESENTATION, "presentation", "", presented_on, presented_on, presented_on, "event"
        )
    ]
    for step in steps:
        order, stage, title = _ORDER.get(step.code, (len(_ORDER) + 1, step.code, step.code))
        status = step_status(step.warn_on, step.due_on, step.done_on, as_of)
        rows.append(
            TimelineRow(
                order, stage, title, step.code, step.owner_role, step.warn_on, step.due_on, step.done_on, status
            )
        )
    rows.sort(key=lambda r: r.order)
    return Timeline(presented_on, presented_on + timedelta(days=window), as_of, tuple(rows))
