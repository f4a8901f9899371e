"""The attribute schemas onnxcost ships (onnxcost/ops/schemas.py), generated from the installed onnx's C++
schemas, and the check that they still agree:

    python -m tests.schemas --update     # rewrite onnxcost/ops/schemas.py
    python -m tests.schemas              # list the (domain, op, version)s that differ
"""

from __future__ import annotations

import sys
from pathlib import Path

import onnx.defs

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "onnxcost" / "ops" / "schemas.py"

HEADER = '''"""Attribute schemas of the ONNX domains' ops: per op, each version's attributes as `name:type` (an
AttributeProto type; `!` marks a required one). Checking a node's attributes against these needs no `import
onnx`, whose C++ schemas cost about 45 ms a process. A released op version never changes, so the table holds
for every opset up to COVERED; above it, onnx.defs is asked. Generated from onnx {version} by tests/schemas.py,
which tests/base/test_proto.py runs to hold it to the installed onnx."""

# fmt: off
'''


def domain_name(domain: str) -> str:
    return domain or "ai.onnx"


def signature(schema: onnx.defs.OpSchema) -> str:
    """`name:type` for each attribute, sorted, `!` after the type of a required one."""
    kinds = {name: int(a.type) for name, a in schema.attributes.items()}  # type: ignore[call-overload]
    return ",".join(f"{name}:{kinds[name]}{'!' if a.required else ''}"
                    for name, a in sorted(schema.attributes.items()))


def expected() -> tuple[dict[str, int], dict[tuple[str, str], tuple[tuple[int, str], ...]]]:
    """(domain -> the highest opset onnx defines, (domain, op) -> ((since version, signature), ...))."""
    covered = {domain_name(d): hi for d, (_lo, hi) in onnx.defs.C.schema_version_map().items()}
    versions: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for schema in onnx.defs.get_all_schemas_with_history():
        versions.setdefault((domain_name(schema.domain), schema.name), []).append(
            (int(schema.since_version), signature(schema)))
    return covered, {key: tuple(sorted(v)) for key, v in sorted(versions.items())}


def render() -> str:
    covered, table = expected()
    lines = [HEADER.format(version=onnx.__version__), f"COVERED = {dict(sorted(covered.items()))!r}", "",
             "SCHEMAS: dict[tuple[str, str], tuple[tuple[int, str], ...]] = {"]
    for key, versions in table.items():
        line = f"    {key!r}: {versions!r},"
        if len(line) <= 120:
            lines.append(line)
            continue
        lines.append(f"    {key!r}: (")
        lines += [f"        {v!r}," for v in versions]
        lines.append("    ),")
    lines += ["}", ""]
    return "\n".join(lines)


def main() -> int:
    text = render()
    if "--update" in sys.argv:
        TABLE.write_text(text)
        print(f"wrote {TABLE.relative_to(ROOT)}")
        return 0
    if TABLE.read_text() != text:
        print(f"{TABLE.relative_to(ROOT)} differs from onnx {onnx.__version__}: run with --update")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
