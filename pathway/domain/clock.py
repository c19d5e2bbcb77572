"""Calendar arithmetic for clinical dates.

Clinical facts are calendar dates meant in Europe/London; recording times are UTC instants.
Nothing here reads the system clock except `utc_now`, which only the edges (CLI, dashboard,
flows) call; rules and services take dates and instants as arguments.
"""

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

LONDON = ZoneInfo("Europe/London")


def utc_now() -> datetime:
    return datetime.now(UTC)


def london_date(instant: datetime) -> date:
    """The calendar day in Europe/London at a UTC instant (handles BST/GMT changes)."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(LONDON).date()


def london_today() -> date:
    return london_date(utc_now())


@lru_cache(maxsize=1 << 16)
def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later; the month's last day where that day does not exist.

    relativedelta clamps exactly this way (30 Nov + 3 months = 28/29 Feb). Remembered: planning a
    cohort asks for the same few thousand dates again and again (issue 15).
    """
    result: date = day + relativedelta(months=months)
    return result


def age_on(born: date, day: date) -> int:
    """Age on `day` (the contract's "age on a date"): full years since `born`. A birthday on `day`
    counts; someone born on 29 February turns a year older on 1 March in a year without one."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
