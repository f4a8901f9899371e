"""The tree shows the pipeline: stage packages that import only earlier stages, a thin analyze(), op names
only where ops are defined (ops/) or run (latency/), flag names only in cli/, one NodeView builder."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from onnxcost import ops

PACKAGE = Path(__file__).resolve().parents[1] / "onnxcost"

#: Each top-level part of the package and its place in the pipeline: a module may import its own rank or below.
RANK = {"base": 0, "load": 1, "ops": 1, "shapes": 2, "cost": 3, "memory": 4, "latency": 5, "report": 6,
        "arguments": 6, "pipeline": 7, "annotate": 8, "batch": 8, "paths": 8, "measure": 8, "gate": 8, "cli": 9,
        "__init__": 9, "__main__": 9}


def _modules() -> list[tuple[Path, str]]:
    return [(p, p.relative_to(PACKAGE).parts[0].removesuffix(".py")) for p in sorted(PACKAGE.rglob("*.py"))]


def _imported_parts(path: Path) -> set[str]:
    """The top-level parts of onnxcost a module imports (relative imports resolved)."""
    package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    parts: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            target = base + (node.module.split(".") if node.module else [])
            if len(target) > 1:
                parts.add(target[1])
            else:  # `from .. import x`: x itself is the part
                parts.update(a.name for a in node.names)
    return parts & set(RANK)


def test_no_stage_imports_a_later_one() -> None:
    backwards = [f"{path.relative_to(PACKAGE)} imports {part}" for path, own in _modules()
                 for part in _imported_parts(path) if RANK[part] > RANK[own]]
    assert backwards == []


def test_modules_are_small_and_analyze_reads_as_the_pipeline() -> None:
    long = [f"{p.relative_to(PACKAGE)}: {n}" for p, part in _modules() if part != "ops"
            and (n := len(p.read_text().splitlines())) > 400]
    assert long == []
    tree = ast.parse((PACKAGE / "pipeline.py").read_text())
    analyze = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "analyze")
    assert analyze.end_lineno is not None and analyze.end_lineno - analyze.lineno + 1 < 50


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """String constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_op_types_are_named_only_by_ops_and_latency() -> None:
    # measure/ writes its microbenchmark graphs op by op: it builds ONNX, it does not decide by op type
    names = {d.op_type for d in ops.all_defs()}
    named = [f"{p.relative_to(PACKAGE)}:{line} {text!r}" for p, part in _modules()
             if part not in ("ops", "latency", "measure") for line, text in _code_strings(p) if text in names]
    assert named == []


def test_flag_names_appear_only_in_cli() -> None:
    flag = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
    found = [f"{p.relative_to(PACKAGE)}:{k}" for p, part in _modules() if part != "cli"
             for k, line in enumerate(p.read_text().splitlines(), 1) if flag.search(line)]
    assert found == []


def test_one_node_view_builder() -> None:
    builders = [str(p.relative_to(PACKAGE)) for p, _ in _modules() if "NodeView(" in p.read_text()
                and p.parent.name != "ops"]
    assert builders == ["shapes/view.py"]
