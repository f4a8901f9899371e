"""Imports on demand: `import onnxcost` pulls in nothing heavy, and a JSON report of a static model needs only
onnx and numpy (sympy only with symbols, networkx only to name a cycle, rich only for terminal output)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("networkx", "sympy", "rich", "typer", "click", "pydantic", "matplotlib", "onnxruntime", "scipy", "pandas")


def _loaded(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_onnxcost_loads_nothing_heavy() -> None:
    assert _loaded("import onnxcost") == []


def test_a_json_report_of_a_static_model_needs_no_heavy_module() -> None:
    assert _loaded("import onnxcost\nonnxcost.analyze('models/resnet18.onnx', profile='xeon-8480').to_json()") == []


def test_symbols_bring_sympy_and_nothing_else() -> None:
    code = ("import onnxcost\nfrom models import zoo\nimport onnx\nm = zoo.lenet_1989()\n"
            "m.graph.input[0].type.tensor_type.shape.dim[0].dim_param = 'batch'\n"
            "onnxcost.analyze(m).to_json()")
    assert _loaded(code) == ["sympy"]


_QUIET = "from onnxcost.cli.app import main\nimport io, contextlib\nwith contextlib.redirect_stdout(io.StringIO()):"


def test_the_command_line_report_skips_typer() -> None:
    """`onnxcost report MODEL -f json` takes the fast path: building typer's commands costs more than the analysis."""
    code = f"{_QUIET}\n    assert main(['report', 'models/resnet18.onnx', '-f', 'json']) == 0"
    assert _loaded(code) == []


def test_help_is_click_s_plain_help_without_rich() -> None:
    """`onnxcost --help` builds typer's commands but draws no rich panels: importing rich for them (typer's
    rich_utils pulls in its markdown and traceback modules) doubled the time help takes."""
    code = f"{_QUIET}\n    assert main(['--help']) == 0\n    assert main(['report', '--help']) == 0"
    assert "rich" not in _loaded(code)


def test_a_piped_table_is_drawn_without_rich() -> None:
    code = f"{_QUIET}\n    assert main(['report', 'models/resnet18.onnx', '--top', '3']) == 0"
    assert _loaded(code) == []


def test_a_report_without_profile_training_or_arena_skips_their_stages() -> None:
    """The estimator (six modules), the training estimate and the arena planner load only when asked for; the
    LLM view only for a model with a key/value cache, the einsum parser for an Einsum, subgraph analysis for
    control flow, csv for CSV output."""
    code = ("import sys, onnxcost\nonnxcost.analyze('models/resnet18.onnx').to_json()\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('onnxcost.') or m == 'csv')))")
    out = subprocess.run([sys.executable, "-c", f"import json\n{code}"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & {"onnxcost.latency.result", "onnxcost.latency.summary", "onnxcost.latency.estimate",
                         "onnxcost.latency.profiles", "onnxcost.cost.training", "onnxcost.memory.arena",
                         "onnxcost.cost.llm", "onnxcost.ops.einsum", "onnxcost.ops.coverage",
                         "onnxcost.shapes.subgraph", "csv"}


def test_a_piped_table_report_skips_the_batch_runner_and_the_pictures() -> None:
    """One model's table needs neither the many-models runner, the PNG plots nor the op coverage table."""
    code = (f"{_QUIET}\n    assert main(['report', 'models/resnet18.onnx']) == 0\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('onnxcost.'))))")
    out = subprocess.run([sys.executable, "-c", f"import sys, json\n{code}"], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "onnxcost.report.sparkline" in loaded  # the table's memory timeline was drawn
    assert not loaded & {"onnxcost.batch", "onnxcost.report.plots", "onnxcost.ops.coverage",
                         "onnxcost.latency.result"}


def test_a_bound_loop_of_fixed_state_and_a_bound_decoder_need_no_sympy() -> None:
    """An iteration symbol only where a Loop's state grows; a KV-cache decoder's phases from concrete passes."""
    code = ("import onnxcost\n"
            "onnxcost.analyze('corpus/exports/loop_over_rows.onnx', input_shapes={'x': [5, 2, 32], 'h': [2, 32]})\n"
            "onnxcost.analyze('corpus/exports/gpt2_past_dynamo.onnx', input_shapes={'input_ids': [2, 4], "
            "'attention_mask': [2, 12], **{f'past_{k}_{v}': [2, 4, 8, 16] for k in (0, 1) for v in 'kv'}})")
    assert _loaded(code) == []


def test_a_default_report_does_not_import_onnx_s_package() -> None:
    """The message classes come from onnx's generated module alone (onnx's __init__ costs ~45 ms a process);
    a report of a static model, as a table and as JSON, needs nothing else of onnx."""
    code = (f"{_QUIET}\n    assert main(['report', 'models/resnet18.onnx', '--top', '3']) == 0\n"
            "    assert main(['report', 'corpus/exports/skl_tree.onnx', '-f', 'json']) == 0\n"
            "print(json.dumps(sorted(m for m in sys.modules if m == 'onnx' or m.startswith('onnx.'))))")
    out = subprocess.run([sys.executable, "-c", f"import sys, json\n{code}"], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["onnx.onnx_ml_pb2"]


def test_onnx_imported_after_a_report_shares_its_classes() -> None:
    """A pipeline that imports onnx after analysing gets the very classes the analysis used, and a working onnx."""
    code = ("import onnxcost\nfrom onnxcost.base import proto\nrep = onnxcost.analyze('models/resnet18.onnx')\n"
            "import onnx\nfrom onnx import checker, helper\nassert proto.ModelProto is onnx.ModelProto\n"
            "m = onnx.load('models/resnet18.onnx', load_external_data=False)\nassert isinstance(m, proto.ModelProto)\n"
            "checker.check_model(helper.make_model(helper.make_graph([], 'g', [], [])))\n"
            "print(onnxcost.analyze(m).totals.macs == rep.totals.macs)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "True"


def test_a_sequence_op_onnx_cannot_type_is_not_handed_to_onnx() -> None:
    """A scripted decoder's ConcatFromSequence of a sequence of unknown shape: onnx's one-node inference would
    see the sequence as a tensor and find nothing, so onnx is not imported for it (60 ms); the output keeps
    the element type the file declares."""
    code = ("import onnxcost\nr = onnxcost.analyze('corpus/exports/loop_gru_decoder.onnx', input_shapes={'h': [2, 32], "
            "'token': [2], 'max_new': []})\nassert [o['dtype'] for o in r.to_dict()['outputs']] == ['float']\n"
            "print(json.dumps(sorted(m for m in sys.modules\n"
            "                         if m.split('.')[0] == 'onnx' and m != 'onnx.onnx_ml_pb2')))")
    out = subprocess.run([sys.executable, "-c", f"import json, sys\n{code}"], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
