"""What onnxruntime runs, read from the graph its optimizer writes (SessionOptions.optimized_model_filepath)
instead of assumed from op patterns: a tensor of the model that the optimized graph no longer holds was fused
away, so the node that made it runs inside the kernel of the node that read it. onnxruntime fuses a conv and
its activation, MatMul and its bias, LayerNorm's dozen nodes, but not a hard-swish's Mul, Div and Clip: the
pattern rules cannot know which.

Opening a session reads the model's weights, which a report never does: this is for `bench` and for
`analyze(fusions="onnxruntime")`. The vanished tensors are cached per model file (its path, size and
modification time), onnxruntime version and optimization level (ONNXCOST_CACHE overrides the per-user cache folder)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import onnx

from ..shapes.graph import Graph
from . import hints

#: The optimization level a session runs at by default, which bench measures at, without the NCHWc layout
#: transformer: it renames every tensor it blocks (reorder_token_N), so nothing could be matched. Its copies are
#: layout.py's, and the adds and activations it folds into a blocked conv are the estimate's conv rules.
LEVEL = "ORT_ENABLE_ALL"
WITHOUT = ["NchwcTransformer"]


def cache_dir() -> Path:
    """Where the vanished tensors of each optimized model are kept (platformdirs' per-user cache)."""
    override = os.environ.get("ONNXCOST_CACHE")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("onnxcost")) / "runtime-graphs"


def vanished(model: str | os.PathLike[str] | onnx.ModelProto) -> tuple[frozenset[str] | None, str]:
    """The node outputs of `model` that onnxruntime's optimized graph no longer holds, and "" ; or None and
    why onnxruntime could not open the model (no onnxruntime, weights left out of a graph-only export)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None, "onnxruntime is not installed"
    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else None
    source = Path(model) if not isinstance(model, onnx.ModelProto) else None
    cached = cache_dir() / f"{_key(data, source)}-{ort.__version__}-{LEVEL}-{'-'.join(WITHOUT)}.json"
    if cached.is_file():
        return frozenset(json.loads(cached.read_text())), ""
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, LEVEL)
        options.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        options.log_severity_level = 4
        try:
            ort.InferenceSession(data if data is not None else str(source), options,
                                 providers=["CPUExecutionProvider"], disabled_optimizers=WITHOUT)
            optimized = onnx.load(options.optimized_model_filepath, load_external_data=False)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            return None, str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    original = onnx.load_from_string(data) if data is not None else onnx.load(str(source), load_external_data=False)
    kept = {i.name for i in optimized.graph.initializer} | {t for n in optimized.graph.node
                                                           for t in (*n.input, *n.output)}
    gone = sorted(t for n in original.graph.node for t in n.output if t and t not in kept)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(gone))
    return frozenset(gone), ""


def _key(data: bytes | None, source: Path | None) -> str:
    """A model's cache key: a file by its resolved path, size and modification time (no read of a model that
    may be gigabytes), an in-memory model by the hash of its bytes."""
    if source is None:
        return hashlib.sha256(data or b"").hexdigest()
    stat = source.stat()
    return hashlib.sha256(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()


def kernels(graph: Graph, gone: frozenset[str]) -> dict[str, str]:
    """Node -> the node whose kernel it runs in, for every node of a fused group (the group's dense node, else
    the one whose output survives), heads included; nodes that run alone are not in it."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for n in graph.nodes:
        if n.folded:
            continue
        for t in n.outputs:
            if t in gone:
                for consumer in graph.consumers.get(t, []):
                    if not graph.node(consumer).folded:
                        parent[root(consumer)] = root(n.name)
    groups: dict[str, list[str]] = {}
    for name in {*parent, *parent.values()}:
        groups.setdefault(root(name), []).append(name)
    out: dict[str, str] = {}
    for members in groups.values():
        members = sorted(set(members), key=graph.position.__getitem__)
        dense = [m for m in members if hints.of(graph.node(m), graph).op_class in ("dense", "einsum")]
        alive = [m for m in members if any(t not in gone for t in graph.node(m).outputs)]
        head = (dense or alive or members)[-1 if not dense else 0]
        out.update({m: head for m in members})
    return out
