"""The HTML report in a real headless browser (Debian's chromium through selenium): it loads with no console
error, a column click sorts the node table, the filter filters, and a hostile name stays text."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnx
import pytest

import onnxcost
from models import zoo
from onnxcost.cli.app import main

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def test_page_is_self_contained_and_escapes_names(tmp_path: Path) -> None:
    from onnxcost.latency.profiles import load_profile
    from onnxcost.report.html import page

    model = zoo.mobilenet_v1()
    model.graph.node[0].name = "<script>alert(1)</script>"
    rep = onnxcost.analyze(model, profile="xeon-8480")
    text = page(rep, load_profile("xeon-8480"))
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "http://" not in text and "https://" not in text and "<link" not in text  # nothing fetched
    assert "<svg id='timeline'" in text and "<svg id='roofline'" in text


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run "
                                                      "installs them)")
def test_page_in_a_headless_browser(tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    path = tmp_path / "alexnet.onnx"
    onnx.save_model(zoo.alexnet_seed003(), str(path))
    page = tmp_path / "report.html"
    assert main(["report", str(path), "--profile", "xeon-8480", "-f", "html", "-o", str(page)]) == 0
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(page.as_uri())
        assert driver.title.startswith("onnxcost")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        def first_node() -> str:
            return driver.find_element(By.CSS_SELECTOR, "#nodes tbody tr td").text

        assert first_node() == "conv1"  # graph order
        driver.find_element(By.XPATH, "//table[@id='nodes']//th[text()='MACs']").click()
        assert first_node() == "conv2"  # the heaviest conv first: 224 MMAC
        driver.find_element(By.XPATH, "//table[@id='nodes']//th[text()='MACs']").click()
        assert driver.find_element(By.CSS_SELECTOR, "#nodes th.asc").text == "MACs"
        box = driver.find_element(By.ID, "filter")
        box.send_keys("relu")
        shown = [r for r in driver.find_elements(By.CSS_SELECTOR, "#nodes tbody tr") if r.is_displayed()]
        assert shown and all("Relu" in r.text for r in shown)
        assert driver.find_element(By.ID, "roofline").is_displayed()
        # the overview comes first; the charts have their axes' labels and name each point on hover
        headings = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
        assert headings[0] == "Overview" and headings[-1] == "Nodes"
        labels = {t.text for t in driver.find_elements(By.CSS_SELECTOR, "#roofline text, #timeline text")}
        assert {"arithmetic intensity (FLOP/byte)", "attained FLOP/s", "live MiB"} <= labels
        hovers = [t.get_attribute("textContent") for t in driver.find_elements(By.CSS_SELECTOR, "#roofline title")]
        assert any((h or "").startswith("conv2 (Conv, dense)") for h in hovers)
    finally:
        driver.quit()


def test_page_leads_with_the_overview_and_names_every_chart_point(tmp_path: Path) -> None:
    from onnxcost.latency.profiles import load_profile
    from onnxcost.report.html import page

    rep = onnxcost.analyze(zoo.mobilenet_v1(), profile="xeon-8480")
    text = page(rep, load_profile("xeon-8480"))
    order = [text.index(s) for s in ("Overview", "at the shapes analysed", "<table id='ops'", "<svg id='timeline'",
                                     "<svg id='roofline'", "<table id='nodes'")]
    assert order == sorted(order)  # overview, inputs, op types, charts, then the long table
    assert "1 × 3 × 224 × 224" in text  # the input shape the page is for
    # every node with a time is a roofline point named on hover, with the axes' units
    timed = [n for n in rep.nodes if n.latency_us and n.arithmetic_intensity and n.flops]
    assert sum(f"<title>{n.name} ({n.op_type}," in text for n in timed) == len(timed)
    assert "arithmetic intensity (FLOP/byte)" in text and "attained FLOP/s" in text and "live MiB" in text
    from onnxcost.base.units import binary_bytes

    assert rep.memory is not None and rep.totals.peak_memory_bytes is not None
    assert f"peak {binary_bytes(rep.totals.peak_memory_bytes)} at {rep.memory.peak_node}" in text


def test_page_with_free_dims_shows_formulas_not_question_marks() -> None:
    from onnxcost.report.html import page

    model = zoo.lenet_1989()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    rep = onnxcost.analyze(model)
    text = page(rep)
    conv = next(n for n in rep.nodes if n.op_type == "Conv")
    assert conv.macs is None and conv.macs_expr and f">{conv.macs_expr}<" in text
    assert "Dims left free: <b>batch</b>" in text


def test_one_page_for_many_models_with_an_error_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, model in (("a.onnx", zoo.lenet_1989()), ("b.onnx", zoo.mobilenet_v1(size=64))):
        onnx.save_model(model, str(tmp_path / name))
    (tmp_path / "c.onnx").write_bytes(b"not a model")
    out = tmp_path / "all.html"
    assert main(["report", str(tmp_path), "-f", "html", "-o", str(out)]) == 2  # one model failed
    text = out.read_text()
    assert text.count("class='nodes'") == 2 and "id='nodes-0'" in text and "id='nodes-1'" in text
    assert "not an ONNX model" in text and "c.onnx" in capsys.readouterr().err


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run "
                                                      "installs them)")
def test_many_model_page_in_a_headless_browser(tmp_path: Path) -> None:
    """Each model's table sorts and filters on its own."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    for name, model in (("a.onnx", zoo.alexnet_seed003()), ("b.onnx", zoo.lenet_1989())):
        onnx.save_model(model, str(tmp_path / name))
    page = tmp_path / "all.html"
    assert main(["report", str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx"), "-f", "html", "-o", str(page)]) == 0
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(page.as_uri())
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []

        def shown(table: str) -> list[str]:
            return [r.text for r in driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr") if r.is_displayed()]

        before = len(shown("nodes-0"))
        driver.find_element(By.ID, "filter-1").send_keys("conv")
        assert shown("nodes-1") and all("Conv" in r for r in shown("nodes-1"))
        assert len(shown("nodes-0")) == before  # the other model's table is untouched
        driver.find_element(By.XPATH, "//table[@id='nodes-0']//th[text()='MACs']").click()
        assert shown("nodes-0")[0].split()[0] == "conv2"  # alexnet's heaviest conv first
    finally:
        driver.quit()
