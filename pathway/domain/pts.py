"""Post-thrombotic syndrome from the Villalta scores of a pathway's follow-up visits (pathway-spec (c), (d)).

- A score dated before P + 3 months is "acute phase, not diagnostic": it carries no PTS category
  (the Villalta scheme assesses 3-12 months after the DVT).
- From P + 3 months a score has its ISTH-standardised category (0-4 none, 5-9 mild, 10-14 moderate,
  15 or more, or an ulcer, severe). The bands belong to the Villalta instrument itself, so they are
  constants here, not policy.
- PTS is confirmed (CAVA) by a score of 5 or more on two visits at least 3 months apart, both on or after
  P + 3 months, or by an ulcer on or after P + 3 months.

Pure: visits, the presentation date and the policy in; plain values out.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from pathway.domain.clock import add_months
from pathway.domain.policy import Policy

NOT_DIAGNOSTIC = "acute phase, not diagnostic"
# ISTH-standardised Villalta bands (pathway-spec (d)): the lowest total of each category.
VILLALTA_BANDS = ((15, "severe"), (10, "moderate"), (5, "mild"))
PTS_CONFIRMED, PTS_NOT_CONFIRMED, PTS_NOT_ASSESSABLE = "confirmed", "not_confirmed", "not_yet_assessable"


def villalta_band(total: int, ulcer: bool) -> str:
    """The category of a score on the Villalta scale: an ulcer makes PTS severe whatever the total."""
    if ulcer:
        return "severe"
    return next((name for lowest, name in VILLALTA_BANDS if total >= lowest), "none")


def diagnostic_from(presented_on: date, policy: Policy) -> date:
    """The first day a Villalta score may diagnose PTS: P + 3 months."""
    return add_months(presented_on, policy.n("pts_assessment_months"))


@dataclass(frozen=True)
class Score:
    visit: str
    seen_on: date
    total: int
    ulcer: bool


@dataclass(frozen=True)
class ScoreReading:
    score: Score
    diagnostic: bool
    category: str | None  # None in the acute phase

    @property
    def words(self) -> str:
        return self.category if self.category else NOT_DIAGNOSTIC

    def as_dict(self) -> dict[str, object]:
        return {
            "visit": self.score.visit,
            "seen_on": self.score.seen_on.isoformat(),
            "villalta_total": self.score.total,
            "ulcer": self.score.ulcer,
            "diagnostic": self.diagnostic,
            "pts_category": self.category,
            "reading": self.words,
        }


@dataclass(frozen=True)
class PtsAssessment:
    status: str  # confirmed | not_confirmed | not_yet_assessable
    basis: str  # in plain words: which scores confirm it, or why it is not (yet) confirmed
    readings: tuple[ScoreReading, ...]

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "basis": self.basis, "scores": [r.as_dict() for r in self.readings]}


def category_on(seen_on: date, total: int, ulcer: bool, presented_on: date, policy: Policy) -> str | None:
    """A score's PTS category, or None for a score taken in the acute phase."""
    if seen_on < diagnostic_from(presented_on, policy):
        return None
    return villalta_band(total, ulcer)


def assess(scores: Iterable[Score], presented_on: date, policy: Policy) -> PtsAssessment:
    """Each score read against the timing rule, and whether PTS is confirmed (CAVA)."""
    start = diagnostic_from(presented_on, policy)
    ordered = sorted(scores, key=lambda s: s.seen_on)
    readings = tuple(
        ScoreReading(s, s.seen_on >= start, villalta_band(s.total, s.ulcer) if s.seen_on >= start else None)
        for s in ordered
    )
    diagnostic = [r.score for r in readings if r.diagnostic]
    ulcer = next((s for s in diagnostic if s.ulcer), None)
    if ulcer is not None:
        return PtsAssessment(PTS_CONFIRMED, f"venous ulcer at the {ulcer.visit} visit ({ulcer.seen_on})", readings)
    threshold, gap = policy.n("pts_villalta_threshold"), policy.n("pts_confirmation_months")
    high = [s for s in diagnostic if s.total >= threshold]
    for i, first in enumerate(high):
        second = next((s for s in high[i + 1 :] if s.seen_on >= add_months(first.seen_on, gap)), None)
        if second is not None:
            return PtsAssessment(
                PTS_CONFIRMED,
                f"Villalta {first.total} ({first.seen_on}) and {second.total} ({second.seen_on}), "
                f"{threshold} or more on two visits at least {gap} months apart",
                readings,
            )
    if not diagnostic:
        return PtsAssessment(
            PTS_NOT_ASSESSABLE, f"no Villalta score on or after {start} (scores before are acute phase)", readings
        )
    if high:
        return PtsAssessment(
            PTS_NOT_CONFIRMED,
            f"Villalta {high[-1].total} ({high[-1].seen_on}) awaits a second score of {threshold} or more "
            f"at least {gap} months apart",
            readings,
        )
    return PtsAssessment(PTS_NOT_CONFIRMED, f"no Villalta score of {threshold} or more on or after {start}", readings)


def scores_of(follow_ups: Iterable[dict[str, object]]) -> list[Score]:
    """The scored visits among a pathway's follow-up rows (pathway.store.repository)."""
    found = []
    for row in follow_ups:
        total = row.get("villalta_total")
        if isinstance(total, int):
            seen_on = row["seen_on"]
            assert isinstance(seen_on, date)
            found.append(Score(str(row["visit"]), seen_on, total, bool(row.get("villalta_ulcer"))))
    return found
