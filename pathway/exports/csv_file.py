"""The one CSV writer of every export: the worklist, the registry file, the audit report, the
dashboard's downloads and the code lists.

A spreadsheet opening a CSV runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and
tab or carriage return lead to the same on some), so a site typed as `=HYPERLINK("http://…")`
would become a live link in the coordinator's spreadsheet. Following OWASP's CSV injection advice,
every text cell that starts with one of those characters gets a leading single quote, which the
spreadsheet shows as text; the csv module quotes what needs quoting. Numbers stay numbers (a window
of -8 days is the number -8, not text) and dates stay ISO dates. Hazard H12.

    text = write_csv(rows, ["pathway", "site", "window_days_left"])
"""

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from numbers import Integral, Real
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text that a spreadsheet shows as text: a leading quote when it would start a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str | int | float:
    """A value as one CSV cell: numbers as numbers, dates as ISO dates, yes/no, lists joined by `;`,
    nothing as empty; anything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":  # numpy's bool too
        return "yes" if value else "no"
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        number = float(value)
        return "" if math.isnan(number) else number
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return neutralise(";".join(str(item) for item in value))
    return neutralise(str(value))


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV text: a header, then each row's `columns` (missing ones empty) made safe by `cell`."""
    buffer = io.StringIO()
    # RFC 4180 line ends: a field holding either CR or LF is then quoted, never split into two rows.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(column) for column in columns])
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return buffer.getvalue()
