"""The layering rules of docs/design.md, checked on the source (ast) and at run time."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at top level) for every import in a file."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, id(node) in top))
    return found


def _sources(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", _sources("pathway"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_neither_prefect_nor_streamlit(path: Path) -> None:
    for module, _top in _imports(path):
        root = module.split(".")[0]
        assert root not in {"prefect", "streamlit"}, f"{path.name} imports {module}"
        if path.name != "cli.py":  # the CLI is the composition root and mounts the adapters' commands
            assert root not in {"flows", "dashboard"}, f"{path.name} imports {module}"


@pytest.mark.parametrize("path", _sources("flows") + _sources("dashboard"), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_never_build_sql_or_commit(path: Path) -> None:
    for module, _top in _imports(path):
        assert module.split(".")[0] not in {"sqlalchemy", "sqlmodel"}, f"{path.name} imports {module}"
    assert ".commit(" not in path.read_text()


def test_cli_starts_without_loading_prefect_or_streamlit() -> None:
    code = "import sys, pathway.cli; print(sorted(m for m in ('prefect', 'streamlit') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
