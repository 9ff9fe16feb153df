"""report.html in headless Chromium: it loads with no console errors, shows the pivot, the plots and the thumbnails.

Chromium (Debian's `chromium`) is installed by tests/tools/ensure_chromium.sh when missing; when it
cannot be, the tests fail saying why. The browser is driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``), which needs no extra Python package. The full-page screenshot is kept
as ``test-artifacts/report.png`` (with the page as ``test-artifacts/report.html``).
"""
import base64
import fcntl
import io
import json
import math
import os
import select
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from brevetti_core import Job, SampleSplit, build_image_data_generator, jobstore
from brevetti_core.report import record_first_batch, record_predictions, record_samples, write_report
from brevetti_demo import generate_vials

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
WIDTH = 1280


class Browser:
    """One headless Chromium and its DevTools connection: `send` commands, collect events."""

    def __init__(self, executable: str, profile: str):
        to_browser, self._commands = os.pipe()
        self._replies, from_browser = os.pipe()
        # Above 10, so the shell's redirections to 3 and 4 below cannot overwrite them.
        to_browser, from_browser = (_above_ten(fd) for fd in (to_browser, from_browser))
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  # the browser's stderr until close()
        args = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        # The DevTools pipe is fds 3 (commands in) and 4 (replies out) of the browser process.
        script = f'exec "$0" "$@" 3<&{to_browser} 4>&{from_browser} {to_browser}<&- {from_browser}>&-'
        self.process = subprocess.Popen(["bash", "-c", script, *args], pass_fds=(to_browser, from_browser),
                                        stdout=subprocess.DEVNULL, stderr=self._stderr)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._next_id, self.events = b"", 0, []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"DevTools {method} failed: {reply['error']}")
                return reply.get("result", {})

    def wait_for(self, event: str) -> dict:
        while not any(e["method"] == event for e in self.events):
            self._receive()
        return next(e for e in self.events if e["method"] == event)

    def _receive(self, timeout: float = 60) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._replies], [], [], timeout)
            chunk = os.read(self._replies, 1 << 20) if ready else b""
            if not chunk:
                self._stderr.seek(0)
                raise RuntimeError("chromium stopped answering on the DevTools pipe; its stderr ends with:\n"
                                   + self._stderr.read().decode(errors="replace")[-3000:])
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
        return message

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.process.wait(timeout=30)
        except (RuntimeError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._commands)
            os.close(self._replies)
            self._stderr.close()


def _above_ten(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class Page:
    """A file:// page loaded in the browser: its console problems, values computed in it, a screenshot."""

    def __init__(self, browser: Browser, url: str):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=self.session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": WIDTH, "height": 2000, "deviceScaleFactor": 1, "mobile": False}, self.session)
        browser.send("Page.navigate", {"url": url}, self.session)
        browser.wait_for("Page.loadEventFired")

    @property
    def console_problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and failed loads the page produced."""
        problems = []
        for event in self.browser.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
                problems.append(f"console.{params['type']}: " + " ".join(str(a.get("value")) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                problems.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                problems.append(f"log {params['entry']['level']}: {params['entry']['text']}")
        return problems

    def evaluate(self, expression: str):
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   self.session)
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        height = math.ceil(self.browser.send("Page.getLayoutMetrics", session=self.session)["cssContentSize"]["height"])
        shot = self.browser.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}}, self.session)
        return base64.b64decode(shot["data"])


@pytest.fixture(scope="session")
def chromium() -> str:
    """The chromium executable, installed by tests/tools/ensure_chromium.sh when missing."""
    script = REPO / "tests" / "tools" / "ensure_chromium.sh"
    try:  # within pytest's 600 s test timeout, so a slow mirror fails with this message
        done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=540)
    except subprocess.TimeoutExpired:
        pytest.fail(f"installing chromium with {script} took more than 9 minutes; install Debian's 'chromium' "
                    "package by hand (apt-get install -y chromium) and rerun", pytrace=False)
    if done.returncode != 0 or not done.stdout.strip():
        pytest.fail("these tests render the report in headless Chromium, which is not installed and could not "
                    f"be installed:\n{done.stderr.strip()[-3000:]}", pytrace=False)
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def browser(chromium, tmp_path):
    browser = Browser(chromium, str(tmp_path / "profile"))
    yield browser
    browser.close()


class VialJob(Job):
    """A small training job writing everything the report shows, with one unreadable image in its dataset."""

    def run(self):
        samples = self.datasets[0].get_image_samples()
        id_path = self.artifact_path("sample_identification.csv")
        samples = SampleSplit(seed=5).update_unassigned(samples, id_path=id_path)
        record_samples(self, samples)
        generator = build_image_data_generator(samples, batch_size=24, shuffle=True, seed=2,
                                               image={"target_size": (96, 96)}, augmentation={})
        record_first_batch(self, generator)
        monitor = self.get_remote_monitor()
        for epoch in range(12):
            monitor.on_epoch_end(epoch, {"loss": 1.2 * 0.8 ** epoch + 0.1, "accuracy": 0.95 - 0.5 * 0.75 ** epoch,
                                         "val_loss": 1.3 * 0.85 ** epoch + 0.2,
                                         "val_accuracy": 0.88 - 0.5 * 0.8 ** epoch})
        self.add_output_metrics({"devel accuracy": 0.843, "devel loss": 0.41})
        # A classifier that mistakes every third devel vial for the next class.
        true = samples.loc[samples["purpose"] == "devel", "category"].str[0].tolist()
        classes = sorted(set(true))
        predicted = [classes[(classes.index(c) + 1) % len(classes)] if i % 3 == 2 else c for i, c in enumerate(true)]
        record_predictions(self, true, predicted)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Job, str]:
    """A completed VialJob and the path of its report.html."""
    folder = tmp_path_factory.mktemp("browser")
    vials = generate_vials(folder / "NeurIPS vials", items_per_class=4, annotations=False)
    (vials / "good" / "corrupt_1543413999999.bmp").write_bytes(b"BM\x00\x01 truncated upload")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BREVETTI_DATA_BUCKET", str(folder / "data"))
        definition = jobstore.create_job("Vial cap inspection", [str(vials)])
        job = VialJob.init(job_id=definition["id"], argv=[])
        job.start()
    return job, write_report(job)


def test_report_loads_without_console_errors_and_shows_pivot_plots_and_thumbnails(report, browser):
    job, path = report
    page = Page(browser, Path(path).as_uri())
    shown = page.evaluate("""(() => ({
        title: document.title,
        pivot: Array.from(document.querySelectorAll('#datasets table')[1].rows)
            .map(row => Array.from(row.cells).map(cell => cell.textContent)),
        plots: Array.from(document.querySelectorAll('svg.plot')).map(svg => {
            const box = svg.getBoundingClientRect();
            return [svg.getAttribute('aria-label'), box.width, box.height, svg.querySelectorAll('circle').length];
        }),
        images: Array.from(document.images).map(img => img.complete ? img.naturalWidth : 0),
        failed: document.querySelectorAll('figure.failed').length,
        confusion: Array.from(document.querySelectorAll('#evaluation table.confusion tr'))
            .map(row => Array.from(row.cells).map(cell => cell.textContent)),
    }))()""")
    assert page.console_problems == []
    assert shown["title"] == "Job report: Vial cap inspection"

    split = pd.read_csv(job.artifact_path("sample_identification.csv"))
    samples = job.datasets[0].get_image_samples().merge(split, on="etag")
    expected = pd.crosstab(samples["category"].str[0], samples["purpose"], margins=True, margins_name="total")
    assert shown["pivot"][0] == ["category", *expected.columns]
    assert [row[0] for row in shown["pivot"][1:-1]] == list(expected.index[:-1])
    assert [[int(v) for v in row[1:]] for row in shown["pivot"][1:-1]] == expected.iloc[:-1].to_numpy().tolist()

    assert [(label, circles) for label, _, _, circles in shown["plots"]] == [("loss", 24), ("accuracy", 24)]
    assert all(width > 400 and height > 200 for _, width, height, _ in shown["plots"])
    assert len(shown["images"]) == 24 and all(width == 64 for width in shown["images"])
    first_batch = json.loads(Path(job.artifact_path("report", "first_batch", "facets.json")).read_text())
    assert shown["failed"] == sum("error" in record for record in first_batch)
    predictions = pd.read_csv(job.artifact_path("report", "predictions.csv"))
    matrix = pd.crosstab(predictions["true"], predictions["predicted"])
    assert [row[0] for row in shown["confusion"][1:]] == list(matrix.index)
    assert sum(int(n) for row in shown["confusion"][1:] for n in row[1:]) == len(predictions)

    ARTIFACTS.mkdir(exist_ok=True)
    png = page.screenshot()
    (ARTIFACTS / "report.png").write_bytes(png)
    shutil.copyfile(path, ARTIFACTS / "report.html")
    screenshot = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert screenshot.shape[1] == WIDTH and screenshot.shape[0] > 2000
    assert screenshot.std() > 20  # rendered content, not a blank page


def test_console_problems_of_a_broken_page_are_caught(browser, tmp_path):
    page_file = tmp_path / "broken.html"
    page_file.write_text('<!DOCTYPE html><html><head><title>broken</title></head><body>'
                         '<img src="missing.png"><script>console.error("canary"); undefined_call();</script>'
                         '</body></html>')
    problems = Page(browser, page_file.as_uri()).console_problems
    assert "console.error: canary" in problems
    assert any(p.startswith("exception:") for p in problems)
    assert any("missing.png" in p or "ERR_FILE_NOT_FOUND" in p for p in problems)
