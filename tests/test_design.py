"""docs/design.md's module table against the code: every import allowed by its row, and no cycle.

Imports anywhere in a file count, function-local ones included (they hide cycles as well as any).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "seqcnn"
DESIGN = ROOT / "docs" / "design.md"


def design_rows() -> dict[str, set[str] | None]:
    """Row name (``files``, ``io``...) -> the rows it may import; None for "everything"."""
    rows: dict[str, set[str] | None] = {}
    for line in DESIGN.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([\w_]+)(?:\.py|/)`", cells[0]) if len(cells) == 3 else None
        if not match:
            continue
        allowed = cells[2]
        if allowed == "everything":
            rows[match.group(1)] = None
        else:
            rows[match.group(1)] = set() if allowed == "nothing" else {a.strip() for a in allowed.split(",")}
    return rows


def module_names() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target not in (name, "seqcnn"):
                found.add(target)
    return found


def row_of(module: str) -> str:
    """The table row of a module: ``seqcnn.io.fasta`` -> ``io``, ``seqcnn.files`` -> ``files``."""
    return module.split(".")[1]


def graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports_of(name, path, modules) for name, path in modules.items() if name != "seqcnn"}


def test_every_module_has_a_row_and_imports_only_what_it_allows():
    rows = design_rows()
    assert {"errors", "files", "io", "cli", "loading", "checkpoint"} <= set(rows)  # the table was found
    unknown = sorted({row_of(m) for m in graph()} - set(rows))
    assert not unknown, f"modules without a row in docs/design.md: {unknown}"
    wrong = []
    for module, targets in graph().items():
        allowed = rows[row_of(module)]
        for target in targets:
            if allowed is not None and row_of(target) != row_of(module) and row_of(target) not in allowed:
                wrong.append(f"{module} imports {target}, not in the '{row_of(module)}' row")
    assert not wrong, "\n".join(wrong)


def test_rows_name_only_rows_and_nothing_imports_cli():
    rows = design_rows()
    for name, allowed in rows.items():
        assert allowed is None or allowed <= set(rows), f"{name}: may import unknown {sorted(allowed - set(rows))}"
    assert all("cli" not in allowed for name, allowed in rows.items() if allowed is not None and name != "__main__")


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join(path[path.index(nxt):] + [node, nxt])
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


def test_the_checker_sees_function_local_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from seqcnn.jobs.train import train\n    return train\n")
    assert imports_of("seqcnn.x", module, module_names()) == {"seqcnn.jobs.train"}
