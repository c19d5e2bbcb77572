"""The layering rules of docs/architecture.md, checked on the source (ast, lazy imports included) and at
run time. No file is exempt: a rule that needs an exception is a rule to change in the docs first."""

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = ("pathway.cli", "dashboard", "flows")
# Inner to outer. A module imports only modules of its own rank or lower ranks (and no circle).
RANKS = (
    (0, ("pathway.errors", "pathway.settings", "pathway.logs")),
    (1, ("pathway.domain", "pathway.codes", "pathway.leaflets")),
    (2, ("pathway.store",)),
    (3, ("pathway.views",)),
    (4, ("pathway.services", "pathway.reminders", "pathway.exports")),
    (6, ADAPTERS),
)
PUBLIC_SURFACE = 5  # `pathway` itself (pathway/__init__.py)
# What an adapter may import from the core: the public surface and the services and views (the feature
# packages reminders, exports, codes and leaflets are services and views of their own).
ADAPTER_MAY_USE = (
    "pathway.services",
    "pathway.views",
    "pathway.reminders",
    "pathway.exports",
    "pathway.codes",
    "pathway.leaflets",
    "pathway.errors",
    "pathway.settings",
    "pathway.logs",
)
SQL_LIBRARIES = {"sqlalchemy", "sqlmodel", "alembic"}  # drivers (sqlite3, psycopg) name their errors only


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in ("pathway", "flows", "dashboard"):
        for path in (ROOT / package).rglob("*.py"):
            if "versions" in path.parts:  # migrations are frozen: checked by tests/store/test_migrations.py
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join([*package, *([node.module] if node.module else [])])


@cache
def imports(module: str) -> tuple[str, ...]:
    """Every module `module` imports, at top level or inside a function: `from a import b` counts as an
    import of `a.b` when that is a module, else of `a` (a package's __init__ is not an edge of its own)."""
    path = modules()[module]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append(candidate if candidate in modules() else base)
    return tuple(dict.fromkeys(found))


def _internal(name: str) -> str | None:
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def rank(module: str) -> int:
    if module == "pathway":
        return PUBLIC_SURFACE
    for value, prefixes in RANKS:
        if any(_within(module, p) for p in prefixes):
            return value
    raise AssertionError(f"{module} belongs to no layer: add it to RANKS and docs/architecture.md")


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module in modules():
        edges[module] = {t for t in map(_internal, imports(module)) if t and t != module}
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles() -> None:
    assert circles(graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_never_run_back_up_a_layer(module: str) -> None:
    for target in graph()[module]:
        if _within(module, "pathway.cli") and rank(target) == 6:
            continue  # the CLI mounts the other adapters' commands: it is the leaf, nothing imports it
        assert rank(target) <= rank(module), f"{module} (rank {rank(module)}) imports {target} (rank {rank(target)})"
    for name in imports(module):
        if not _within(module, "pathway.cli"):
            assert not _within(name, "pathway.cli"), f"{module} imports the CLI ({name}): the CLI is a leaf"


@pytest.mark.parametrize("module", sorted(m for m in modules() if m.startswith("pathway")))
def test_core_imports_neither_prefect_nor_streamlit_nor_an_adapter(module: str) -> None:
    if _within(module, "pathway.cli"):
        return  # the CLI is an adapter (checked below)
    for name in imports(module):
        root = name.split(".")[0]
        assert root not in {"prefect", "streamlit", "flows", "dashboard"}, f"{module} imports {name}"


@pytest.mark.parametrize("module", sorted(m for m in modules() if _within(m, "pathway.domain")))
def test_domain_is_pure(module: str) -> None:
    for name in imports(module):
        assert name.split(".")[0] not in SQL_LIBRARIES | {"prefect", "streamlit"}, f"{module} imports {name}"
        if name.startswith("pathway"):
            assert _within(name, "pathway.domain") or name in {"pathway.errors"}, f"{module} imports {name}"


@pytest.mark.parametrize("module", sorted(m for m in modules() if any(_within(m, a) for a in ADAPTERS)))
def test_adapters_use_only_the_public_surface_services_and_views(module: str) -> None:
    own = next(a for a in ADAPTERS if _within(module, a))
    for name in imports(module):
        root = name.split(".")[0]
        assert root not in SQL_LIBRARIES, f"{module} imports {name}: adapters never build SQL"
        if name == "pathway" or _within(name, own) or not name.startswith("pathway"):
            continue
        assert any(_within(name, p) for p in ADAPTER_MAY_USE), f"{module} imports {name}"
    if own in {"dashboard", "flows"}:
        other = {"dashboard", "flows"} - {own}
        assert not any(n.split(".")[0] in other for n in imports(module)), f"{module} imports another adapter"


@pytest.mark.parametrize("module", sorted(m for m in modules() if any(_within(m, a) for a in ADAPTERS)))
def test_adapters_never_open_sessions_or_commit(module: str) -> None:
    text = modules()[module].read_text()
    assert ".commit(" not in text
    assert "session_factory()()" not in text and "factory()()" not in text, f"{module} opens a session itself"


def test_public_surface_lists_what_it_exports() -> None:
    import pathway

    assert all(hasattr(pathway, name) for name in pathway.__all__)
    assert {"execute", "open_record", "worklist", "pathway_detail", "errors"} <= set(pathway.__all__)


def test_cli_starts_without_loading_prefect_or_streamlit() -> None:
    code = "import sys, pathway.cli.main; print(sorted(m for m in ('prefect', 'streamlit') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "path", sorted((ROOT / "pathway/store/migrations/versions").glob("*.py")), ids=lambda p: p.name
)
def test_migrations_are_frozen(path: Path) -> None:
    """A migration imports no live pathway code: it must do what it did at its revision forever."""
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        assert not any(n.split(".")[0] == "pathway" for n in names), f"{path.name} imports {names}"


@pytest.mark.parametrize("path", sorted((ROOT / "tests").rglob("test_*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_test_module_imports_another(path: Path) -> None:
    """Shared helpers live in tests/support or a conftest: importing a test module would run its tests twice
    (its test functions join the importer's) and tie one test file's internals to another's."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        for name in names:
            assert not name.split(".")[-1].startswith("test_"), f"{path.name} imports the test module {name}"
