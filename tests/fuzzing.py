"""Structured fuzzing of onnxcost.analyze: seeded mutations of real models (byte flips, truncation, rewiring,
wrong attribute types, absurd dims and values, hostile names, deep nesting, long chains, wide fans, external
data pointing anywhere) run in a worker process under a memory limit and a time limit per case.

A case passes when it ends in a report or in one OnnxcostError; anything else (another exception, a hang,
an allocation past the limit) is a failure. `tests/test_fuzz.py` runs a few hundred cases in the normal test
run; `python -m benchmarks.fuzz` runs a longer campaign.

    python -m tests.fuzzing worker SEED START COUNT DIR   # what the runner starts"""

from __future__ import annotations

import json
import os
import random
import select
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
#: Limits a case must stay within.
CASE_SECONDS = 10.0
MEMORY_LIMIT_BYTES = 2 << 30  # above the worker's footprint before the first case
HOSTILE_NAMES = ["[/]", "[bold red]x", "line\nbreak", "\x1b[31mred\x1b[0m", "tab\there", "", "a" * 5000, "ü∂√",
                 "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"), "${HOME}", "<script>"]
HOSTILE_DIMS = [0, -1, -7, 1 << 31, 1 << 40, 1 << 62, (1 << 63) - 1]
HOSTILE_INTS = [0, -1, -3, 1 << 20, 1 << 31, 1 << 40, 1 << 62, -(1 << 62)]


# --- seed models ------------------------------------------------------------------------------------------


def _shape_ops() -> onnx.ModelProto:
    """A model whose shape-like inputs (Reshape, Expand, Tile, ConstantOfShape, Range, Pad, Slice) are
    constants, so mutations of those values reach value propagation."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])
    ints = {"shape": [3, 8], "expand": [2, 3, 4], "tile": [1, 2, 1], "cos": [2, 2], "start": 0, "limit": 6,
            "delta": 1, "pads": [0, 0, 1, 0, 0, 1], "starts": [0], "ends": [2], "axes": [1]}
    inits = [numpy_helper.from_array(np.array(v, np.int64), k) for k, v in ints.items()]
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
             helper.make_node("Expand", ["x", "expand"], ["e"], name="expand"),
             helper.make_node("Tile", ["x", "tile"], ["t"], name="tile"),
             helper.make_node("ConstantOfShape", ["cos"], ["c"], name="cos"),
             helper.make_node("Range", ["start", "limit", "delta"], ["rg"], name="range"),
             helper.make_node("Pad", ["x", "pads"], ["p"], name="pad"),
             helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["s"], name="slice"),
             helper.make_node("Shape", ["t"], ["ts"], name="shape_of"),
             helper.make_node("Size", ["p"], ["ps"], name="size_of")]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("r", "e", "t", "c", "p", "s")]
    outs += [helper.make_tensor_value_info(n, TensorProto.INT64, None) for n in ("rg", "ts", "ps")]
    return helper.make_model(helper.make_graph(nodes, "shape_ops", [x], outs, initializer=inits),
                             opset_imports=[helper.make_opsetid("", 17)])


def _control_flow() -> onnx.ModelProto:
    from tests.ops.test_control_flow import _if_model, _scan_model

    model = _if_model("shape")
    scan = _scan_model()
    model.graph.node.extend(scan.graph.node)
    model.graph.input.extend(scan.graph.input)
    model.graph.output.extend(scan.graph.output)
    model.graph.initializer.extend(scan.graph.initializer)
    return model


def _seeds() -> dict[str, Callable[[], onnx.ModelProto]]:
    from benchmarks.gpt2_like import Dims
    from benchmarks.gpt2_like import build as gpt2
    from models import zoo
    from tests.cost.test_llm_int4 import _llama

    return {
        "alexnet": zoo.alexnet_seed003,
        "resnet18": lambda: zoo.resnet18(size=32),
        "mobilenet": lambda: zoo.mobilenet_v1(size=32),
        "inception": zoo.inception_cell,
        "gpt2": lambda: gpt2(True, Dims(vocab=32, ctx=16, d=16, heads=2, layers=1)),
        "llama": lambda: _llama(1),
        "shape_ops": _shape_ops,
        "control_flow": _control_flow,
    }


# --- generated structures ---------------------------------------------------------------------------------


def _chain(n: int, folded: bool) -> onnx.ModelProto:
    """n nodes in a line: Relus over an input, or Adds over constants (all folded at load time)."""
    if folded:
        inits = [numpy_helper.from_array(np.ones((4, 4), np.float32), "c")]
        nodes = [helper.make_node("Add", ["c" if i == 0 else f"t{i - 1}", "c"], [f"t{i}"]) for i in range(n)]
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])
        nodes.append(helper.make_node("MatMul", ["x", f"t{n - 1}"], ["y"]))
        out = "y"
    else:
        inits = []
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
        nodes = [helper.make_node("Relu", ["x" if i == 0 else f"t{i - 1}"], [f"t{i}"]) for i in range(n)]
        out = f"t{n - 1}"
    g = helper.make_graph(nodes, "chain", [x], [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
                          initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _wide(n: int) -> onnx.ModelProto:
    """n parallel Relus of one input into one Sum."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])
    nodes = [helper.make_node("Relu", ["x"], [f"r{i}"]) for i in range(n)]
    nodes.append(helper.make_node("Sum", [f"r{i}" for i in range(n)], ["y"]))
    g = helper.make_graph(nodes, "wide", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _nested_if(depth: int) -> onnx.ModelProto:
    """Ifs nested `depth` deep, the innermost computing a Relu of an outer-scope input."""
    inner = helper.make_graph([helper.make_node("Relu", ["x"], ["y0"])], "leaf", [],
                              [helper.make_tensor_value_info("y0", TensorProto.FLOAT, [2])])
    leaf = inner
    for level in range(1, depth + 1):  # the nesting goes down the then-branch only: linear size
        node = helper.make_node("If", ["c"], [f"y{level}"], then_branch=inner, else_branch=leaf)
        inner = helper.make_graph([node], f"level{level}", [],
                                  [helper.make_tensor_value_info(f"y{level}", TensorProto.FLOAT, [2])])
    g = inner
    g.input.extend([helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
                    helper.make_tensor_value_info("c", TensorProto.BOOL, [])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


# --- mutations --------------------------------------------------------------------------------------------


def _tensor_names(model: onnx.ModelProto) -> list[str]:
    g = model.graph
    names = [i.name for i in g.input] + [t.name for t in g.initializer]
    return names + [o for n in g.node for o in n.output if o]


def _rewire(rng: random.Random, model: onnx.ModelProto) -> None:
    nodes = [n for n in model.graph.node if n.input]
    if nodes:
        node = rng.choice(nodes)
        k = rng.randrange(len(node.input))
        node.input[k] = rng.choice([*_tensor_names(model), "ghost", ""])


def _attr_type(rng: random.Random, model: onnx.ModelProto) -> None:
    nodes = [n for n in model.graph.node if n.attribute]
    if not nodes:
        return
    node = rng.choice(nodes)
    k = rng.randrange(len(node.attribute))
    name = node.attribute[k].name
    value = rng.choice([1.5, "text", [1, 2, 3], [0.5], -1, 1 << 40, numpy_helper.from_array(np.zeros(2, np.float32)),
                        b"\xff\xfe", ["a", "b"]])
    node.attribute[k].CopyFrom(helper.make_attribute(name, value))


def _attr_value(rng: random.Random, model: onnx.ModelProto) -> None:
    """An int or ints attribute set to hostile numbers of its own type (axes, pads, perm, group, kernel)."""
    candidates = [(n, a) for n in model.graph.node for a in n.attribute
                  if a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS)]
    if not candidates:
        return
    _, a = rng.choice(candidates)
    if a.type == onnx.AttributeProto.INT:
        a.i = rng.choice(HOSTILE_INTS)
    elif a.ints:
        a.ints[rng.randrange(len(a.ints))] = rng.choice(HOSTILE_INTS)


def _dims(rng: random.Random, model: onnx.ModelProto) -> None:
    g = model.graph
    targets: list[onnx.TensorShapeProto.Dimension | None] = []
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape"):
            targets += list(vi.type.tensor_type.shape.dim)
    inits = [t for t in g.initializer]
    if inits and rng.random() < 0.4:
        t = rng.choice(inits)
        if t.dims:
            t.dims[rng.randrange(len(t.dims))] = rng.choice(HOSTILE_DIMS)
        return
    if targets:
        d = rng.choice(targets)
        assert d is not None
        d.dim_value = rng.choice(HOSTILE_DIMS)


def _values(rng: random.Random, model: onnx.ModelProto) -> None:
    """An integer constant (shape, axes, pads, repeats, indices) replaced by hostile values."""
    ints = [k for k, t in enumerate(model.graph.initializer)
            if t.data_type == TensorProto.INT64 and t.dims and len(t.dims) == 1 and t.dims[0] <= 16]
    if not ints:
        return
    k = rng.choice(ints)
    old = model.graph.initializer[k]
    n = rng.choice([0, 1, 2, 3, 5, 9, int(old.dims[0])])
    arr = np.array([rng.choice(HOSTILE_INTS + [1, 2]) for _ in range(n)], np.int64)
    model.graph.initializer[k].CopyFrom(numpy_helper.from_array(arr, old.name))


def _names(rng: random.Random, model: onnx.ModelProto) -> None:
    for node in rng.sample(list(model.graph.node), min(3, len(model.graph.node))):
        node.name = rng.choice(HOSTILE_NAMES)
    model.graph.name = rng.choice(HOSTILE_NAMES)


def _dtype(rng: random.Random, model: onnx.ModelProto) -> None:
    g = model.graph
    choices = [t for t in g.initializer] + [a.t for n in g.node for a in n.attribute
                                            if a.type == onnx.AttributeProto.TENSOR]
    if choices:
        t = rng.choice(choices)
        t.data_type = rng.choice([0, 999, TensorProto.STRING, TensorProto.BOOL, TensorProto.COMPLEX128, 40])
        if rng.random() < 0.5 and t.raw_data:
            t.raw_data = t.raw_data[: len(t.raw_data) // 2]


def _external(rng: random.Random, model: onnx.ModelProto) -> None:
    """A tensor (initializer or Constant) claims external data at an absolute or climbing path."""
    location = rng.choice(["/etc/passwd", "../../../../etc/hostname", "/proc/self/environ", "../secret.bin",
                           "sub/../../outside", "C:\\Windows\\win.ini"])
    g = model.graph
    small = [t for t in g.initializer if t.data_type == TensorProto.INT64]
    const = [a.t for n in g.node for a in n.attribute
             if n.op_type == "Constant" and a.type == onnx.AttributeProto.TENSOR]
    pool = small + const or list(g.initializer)
    if not pool:
        return
    t = rng.choice(pool)
    t.ClearField("raw_data")
    t.ClearField("int64_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    del t.external_data[:]
    for key, value in (("location", location), ("offset", "0"), ("length", str(rng.choice([8, 64, 1 << 30])))):
        e = t.external_data.add()
        e.key, e.value = key, value


def _sparse(rng: random.Random, model: onnx.ModelProto) -> None:
    values = numpy_helper.from_array(np.ones(3, np.float32), "sparse_w")
    indices = numpy_helper.from_array(np.array([0, 4, rng.choice([8, 99, -1])], np.int64), "sparse_idx")
    model.graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [3, 3]))
    if model.graph.node:
        model.graph.node[0].input.append("sparse_w")


PROTO_MUTATIONS: dict[str, Callable[[random.Random, onnx.ModelProto], None]] = {
    "rewire": _rewire, "attr_type": _attr_type, "attr_value": _attr_value, "dims": _dims, "values": _values,
    "names": _names, "dtype": _dtype, "external": _external, "sparse": _sparse,
}


@dataclass(frozen=True)
class Case:
    index: int
    kind: str
    data: bytes


def case(seed: int, index: int) -> Case:
    """The `index`-th case of campaign `seed`: deterministic."""
    rng = random.Random(seed * 1_000_003 + index)
    roll = rng.random()
    if roll < 0.04:
        n = rng.choice([1000, 3000, 10_000])
        folded = rng.random() < 0.5
        return Case(index, f"chain{n}{'_folded' if folded else ''}", _chain(n, folded).SerializeToString())
    if roll < 0.07:
        n = rng.choice([1000, 2000, 3000])
        return Case(index, f"wide{n}", _wide(n).SerializeToString())
    if roll < 0.10:
        depth = rng.choice([8, 20, 32])  # protobuf itself refuses much deeper messages
        return Case(index, f"nested_if{depth}", _nested_if(depth).SerializeToString())
    seeds = _seeds()
    name = rng.choice(sorted(seeds))
    model = seeds[name]()
    if roll < 0.25:
        data = bytearray(model.SerializeToString())
        for _ in range(rng.choice([1, 2, 8, 32])):
            k = rng.randrange(len(data))
            data[k] = rng.randrange(256)
        return Case(index, f"{name}:flip", bytes(data))
    if roll < 0.32:
        data = model.SerializeToString()
        return Case(index, f"{name}:truncate", data[: rng.randrange(len(data))])
    kinds = rng.sample(sorted(PROTO_MUTATIONS), rng.choice([1, 1, 2, 3]))
    for kind in kinds:
        PROTO_MUTATIONS[kind](rng, model)
    return Case(index, f"{name}:{'+'.join(kinds)}", model.SerializeToString())


# --- worker and runner ------------------------------------------------------------------------------------


def _outcome(path: Path) -> str:
    import onnxcost

    try:
        rep = onnxcost.analyze(path, schedule_budget=1.0)
    except onnxcost.OnnxcostError as exc:
        text = str(exc)
        if "\n" in text:
            return "crash:multi-line error"
        return "error"
    except Exception as exc:  # noqa: BLE001 - the point: any other exception is a finding
        return f"crash:{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
    return "ok" if _non_negative(rep) else "crash:negative number in report"


def _non_negative(rep: object) -> bool:
    data = rep.to_dict()  # type: ignore[attr-defined]

    def walk(v: object) -> bool:
        if isinstance(v, dict):
            return all(walk(x) for x in v.values())
        if isinstance(v, list):
            return all(walk(x) for x in v)
        return not (isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0)

    return walk(data["totals"]) and walk([{k: n[k] for k in ("macs", "flops", "params", "input_bytes",
                                                              "output_bytes")} for n in data["nodes"]])


def worker(seed: int, start: int, count: int, folder: Path) -> None:
    """Run cases start..start+count-1, one JSON line each; the runner watches its memory."""
    import onnxcost  # noqa: F401 - imported first: its footprint is not a case's

    _seeds()
    for index in range(start, start + count):
        c = case(seed, index)
        path = folder / f"case{index}" / "model.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(c.data)
        print(json.dumps({"start": index, "rss": _rss_bytes(os.getpid())}), flush=True)
        t0 = time.perf_counter()
        outcome = _outcome(path)
        print(json.dumps({"index": index, "kind": c.kind, "outcome": outcome,
                          "seconds": round(time.perf_counter() - t0, 3)}), flush=True)


def _rss_bytes(pid: int) -> int:
    """Resident memory of a process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError):
        return 0


@dataclass(frozen=True)
class Result:
    index: int
    kind: str
    outcome: str  # ok, error, crash:..., "hang or killed", "memory"
    seconds: float


def run(seed: int, count: int, folder: Path, case_seconds: float = CASE_SECONDS, module: str = "tests.fuzzing",
        kind_of: Callable[[int, int], str] | None = None) -> list[Result]:
    """Run `count` cases of campaign `seed` in worker processes (`module`'s worker: this one's model cases,
    or tests.fuzzing_entry's entry-point cases, whose kind `kind_of(seed, index)` names); a hung or killed
    worker marks its case."""
    kind = kind_of or (lambda s, i: case(s, i).kind)
    results: list[Result] = []
    index = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    while index < count:
        proc = subprocess.Popen([sys.executable, "-m", module, "worker", str(seed), str(index),
                                 str(count - index), str(folder)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                cwd=ROOT, env=env, text=True)
        assert proc.stdout is not None
        current, started, base, verdict = index, time.perf_counter(), 0, "hang or killed"
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], 0.05)
            if ready:
                line = proc.stdout.readline()
                if not line:
                    break
                msg = json.loads(line)
                if "start" in msg:
                    current, started, base = msg["start"], time.perf_counter(), msg["rss"]
                else:
                    results.append(Result(msg["index"], msg["kind"], msg["outcome"], msg["seconds"]))
                    index = msg["index"] + 1
            elif time.perf_counter() - started > case_seconds + 5:  # + the worker's start
                break
            if base and _rss_bytes(proc.pid) - base > MEMORY_LIMIT_BYTES:
                verdict = "memory"
                break
        proc.kill()
        proc.wait()
        if index < count and (not results or results[-1].index != current):
            results.append(Result(current, kind(seed, current), verdict, time.perf_counter() - started))
            index = current + 1
    return results


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        worker(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
