"""docs/design.md's layout against the code: every import allowed by its row, rows importing only rows above
them (no upward import between packages), every module listed, no cycle, no private name imported.

Imports anywhere in a file count, function-local ones included (they hide cycles as well as any).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "seqcnn"
DESIGN = ROOT / "docs" / "design.md"
MAX_TOP_MODULES = 8  # modules at the top of src/seqcnn, besides __init__.py and __main__.py


def design_rows() -> dict[str, set[str] | None]:
    """Row name (``files``, ``io``...) -> the rows it may import; None for "everything". In the table's order."""
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


def import_targets(path: Path) -> list[tuple[ast.AST, str, list[str]]]:
    """Every absolute import of a file: (node, module, imported names); names empty for ``import x``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node, node.module, [a.name for a in node.names]))
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file."""
    found = set()
    for _, module, names in import_targets(path):
        for target in [module] + [f"{module}.{n}" for n in names]:
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
    assert {"errors", "files", "io", "data", "runs", "training", "jobs", "cli"} <= set(rows)  # the table was found
    unknown = sorted({row_of(m) for m in graph()} - set(rows))
    assert not unknown, f"modules without a row in docs/design.md: {unknown}"
    wrong = []
    for module, targets in graph().items():
        allowed = rows[row_of(module)]
        for target in targets:
            if allowed is not None and row_of(target) != row_of(module) and row_of(target) not in allowed:
                wrong.append(f"{module} imports {target}, not in the '{row_of(module)}' row")
    assert not wrong, "\n".join(wrong)


def test_rows_import_only_rows_above_them():
    """The table is in order, lowest first: no row may import one below it, so packages form no cycle."""
    rows = design_rows()
    order = list(rows)
    for name, allowed in rows.items():
        if allowed is None:  # cli: everything, and nothing imports it
            continue
        unknown = allowed - set(rows)
        assert not unknown, f"{name}: may import unknown rows {sorted(unknown)}"
        below = sorted(a for a in allowed if order.index(a) > order.index(name))
        assert not below, f"the '{name}' row may import {below}, listed below it: an upward import"
    assert all("cli" not in allowed for name, allowed in rows.items() if allowed is not None and name != "__main__")


def test_every_module_of_a_package_is_listed():
    text = DESIGN.read_text(encoding="utf-8")
    missing = []
    for path in PACKAGE.glob("*/*.py"):
        if path.name != "__init__.py" and path.parent.name != "cli":  # cli: one module per verb
            listed = f"`{path.parent.name}/{path.name}`"
            if listed not in text:
                missing.append(listed)
    assert not missing, f"modules not in docs/design.md: {sorted(missing)}"


def test_few_modules_at_the_top():
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= MAX_TOP_MODULES, f"{len(top)} modules at the top of src/seqcnn: {top}"


def test_no_import_cycle_between_modules_or_packages():
    edges = graph()
    packages: dict[str, set[str]] = {}
    for module, targets in edges.items():
        packages.setdefault(row_of(module), set()).update(row_of(t) for t in targets if row_of(t) != row_of(module))
    for kind, graph_ in (("module", edges), ("package", packages)):
        state: dict[str, int] = {}  # 1: on the current path, 2: done

        def visit(node: str, path: list[str], graph_=graph_, state=state, kind=kind) -> None:
            state[node] = 1
            for nxt in sorted(graph_.get(node, ())):
                assert state.get(nxt) != 1, f"{kind} import cycle: " + " -> ".join(path[path.index(nxt):] + [node, nxt])
                if nxt not in state:
                    visit(nxt, path + [node])
            state[node] = 2

        for node in sorted(graph_):
            if node not in state:
                visit(node, [])


def test_no_private_name_is_imported_from_another_module():
    modules, wrong = module_names(), []
    for name, path in modules.items():
        for node, module, names in import_targets(path):
            ours = module == "seqcnn" or module.startswith("seqcnn.")
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if ours and private:
                wrong.append(f"{name} (line {node.lineno}) imports {private} from {module}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_function_local_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from seqcnn.jobs.train import train\n    return train\n")
    assert imports_of("seqcnn.x", module, module_names()) == {"seqcnn.jobs.train"}
