"""Control flow: If conditions folded from shapes, data-dependent If as an upper bound, Loop and Scan bodies
times their iterations, subgraph nodes by path, and malformed control flow as one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from onnxcost.base import symbolic

F = TensorProto.FLOAT


def _branch(op: str, name: str) -> onnx.GraphProto:
    """A branch computing y = x @ W (MatMul: 1x8 @ 8x8 = 64 MACs) or y = x + W[0] (Add: 8 FLOPs)."""
    ins = ["x", "W"] if op == "MatMul" else ["x", "w0"]
    return helper.make_graph([helper.make_node(op, ins, ["y"], name=op.lower())], name, [],
                             [helper.make_tensor_value_info("y", F, [1, 8])])


def _if_model(cond_from: str) -> onnx.ModelProto:
    """An If over a 1x8 input. cond_from="shape": x.shape[1] == 8 (Silero VAD's Shape -> Gather -> Equal);
    "input": a bool graph input (run-time data)."""
    nodes, inputs = [], [helper.make_tensor_value_info("x", F, [1, 8])]
    inits = [numpy_helper.from_array(np.zeros((8, 8), np.float32), "W"),
             numpy_helper.from_array(np.zeros((1, 8), np.float32), "w0")]
    if cond_from == "shape":
        inits += [numpy_helper.from_array(np.array(1, np.int64), "one"),
                  numpy_helper.from_array(np.array(8, np.int64), "eight")]
        nodes += [helper.make_node("Shape", ["x"], ["s"], name="shape"),
                  helper.make_node("Gather", ["s", "one"], ["d"], name="gather", axis=0),
                  helper.make_node("Equal", ["d", "eight"], ["c"], name="equal")]
    else:
        inputs.append(helper.make_tensor_value_info("c", TensorProto.BOOL, []))
    nodes.append(helper.make_node("If", ["c"], ["y"], name="if0", then_branch=_branch("MatMul", "then"),
                                  else_branch=_branch("Add", "else")))
    g = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", F, None)], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_if_condition_from_shapes_is_folded() -> None:
    rep = onnxcost.analyze(_if_model("shape"))
    node = next(n for n in rep.nodes if n.op_type == "If")
    assert node.branch == "then" and node.macs == 64 and not node.upper_bound
    assert rep.totals.unknown_cost_nodes == 0 and not rep.totals.upper_bound
    assert node.subgraph == [{"path": "if0/then_branch/matmul", "op_type": "MatMul", "macs": 64, "flops": 128}]


def test_data_dependent_if_counts_the_larger_branch_as_an_upper_bound() -> None:
    model = _if_model("input")
    rep = onnxcost.analyze(model)
    node = rep.nodes[0]
    # then: 64 MACs, 128 FLOPs; else: an Add of 8 FLOPs. The larger is the then-branch.
    assert (node.macs, node.flops, node.branch, node.upper_bound) == (64, 128, "max", True)
    assert rep.totals.upper_bound and rep.totals.unknown_cost_nodes == 0
    assert any("upper bound" in w for w in rep.warnings)
    # both branches give [1, 8], so the output shape is known, as onnxruntime's
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"x": np.zeros((1, 8), np.float32), "c": np.array(False)})
    assert rep.outputs[0].shape == list(y.shape) == [1, 8]
    data = json.loads(rep.to_json())
    assert data["totals"]["upper_bound"] is True and data["nodes"][0]["branch"] == "max"


def _scan_model() -> onnx.ModelProto:
    """Scan over 5 steps of a [5, 1, 8] sequence: state h [1, 8] = h + x_t @ W (64 MACs, 128 + 8 FLOPs)."""
    body = helper.make_graph(
        [helper.make_node("MatMul", ["x_t", "W"], ["xw"], name="mm"),
         helper.make_node("Add", ["h", "xw"], ["h_next"], name="add"),
         helper.make_node("Identity", ["h_next"], ["y_t"], name="out")],
        "body", [helper.make_tensor_value_info("h", F, [1, 8]), helper.make_tensor_value_info("x_t", F, [1, 8])],
        [helper.make_tensor_value_info("h_next", F, [1, 8]), helper.make_tensor_value_info("y_t", F, [1, 8])])
    scan = helper.make_node("Scan", ["h0", "xs"], ["h_last", "ys"], name="scan", body=body, num_scan_inputs=1)
    g = helper.make_graph([scan], "g", [helper.make_tensor_value_info("h0", F, [1, 8]),
                                        helper.make_tensor_value_info("xs", F, [5, 1, 8])],
                          [helper.make_tensor_value_info("h_last", F, None),
                           helper.make_tensor_value_info("ys", F, None)],
                          initializer=[numpy_helper.from_array(np.zeros((8, 8), np.float32), "W")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_scan_is_its_body_times_the_sequence_length() -> None:
    model = _scan_model()
    rep = onnxcost.analyze(model)
    assert rep.nodes[0].macs == 5 * 64 and rep.nodes[0].flops == 5 * (128 + 8)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    results = sess.run(None, {"h0": np.zeros((1, 8), np.float32), "xs": np.zeros((5, 1, 8), np.float32)})
    assert [o.shape for o in rep.outputs] == [list(r.shape) for r in results]


def _loop(trips: object) -> onnx.ModelProto:
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Relu", ["h_in"], ["h_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                 helper.make_tensor_value_info("h_in", F, [1, 8])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", F, [1, 8])])
    loop = helper.make_node("Loop", ["M", "cond", "h0"], ["h"], name="loop", body=body)
    g = helper.make_graph([loop], "g", [helper.make_tensor_value_info("h0", F, [1, 8])],
                          [helper.make_tensor_value_info("h", F, None)],
                          initializer=[numpy_helper.from_array(np.array(trips), "M"),
                                       numpy_helper.from_array(np.array(True), "cond")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_loop_counts_and_rejects_impossible_trip_counts() -> None:
    assert onnxcost.analyze(_loop(np.int64(3))).nodes[0].flops == 3 * 8  # 3 trips of an 8-element Relu
    with pytest.raises(onnxcost.ModelError, match="trip count -5"):
        onnxcost.analyze(_loop(np.int64(-5)))
    with pytest.raises(onnxcost.ModelError, match="trip count"):
        onnxcost.analyze(_loop(np.float32(np.nan)))


def test_if_missing_a_branch_is_one_clear_error() -> None:
    model = _if_model("shape")
    if_node = model.graph.node[-1]
    keep = [a for a in if_node.attribute if a.name != "else_branch"]
    del if_node.attribute[:]
    if_node.attribute.extend(keep)
    with pytest.raises(onnxcost.ModelError, match="else_branch"):
        onnxcost.analyze(model)


def _vad_like() -> onnx.ModelProto:
    """Silero VAD's pattern: If(sr == 16000) picks a branch; sr is a run-time input."""
    cond = [helper.make_node("Equal", ["sr", "k16"], ["is16k"], name="eq")]
    model = _if_model("input")
    g = model.graph
    del g.input[1]  # the bool input: the condition now comes from sr
    g.input.append(helper.make_tensor_value_info("sr", TensorProto.INT64, []))
    g.initializer.append(numpy_helper.from_array(np.array(16000, np.int64), "k16"))
    g.node[0].input[0] = "is16k"
    g.node.insert(0, cond[0])
    return model


def test_input_value_resolves_a_data_dependent_if(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from onnxcost.cli.app import main

    model = _vad_like()
    rep = onnxcost.analyze(model)
    assert rep.totals.upper_bound and rep.nodes[-1].branch == "max"
    rep = onnxcost.analyze(model, input_values={"sr": [16000]})
    node = rep.nodes[-1]
    assert (node.branch, node.macs, rep.totals.upper_bound, rep.totals.unknown_cost_nodes) == ("then", 64, False, 0)
    assert onnxcost.analyze(model, input_values={"sr": [8000]}).nodes[-1].branch == "else"
    path = tmp_path / "vad.onnx"  # type: ignore[operator]
    onnx.save_model(model, str(path))
    assert main(["report", str(path), "--input-value", "sr=16000", "--strict", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["nodes"][-1]["branch"] == "then"
    assert main(["report", str(path), "--input-value", "nope=1"]) == 2


def test_bench_takes_input_values_and_an_npz(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from onnxcost.cli.app import main

    path = tmp_path / "vad.onnx"  # type: ignore[operator]
    onnx.save_model(_vad_like(), str(path))
    npz = tmp_path / "inputs.npz"  # type: ignore[operator]
    np.savez(npz, x=np.ones((1, 8), np.float32))
    code = main(["bench", str(path), "--input-value", "sr=16000", "--inputs", str(npz), "--runs", "3",
                 "--warmup", "0", "--per-node", "--top", "1", "--sort", "estimated", "--profile", "xeon-8480"])
    out = capsys.readouterr().out
    assert code == 0 and "Nodes (µs)" in out
    assert main(["bench", str(path), "--sort", "nonsense"]) == 2


def _loop_with_state_and_scan(trips: int, exit_on_data: bool = False) -> onnx.ModelProto:
    """h <- tanh(h @ W) for `trips` steps, also stacking each step's h (a scan output); the condition is a
    constant True, or (exit_on_data) the body's own test on h, which makes the number of steps data."""
    body_nodes = [helper.make_node("MatMul", ["h_in", "W"], ["hw"]), helper.make_node("Tanh", ["hw"], ["h_out"]),
                  helper.make_node("Identity", ["h_out"], ["h_scan"])]
    if exit_on_data:
        body_nodes += [helper.make_node("ReduceSum", ["h_out"], ["total"], keepdims=0),
                       helper.make_node("Less", ["total", "limit"], ["cond_out"])]
    else:
        body_nodes.append(helper.make_node("Identity", ["cond_in"], ["cond_out"]))
    body = helper.make_graph(
        body_nodes, "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_in", F, [2, 16])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", F, None), helper.make_tensor_value_info("h_scan", F, None)])
    loop = helper.make_node("Loop", ["M", "cond", "h0"], ["h", "hs"], name="loop", body=body)
    g = helper.make_graph(
        [loop], "g", [helper.make_tensor_value_info("h0", F, [2, 16])],
        [helper.make_tensor_value_info("h", F, None), helper.make_tensor_value_info("hs", F, None)],
        initializer=[numpy_helper.from_array(np.array(trips, np.int64), "M"),
                     numpy_helper.from_array(np.array(True), "cond"),
                     numpy_helper.from_array(np.full((16, 16), 0.01, np.float32), "W"),
                     numpy_helper.from_array(np.array(1e9, np.float32), "limit")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_loop_carried_state_and_scan_outputs_match_onnxruntime() -> None:
    import onnxruntime as ort

    model = _loop_with_state_and_scan(5)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    h, hs = sess.run(None, {"h0": np.ones((2, 16), np.float32)})
    node = onnxcost.analyze(model).nodes[0]
    assert node.output_shapes == [list(h.shape), list(hs.shape)] == [[2, 16], [5, 2, 16]]
    assert node.macs == 5 * 2 * 16 * 16  # five steps of a [2,16] x [16,16] MatMul


def test_loop_whose_exit_is_data_keeps_its_state_shape_but_not_its_scan_length() -> None:
    node = onnxcost.analyze(_loop_with_state_and_scan(5, exit_on_data=True)).nodes[0]
    # the state keeps its shape whatever the number of steps; the stacked outputs' length is run-time data
    assert node.output_shapes[0] == [2, 16]
    assert node.output_shapes[1] is None or node.output_shapes[1][0] != 5


def _loop_of_two_batches() -> onnx.ModelProto:
    """A decoder step whose two states have batch dims named apart (as a TorchScript export names each input's
    axes): h <- tanh(h + t), t <- h, for M steps, M a graph input (run-time data). After the first step both
    states are the broadcast of the two batches, and stay so."""
    body = helper.make_graph(
        [helper.make_node("Add", ["h_in", "t_in"], ["s"]), helper.make_node("Tanh", ["s"], ["h_out"]),
         helper.make_node("Identity", ["h_out"], ["t_out"]), helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                 helper.make_tensor_value_info("h_in", F, None), helper.make_tensor_value_info("t_in", F, None)],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", F, None), helper.make_tensor_value_info("t_out", F, None)])
    loop = helper.make_node("Loop", ["M", "cond", "h0", "t0"], ["h", "t"], name="loop", body=body)
    g = helper.make_graph(
        [loop], "g", [helper.make_tensor_value_info("M", TensorProto.INT64, []),
                      helper.make_tensor_value_info("h0", F, ["hb", 16]),
                      helper.make_tensor_value_info("t0", F, ["tb", 16])],
        [helper.make_tensor_value_info("h", F, None), helper.make_tensor_value_info("t", F, None)],
        initializer=[numpy_helper.from_array(np.array(True), "cond")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_loop_state_that_takes_its_shape_in_the_first_step_is_that_shape_when_the_count_is_data() -> None:
    """No fixed point from the inputs' shapes, one from the first step's: with the count run-time data the
    states are that shape, valid when the loop runs at least once and the two batches agree (the dims the body
    found equal, stated on the Loop); where they hold, it is the shape onnxruntime gives."""
    model = _loop_of_two_batches()
    report = onnxcost.analyze(model)
    shapes = [s for s in report.nodes[0].output_shapes if s is not None]
    assert len(shapes) == 2 and all(s[1] == 16 for s in shapes)
    assert {"node 'loop' (Loop): valid only when Loop 'loop' runs at least once",
            "node 'loop' (Loop): valid only when tb = hb"} <= set(report.warnings)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for batch in (1, 2, 5):
        h, t = sess.run(None, {"M": np.array(3, np.int64), "h0": np.ones((batch, 16), np.float32),
                               "t0": np.ones((batch, 16), np.float32)})
        point = {"hb": batch, "tb": batch}
        assert [[symbolic.evaluate(symbolic.parse(str(d)), point) for d in s] for s in shapes] == [
            list(h.shape), list(t.shape)]


def test_loop_that_may_exit_early_is_bounded_by_its_trip_count() -> None:
    report = onnxcost.analyze(_loop_with_state_and_scan(5, exit_on_data=True))
    node = report.nodes[0]
    # the condition is data (a sum against a limit): at most M = 5 runs of the [2,16] x [16,16] MatMul
    assert node.macs == 5 * 2 * 16 * 16 and node.upper_bound and report.totals.upper_bound
    assert any("M = 5" in w and "upper bound" in w for w in report.warnings)


# --- Loops as torch.onnx's TorchScript exporter writes them (corpus/exports, made by corpus/make_loops.py) ---
# Hidden 32, vocabulary 50: the cell's gates are a Linear(64 -> 64), its candidate a Linear(64 -> 32), the head
# a Linear(32 -> 50), so one decoder step at batch b is b * (64*64 + 64*32 + 32*50) = 7,744 b MACs.

EXPORTS = Path(__file__).resolve().parents[2] / "corpus" / "exports"
STEP_MACS = 64 * 64 + 64 * 32 + 32 * 50
CELL_PARAMS = 64 * 64 + 64 + 64 * 32 + 32


def _ort_shapes(path: Path, feeds: dict[str, np.ndarray]) -> list[tuple[int, ...]]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [tuple(o.shape) for o in session.run(None, feeds)]


def test_loop_over_an_inputs_rows_counts_a_formula_of_its_length() -> None:
    """`for i in range(x.size(0))`: M is Shape -> Gather, a dim; the cell's weights live in the body."""
    report = onnxcost.analyze(EXPORTS / "loop_over_rows.onnx")
    assert report.symbolic is not None
    assert symbolic.parse(report.symbolic["totals"]["macs"]) == symbolic.parse("steps*batch*6144")  # 64*64 + 64*32
    assert report.totals.params == CELL_PARAMS  # read inside the body, counted once
    assert not any("upper bound" in w for w in report.warnings)  # its condition is an outer constant True
    bound = onnxcost.analyze(EXPORTS / "loop_over_rows.onnx", dims={"steps": 5, "batch": 2})
    assert bound.totals.macs == 5 * 2 * (64 * 64 + 64 * 32)
    out = _ort_shapes(EXPORTS / "loop_over_rows.onnx", {"x": np.ones((5, 2, 32), np.float32),
                                                         "h": np.ones((2, 32), np.float32)})
    assert [tuple(t.shape or ()) for t in bound.outputs] == out


def test_loop_appending_to_a_list_stacks_a_sequence_over_its_count() -> None:
    """A list appended to in a loop (SequenceEmpty -> SequenceInsert -> ConcatFromSequence) holds one element
    per iteration: [max_new, batch, vocab]."""
    report = onnxcost.analyze(EXPORTS / "loop_gru_decoder.onnx", dims={"batch": 2}, input_values={"max_new": 12})
    assert report.totals.macs == 12 * 2 * STEP_MACS and report.totals.unknown_cost_nodes == 0
    assert report.totals.params == CELL_PARAMS + 50 * 32 + 32 * 50 + 50  # embedding, cell, head
    out = _ort_shapes(EXPORTS / "loop_gru_decoder.onnx", {"h": np.ones((2, 32), np.float32),
                                                           "token": np.zeros(2, np.int64), "max_new": np.array(12)})
    assert [tuple(t.shape or ()) for t in report.outputs] == out == [(12, 2, 50)]


def test_loop_with_a_break_is_bounded_by_the_counter_in_its_condition() -> None:
    """A break makes TorchScript write M = INT64_MAX and `counter + 1 < max_new` in the condition: at most
    max_new iterations, an upper bound; without the value, no bound at all (never INT64_MAX iterations)."""
    report = onnxcost.analyze(EXPORTS / "loop_decoder_early_exit.onnx", dims={"batch": 2},
                              input_values={"max_new": 12})
    assert report.totals.macs == 12 * 2 * STEP_MACS and report.totals.upper_bound
    assert any("12, where a counter in its condition ends it" in w for w in report.warnings)
    unbound = onnxcost.analyze(EXPORTS / "loop_decoder_early_exit.onnx", dims={"batch": 2})
    assert unbound.totals.unknown_cost_nodes == 1 and not any("9223372036854775807" in w for w in unbound.warnings)


def test_loop_whose_state_grows_a_row_per_step_sums_each_steps_cost() -> None:
    """Each step attends over the sequence so far and appends a row: the state is [b, prompt + i, 32] at step
    i, and step i costs b * (2 * 32*32 + 2 * 32 * (prompt + i)) MACs (query and mix Linears, two attention
    products), summed over i < max_new."""
    path = EXPORTS / "loop_growing_tokens.onnx"
    b, prompt, steps = 2, 3, 12
    report = onnxcost.analyze(path, dims={"batch": b, "prompt": prompt}, input_values={"max_new": steps})
    assert report.totals.macs == sum(b * (2 * 32 * 32 + 2 * 32 * (prompt + i)) for i in range(steps)) == 62_208
    out = _ort_shapes(path, {"seq": np.ones((b, prompt, 32), np.float32), "max_new": np.array(steps)})
    assert [tuple(t.shape or ()) for t in report.outputs] == out == [(b, prompt + steps, 32)]
    free = onnxcost.analyze(path, input_values={"max_new": steps})  # prompt free: a formula, exact at any prompt
    assert free.symbolic is not None
    formula = symbolic.parse(free.symbolic["totals"]["macs"])
    at = {s: {"batch": b, "prompt": 7}[str(s)] for s in formula.free_symbols}
    assert formula.subs(at) == sum(b * (2048 + 64 * (7 + i)) for i in range(steps))
