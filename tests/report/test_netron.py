"""`annotate`'s output in Netron itself: served on localhost by the `netron` package and opened in headless
chromium, a ResNet-18's first Conv lists `onnxcost.macs` in the sidebar, and the edges carry the shapes the
annotation wrote as value_info. The browser resolves no host but localhost: Netron's consent check and its
telemetry never leave the machine."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnx
import pytest

import onnxcost
from models import zoo
from onnxcost.cli.app import main

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(find: Callable[[], Any], seconds: float = 20.0) -> Any:
    """What `find` returns once it is truthy, or an empty list after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.2)
    return []


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run "
                                                      "installs them)")
def test_netron_shows_the_costs_and_the_shapes(tmp_path: Path) -> None:
    netron = pytest.importorskip("netron")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    src, out = tmp_path / "resnet18.onnx", tmp_path / "resnet18.annotated.onnx"
    onnx.save_model(zoo.resnet18(), str(src))
    assert main(["annotate", str(src), "-o", str(out)]) == 0
    macs = next(n.macs for n in onnxcost.analyze(src).nodes if n.name == "conv1")
    port = _free_port()
    netron.start(str(out), ("127.0.0.1", port), browse=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        # Netron refuses to start 180 days after its release date: it reads that date from a meta tag
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": (
            "document.addEventListener('DOMContentLoaded', () => "
            "document.querySelectorAll('meta[name=date]').forEach(m => m.remove()));")})
        driver.get(f"http://127.0.0.1:{port}/")
        for button in _wait(lambda: [b for b in driver.find_elements(By.TAG_NAME, "button")
                                     if b.is_displayed() and b.text.strip() == "Accept"], 10):
            button.click()  # the cookie notice
        nodes = _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "g.node"))
        assert len(nodes) > 60
        # the edges carry the shapes annotate wrote (value_info), not only the graph input's
        # Netron draws the edge labels after the nodes, so wait for them rather than read them at once.
        expected = {"1×3×224×224", "1×64×112×112", "1×64×56×56", "1×512×7×7"}

        def edge_shapes() -> set[str]:
            return {t.text for t in driver.find_elements(By.CSS_SELECTOR, "text") if "×" in t.text}

        _wait(lambda: expected <= edge_shapes())
        assert expected <= edge_shapes()
        conv = driver.find_element(By.ID, "node-name-conv1")
        driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))",
                              conv.find_element(By.CSS_SELECTOR, "*"))
        # the sidebar's metadata: a row named onnxcost.macs (Netron writes names as read-only inputs) whose value
        # is the node's MACs
        script = ("const name = Array.from(document.querySelectorAll('.sidebar-item-name input'))"
                  ".find(i => i.value === 'onnxcost.macs'); return name ? name.closest('.sidebar-item').textContent"
                  " : null;")
        value = _wait(lambda: driver.execute_script(script))
        assert value == str(macs)
    finally:
        driver.quit()
        netron.stop()
