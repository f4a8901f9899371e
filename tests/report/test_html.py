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
    finally:
        driver.quit()
