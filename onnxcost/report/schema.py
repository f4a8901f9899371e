"""The report's schema: typed dataclasses whose `Report.to_dict()` is the JSON contract `onnxcost.report/1`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from ..base.errors import ConfigError

if TYPE_CHECKING:
    from ..cost import llm as llm_mod
    from ..cost import training as training_mod
    from ..shapes import graph

SCHEMA = "onnxcost.report/1"


_FIELDS: dict[type, tuple[str, ...]] = {}


def asdict(value: Any) -> Any:
    """`dataclasses.asdict` without its deep copies of every leaf (five times faster on a report): dataclasses
    become dicts, lists, tuples and dicts are rebuilt, anything else is shared (the report's leaves are
    immutable: numbers, strings, None)."""
    kind = type(value)
    if kind is list:
        return [asdict(v) for v in value]
    if kind is dict:
        return {k: asdict(v) for k, v in value.items()}
    if kind is tuple:
        return tuple(asdict(v) for v in value)
    if kind in (int, float, str, bool) or value is None:
        return value
    if is_dataclass(value):
        names = _FIELDS.get(kind) or _FIELDS.setdefault(kind, tuple(f.name for f in fields(value)))
        return {name: asdict(getattr(value, name)) for name in names}
    return value


def op_key(domain: str, op_type: str) -> str:
    """How the report names an op type: bare in the default domain, else qualified (com.microsoft.FusedConv)."""
    return op_type if domain == "ai.onnx" else f"{domain}.{op_type}"


@dataclass
class ModelInfo:
    """Where the model came from: its file, IR version, opsets, producer and graph name."""

    path: str | None
    ir_version: int
    opsets: dict[str, int]
    producer: str
    graph_name: str


@dataclass
class TensorSpec:
    """A graph input or output as analysed: name, element type and shape (a free dim is its formula)."""

    name: str
    dtype: str
    shape: list[int | str] | None  # a symbolic dim is its formula


@dataclass
class Totals:
    """Whole-model counts: nodes, MACs, FLOPs, params, bytes and memory peaks."""

    nodes: int
    macs: int | None  # sum over nodes whose cost is known (see unknown_cost_nodes); None: a formula (`symbolic`)
    flops: int | None
    params: int  # distinct weight tensors, each counted once however many nodes read it
    param_bytes: int
    activation_bytes: int | None
    peak_memory_bytes: int | None
    unknown_cost_nodes: int
    activation_elements: int | None = None
    peak_memory_elements: int | None = None
    peak_memory_bytes_file_order: int | None = None
    latency_ms: float | None = None  # with a profile: sum of node estimates and reorders (None if any is unknown)
    critical_path_ms: float | None = None  # with a profile: the longest dependent chain (parallel branches overlap)
    profile: str | None = None
    layout_reorders: int | None = None  # with a profile whose runtime blocks conv layouts: copies it inserts
    layout_reorder_bytes: int | None = None  # bytes those copies read (each also writes as many)
    layout_reorder_ms: float | None = None  # their estimated time, part of latency_ms
    upper_bound: bool = False  # some node's MACs/FLOPs are an upper bound (they depend on run-time data)
    lower_bound: bool = False  # some node's cost is unknown: macs and flops count the known nodes only


@dataclass
class OpTypeTotals:
    """Counts summed over the nodes of one op type."""

    count: int
    macs: int | None
    flops: int | None
    params: int


@dataclass
class FunctionTotals:
    """A model-local function's share, its nested calls included, over all its call sites."""

    calls: int
    nodes: int
    macs: int | None
    flops: int | None
    params: int


@dataclass
class NodeReport:
    """One node's shapes, costs, bytes and (with a profile) its latency estimate."""

    name: str
    op_type: str
    domain: str
    inputs: list[str]
    outputs: list[str]
    output_shapes: list[list[int | str] | None]
    output_dtypes: list[str]
    macs: int | None
    flops: int | None
    params: int
    param_bytes: int
    input_bytes: int | None
    output_bytes: int | None
    folded: bool = False
    op_class: str | None = None  # with a profile: dense, grouped, depthwise, einsum, elementwise, movement, view
    bound: str | None = None  # with a profile: compute, memory, overhead
    arithmetic_intensity: float | None = None  # FLOPs per byte moved
    latency_us: float | None = None  # roofline estimate on the profile
    upper_bound: bool = False  # macs/flops are an upper bound: the true figure depends on run-time data
    branch: str | None = None  # an If: the branch counted ("then", "else", or "max" when data decides)
    macs_expr: str | None = None  # with unbound dims: the formula where macs is null
    flops_expr: str | None = None
    subgraph: list[dict[str, Any]] = field(default_factory=list)  # control flow: inner nodes by path, per run


@dataclass
class MemoryInfo:
    """Where the peak is (the memory bottleneck) and the per-step curve under the chosen schedule."""

    inplace: bool
    peak_step: int  # index into `timeline_bytes`: steps are the nodes that run (folded ones do not)
    peak_node: str
    peak_live_tensors: list[str]  # largest first
    timeline_bytes: list[int]
    timeline_nodes: list[str]
    arena_bytes: int | None = None
    arena_fragmentation: float | None = None  # arena_bytes / peak_memory_bytes
    arena_offsets: dict[str, int] | None = None  # base tensor of each buffer -> byte offset


@dataclass
class Report:
    """Everything `analyze` found about one model; `to_dict` is the JSON report (SCHEMA versions it)."""

    model: ModelInfo
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    totals: Totals
    by_op_type: dict[str, OpTypeTotals]
    nodes: list[NodeReport]
    schedule: list[str]
    warnings: list[str] = field(default_factory=list)
    schedule_method: str = "file"
    schedule_optimal: bool = False
    memory: MemoryInfo | None = None
    training: training_mod.TrainingEstimate | None = None
    graph: graph.Graph | None = field(default=None, repr=False)
    #: with unbound dims: {"symbols": {name: {"dim", "input", "axis"}}, "totals": {metric: expression}}
    symbolic: dict[str, Any] | None = None
    #: a decoder with a key/value cache: its bytes per token, and prefill against decode (llm.py)
    llm: llm_mod.LlmView | None = None
    #: models with model-local functions (inlined): subtotals per function, nested calls included
    by_function: dict[str, FunctionTotals] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract `onnxcost.report/1`: other commands and outside tools read exactly this."""
        return {
            "schema": SCHEMA,
            "model": asdict(self.model),
            "inputs": [asdict(t) for t in self.inputs],
            "outputs": [asdict(t) for t in self.outputs],
            "totals": asdict(self.totals),
            "by_op_type": {k: asdict(v) for k, v in self.by_op_type.items()},
            "nodes": [asdict(n) for n in self.nodes],
            "schedule": list(self.schedule),
            "schedule_method": self.schedule_method,
            "schedule_optimal": self.schedule_optimal,
            "memory": None if self.memory is None else asdict(self.memory),
            **({} if self.training is None else {"training": asdict(self.training)}),
            **({} if self.symbolic is None else {"symbolic": self.symbolic}),
            **({} if self.llm is None else {"llm": asdict(self.llm)}),
            **({"by_function": {k: asdict(v) for k, v in self.by_function.items()}} if self.by_function else {}),
            "warnings": list(self.warnings),
        }

    def to_dataframe(self) -> Any:
        """The nodes as a pandas DataFrame, one row per node (for notebooks); pandas is not a dependency."""
        try:
            import pandas as pd
        except ImportError:
            raise ConfigError("to_dataframe() needs pandas: pip install pandas") from None
        return pd.DataFrame([asdict(n) for n in self.nodes])

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)
