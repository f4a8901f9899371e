"""The CI gate: budget parsing, every budget kind on both sides of its limit, exit codes, output formats,
baselines, diff, and the pre-commit hook's command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import onnx
import pytest

from models import zoo
from onnxcost import ConfigError
from onnxcost.base.units import parse_duration_ms, parse_percent, parse_quantity
from onnxcost.cli.app import main
from onnxcost.gate.budgets import load_config
from tests.helpers import one_node

ROOT = Path(__file__).resolve().parents[2]


def assert_valid_junit(xml: str) -> None:
    """The JUnit XSD that CI test reporters read (tests/data/junit.xsd) accepts the report."""
    import xmlschema

    xmlschema.XMLSchema(ROOT / "tests" / "data" / "junit.xsd").validate(xml)
# AlexNet (seed 003): 724,406,816 MACs, 60,954,656 params, peak 2,323,200 B (optimal schedule)
ALEXNET = {"macs": 724_406_816, "params": 60_954_656, "peak_memory_bytes": 2_323_200}


@pytest.mark.parametrize("text,value", [
    ("4.2M", 4.2e6), ("600 MMAC", 6e8), ("256 KiB", 262_144), ("1.5 GFLOPs", 1.5e9), ("3 MiB", 3 * 2**20),
    (12, 12.0), ("12", 12.0), ("2e3", 2000.0), ("1 GiB", 2**30), ("10k", 1e4), ("7 B", 7.0),
])
def test_parse_quantity(text: object, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "12 parsecs", "abc", "4.2.1M", True, "-3M"])
def test_parse_quantity_errors_name_the_key(bad: object) -> None:
    with pytest.raises(ConfigError, match="budgets.x.macs"):
        parse_quantity(bad, "budgets.x.macs")  # type: ignore[arg-type]


def test_parse_duration_and_percent() -> None:
    assert parse_duration_ms("12 ms") == 12.0 and parse_duration_ms("1.5s") == 1500.0
    assert parse_duration_ms("250us") == pytest.approx(0.25) and parse_duration_ms(7) == 7.0
    assert parse_percent("5%") == 5.0 and parse_percent(2.5) == 2.5
    with pytest.raises(ConfigError):
        parse_duration_ms("fast")
    with pytest.raises(ConfigError):
        parse_percent("five")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    onnx.save_model(zoo.alexnet_seed003(), str(tmp_path / "alexnet.onnx"))
    return tmp_path


def write(repo: Path, text: str, name: str = "onnxcost.toml") -> Path:
    path = repo / name
    path.write_text(text)
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


LIMITS = {"macs": (ALEXNET["macs"], "MACs"), "params": (ALEXNET["params"], ""),
          "peak_memory_bytes": (ALEXNET["peak_memory_bytes"], "B")}


@pytest.mark.parametrize("metric", list(LIMITS))
@pytest.mark.parametrize("delta,expected", [(0, 0), (1, 0), (-1, 1)])
def test_each_count_budget_both_sides(metric: str, delta: int, expected: int, repo: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    value, unit = LIMITS[metric]
    cfg = write(repo, f'[budgets."*.onnx"]\n{metric} = "{value + delta} {unit}"\n')
    code, out, _ = run(["check", "--config", str(cfg), "-f", "json"], capsys)
    assert code == expected
    line = json.loads(out)["models"][0]["lines"][0]
    assert line["metric"] == metric and line["value"] == value and line["passed"] == (expected == 0)


def test_latency_budget_with_profile(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from onnxcost import analyze

    ms = analyze(repo / "alexnet.onnx", profile="raspberry-pi-4").totals.latency_ms
    assert ms is not None
    for limit, expected in ((ms * 1.01, 0), (ms * 0.99, 1)):
        cfg = write(repo, f'[budgets."alexnet.onnx"]\nlatency_ms = "{limit} ms"\nprofile = "raspberry-pi-4"\n')
        assert run(["check", "--config", str(cfg)], capsys)[0] == expected


def test_ops_opset_and_unknown(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write(repo, '[budgets."*.onnx"]\nforbidden_ops = ["Gemm"]\n')
    code, out, _ = run(["check", "--config", str(cfg)], capsys)
    assert code == 1 and "forbidden op(s) present: Gemm" in out
    cfg = write(repo, '[budgets."*.onnx"]\nforbidden_ops = ["Loop"]\nallowed_ops = ["Conv", "Relu", "MaxPool", '
                      '"Flatten", "Gemm"]\nopset = { min = 13, max = 17 }\n')
    assert run(["check", "--config", str(cfg)], capsys)[0] == 0
    cfg = write(repo, '[budgets."*.onnx"]\nallowed_ops = ["Conv"]\n')
    assert run(["check", "--config", str(cfg)], capsys)[0] == 1
    cfg = write(repo, '[budgets."*.onnx"]\nopset = { min = 18 }\n')
    assert run(["check", "--config", str(cfg)], capsys)[0] == 1
    onnx.save_model(one_node("Mystery", {"x": [4]}, domain="com.acme"), str(repo / "custom.onnx"))
    cfg = write(repo, '[budgets."custom.onnx"]\nparams = 0\n')
    code, out, _ = run(["check", "--config", str(cfg), str(repo / "custom.onnx")], capsys)
    assert code == 1 and "unknown cost" in out  # never a pass for an incomplete analysis...
    cfg = write(repo, '[budgets."custom.onnx"]\nparams = 0\nallow_unknown = true\n')
    assert run(["check", "--config", str(cfg), str(repo / "custom.onnx")], capsys)[0] == 0  # ...unless allowed
    cfg = write(repo, '[budgets."custom.onnx"]\nparams = 0\nstrict = true\n')
    code, _, err = run(["check", "--config", str(cfg), str(repo / "custom.onnx")], capsys)
    assert code == 2 and "--strict" in err and "'n'" in err  # strict: an unknown cost is an error


def test_report_strict(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["report", str(repo / "alexnet.onnx"), "--strict", "-f", "json"], capsys)[0] == 0
    onnx.save_model(one_node("Mystery", {"x": [4]}, domain="com.acme"), str(repo / "custom.onnx"))
    assert run(["report", str(repo / "custom.onnx"), "-f", "json"], capsys)[0] == 0
    code, out, err = run(["report", str(repo / "custom.onnx"), "--strict"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "1 node(s) of unknown cost" in err and "com.acme" in err


@pytest.mark.parametrize("text,needle", [
    ('[budgets."*.onnx"]\nmacs = "lots"\n', "macs"),
    ('[budgets."*.onnx"]\nmacz = 1\n', "unknown key 'macz'"),
    ('[budgets."*.onnx"]\nlatency_ms = 5\n', "needs a hardware 'profile'"),
    ('[budgets."*.onnx"]\ndims = { batch = "one" }\n', "dims.batch"),
    ('colour = "red"\n[budgets."*.onnx"]\nmacs = 1\n', "unknown key 'colour'"),
    ('[budgets."*.onnx"]\nopset = { lowest = 3 }\n', "unknown key 'lowest'"),
    ("[budgets\n", "not valid TOML"),
    ("", "no budgets"),
])
def test_bad_config_exit_2(text: str, needle: str, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write(repo, text)
    code, out, err = run(["check", "--config", str(cfg)], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_missing_model_and_unmatched_model_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write(repo, '[budgets."alexnet.onnx"]\nmacs = "1 GMAC"\n')
    code, _, err = run(["check", "--config", str(cfg), str(repo / "gone.onnx")], capsys)
    assert code == 2 and "not a pass" in err
    onnx.save_model(zoo.lenet_1989(), str(repo / "lenet.onnx"))
    code, _, err = run(["check", "--config", str(cfg), str(repo / "lenet.onnx")], capsys)
    assert code == 2 and "no budget" in err


def test_pyproject_section_globs_and_dims(repo: Path, capsys: pytest.CaptureFixture[str],
                                          shared_models: Path) -> None:
    (repo / "nets").mkdir()
    shutil.copy(shared_models / "gru_bidir.onnx", repo / "nets" / "gru.onnx")
    # 2 directions x 20 steps x 3*128*(64+128) + 20 x 256*5 = 2,974,720 MACs at batch 1, steps 20
    write(repo, '[project]\nname = "x"\n[tool.onnxcost.budgets."nets/*.onnx"]\nmacs = 2974720\n'
                'dims = { batch = 1, steps = 20 }\n', "pyproject.toml")
    cfg = load_config(repo / "pyproject.toml")
    assert [p.name for p in cfg.models()] == ["gru.onnx"]
    assert run(["check", "--config", str(repo / "pyproject.toml")], capsys)[0] == 0
    write(repo, '[project]\nname = "x"\n[tool.onnxcost.budgets."nets/*.onnx"]\nmacs = 2974719\n'
                'dims = { batch = 1, steps = 20 }\n', "pyproject.toml")
    assert run(["check", "--config", str(repo / "pyproject.toml")], capsys)[0] == 1


def test_output_formats(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write(repo, '[budgets."*.onnx"]\nmacs = "700 MMAC"\nparams = "62M"\n')
    code, out, _ = run(["check", "--config", str(cfg), "-f", "junit"], capsys)
    assert_valid_junit(out)
    root = ET.fromstring(out.split("?>", 1)[1])
    assert code == 1 and root.tag == "testsuites" and root.get("failures") == "1" and root.get("tests") == "2"
    failure = root.find("testsuite/testcase[@name='macs']/failure")
    assert failure is not None and failure.get("type") and failure.get("message")  # both, as JUnit schemas ask
    code, out, _ = run(["check", "--config", str(cfg), "-f", "github"], capsys)
    assert re.fullmatch(r"::error file=alexnet\.onnx,title=onnxcost macs::macs 724,406,816 exceeds the budget "
                        r"700,000,000\n::error file=onnxcost\.toml,line=1,title=onnxcost budget of alexnet\.onnx::"
                        r"macs 724,406,816 exceeds the budget 700,000,000\n", out)
    code, out, _ = run(["check", "--config", str(cfg), "-f", "markdown"], capsys)
    assert "❌ fail" in out and "| macs | 724,406,816 | 700,000,000 |" in out
    code, out, _ = run(["check", "--config", str(cfg)], capsys)
    assert "FAIL" in out and "0 passed, 1 failed" in out
    code, out, _ = run(["check", "--config", str(cfg), "-f", "json"], capsys)
    data = json.loads(out)
    assert data["schema"] == "onnxcost.check/1" and data["passed"] is False


def test_baseline_and_max_increase(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write(repo, '[budgets."*.onnx"]\nparams = "100M"\n')
    model = repo / "alexnet.onnx"
    code, out, _ = run(["baseline", str(model), "--config", str(cfg)], capsys)
    stored = repo / ".onnxcost" / "alexnet.onnx.json"
    assert code == 0 and stored.is_file() and json.loads(stored.read_text())["totals"]["macs"] == ALEXNET["macs"]
    assert run(["check", "--config", str(cfg), "--max-increase", "5%"], capsys)[0] == 0
    # the model grows by a 4096x4096 FC layer: +16,777,216 MACs (+2.32% of 724,406,816) and as many params
    # (+27.52% of 60,954,656): passes at 30%, fails at 5% on params only, at 1% on MACs too
    onnx.save_model(_alexnet_plus_one_layer(), str(model))
    assert run(["check", "--config", str(cfg), "--max-increase", "30%"], capsys)[0] == 0
    code, out, _ = run(["check", "--config", str(cfg), "--max-increase", "5%"], capsys)
    assert code == 1 and "params grew +27.52% over the baseline" in out and "macs grew" not in out
    code, out, _ = run(["check", "--config", str(cfg), "--max-increase", "1%"], capsys)
    assert code == 1 and "macs grew +2.32% over the baseline" in out


def _alexnet_plus_one_layer() -> onnx.ModelProto:
    """Seed 003's AlexNet with one more 4096 -> 4096 FC layer before the classifier (weights graph-only)."""
    from onnx import helper

    m = zoo.alexnet_seed003()
    g = m.graph
    last = g.node[-1]  # gemm3: 4096 -> 1000
    extra = onnx.TensorProto(name="extra.weight", data_type=onnx.TensorProto.FLOAT, dims=[4096, 4096],
                             data_location=onnx.TensorProto.EXTERNAL)
    extra.external_data.add(key="location", value="alexnet.weights")
    g.initializer.append(extra)
    g.node.insert(len(g.node) - 1, helper.make_node("Gemm", [last.input[0], "extra.weight"], ["extra_out"],
                                                    name="extra", transB=1))
    last.input[0] = "extra_out"
    return m


def test_diff_of_two_models(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bigger = repo / "bigger.onnx"
    onnx.save_model(_alexnet_plus_one_layer(), str(bigger))
    code, out, _ = run(["diff", str(repo / "alexnet.onnx"), str(bigger), "-f", "json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["added_nodes"] == ["extra"] and d["removed_nodes"] == []
    macs = next(c for c in d["totals"] if c["key"] == "macs")
    assert macs["delta"] == 4096 * 4096 and macs["percent"] == pytest.approx(100 * 4096 * 4096 / ALEXNET["macs"],
                                                                             abs=1e-3)
    # a stored report works as either side
    stored = repo / "old.json"
    assert main(["report", str(repo / "alexnet.onnx"), "-f", "json", "-o", str(stored)]) == 0
    capsys.readouterr()
    code, out, _ = run(["diff", str(stored), str(bigger)], capsys)
    assert code == 0 and "nodes added (1): extra" in out and "+2.32%" in out
    code, _, err = run(["diff", str(repo / "nope.json"), str(bigger)], capsys)
    assert code == 2


def test_pre_commit_hook_runs_the_check_command(repo: Path) -> None:
    """The hook's entry, with the file names pre-commit passes, as a real subprocess."""
    hook = (ROOT / ".pre-commit-hooks.yaml").read_text()
    entry = re.search(r"entry:\s*(.+)", hook).group(1).split()  # type: ignore[union-attr]
    assert entry == ["onnxcost", "check", "--skip-unmatched"] and "pass_filenames: true" in hook
    write(repo, '[budgets."*.onnx"]\nmacs = "1 GMAC"\n')
    cmd = [sys.executable, "-m", "onnxcost", *entry[1:], "alexnet.onnx"]
    ok = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    write(repo, '[budgets."*.onnx"]\nmacs = "0.5 GMAC"\n')
    bad = subprocess.run(cmd + ["-f", "github"], cwd=repo, capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and bad.stdout.startswith("::error file=")


def test_one_broken_model_is_an_error_row_and_the_rest_are_checked(repo: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "nets").mkdir()
    onnx.save_model(zoo.alexnet_seed003(), str(repo / "nets" / "a.onnx"))
    onnx.save_model(zoo.lenet_1989(), str(repo / "nets" / "b.onnx"))
    (repo / "nets" / "broken.onnx").write_bytes(b"\x08\x07garbage")
    cfg = write(repo, '[budgets."nets/*.onnx"]\nparams = "100M"\n')
    junit = repo / "report.xml"
    code, _, err = run(["check", "--config", str(cfg), "-f", "junit", "-o", str(junit)], capsys)
    assert code == 2 and "broken.onnx" in err  # the bad model is named, and makes the run exit 2
    assert_valid_junit(junit.read_text())
    root = ET.parse(junit).getroot()
    suites = root.findall("testsuite")
    assert sorted(s.get("name", "") for s in suites) == ["nets/a.onnx", "nets/b.onnx", "nets/broken.onnx"]
    assert root.get("errors") == "1" and root.get("failures") == "0" and float(root.get("time", "x")) >= 0
    broken = next(s for s in suites if s.get("name") == "nets/broken.onnx")
    assert broken.get("errors") == "1" and broken.find("testcase/error") is not None
    for suite in suites:
        assert {"name", "tests", "failures", "errors", "skipped", "time"} <= set(suite.keys())
        for case in suite.findall("testcase"):
            assert "." not in case.get("classname", ".") and case.get("time") is not None
    code, out, _ = run(["check", "--config", str(cfg)], capsys)
    assert code == 2 and "ERROR nets/broken.onnx" in out and "2 passed" in out


def test_baseline_without_arguments_baselines_every_budgeted_model(repo: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    onnx.save_model(zoo.lenet_1989(), str(repo / "lenet.onnx"))
    cfg = write(repo, '[budgets."*.onnx"]\nparams = "100M"\n')
    code, out, _ = run(["baseline", "--config", str(cfg)], capsys)
    assert code == 0 and out.count("stored") == 2
    assert sorted(p.name for p in (repo / ".onnxcost").rglob("*.json")) == ["alexnet.onnx.json", "lenet.onnx.json"]


def test_github_annotations_point_at_the_budget_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write(repo, '# budgets\n\n[budgets."*.onnx"]\nmacs = "1 MMAC"\n')
    code, out, _ = run(["check", "--config", str(cfg), "-f", "github"], capsys)
    assert code == 1
    assert "::error file=alexnet.onnx,title=onnxcost macs::" in out
    assert "::error file=onnxcost.toml,line=3,title=onnxcost budget of alexnet.onnx::" in out


def test_unmatched_and_excluded_models_are_skipped(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "fixtures").mkdir()
    onnx.save_model(zoo.lenet_1989(), str(repo / "fixtures" / "tiny.onnx"))
    cfg = write(repo, 'exclude = ["fixtures/*.onnx"]\n[budgets."alexnet.onnx"]\nparams = "100M"\n')
    # the pre-commit hook passes every changed .onnx: one no budget matches is skipped, not an error
    code, out, _ = run(["check", "--config", str(cfg), "--skip-unmatched", str(repo / "fixtures" / "tiny.onnx"),
                        str(repo / "alexnet.onnx")], capsys)
    assert code == 0 and "alexnet.onnx" in out and "tiny.onnx" not in out
    cfg = write(repo, 'exclude = ["fixtures/*.onnx"]\n[budgets."*.onnx"]\nparams = "100M"\n')
    code, out, _ = run(["check", "--config", str(cfg), str(repo / "fixtures" / "tiny.onnx")], capsys)
    assert code == 0 and "no models" in out  # excluded by the config


def test_diff_binds_a_model_as_the_stored_report_was(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     shared_models: Path) -> None:
    gru = tmp_path / "gru.onnx"
    shutil.copy(shared_models / "gru_bidir.onnx", gru)
    stored = tmp_path / "old.json"
    assert run(["report", str(gru), "--dim", "batch=8", "--dim", "steps=20", "-f", "json", "-o", str(stored)],
               capsys)[0] == 0
    code, out, _ = run(["diff", str(stored), str(gru), "-f", "json"], capsys)
    totals = {c["key"]: c for c in json.loads(out)["totals"]}
    # the model is analysed at the stored report's [20, 8, 64] input, so nothing changed (was -99% MACs)
    assert code == 0 and totals["macs"]["old"] == totals["macs"]["new"] == 8 * 2_974_720  # linear in batch
    cfg = write(tmp_path, '[budgets."gru.onnx"]\ndims = { batch = 8, steps = 20 }\n')
    code, out, _ = run(["diff", str(gru), str(gru), "--config", str(cfg), "-f", "json"], capsys)
    totals = {c["key"]: c for c in json.loads(out)["totals"]}
    assert code == 0 and totals["macs"]["new"] == json.loads(stored.read_text())["totals"]["macs"]
