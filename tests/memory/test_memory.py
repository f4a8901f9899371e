"""Liveness, in-place reuse, the minimum-peak scheduler (against brute force), arena plans, training memory."""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import onnxcost
from models import zoo
from onnxcost.load import model as load
from onnxcost.memory import bounds, search
from onnxcost.memory import liveness as memory
from onnxcost.memory import schedule as sch
from onnxcost.shapes import graph
from onnxcost.shapes import inference as shapes

LIGHT = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"


def _model_of(proto: onnx.ModelProto, inplace: bool = False) -> memory.MemoryModel:
    loaded = load.load(proto)
    m = memory.build_model(graph.build(loaded, shapes.infer(loaded)), inplace)
    assert m is not None
    return m


def test_alexnet_seed003_activations_inplace() -> None:
    # seed 003 "AlexNet: #Activations": total 932,264 (ReLU in place, Flatten a view);
    # peak ≈ input + conv1 output = 150,528 + 290,400 = 440,928
    rep = onnxcost.analyze(zoo.alexnet_seed003(), inplace=True)
    assert rep.totals.activation_elements == 932_264
    assert rep.totals.peak_memory_elements == 440_928
    assert rep.memory is not None and rep.memory.peak_node == "conv1"
    assert rep.memory.peak_live_tensors == ["conv1_out", "input"]
    # without in-place reuse every ReLU output is a buffer of its own
    plain = onnxcost.analyze(zoo.alexnet_seed003())
    assert plain.totals.peak_memory_elements == 2 * 290_400  # conv1 output and ReLU output together


def _branchy() -> onnx.ModelProto:
    """x -> a1 (big) -> a2 (small); x -> b1 (big) -> b2 (small); a2 + b2. File order runs a1, b1 first."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    nodes = [
        helper.make_node("Tile", ["x", "rep"], ["a1"], name="a1"),
        helper.make_node("Tile", ["x", "rep"], ["b1"], name="b1"),
        helper.make_node("ReduceSum", ["a1"], ["a2"], name="a2", keepdims=1),
        helper.make_node("ReduceSum", ["b1"], ["b2"], name="b2", keepdims=1),
        helper.make_node("Add", ["a2", "b2"], ["y"], name="y"),
    ]
    rep = onnx.numpy_helper.from_array(__import__("numpy").array([100, 1], dtype="int64"), "rep")
    g = helper.make_graph(nodes, "g", [x], [helper.make_empty_tensor_value_info("y")], initializer=[rep])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_optimal_beats_file_order_by_hand() -> None:
    # x 16 B, a1 = b1 = 1,600 B, a2 = b2 = y = 4 B.
    # file order a1, b1, a2, b2: during b1 x + a1 + b1 = 3,216 B.
    # optimal a1, a2, b1, b2: during b1: x + a2 + b1 = 1,620 B; during a1: x + a1 = 1,616 B.
    file_rep = onnxcost.analyze(_branchy(), schedule="file")
    best = onnxcost.analyze(_branchy(), schedule="optimal")
    assert file_rep.totals.peak_memory_bytes == 3_216
    assert best.totals.peak_memory_bytes == 1_620
    assert best.totals.peak_memory_bytes_file_order == 3_216
    assert best.schedule_optimal and best.schedule_method == "optimal"
    assert best.schedule == ["a1", "a2", "b1", "b2", "y"]


def _random_dag(draw: st.DrawFn, sizes_range: tuple[int, int] = (3, 11),
                density_range: tuple[float, float] = (0.15, 0.6)) -> onnx.ModelProto:
    n = draw(st.integers(*sizes_range))
    density = draw(st.floats(*density_range))
    sizes = [draw(st.integers(1, 64)) for _ in range(n)]
    nodes, produced = [], ["x"]
    vis = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [draw(st.integers(1, 32))])]
    for i in range(n):
        pool = produced[1:] if len(produced) > 1 else produced
        ins = [t for t in pool if draw(st.floats(0, 1)) < density] or [draw(st.sampled_from(produced))]
        if draw(st.booleans()) and len(ins) == 1 and ins[0] != "x":
            nodes.append(helper.make_node("Relu", ins, [f"t{i}"], name=f"n{i}"))  # may reuse in place
        else:
            nodes.append(helper.make_node("Mix", ins, [f"t{i}"], name=f"n{i}", domain="test"))
            vis.append(helper.make_tensor_value_info(f"t{i}", TensorProto.FLOAT, [sizes[i]]))
        produced.append(f"t{i}")
    consumed = {t for nd in nodes for t in nd.input}
    outputs = [helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in produced[1:] if t not in consumed]
    g = helper.make_graph(nodes, "g", vis[:1], outputs, value_info=vis[1:])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("test", 1)])


def _brute_force(m: memory.MemoryModel) -> int:
    n = len(m.nodes)
    best = None
    for perm in itertools.permutations(range(n)):
        pos = {v: k for k, v in enumerate(perm)}
        if any(pos[d] > pos[i] for i in range(n) for d in range(n) if m.deps[i] >> d & 1):
            continue
        peak = memory.simulate(m, list(perm)).peak_bytes
        best = peak if best is None else min(best, peak)
    assert best is not None
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_optimal_equals_brute_force_on_random_dags(data: st.DataObject, inplace: bool) -> None:
    proto = data.draw(st.composite(lambda draw: _random_dag(draw))())
    m = _model_of(proto, inplace)
    result = sch.schedule(m, "optimal")
    peak = memory.simulate(m, result.order).peak_bytes
    assert result.optimal
    assert sorted(result.order) == list(range(len(m.nodes)))
    if len(m.nodes) <= 8:
        assert peak == _brute_force(m)
    assert peak <= memory.simulate(m, sch.file_order(m)).peak_bytes
    assert peak <= memory.simulate(m, sch.topo_order(m)).peak_bytes
    biggest = max(b.nbytes for b in m.buffers)
    assert peak >= biggest


def _orders(m: memory.MemoryModel) -> int:
    """Minimum peak over all topological orders by DP over sets (independent of the scheduler's code)."""
    n = len(m.nodes)
    best = {0: 0}
    for _ in range(n):
        nxt: dict[int, int] = {}
        for done, peak in best.items():
            for i in range(n):
                if done >> i & 1 or m.deps[i] & ~done:
                    continue
                alloc, _, _ = memory.step(m, done, i)
                mem = _live_bytes(m, done)
                p = max(peak, mem + alloc)
                t = done | 1 << i
                nxt[t] = min(nxt.get(t, p), p)
        best = nxt
    return best[(1 << n) - 1]


def _live_bytes(m: memory.MemoryModel, done: int) -> int:
    total = 0
    for b in m.buffers:
        produced = b.producer is None or done >> b.producer & 1
        needed = b.pinned or b.consumers & ~done
        if produced and needed:
            total += b.nbytes
    return total


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_optimal_on_larger_random_dags_matches_exhaustive_set_search(data: st.DataObject) -> None:
    proto = data.draw(st.composite(lambda draw: _random_dag(draw))())
    m = _model_of(proto)
    result = sch.schedule(m, "optimal")
    assert memory.simulate(m, result.order).peak_bytes == _orders(m)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_guards_and_the_narrow_search_keep_the_optimum(data: st.DataObject, inplace: bool) -> None:
    """The search under a bound, with the orderings the bound implies (a big buffer must not outlive a node
    that needs the rest of the bound), finds an order at the true minimum peak exactly when one is under the
    bound; the narrow (beam) search never claims a peak it does not reach; the depth-first search for an order
    under a limit finds one exactly when one exists."""
    proto = data.draw(st.composite(lambda draw: _random_dag(draw, (6, 13), (0.1, 0.4)))())
    m = _model_of(proto, inplace)
    best = _orders(m)
    known = bounds.closures(m)
    floors = bounds.node_floors(m, known)
    nodes, mask, base = list(range(len(m.nodes))), (1 << len(m.nodes)) - 1, m.initial_bytes
    for below in {best, best + 1, memory.simulate(m, sch.file_order(m)).peak_bytes + 1}:
        guards = bounds.guards(m, mask, below, known, floors)
        found = search.segment_dp(m, 0, nodes, base, below, math.inf, guards)
        if best < below:
            assert isinstance(found, list) and search.segment_peak(m, 0, found, base) == best
        else:
            assert found is None
        narrow = search.segment_dp(m, 0, nodes, base, below, math.inf, guards, beam=2)
        assert narrow is None or (isinstance(narrow, list) and search.segment_peak(m, 0, narrow, base) < below)
        reached = search.segment_reach(m, 0, nodes, base, below - 1, math.inf, guards, known, 10**6)
        if best < below:  # an order at or under below - 1 exists exactly when the optimum is under below
            assert isinstance(reached, list) and sorted(reached) == nodes
            assert search.segment_peak(m, 0, reached, base) <= below - 1
        else:
            assert reached is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_the_side_of_a_minimum_cut_is_an_order_that_holds_the_cut(data: st.DataObject, inplace: bool) -> None:
    """The nodes min_cut says run before v are a valid prefix for v (downward closed, v's ancestors in, v and its
    descendants out), and running v right after them holds the cut's bytes: exactly, unless v may overwrite an
    input in place (the cut then takes the overwrite as given, a bound)."""
    proto = data.draw(st.composite(lambda draw: _random_dag(draw, (3, 12), (0.1, 0.5)))())
    m = _model_of(proto, inplace)
    anc, desc = known = bounds.closures(m)
    for v in range(len(m.nodes)):
        held, before = bounds.min_cut(m, v, known)
        assert before & anc[v] == anc[v] and not before & (desc[v] | 1 << v), v
        assert all(m.deps[u] & ~before == 0 for u in bounds.bits(before)), v
        alloc, _, _ = memory.step(m, before, v)
        at_v = _live_bytes(m, before) + alloc
        assert at_v == held if m.reuse[v] is None else at_v >= held, v


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_the_cut_floor_of_every_node_is_a_lower_bound(data: st.DataObject, inplace: bool) -> None:
    """What any order holds at a node (a minimum cut) never exceeds the true minimum peak, never falls below the
    static floor, and where the optimal order peaks it is often that peak itself (the proof it allows)."""
    proto = data.draw(st.composite(lambda draw: _random_dag(draw, (3, 12), (0.1, 0.5)))())
    m = _model_of(proto, inplace)
    best = _orders(m)
    known = bounds.closures(m)
    pinned, floors = bounds.node_floors(m, known)
    for v in range(len(m.nodes)):
        cut = bounds.cut_floor(m, v, known)
        assert pinned + floors[v] <= cut <= best, v


@pytest.mark.parametrize("name", ["light_inception_v1.onnx", "light_inception_v2.onnx", "light_densenet121.onnx"])
def test_optimal_is_proven_on_light_models(name: str) -> None:
    rep = onnxcost.analyze(LIGHT / name, inplace=True)
    assert rep.schedule_optimal
    assert rep.totals.peak_memory_bytes is not None and rep.totals.peak_memory_bytes_file_order is not None
    assert rep.totals.peak_memory_bytes <= rep.totals.peak_memory_bytes_file_order


def test_inception_cell_optimal_below_file_order() -> None:
    rep = onnxcost.analyze(zoo.inception_cell("external"), inplace=True)
    assert rep.schedule_optimal
    assert rep.totals.peak_memory_bytes < rep.totals.peak_memory_bytes_file_order  # type: ignore[operator]


@pytest.mark.parametrize("make", [zoo.alexnet_seed003, zoo.resnet18, zoo.mobilenet_v1, zoo.vgg16,
                                  lambda: zoo.inception_cell("external")])
@pytest.mark.parametrize("inplace", [False, True])
def test_arena_plan_is_valid_and_tight(make: Callable[[], onnx.ModelProto], inplace: bool) -> None:
    rep = onnxcost.analyze(make(), inplace=inplace, arena=True)
    mem = rep.memory
    assert mem is not None and mem.arena_bytes is not None and rep.totals.peak_memory_bytes is not None
    assert rep.totals.peak_memory_bytes <= mem.arena_bytes <= 1.05 * rep.totals.peak_memory_bytes
    m = _model_of(make(), inplace)
    timeline = memory.simulate(m, sch.schedule(m, "optimal").order)
    from onnxcost.memory.arena import plan

    placements = plan([(s, e, b) for s, e, b, _ in timeline.lifetimes], timeline.peak_bytes).placements
    for p, q in itertools.combinations(placements, 2):
        if p.start <= q.end and q.start <= p.end:  # alive together: no shared byte
            assert p.offset + p.nbytes <= q.offset or q.offset + q.nbytes <= p.offset


def test_training_memory_by_hand() -> None:
    # MLP 784 -> 10 (seed 000: 7,850 weights = 31,400 bytes). Adam keeps 2 states per weight.
    # activations at batch 1: input 784 + output 10 floats = 3,176 bytes; at batch 32: 101,632 bytes.
    # memory = params 31,400 + grads 31,400 + adam 62,800 + activations 101,632 = 227,232 bytes
    # compute: 7,840 forward MACs per sample, 3x for training (seed 000's 3w), x32 = 752,640
    rep = onnxcost.analyze(zoo.mlp([784, 10]), training="adam", batch=32)
    tr = rep.training
    assert tr is not None
    assert (tr.param_bytes, tr.gradient_bytes, tr.optimizer_state_bytes, tr.activation_bytes) == \
        (31_400, 31_400, 62_800, 101_632)
    assert tr.total_memory_bytes == 227_232
    assert tr.training_macs == 752_640
    sgd = onnxcost.analyze(zoo.mlp([784, 10]), training="sgd", batch=32).training
    assert sgd is not None and sgd.total_memory_bytes == 227_232 - 62_800
    assert "training" in rep.to_dict()


def test_schedules_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from onnxcost.cli.app import main

    p = tmp_path / "b.onnx"
    onnx.save_model(_branchy(), str(p))
    assert main(["report", str(p), "--schedule", "file", "-f", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["totals"]["peak_memory_bytes"] == 3216 and out["schedule_method"] == "file"
    png = tmp_path / "m.png"
    assert main(["report", str(p), "--plot", str(png), "--arena"]) == 0
    out = capsys.readouterr().out
    assert png.read_bytes()[:4] == b"\x89PNG" and "proven optimal" in out and "arena" in out


def _two_chains(length: int) -> onnx.ModelProto:
    """Two parallel chains of 256-byte tensors, reduced and joined at the end: every order holds x or one tensor
    of each chain besides the step's own input and output (768 B), above what any single node needs (512 B),
    so only the search can prove the peak."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [64])
    nodes, a, b = [], "x", "x"
    for i in range(length):
        nodes += [helper.make_node("Relu", [a], [f"a{i}"]), helper.make_node("Neg", [b], [f"b{i}"])]
        a, b = f"a{i}", f"b{i}"
    nodes += [helper.make_node("ReduceSum", [a], ["ra"], keepdims=1),
              helper.make_node("ReduceSum", [b], ["rb"], keepdims=1), helper.make_node("Add", ["ra", "rb"], ["y"])]
    g = helper.make_graph(nodes, "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_budget_exhausted_falls_back_and_says_so() -> None:
    rep = onnxcost.analyze(_two_chains(20), schedule_budget=0.0)
    assert not rep.schedule_optimal
    assert rep.totals.peak_memory_bytes == 768
    assert rep.totals.peak_memory_bytes <= rep.totals.peak_memory_bytes_file_order  # type: ignore[operator]
    assert any("not proven" in w for w in rep.warnings)
    assert rep.to_dict()["schedule_optimal"] is False
    proven = onnxcost.analyze(_two_chains(20))  # with the default budget the search proves the same peak
    assert proven.schedule_optimal and proven.totals.peak_memory_bytes == 768


def test_lower_bound_proves_stem_peaks() -> None:
    # light_inception_v2's peak is one convolution's input + output: no search needed to prove it
    rep = onnxcost.analyze(LIGHT / "light_inception_v2.onnx", schedule_budget=0.0)
    assert rep.schedule_optimal
