"""Hardware profiles: the shipped ones load, bad keys are one clear error, and GPU keys round-trip."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from models import zoo
from onnxcost import ConfigError
from onnxcost.cli.app import main
from onnxcost.latency.profiles import available, load_profile


def test_shipped_profiles_load() -> None:
    names = set(available())
    assert {"cortex-m7", "raspberry-pi-4", "raspberry-pi-5", "jetson-orin", "apple-m2", "xeon-8480", "nvidia-t4",
            "nvidia-a100", "nvidia-h100"} <= names
    for name in names:
        p = load_profile(name)
        assert p.peak_flops["fp32"] > 0 and p.bandwidth > 0
        assert all(0 < v <= 1 for v in p.efficiency.values())


@pytest.mark.parametrize("text,needle", [
    ("[memory]\nbandwidth = 1e9\n", "peak_flops"),
    ("[peak_flops]\nfp32 = 1e9\n", "[memory]"),
    ("[peak_flops]\nfp32 = 1e9\nbf8 = 3\n[memory]\nbandwidth = 1\n", "unknown key 'bf8'"),
    ("[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = -1\n", "bandwidth"),
    ("[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e9\n[efficiency]\ndense = 1.5\n", "dense"),
    ("[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e9\n[efficiency]\nmagic = 0.5\n", "unknown op class"),
    ("speed = 3\n", "unknown key 'speed'"),
    ("[peak_flops\n", "not valid TOML"),
])
def test_profile_errors(text: str, needle: str, tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=needle.replace("[", r"\[")):
        load_profile(str(p))


def test_profile_errors_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.onnx"
    onnx.save_model(zoo.lenet_1989(), str(model))
    assert main(["report", str(model), "--profile", "no-such-device"]) == 2
    assert "unknown hardware profile" in capsys.readouterr().err
    assert main(["report", str(model), "--profile", str(tmp_path / "absent.toml")]) == 2
    assert main(["profiles"]) == 0
    assert "raspberry-pi-4" in capsys.readouterr().out
    png = tmp_path / "roof.png"
    assert main(["report", str(model), "--profile", "nvidia-t4", "--plot-roofline", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_unknown_profile_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONNXCOST_PROFILES", str(tmp_path / "user"))
    with pytest.raises(ConfigError, match="looked in .*user"):
        load_profile("nonesuch")


@pytest.mark.parametrize("text,needle", [
    ('nhwc_convs = ["fp64"]\n', "nhwc_convs"), ('nhwc_convs = "fp16"\n', "nhwc_convs"),
    ("tf32_convs = 1\n", "tf32_convs"), ("dense_launch_overhead_us = -1\n", "dense_launch_overhead_us"),
])
def test_gpu_profile_keys_are_checked(text: str, needle: str, tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text + "[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e9\n")
    with pytest.raises(ConfigError, match=needle):
        load_profile(str(p))


def test_gpu_profile_keys_round_trip(tmp_path: Path) -> None:
    from dataclasses import replace

    from onnxcost.latency.profiles import to_toml

    base = load_profile("nvidia-h100")
    profile = replace(base, dense_launch_overhead_us=12.5, tf32_convs=True, nhwc_convs=("fp16", "tf32"))
    path = tmp_path / "p.toml"
    path.write_text(to_toml(profile))
    again = load_profile(str(path))
    assert (again.dense_overhead_us, again.tf32_convs, again.nhwc_convs) == (12.5, True, ("fp16", "tf32"))
    assert again.peak_flops == base.peak_flops
