"""Golden report digests: the JSON `report` writes for every model in tests/data, models/ and the corpus,
with no options and bound at the model's shapes with a hardware profile. A refactoring keeps every digest;
a change of behaviour updates them on purpose:

    python -m tests.golden --update      # rewrite tests/data/golden_digests.json
    python -m tests.golden               # list the models whose report changed
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import onnx

import onnxcost
from tests.corpus import cases

ROOT = Path(__file__).resolve().parents[1]
DIGESTS = ROOT / "tests" / "data" / "golden_digests.json"
#: The schedule search's time budget here: far past what any model needs (the slowest proof takes about 2 s),
#: so that each search ends by proof or by its state limit, never by the clock, and a digest does not depend on
#: how fast the machine is. The default report's budget is 1 s.
SCHEDULE_BUDGET_S = 600.0
PROFILE = "xeon-8480"


def models() -> Iterator[tuple[str, Path, dict[str, list[int]] | None, dict[str, list[float]]]]:
    """(id, path, bound shapes or None for the declared ones, input values) of every golden model present."""
    for folder in ("tests/data", "models"):
        for path in sorted((ROOT / folder).glob("*.onnx")):
            yield f"{folder}/{path.name}", path, None, {}
    for case in cases():
        if case.path.is_file():
            yield case.id, case.path, case.shapes, case.values


def _text(path: Path, **options: object) -> str:
    """The report's JSON with the model's path made relative (the corpus cache lies elsewhere in CI), or the
    one-line error it raises."""
    try:
        report = onnxcost.analyze(str(path), **options)  # type: ignore[arg-type]
    except onnxcost.OnnxcostError as exc:
        return f"error: {exc}"
    data = report.to_dict()
    data["model"]["path"] = path.name
    return json.dumps(data, indent=1, sort_keys=True)


def digest(path: Path, shapes: dict[str, list[int]] | None, values: dict[str, list[float]]) -> dict[str, str]:
    """sha256 of the report with no options and of the bound report with a profile."""
    if shapes is None:
        model = onnx.load(str(path), load_external_data=False)
        inits = {t.name for t in model.graph.initializer}
        shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input
                  if i.name not in inits}
    texts = {"default": _text(path, schedule_budget=SCHEDULE_BUDGET_S),
             "bound_profile": _text(path, input_shapes=shapes, input_values=values or None, profile=PROFILE,
                                    schedule_budget=SCHEDULE_BUDGET_S)}
    return {k: hashlib.sha256(v.encode()).hexdigest()[:20] for k, v in texts.items()}


def compute() -> dict[str, dict[str, str]]:
    return {ident: digest(path, shapes, values) for ident, path, shapes, values in models()}


def main(argv: list[str]) -> int:
    now = compute()
    if "--update" in argv:
        DIGESTS.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"golden: {len(now)} models written to {DIGESTS.relative_to(ROOT)}")
        return 0
    before = json.loads(DIGESTS.read_text())
    changed = sorted(k for k in now if before.get(k) != now[k])
    print("\n".join(changed) or f"golden: all {len(now)} models unchanged")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
