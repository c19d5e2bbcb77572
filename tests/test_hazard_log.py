"""The hazard log names the tests that verify each control: every one must exist."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "docs" / "safety" / "hazard-log.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
REQUIRED_HAZARDS = [f"H{n}" for n in (*range(1, 10), *range(15, 24))]  # H15-H23: version 2


def _defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    }


def test_every_referenced_test_exists() -> None:
    references = REFERENCE.findall(LOG.read_text())
    assert len(references) >= 30
    missing = [
        f"{file}::{name}"
        for file, name in references
        if not (ROOT / file).exists() or name not in _defined_tests(ROOT / file)
    ]
    assert missing == []


def test_every_hazard_of_the_issue_has_verifying_tests() -> None:
    sections = re.split(r"^## ", LOG.read_text(), flags=re.MULTILINE)[1:]
    verified = {section.split()[0] for section in sections if REFERENCE.search(section)}
    assert set(REQUIRED_HAZARDS) <= verified
