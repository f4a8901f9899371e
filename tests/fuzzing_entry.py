"""Structured fuzzing of every command-line entry point but `report` of one model (tests/fuzzing.py does that):
hostile budget files, stored baselines and reports, fit CSVs, profiles, annotate outputs and external data,
report globs over symlinked folders, and hostile file names in every check format.

Each case is a folder of files (and symlinks), and a command line run with that folder as the working
directory, in a worker process under the runner's time and memory limits, with an audit hook on `open` and
`shutil.copyfile`. Beside the case folders lies `decoy/`, which no case may read or copy from. A case's
outcome is one of: ok (exit 0 or 1), error (exit 2 with one `onnxcost: error` line), or a finding: crash
(an internal error, a traceback, a multi-line error), outside (a file opened or copied outside the case
folder, Python's own files aside), injection (a JUnit report that is not XML, a GitHub command split over
lines, a Markdown row with extra cells).

    python -m tests.fuzzing_entry worker SEED START COUNT DIR   # what tests.fuzzing.run starts
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_FILE_NAMES = ["x\n::warning::y.onnx", "a,b.onnx", "a:b.onnx", "c%0Ad.onnx", "ctl\x01\x1b[31m.onnx",
                      "pipe|`tick`.onnx", "<x>&amp;.onnx", "ü∂√.onnx", "sp ace.onnx", "-dash.onnx"]
FORMATS = ["text", "json", "junit", "github", "markdown"]


@dataclass(frozen=True)
class EntryCase:
    index: int
    kind: str
    files: dict[str, bytes]
    argv: list[str]
    symlinks: dict[str, str] = field(default_factory=dict)  # name in the case folder -> target


def _lenet() -> bytes:
    from models import zoo

    return zoo.lenet_1989().SerializeToString()


def _mutate_text(rng: random.Random, text: str) -> bytes:
    """A valid file made hostile: byte flips, truncation, invalid UTF-8, deep nesting or huge numbers."""
    data = bytearray(text.encode())
    roll = rng.random()
    if roll < 0.25:
        for _ in range(rng.choice([1, 3, 10])):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif roll < 0.4:
        data = data[: rng.randrange(len(data))]
    elif roll < 0.5:
        data += rng.choice([b"\xff\xfe", b"\xc3", b"\x00" * 8])
    elif roll < 0.6:
        depth = rng.choice([100, 3000, 50_000])
        data += b"\nx = " + b"[" * depth + b"]" * depth + b"\n"
    elif roll < 0.75:
        value = rng.choice(["1e400", "-5", "nan", "inf", '"99999999999999999999 GMAC"', "[]", "{}", '"\\u0000"'])
        data = bytearray(text.replace('"1 GMAC"', value).encode())
    return bytes(data)


_BUDGET = '[budgets."{pattern}"]\nmacs = "1 GMAC"\nparams = "2M"\nforbidden_ops = ["Loop"]\n' \
          'dims = {{ batch = 1 }}\nopset = {{ min = 1, max = 21 }}\n'
_PATTERNS = ["*.onnx", "**/*.onnx", "../decoy/*.onnx", "../../*.onnx", "a/**b", "/etc/*", "sub/../*.onnx",
             "[", "**", "link/*.onnx"]


def _check(rng: random.Random, index: int) -> EntryCase:
    name = rng.choice(HOSTILE_FILE_NAMES + ["m.onnx"] * 3)
    pattern = rng.choice(_PATTERNS)
    text = _BUDGET.format(pattern=pattern)
    config = _mutate_text(rng, text) if rng.random() < 0.5 else text.encode()
    fmt = rng.choice(FORMATS)
    links = {"link": "../decoy"} if rng.random() < 0.3 else {}
    if rng.random() < 0.2:
        links["evil.onnx"] = "../decoy/secret.onnx"
    return EntryCase(index, f"check:{fmt}", {name: _lenet(), "onnxcost.toml": config},
                     ["check", "--config", "onnxcost.toml", "--format", fmt], links)


def _baseline(rng: random.Random, index: int) -> EntryCase:
    totals = rng.choice(['"lots"', "[1, 2]", "-5", '{"macs": -5}', '{"macs": "1"}', '{"macs": 1e400}',
                         '{"macs": 100}', "null", "[" * 5000 + "]" * 5000])
    stored = f'{{"schema": "onnxcost.report/1", "totals": {totals}}}'.encode()
    if rng.random() < 0.3:
        stored = _mutate_text(rng, stored.decode(errors="replace"))
    return EntryCase(index, "baseline", {"m.onnx": _lenet(), ".onnxcost/m.onnx.json": stored,
                                         "onnxcost.toml": b'max_increase = "5%"\n' + _BUDGET.format(
                                             pattern="*.onnx").encode()},
                     ["check", "--config", "onnxcost.toml", "--format", rng.choice(FORMATS)])


def _diff(rng: random.Random, index: int) -> EntryCase:
    import onnxcost
    from models import zoo

    report = onnxcost.analyze(zoo.lenet_1989(), schedule="file").to_json()
    stored = _mutate_text(rng, report) if rng.random() < 0.8 else b"[" * 100_000
    return EntryCase(index, "diff", {"old.json": stored, "m.onnx": _lenet()},
                     ["diff", "old.json", "m.onnx", "--format", rng.choice(["text", "json", "markdown"])])


def _annotate(rng: random.Random, index: int) -> EntryCase:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    location = rng.choice(["w.bin", "../decoy/secret.txt", "/etc/passwd", "link.bin", "sub/../w.bin", "\x00"])
    weight = numpy_helper.from_array(np.zeros((4, 4), np.float32), "w")
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "64")):
        e = weight.external_data.add()
        e.key, e.value = key, value
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    out = rng.choice(["out/m.onnx", "m.onnx", "m.onnx/x.onnx", "out/../out2/m.onnx", "w.bin"])
    return EntryCase(index, "annotate", {"m.onnx": model, "w.bin": bytes(64)}, ["annotate", "m.onnx", "-o", out],
                     {"link.bin": "../decoy/secret.txt"})


def _fit(rng: random.Random, index: int) -> EntryCase:
    model = rng.choice(["m.onnx", "../decoy/secret.onnx", "/etc/passwd", "", "link.onnx", "m" * 5000])
    dims = rng.choice(["", "batch=1", "batch=²", "=", "batch=-1", "x" * 300])
    text = f"model,latency_ms,dims\n{model},{rng.choice(['1.0', '-1', 'nan', 'inf', '', '1e400'])},{dims}\n"
    data = _mutate_text(rng, text) if rng.random() < 0.4 else text.encode()
    return EntryCase(index, "fit", {"m.onnx": _lenet(), "t.csv": data},
                     ["fit", "t.csv", "--base", "xeon-8480", "-o", "p.toml"], {"link.onnx": "../decoy/secret.onnx"})


def _glob(rng: random.Random, index: int) -> EntryCase:
    pattern = rng.choice(["d/**/*.onnx", "**/*.onnx", "d/*/*.onnx", "d/**", "d/[", "d", "*/*/*.onnx"])
    links = {"d/up": "..", "d/loop": ".", "d/out": "../../decoy"}
    return EntryCase(index, "report-glob", {"d/a.onnx": _lenet()}, ["report", pattern, "--format", "json",
                                                                  "--schedule", "file"], links)


_PROFILE = 'name = "p"\nkind = "cpu"\n[peak_flops]\nfp32 = 1e12\n[memory]\nbandwidth = 1e11\n'


def _profile(rng: random.Random, index: int) -> EntryCase:
    return EntryCase(index, "profile", {"m.onnx": _lenet(), "p.toml": _mutate_text(rng, _PROFILE)},
                     ["report", "m.onnx", "--profile", "p.toml", "--format", "json"])


def _options(rng: random.Random, index: int) -> EntryCase:
    argv = rng.choice([
        ["report", "m.onnx", "--top", rng.choice(["0", "-1", "x", "99999999999999999999"])],
        ["report", "m.onnx", "--dim", rng.choice(["batch=0", "=1", "a=b", "x" * 3000 + "=1", "batch=1e9"])],
        ["sweep", "m.onnx", "--dim", rng.choice(["batch=1,2", "batch=", "batch=0,-1", "nope=1"])],
        ["report", "m.onnx", "--input-shape", rng.choice(["x=1x1x16x16", "x=0", "x=-1x2", "x=" + "9" * 30])],
        ["report", "m.onnx", "--schedule-budget", rng.choice(["-1", "nan", "inf", "1e400"])],
        ["report", "m.onnx", "-o", rng.choice(["m.onnx/x.json", "", "new/dir/r.json"]), "--format", "json"],
    ])
    return EntryCase(index, f"options:{argv[0]}", {"m.onnx": _lenet()}, argv)


GENERATORS: list[Callable[[random.Random, int], EntryCase]] = [
    _check, _check, _baseline, _diff, _annotate, _fit, _glob, _profile, _options]


def entry_case(seed: int, index: int) -> EntryCase:
    """The `index`-th case of campaign `seed`: deterministic."""
    rng = random.Random(seed * 7_919 + index)
    return rng.choice(GENERATORS)(rng, index)


# --- running one case -----------------------------------------------------------------------------------


def _allowed_roots() -> list[Path]:
    """Where a command may read besides its case folder: Python, its packages (onnxcost's hwprofiles among
    them), and the system's shared data."""
    roots = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    roots |= {Path(p).resolve() for p in sys.path if p and Path(p).is_dir() and "site-packages" in p}
    roots |= {ROOT / "onnxcost", ROOT / "onnxcost.egg-info", Path("/usr"), Path("/proc"), Path("/sys"), Path("/dev"),
              Path("/etc/localtime")}
    profiles = os.environ.get("ONNXCOST_PROFILES")
    if profiles:
        roots.add(Path(profiles).resolve())
    return sorted(roots)


def _outside(path: str, case_dir: Path, allowed: list[Path]) -> bool:
    p = Path(path)
    p = (case_dir / p) if not p.is_absolute() else p
    try:
        real = p.resolve()
    except (OSError, RuntimeError):
        return False
    if real.is_relative_to(case_dir.resolve()):
        return False
    if "decoy" in real.parts:
        return True
    return not any(real.is_relative_to(root) for root in allowed)


def _injection(argv: list[str], out: str) -> str | None:
    """Why the command's output does not parse as its format says, or None."""
    fmt = argv[argv.index("--format") + 1] if "--format" in argv else "text"
    if argv[0] != "check" or not out.strip():
        return None
    if fmt == "junit":
        try:
            ET.fromstring(out.split("?>", 1)[-1])
        except ET.ParseError as exc:
            return f"junit not XML: {exc}"
    if fmt == "github":
        for line in out.splitlines():
            if not line.startswith("::") or line.count("::") < 2:
                return f"github line not a command: {line[:60]!r}"
            props = line.split("::")[1].split(" ", 1)[-1]
            if props.count(",") != props.count("=") - 1:
                return f"github properties broken: {line[:60]!r}"
    if fmt == "markdown":
        for line in out.splitlines():
            if line.startswith("| ") and not line.startswith("| metric"):
                cells = line.replace("\\|", "").count("|")
                if cells != 6:
                    return f"markdown row has {cells - 1} cells: {line[:60]!r}"
    return None


def run_case(c: EntryCase, folder: Path) -> str:
    """The outcome of one case, run in this process with its folder as the working directory."""
    from onnxcost.cli.app import main

    case_dir = folder / f"case{c.index}"
    for name, data in c.files.items():
        (case_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (case_dir / name).write_bytes(data)
    for name, target in c.symlinks.items():
        (case_dir / name).parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.symlink(target, case_dir / name)
    allowed = _allowed_roots()
    found: list[str] = []

    def hook(event: str, args: tuple[object, ...]) -> None:
        if event in ("open", "shutil.copyfile") and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if _outside(path, case_dir, allowed):
                found.append(path)

    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(case_dir)
    listening[0] = hook
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(c.argv))
    finally:
        listening[0] = None
        os.chdir(cwd)
    text = err.getvalue()
    if found:
        return f"outside:{found[0]}"
    if "internal error" in text or "Traceback" in text:
        return "crash:" + next((x for x in text.splitlines() if "error" in x), text)[:160]
    problem = _injection(c.argv, out.getvalue())
    if problem:
        return f"injection:{problem}"
    if code == 2:
        errors = [x for x in text.splitlines() if not x.startswith("onnxcost: warning")]
        return "error" if len(errors) == 1 and errors[0].startswith("onnxcost: error") else (
            f"crash:{len(errors)} error lines: {text[:120]!r}")
    return "ok" if code in (0, 1) else f"crash:exit {code}"


listening: list[Callable[[str, tuple[object, ...]], None] | None] = [None]


def _dispatch(event: str, args: tuple[object, ...]) -> None:
    hook = listening[0]
    if hook is not None:
        hook(event, args)


def worker(seed: int, start: int, count: int, folder: Path) -> None:
    """Run cases start..start+count-1, one JSON line each (the protocol of tests.fuzzing.run)."""
    import onnxcost  # noqa: F401 - imported before the first case: its footprint is not a case's
    from tests.fuzzing import _rss_bytes

    (folder / "decoy").mkdir(parents=True, exist_ok=True)
    (folder / "decoy" / "secret.txt").write_text("secret")
    (folder / "decoy" / "secret.onnx").write_bytes(_lenet())
    sys.addaudithook(_dispatch)
    for index in range(start, start + count):
        c = entry_case(seed, index)
        print(json.dumps({"start": index, "rss": _rss_bytes(os.getpid())}), flush=True)
        t0 = time.perf_counter()
        outcome = run_case(c, folder)
        print(json.dumps({"index": index, "kind": c.kind, "outcome": outcome,
                          "seconds": round(time.perf_counter() - t0, 3)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        worker(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
