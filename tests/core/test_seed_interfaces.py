"""The job-API seed notebook's "Interfaces / integrations" part runs with its imports changed to brevetti_core.

The cells are copied from shared/seeds/seed-notebook-job-api.md. Changes: imports (``brevettiai.interfaces.pivot``
-> ``brevetti_core.pivot``, ``brevettiai.interfaces.facets_atlas`` -> ``brevetti_core.facets``, the rest ->
``brevetti_core``). The cells it builds on (the job, its
samples and their split) come first, as in the notebook; the last cells go one step further than the
notebook's commented-out completion: the model is exported with ModelArchive, the job completed, and its
report written. Cells run in a fresh interpreter in one namespace and, like Jupyter, the value of each
cell's last expression is printed.
"""
import json
import math
import os
import re
import subprocess
import sys
import tarfile
import textwrap

from PIL import Image

from brevetti_demo import generate_vials

SETUP_CELLS = [
    '''\
from pydantic import Field
from brevetti_core import Job, JobSettings
class MyJobSettings(JobSettings):
    my_custom_int_setting: int = Field(default=25,
                        description="My own custom integer setting", advanced=False)

class MyJob(Job):
    settings: MyJobSettings

    def run(self): # This function should be overloaded and is run when job is started

        print(f"Run my custom code using custom parameter \\"my_custom_int_setting\\": {self.settings.my_custom_int_setting}")

        return None # Return path to model artifacts to be uploaded after job is completed
''',  # noqa: E501  # the seed notebook's cell, verbatim
    """\
import os
model_id = os.getenv("job_id")
api_key = os.getenv("api_key")
job = MyJob.init(job_id=model_id, api_key=api_key)
job.start(complete=False)
""",
    """\
samples = job.datasets[0].get_image_samples()
""",
    """\
from brevetti_core import SampleSplit
samples = SampleSplit().update_unassigned(samples, id_path=job.artifact_path("sample_identification.csv"))
""",
    """\
from brevetti_core import StratifiedSampler, DataGenerator, OneHotEncoder
from brevetti_core import ImagePipeline, ImageAugmenter, SegmentationLoader
""",
]

INTERFACE_CELLS = [
    """\
print(f"Uploading metrics and outputs to {job.host_name}/models/{model_id}/artifacts")
job.add_output_metric("My custom metric", 277)
job.upload_job_output()
""",
    """\
remote_monitor_callback = job.get_remote_monitor()
# Simulate training epochs and produce callbacks
remote_monitor_callback.on_epoch_end(11, {"loss": 0.9, "accuracy": 0.5})
remote_monitor_callback.on_epoch_end(12, {"loss": 0.7, "accuracy": 0.8})

print(f"Training progress visible on {job.host_name}/models/{model_id}")
""",
    """\
from brevetti_core.pivot import export_pivot_table, get_default_fields, pivot_fields
export_pivot_table(job.artifact_path("pivot", dir=True), samples,
                   datasets=job.datasets,
                   fields=None,
                   tags=job.backend.get_root_tags(job.id, job.api_key),
                   rows=["dataset_id"],
                   cols=["category"],
                   agg={"url": "first"})
print(f"Pivot table visible on {job.host_name}/models/{model_id}")
""",
    """\
from brevetti_core.facets import build_facets
from brevetti_core import StratifiedSampler, DataGenerator
fds = DataGenerator(samples, shuffle=True, output_structure=("img", "category")) \\
    .map(ImagePipeline(target_size=(64,64), antialias=True))

build_facets(fds, job.artifact_path("facets", dir=True), count=32)

print(f"Facets visible on {job.host_name}/models/{model_id}")
""",
]

COMPLETION_CELLS = [
    """\
from brevetti_core.archive import ModelArchive
exported_model_path = job.artifact_path("model.tar.gz")
with ModelArchive(exported_model_path, metadata={"name": job.name, "id": job.id}).open_write() as archive:
    archive.add_asset("labels", "labels.json", b'["failed_cap", "good", "missing_cap", "unknown"]')
job.complete_job(exported_model_path)
""",
    """\
from brevetti_core.report import write_report
write_report(job)
""",
]

RUNNER = textwrap.dedent("""\
    import ast, json, sys
    cells = json.load(open(sys.argv.pop(1)))
    namespace = {"__name__": "__main__"}
    for number, cell in enumerate(cells):
        tree = ast.parse(cell)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"<cell {number}>", "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), f"<cell {number}>", "eval"), namespace)
            if value is not None:
                print(repr(value))
        print(f"=== end of cell {number}")
""")


def run_cells(tmp_path, cells, env) -> list[list[str]]:
    """Run the cells in a fresh interpreter; returns the printed lines of each cell."""
    (tmp_path / "cells.json").write_text(json.dumps(cells))
    (tmp_path / "runner.py").write_text(RUNNER)
    done = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "cells.json")],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs, current = [], []
    for line in done.stdout.splitlines():
        if line.startswith("=== end of cell"):
            outputs.append(current)
            current = []
        else:
            current.append(line)
    assert len(outputs) == len(cells), done.stdout
    return outputs


def test_interfaces_part_of_the_job_api_notebook_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("BREVETTI_HOST_NAME", raising=False)
    root = tmp_path / "data"
    vials = generate_vials(tmp_path / "NeurIPS vials TRAIN", items_per_class=4, annotations=False)
    env = {**os.environ, "BREVETTI_DATA_BUCKET": str(root), "api_key": "seed-interfaces-key"}
    env.pop("BREVETTI_CACHE", None)
    created = subprocess.run([sys.executable, "-m", "brevetti_core", "job", "create", "--name", "NeurIPS vials TRAIN",
                              "--dataset", str(vials)], capture_output=True, text=True, env=env, timeout=120)
    assert created.returncode == 0, created.stderr
    job_id = env["job_id"] = created.stdout.strip()

    outputs = run_cells(tmp_path, SETUP_CELLS + INTERFACE_CELLS + COMPLETION_CELLS, env)

    host = f"file://{root}"
    metrics, monitor, pivot, facets, export, report = outputs[len(SETUP_CELLS):]
    assert metrics == [f"Uploading metrics and outputs to {host}/models/{job_id}/artifacts", "'artifacts/output.json'"]
    assert monitor == [f"Training progress visible on {host}/models/{job_id}"]
    assert pivot == [f"Pivot table visible on {host}/models/{job_id}"]
    assert facets == [f"Facets visible on {host}/models/{job_id}"]
    assert export == ["'artifacts/model.tar.gz'"]

    artifacts = root / job_id / "artifacts"
    output = json.loads((artifacts / "output.json").read_text())
    assert output["output"] == {"My custom metric": 277}
    assert output["job"]["model_path"] == "artifacts/model.tar.gz"

    progress = [json.loads(line) for line in (artifacts / "progress.jsonl").read_text().splitlines()]
    assert [{k: p[k] for k in ("epoch", "loss", "accuracy")} for p in progress] == [
        {"epoch": 11, "loss": 0.9, "accuracy": 0.5}, {"epoch": 12, "loss": 0.7, "accuracy": 0.8}]

    layout = json.loads((artifacts / "pivot" / "summary_fields.json").read_text())
    assert [f["key"] for f in layout["rowFields"]] == ["dataset_id"]
    assert [f["key"] for f in layout["colFields"]] == ["category"]
    assert [f["key"] for f in layout["fields"]] == ["folder", "purpose"]
    records = json.loads((artifacts / "pivot" / "classification_summary.json").read_text())
    unique = {r["id"]: r for r in records}.values()
    sample_count = sum(1 for _ in vials.rglob("*.bmp"))
    assert sum(r["count"] for r in unique) == sample_count
    assert all(r["url"].startswith("file://") for r in records)

    facet_records = json.loads((artifacts / "facets" / "facets.json").read_text())
    assert len(facet_records) == 32 and "path" not in facet_records[0]
    side = math.ceil(math.sqrt(32)) * 64
    assert Image.open(artifacts / "facets" / "spriteatlas.jpeg").size == (side, side)

    with tarfile.open(artifacts / "model.tar.gz") as tar:
        assert sorted(tar.getnames()) == ["labels.json", "metadata.json"]

    assert report == [repr(str(artifacts / "report.html"))]
    html = (artifacts / "report.html").read_text()
    assert "NeurIPS vials TRAIN" in html and "My custom metric" in html and "artifacts/model.tar.gz" in html
    assert re.findall(r'aria-label="(\w+)"', html) == ["loss", "accuracy"]
    assert "<title>train: 0.7 at epoch 12</title>" in html
    assert "seed-interfaces-key" not in html
