"""Reading a command log line by line: any bytes at all give a value or a reason, never an exception."""

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pathway.services.command_log import LineRefused, parse_line, read_log

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


def _has_surrogate(value: Any) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in json.dumps(value, ensure_ascii=False))


@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_refused_without_an_exception(raw: bytes) -> None:
    result = parse_line(raw)
    assert not isinstance(result, LineRefused) or result.reason


@given(JSON_VALUES)
def test_a_json_line_reads_back_unless_it_holds_a_lone_surrogate(value: Any) -> None:
    result = parse_line(json.dumps(value).encode())
    if _has_surrogate(value):
        assert isinstance(result, LineRefused) and "lone surrogate" in result.reason
    else:
        assert result == value


def test_read_log_numbers_lines_and_skips_blank_ones() -> None:
    lines = [b'{"a": 1}\n', b"   \n", b'{"a": 1, "a": 2}\n', b"\xff\n"]
    assert list(read_log(lines)) == [
        (1, {"a": 1}),
        (3, LineRefused('duplicate key "a"')),
        (4, LineRefused("command: not valid UTF-8 (byte 0xff at position 0)")),
    ]
