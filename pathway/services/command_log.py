"""Reading a command log: each line becomes a command object, or the reason it cannot be one.

A line is read on its own, so one bad line never stops the lines after it:
- bytes that are not UTF-8 (a byte-order mark before the first line is allowed);
- JSON that does not parse, nests too deeply for the parser, or holds NaN, Infinity or a number of
  more digits than Python converts;
- the same key twice in one object (JSON leaves it open; last-one-wins would silently drop a value);
- a string holding a lone surrogate ("\\ud800" escaped in JSON): not text, and no database stores it.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pathway.errors import CommandLogLineError

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class LineRefused:
    """Why a line is not a command (said as `line N: reason`)."""

    reason: str


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise CommandLogLineError(f"duplicate key {json.dumps(key)}")
        found[key] = value
    return found


def _constant(name: str) -> Any:
    raise CommandLogLineError(f"command: not valid JSON ({name} is not a number)")


def _surrogate_in(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_surrogate_in(k) or _surrogate_in(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_surrogate_in(v) for v in value)
    return False


def parse_line(raw: bytes, *, first: bool = False) -> Any:
    """The line's JSON value, or LineRefused. (Whether the value is a valid command is for the services.)"""
    if first and raw.startswith(BOM):
        raw = raw[len(BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return LineRefused(f"command: not valid UTF-8 (byte 0x{raw[error.start]:02x} at position {error.start})")
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except CommandLogLineError as refused:
        return LineRefused(refused.reason)
    except json.JSONDecodeError as error:
        return LineRefused(f"command: not valid JSON ({error.msg})")
    except RecursionError:
        return LineRefused("command: nested too deeply to read")
    except ValueError:  # Python refuses to convert integers of more than 4300 digits
        return LineRefused("command: not valid JSON (a number of more than 4300 digits)")
    try:
        return _refuse_surrogates(value)
    except RecursionError:
        return LineRefused("command: nested too deeply to read")


def _refuse_surrogates(value: Any) -> Any:
    if isinstance(value, dict):
        for field, item in value.items():
            if _surrogate_in(field):
                return LineRefused("command: a field name is not valid text (a lone surrogate)")
            if _surrogate_in(item):
                return LineRefused(f"{field}: not valid text (a lone surrogate)")
    elif _surrogate_in(value):
        return LineRefused("command: not valid text (a lone surrogate)")
    return value


def read_log(lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value or LineRefused) for every line that is not blank."""
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            yield number, parse_line(raw, first=number == 1)
