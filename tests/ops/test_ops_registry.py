"""The op registry: every op the installed onnx defines has an entry, definitions are well-formed, and the
`onnxcost ops` table lists them."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict

import onnx
import pytest

from onnxcost import ops
from onnxcost.cli.app import main
from onnxcost.latency.hints import OP_CLASSES, Nchwc, hints


def _schemas() -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for s in onnx.defs.get_all_schemas_with_history():
        domain = s.domain or "ai.onnx"
        if not s.deprecated:
            out[(domain, s.name)].append(s.since_version)
    return out


def test_every_onnx_op_has_an_entry_for_every_opset_version() -> None:
    # the default domain, ai.onnx.ml and the preview domains (FlexAttention, the optimizers)
    missing = [f"{domain}.{name}-{v}" for (domain, name), versions in _schemas().items() for v in versions
               if ops.lookup(domain, name, v) is None]
    assert missing == []
    # the installed onnx knows the opset-23+ LLM ops; this registry has them
    assert {"Attention", "RMSNormalization", "RotaryEmbedding", "TensorScatter"} <= {
        name for (_, name) in _schemas()}


def test_every_op_onnxruntime_runs_on_cpu_has_an_entry() -> None:
    # every op with an onnxruntime CPU kernel (default domain, ai.onnx.ml, com.microsoft and its NCHWc ops, and
    # the experimental ops ONNX dropped): a file that uses one is analysed, not left unknown
    from onnxruntime.capi import _pybind_state

    kernels = {(k.domain or "ai.onnx", k.op_name) for k in _pybind_state.get_all_opkernel_def()
               if k.provider == "CPUExecutionProvider"}
    assert len(kernels) > 250
    assert sorted(f"{d}.{op}" for d, op in kernels if ops.lookup(d, op) is None) == []


def test_default_domain_entries_cost_or_say_why_not() -> None:
    # an entry is a cost, a subgraph (control flow), or an explicit note on why the cost is unknown
    for d in ops.all_defs():
        if d.domain != "ai.onnx":
            continue
        assert d.cost is not None or d.traits.control or d.note, d.op_type


def test_traits_use_known_op_classes_and_families_are_modules() -> None:
    for d in ops.all_defs():
        assert hints(d.domain, d.op_type, d.since).op_class in OP_CLASSES, d
        assert any(d.family == f.FAMILY for f in ops.FAMILIES), d
    assert ops.traits("ai.onnx", "Conv").contraction and ops.traits("ai.onnx", "Reshape").view
    assert ops.traits("com.microsoft", "FusedConv") == ops.traits("ai.onnx", "Conv")
    assert ops.traits("ai.onnx", "If").control and not ops.traits("ai.onnx", "Conv").control
    assert hints("ai.onnx", "NoSuchOp").op_class == "elementwise"


def test_runtime_hints_are_the_latency_stages_and_follow_the_opset() -> None:
    # onnxruntime's kernel behaviour is not ONNX semantics: Traits holds none of it
    runtime_fields = {"op_class", "fuses", "chainable", "nchwc", "bias_pass", "weight_input"}
    assert runtime_fields.isdisjoint(f.name for f in dataclasses.fields(ops.Traits))
    conv = hints("ai.onnx", "Conv", 11)
    assert conv.op_class == "dense" and conv.nchwc is Nchwc.CONV and conv.weight_input == 1 and "Relu" in conv.fuses
    assert hints("com.microsoft", "FusedConv") == conv
    assert hints("ai.onnx", "Gemm").bias_pass and hints("ai.onnx", "Tanh").chainable
    assert hints("ai.onnx", "Reshape").op_class == "view" and hints("ai.onnx", "Shape").op_class == "metadata"
    # resolved through the registry's opset: an opset-17 model's Attention is no default-domain Attention
    assert ops.traits("ai.onnx", "Attention", 17) != ops.traits("ai.onnx", "Attention", 23)


def test_opset_ranges() -> None:
    # Attention entered the default domain at opset 23: an older model's "Attention" is not that op
    assert ops.lookup("ai.onnx", "Attention", 17) is None
    assert ops.lookup("ai.onnx", "Attention", 23) is not None
    assert ops.lookup("com.microsoft", "Attention", 1) is not ops.lookup("ai.onnx", "Attention", 23)


def test_ops_command_lists_the_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ops", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(ops.all_defs())
    conv = next(r for r in rows if r["op_type"] == "Conv" and r["domain"] == "ai.onnx")
    assert conv == {"op_type": "Conv", "domain": "ai.onnx", "opsets": "1+", "family": "contractions",
                    "shape": "rule", "value": False, "cost": "exact", "op_class": "dense", "note": ""}
    assert main(["ops", "--domain", "com.microsoft", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("op_type,domain") and all(",com.microsoft," in row for row in lines[1:])
    assert main(["ops", "--domain", "nope"]) == 2
