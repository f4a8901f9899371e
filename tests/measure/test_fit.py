"""`onnxcost fit`: a profile fitted to end-to-end timings recovers the device's parameters, predicts a model it
did not see, writes a loadable profile, and refuses a fit it cannot make."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import onnx
import pytest

import onnxcost
from models import zoo
from onnxcost.cli.app import main
from onnxcost.latency.profiles import load_profile
from onnxcost.measure.fit import Measurement, fit, predict_ms, prepare, summary

PARAMS = ["efficiency.dense", "efficiency.depthwise", "efficiency.elementwise", "launch_overhead_us"]


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Measurement]]:
    """Seven models 'timed' on a device whose parameters differ from the base profile's (dense 0.3 of peak,
    depthwise 0.05, element-wise 0.1, 9 µs per node): the times that device's estimate gives."""
    folder = tmp_path_factory.mktemp("timed")
    models = {"lenet": zoo.lenet_1989(), "alexnet": zoo.alexnet_seed003(), "mobilenet": zoo.mobilenet_v1(size=128),
              "resnet18": zoo.resnet18(size=128), "vgg16": zoo.vgg16(size=64), "inception": zoo.inception_cell(
                  weights="external"), "mobilenet_half": zoo.mobilenet_v1(size=96, width=0.5)}
    for name, model in models.items():
        onnx.save_model(model, str(folder / f"{name}.onnx"))
    base = load_profile("xeon-8480")
    device = replace(base, efficiency={**base.efficiency, "dense": 0.3, "depthwise": 0.05, "elementwise": 0.1},
                     launch_overhead_us=9.0)
    cases = prepare([Measurement(folder / f"{n}.onnx", 1.0, {}, {}) for n in models])
    measurements = [Measurement(c.measurement.model, predict_ms(c, device), {}, {}) for c in cases]
    with open(folder / "timings.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "latency_ms", "dims"])
        w.writerows([m.model.name, f"{m.latency_ms:.9g}", ""] for m in measurements)
    return folder, measurements


def test_fit_recovers_the_device_and_predicts_held_out_models(timed: tuple[Path, list[Measurement]]) -> None:
    _, measurements = timed
    result = fit(measurements, load_profile("xeon-8480"), PARAMS)
    assert result.parameters["efficiency.dense"] == pytest.approx(0.3, rel=1e-3)
    assert result.parameters["efficiency.depthwise"] == pytest.approx(0.05, rel=1e-3)
    assert result.parameters["launch_overhead_us"] == pytest.approx(9.0, rel=1e-3)
    assert len(result.held_out) == len(measurements)  # every model predicted by a fit on the six others
    median, p90 = summary(result.held_out)  # type: ignore[misc]
    assert median < 0.01 and p90 < 0.01
    # the base profile, unfitted, is far off: the fit is what brings it there
    base = summary([replace(p, predicted_ms=predict_ms(c, load_profile("xeon-8480")))
                    for p, c in zip(result.fitted, prepare(measurements), strict=True)])
    assert base is not None and base[0] > 0.3


def test_fit_command_writes_a_loadable_profile(timed: tuple[Path, list[Measurement]], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder, _ = timed
    out = tmp_path / "device.toml"
    assert main(["fit", str(folder / "timings.csv"), "--base", "xeon-8480", "-o", str(out), "--params",
                 ",".join(PARAMS)]) == 0
    text = out.read_text()
    assert text.startswith("# Fitted by `onnxcost fit` on 7 timings") and "Leave one model out" in text
    profile = load_profile(str(out))
    assert profile.efficiency["dense"] == pytest.approx(0.3, rel=1e-3)
    rep = onnxcost.analyze(folder / "resnet18.onnx", profile=str(out))
    assert rep.totals.latency_ms is not None
    assert "left out of the fit" in capsys.readouterr().out


def test_fit_refuses_fewer_models_than_parameters(timed: tuple[Path, list[Measurement]]) -> None:
    _, measurements = timed
    with pytest.raises(onnxcost.ConfigError, match="3 distinct models cannot fit 4"):
        fit(measurements[:3], load_profile("xeon-8480"), PARAMS)


def test_per_dtype_efficiency_round_trips_and_is_fitted(timed: tuple[Path, list[Measurement]],
                                                          tmp_path: Path) -> None:
    from onnxcost.latency.profiles import to_toml

    base = load_profile("nvidia-h100")
    profile = replace(base, efficiency={**base.efficiency, "fp16.dense": 0.1})
    path = tmp_path / "p.toml"
    path.write_text(to_toml(profile))
    again = load_profile(str(path))
    assert "[efficiency.fp16]" in path.read_text() and again.efficiency["fp16.dense"] == 0.1
    # fp16 dense work at 10% of the fp16 peak; fp32 dense keeps its own share
    assert again.flops_per_s("fp16", "dense") == pytest.approx(0.1 * base.peak_flops["fp16"])
    assert again.flops_per_s("fp32", "dense") == pytest.approx(base.flops_per_s("fp32", "dense"))


def test_a_group_is_left_out_together(timed: tuple[Path, list[Measurement]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of one architecture (here the two MobileNets) are left out together: no fold trains on one of them
    while predicting the other."""
    import onnxcost.measure.fit as fit_mod

    _, measurements = timed
    grouped = [replace(m, group="mobilenet") if m.model.stem.startswith("mobilenet") else m for m in measurements]
    trained_on: list[set[str]] = []
    real = fit_mod.fit_cases

    def spy(cases: list[fit_mod.Case], *args: object) -> object:
        trained_on.append({c.measurement.model.stem for c in cases})
        return real(cases, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(fit_mod, "fit_cases", spy)
    result = fit(grouped, load_profile("xeon-8480"), PARAMS)
    assert len(trained_on) == 1 + 6  # the full fit, then one fold per group: 5 single models and the pair
    assert all(("mobilenet" in t) == ("mobilenet_half" in t) for t in trained_on)
    assert {p.model for p in result.held_out} == {m.model.stem for m in measurements}


def test_fit_recovers_the_parallel_term(timed: tuple[Path, list[Measurement]], tmp_path: Path) -> None:
    """Timings from an 8-thread device where a kernel of 5 MFLOP keeps half the extra threads busy: the fit
    finds that half-work point; it refuses the term on a one-thread base (it would change nothing)."""
    _, measurements = timed
    base = replace(load_profile("xeon-8480"), threads=8, parallel_flops_half=1e6)
    device = replace(base, parallel_flops_half=5e6, efficiency={**base.efficiency, "dense": 0.3})
    retimed = [replace(m, latency_ms=predict_ms(c, device)) for m, c in zip(measurements, prepare(measurements),
                                                                             strict=True)]
    result = fit(retimed, base, ["parallel_flops_half", "efficiency.dense"])
    assert result.parameters["parallel_flops_half"] == pytest.approx(5e6, rel=1e-3)
    assert result.parameters["efficiency.dense"] == pytest.approx(0.3, rel=1e-3)
    with pytest.raises(onnxcost.ConfigError, match="threads"):
        fit(retimed, load_profile("xeon-8480"), ["parallel_flops_half", "efficiency.dense"])
    # the default parameters include it only when the base has threads
    from onnxcost.measure.fit import ranked_parameters

    assert "parallel_flops_half" in ranked_parameters(prepare(retimed), base)
    assert "parallel_flops_half" not in ranked_parameters(prepare(retimed), load_profile("xeon-8480"))


def test_fit_at_its_defaults_never_refuses_and_chooses_by_held_out_error(
        timed: tuple[Path, list[Measurement]]) -> None:
    _, measurements = timed
    few = fit(measurements[:3], load_profile("xeon-8480"))  # three models: at most two parameters can be left-one-out
    assert few.candidates[0].names == () and max(len(c.names) for c in few.candidates) <= 2
    assert len(few.parameters) <= 2
    result = fit(measurements, load_profile("xeon-8480"))
    chosen = next(c for c in result.candidates if list(c.names) == list(result.parameters))
    unfitted = result.candidates[0]
    assert unfitted.names == () and chosen.held_out_median is not None and unfitted.held_out_median is not None
    # the device differs from the base in four terms: the chosen set predicts left-out models far better
    assert chosen.held_out_median < unfitted.held_out_median / 3
    assert all(chosen.held_out_median + chosen.held_out_p90 <= c.held_out_median + c.held_out_p90 + 1e-6  # type: ignore[operator]
               for c in result.candidates if c.held_out_median is not None)
    assert summary(result.held_out) == (chosen.held_out_median, chosen.held_out_p90)


def test_forward_selection_finds_terms_a_fixed_order_puts_last(timed: tuple[Path, list[Measurement]]) -> None:
    """A device that differs from the base only in two scalar terms, ranked after speed and every op class: a
    nested order of sets would need all of those first (more than six models can fit); forward selection takes
    the two, and predicts left-out models exactly."""
    _, measurements = timed
    base = load_profile("xeon-8480")
    device = replace(base, launch_overhead_us=15.0, dense_m_half=150.0)
    retimed = [replace(m, latency_ms=predict_ms(c, device)) for m, c in zip(measurements, prepare(measurements),
                                                                             strict=True)]
    from onnxcost.measure.fit import ranked_parameters, selection_path

    ranked = ranked_parameters(prepare(retimed), base)
    assert ranked.index("dense_m_half") >= len(measurements) - 1  # beyond what a nested order could reach
    result = fit(retimed, base)
    assert {"launch_overhead_us", "dense_m_half"} <= set(result.parameters)
    assert result.parameters["dense_m_half"] == pytest.approx(150.0, rel=1e-2)
    median, p90 = summary(result.held_out)  # type: ignore[misc]
    assert p90 < 0.01
    path = selection_path(result)
    assert path.startswith("base ") and "+ dense_m_half" in path and "+ launch_overhead_us" in path


def test_an_efficiency_only_one_group_runs_is_not_chosen(timed: tuple[Path, list[Measurement]]) -> None:
    """Depthwise convs carry a share of two models' time here (MobileNet at two widths): as two groups, fit may
    choose their efficiency; as one group left out together, a fit without it would set that rate from models
    with no depthwise conv, and it is not offered."""
    _, measurements = timed
    from onnxcost.latency.estimate import estimate
    from onnxcost.measure.fit import MIN_SHARE, ranked_parameters, supported

    base = load_profile("xeon-8480")
    apart = prepare(measurements)
    for c in apart:
        if c.measurement.model.stem.startswith("mobilenet"):
            estimates = estimate(c.graph, c.costs, base)
            depthwise = sum(e.latency_us or 0 for e in estimates if e.op_class == "depthwise")
            assert depthwise / sum(e.latency_us or 0 for e in estimates) >= MIN_SHARE
    assert "efficiency.depthwise" in supported(apart, base) and "efficiency.depthwise" in ranked_parameters(apart, base)
    together = prepare([replace(m, group="mobilenet") if m.model.stem.startswith("mobilenet") else m
                        for m in measurements])
    assert "efficiency.depthwise" not in ranked_parameters(together, base)
    assert "efficiency.dense" in ranked_parameters(together, base)


def test_a_parameter_pushed_to_its_bound_is_reported(timed: tuple[Path, list[Measurement]]) -> None:
    _, measurements = timed
    # timings 100x slower than any dense efficiency in range can explain: the fit pins it at its floor
    slow = [replace(m, latency_ms=m.latency_ms * 1e5) for m in measurements]
    result = fit(slow, load_profile("xeon-8480"), ["efficiency.dense"])
    assert result.at_bound == ("efficiency.dense",)
