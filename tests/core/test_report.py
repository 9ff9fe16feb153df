"""The job report: what report.html shows of a job folder, and how it copes with missing and bad inputs."""
import base64
import io
import json
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pydantic import Field

from brevetti_core import DataSettings, Job, JobSettings, SampleSplit, build_image_data_generator, jobstore
from brevetti_core.report import gather, record_first_batch, record_predictions, record_samples, write_report
from brevetti_core.report.render import MAX_ROWS
from brevetti_demo import generate_vials

EPOCHS = 5


class TrainingSettings(JobSettings):
    epochs: int = Field(default=EPOCHS, description="Epochs")
    optimizer: dict = Field(default_factory=lambda: {"name": "adam", "lr": 0.001})


class DataSettingsJob(JobSettings):
    data: DataSettings = Field(default_factory=DataSettings)


class TrainingJob(Job):
    """Records its samples and first batch, reports progress per epoch and one output metric."""

    settings: TrainingSettings

    def run(self):
        samples = self.datasets[0].get_image_samples()
        id_path = self.artifact_path("sample_identification.csv")
        samples = SampleSplit(seed=3).update_unassigned(samples, id_path=id_path)
        record_samples(self, samples)
        generator = build_image_data_generator(samples, batch_size=8, shuffle=True, seed=1,
                                               image={"target_size": (64, 64)}, augmentation={})
        record_first_batch(self, generator)
        monitor = self.get_remote_monitor()
        for epoch in range(self.settings.epochs):
            monitor.on_epoch_end(epoch, {"loss": 1 / (epoch + 1), "accuracy": 0.5 + 0.1 * epoch,
                                         "val_loss": 1.5 / (epoch + 1), "val_accuracy": 0.4 + 0.1 * epoch})
        self.add_output_metric("devel accuracy", 0.83)


def read_text(path) -> str:
    """The text of a file the report wrote (UTF-8)."""
    return Path(path).read_text(encoding="utf-8")


def start_job(job_type, root, datasets=(), name="vial inspection", complete=True):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BREVETTI_DATA_BUCKET", str(root))
        definition = jobstore.create_job(name, [str(d) for d in datasets], root=str(root))
        job = job_type.init(job_id=definition["id"], argv=[])
        job.start(complete=complete)
    return job


@pytest.fixture(scope="module")
def vials(tmp_path_factory):
    return generate_vials(tmp_path_factory.mktemp("report") / "vials", items_per_class=3, annotations=False)


@pytest.fixture(scope="module")
def trained(vials, tmp_path_factory):
    """A completed TrainingJob and its report's HTML."""
    job = start_job(TrainingJob, tmp_path_factory.mktemp("data"), [vials])
    path = write_report(job)
    return job, read_text(path)


class Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts, keyed by the id of the section holding it."""

    def __init__(self, html: str):
        super().__init__()
        self.section, self.tables, self.cell = None, {}, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.section = dict(attrs).get("id")
        elif tag == "table":
            self.tables.setdefault(self.section, []).append([])
        elif tag == "tr":
            self.tables[self.section][-1].append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[self.section][-1][-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def section(html: str, anchor: str) -> str:
    return re.search(rf'<section id="{anchor}">(.*?)</section>', html, re.S).group(1)


def test_report_names_the_job_its_status_settings_and_seeds(trained):
    job, html = trained
    assert "<title>Job report: vial inspection</title>" in html
    facts = dict(Tables(html).tables["job"][0])
    assert facts["id"] == job.id and facts["status"] == "completed" and facts["run id"] == job.run_id
    settings = dict(map(tuple, Tables(html).tables["job"][1][1:]))
    assert settings == {"epochs": str(EPOCHS), "optimizer.name": "adam", "optimizer.lr": "0.001"}
    seeds = Tables(html).tables["job"][2][1:]
    assert ["SampleSplit", "3", "false"] in seeds and ["DataGenerator", "1", "false"] in seeds


def test_report_lists_the_datasets_with_their_sample_counts(trained):
    job, html = trained
    samples = job.datasets[0].get_image_samples()
    header, row = Tables(html).tables["datasets"][0]
    assert header == ["name", "id", "bucket", "samples"]
    assert row == ["vials", job.datasets[0].id, job.datasets[0].bucket, str(len(samples))]


def test_pivot_counts_each_category_per_purpose(trained):
    job, html = trained
    split = pd.read_csv(job.artifact_path("sample_identification.csv"))
    samples = job.datasets[0].get_image_samples().merge(split, on="etag")
    expected = pd.crosstab(samples["category"].str[0], samples["purpose"])
    header, *rows = Tables(html).tables["datasets"][1]
    assert header == ["category", *expected.columns, "total"]
    for label, *counts in rows[:-1]:
        assert [int(c) for c in counts] == [*expected.loc[label], expected.loc[label].sum()]
    assert rows[-1] == ["samples (unique)", *map(str, samples["purpose"].value_counts()[expected.columns]),
                        str(len(samples))]


def test_multi_label_samples_count_once_per_label_and_once_as_samples(tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    record_samples(job, pd.DataFrame({"category": [("scratch", "dent"), ("dent",), ("good",)],
                                      "purpose": ["train", "train", "devel"], "dataset_id": ["d"] * 3}))
    rows = Tables(read_text(write_report(job))).tables["datasets"][1][1:]
    assert rows == [["dent", "0", "2", "2"], ["good", "1", "0", "1"], ["scratch", "0", "1", "1"],
                    ["samples (unique)", "1", "2", "3"]]


def test_duplicate_groups_list_the_identical_files(trained):
    job, html = trained
    samples = job.datasets[0].get_image_samples()
    groups = samples[samples.duplicated("etag", keep=False)].groupby("etag")["path"].apply(sorted)
    listed = section(html, "datasets").split("Duplicate groups")[1]
    assert f"{len(groups)} groups, {sum(map(len, groups))} files" in listed
    for etag, paths in groups.items():
        relative = [path[len(str(job.datasets[0].bucket)) + 1:] for path in paths]
        assert f"<td><code>{etag}</code></td><td class=\"num\">2</td>" in listed
        assert "<br>".join(relative) in listed and relative[0].startswith(("good/", "failed_cap/", "missing_cap/"))


def test_duplicates_split_across_purposes_are_flagged(tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    record_samples(job, pd.DataFrame({"category": [("a",)] * 3, "etag": ["e1", "e1", "e2"], "path": ["x", "y", "z"],
                                      "purpose": ["train", "devel", "train"], "dataset_id": ["d"] * 3}))
    listed = section(read_text(write_report(job)), "datasets").split("Duplicate groups")[1]
    assert "devel, train (split across purposes)" in listed and "e2" not in listed


def test_training_curves_pair_train_and_devel_per_metric(trained):
    _, html = trained
    plots = re.findall(r"<svg .*?</svg>", section(html, "training"), re.S)
    assert [re.search(r'aria-label="(\w+)"', p).group(1) for p in plots] == ["loss", "accuracy"]
    for plot in plots:
        assert plot.count("<polyline") == 2 and plot.count("<circle") == 2 * EPOCHS
        assert ">train</text>" in plot and ">devel</text>" in plot
    assert "devel: 0.75 at epoch 1" in plots[0]  # val_loss of epoch 1 is 1.5 / 2


@pytest.mark.parametrize("train, devel", [("loss", "val_loss"), ("train_loss", "devel_loss"),
                                         ("train_loss", "val_loss")])
def test_train_and_devel_of_a_metric_share_one_chart_whatever_their_names(train, devel, tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    for epoch in range(3):
        job.get_remote_monitor().on_epoch_end(epoch, {train: 1.0 / (epoch + 1), devel: 2.0 / (epoch + 1)})
    plots = re.findall(r"<svg .*?</svg>", section(read_text(write_report(job)), "training"), re.S)
    assert len(plots) == 1 and 'aria-label="loss"' in plots[0]
    assert ">train</text>" in plots[0] and ">devel</text>" in plots[0] and plots[0].count("<circle") == 6


def test_an_empty_datasets_setting_names_the_datasets_the_job_used(tmp_path, vials):
    class DataJob(Job):
        settings: DataSettingsJob

    job = start_job(DataJob, tmp_path, [vials])
    settings = dict(map(tuple, Tables(read_text(write_report(job))).tables["job"][1][1:]))
    assert settings["data.datasets"] == f"[] (the job's datasets: vials ({vials}))"


def test_a_count_metric_is_a_table_with_totals(tmp_path):
    class SplitJob(Job):
        def run(self):
            self.add_output_metrics({"split": {"devel": {"good": 3, "bad": 1}, "train": {"good": 9, "bad": 4}},
                                     "classes": ["good", "bad"]})

    job = start_job(SplitJob, tmp_path)
    tables = Tables(read_text(write_report(job))).tables["metrics"]
    assert ["classes", "good, bad"] in tables[0]
    assert tables[1] == [["split", "devel", "train", "total"], ["bad", "1", "4", "5"], ["good", "3", "9", "12"],
                         ["total", "4", "13", "17"]]


def test_devel_predictions_give_a_confusion_matrix_and_per_class_scores(tmp_path):
    true = ["good", "good", "good", "cap", "cap", "crack"]
    predicted = ["good", "good", "cap", "cap", "good", "crack"]

    class PredictingJob(Job):
        def run(self):
            self.add_output_metric("classes", ["good", "cap", "crack"])  # the order of the matrix
            record_predictions(self, ["good"] * 4, ["cap"] * 4, purpose="train")  # other purposes are not scored
            record_predictions(self, true, predicted)

    job = start_job(PredictingJob, tmp_path)
    html = read_text(write_report(job))
    matrix, scores = Tables(html).tables["evaluation"]
    assert matrix == [["true \\ predicted", "good", "cap", "crack"], ["good", "2", "1", "0"], ["cap", "1", "1", "0"],
                      ["crack", "0", "0", "1"]]
    # good: 2 of 3 found (recall 2/3), 2 of 3 predicted good are good (precision 2/3); cap: 1/2 and 1/2.
    assert scores[0] == ["class", "precision", "recall", "F1", "support"]
    assert scores[1:] == [["good", "0.667", "0.667", "0.667", "3"], ["cap", "0.5", "0.5", "0.5", "2"],
                          ["crack", "1", "1", "1", "1"]]
    assert "6 devel samples, 4 classified correctly (66.7%)" in section(html, "evaluation")


def test_without_predictions_the_evaluation_says_how_to_record_them(trained):
    _, html = trained
    assert "No devel predictions recorded: call brevetti_core.report.record_predictions" in section(html, "evaluation")


@pytest.mark.parametrize("augmentation, heading", [({}, "First training batch (after augmentation)"),
                                                   (None, "First training batch (not augmented)")])
def test_the_batch_heading_says_whether_augmentation_ran(augmentation, heading, tmp_path, vials):
    job = start_job(Job, tmp_path, [vials], complete=False)
    samples = job.datasets[0].get_image_samples().assign(purpose="train")
    record_first_batch(job, build_image_data_generator(samples, batch_size=2, image={"target_size": (32, 32)},
                                                       augmentation=augmentation))
    assert f"<h2>{heading}</h2>" in section(read_text(write_report(job)), "batch")


def test_output_metrics_are_listed(trained):
    _, html = trained
    assert Tables(html).tables["metrics"][0] == [["metric", "value"], ["devel accuracy", "0.83"]]


def test_first_batch_shows_one_thumbnail_per_sample(trained):
    job, html = trained
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', section(html, "batch"))
    assert len(images) == 8
    first = np.asarray(Image.open(io.BytesIO(base64.b64decode(images[0]))))
    assert first.shape == (64, 64, 3) and first.std() > 5
    records = json.loads(read_text(job.artifact_path("report", "first_batch", "facets.json")))
    assert re.findall(r"<figcaption>(.*?)</figcaption>", html) == [
        f"{r['category'][0]} · {r['purpose']}" for r in records]


def test_environment_shows_python_and_package_versions(trained):
    _, html = trained
    environment = section(html, "environment")
    assert "python" in environment and re.search(r"<td>numpy</td><td>2\.\d+", environment)


def test_a_job_without_progress_says_so(tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    html = read_text(write_report(job))
    assert "No progress recorded yet." in section(html, "training") and "<svg" not in html
    assert "No sample table recorded" in html and "No batch recorded" in html
    assert Tables(html).tables["job"][0][3] == ["status", "running"]


def test_a_job_that_never_started_gets_a_report_from_its_definition(tmp_path):
    definition = jobstore.create_job("planned job", root=str(tmp_path))
    html = read_text(write_report(jobstore.job_dir(definition["id"], str(tmp_path))))
    assert "planned job" in html and "not started" in html and "No environment recorded" in html


def test_a_rerun_shows_the_latest_record_of_each_epoch(tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    monitor = job.get_remote_monitor()
    for loss in (5.0, 1.0):
        monitor.on_epoch_end(0, {"loss": loss})
        monitor.on_epoch_end(1, {"loss": loss / 2})
    rows = Tables(read_text(write_report(job))).tables["training"][0]
    assert rows == [["epoch", "loss"], ["0", "1"], ["1", "0.5"]]


def test_a_bad_progress_line_is_listed_and_the_others_plotted(tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    job.get_remote_monitor().on_epoch_end(0, {"loss": 1.0})
    with open(job.artifact_path("progress.jsonl"), "a") as f:
        f.write("{not json\n")
    job.get_remote_monitor().on_epoch_end(1, {"loss": 0.5})
    html = read_text(write_report(job))
    assert section(html, "training").count("<circle") == 2
    assert "progress.jsonl line 2 was skipped" in section(html, "problems")


def test_huge_tables_are_capped_with_a_note(tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    labels = [(f"class_{i:04d}",) for i in range(MAX_ROWS + 300)]
    record_samples(job, pd.DataFrame({"category": labels, "purpose": "train", "dataset_id": "d"}))
    html = read_text(write_report(job))
    rows = Tables(html).tables["datasets"][1]
    assert len(rows) == 1 + MAX_ROWS + 1 and rows[-1] == ["samples (unique)", "500", "500"]
    assert f"Showing the first {MAX_ROWS} of 500 rows; 300 rows are not shown." in html


def test_an_unreadable_image_shows_a_placeholder_and_its_error(vials, tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    broken = tmp_path / "broken.bmp"
    broken.write_bytes(b"BM truncated")
    table = pd.DataFrame({"path": [str(broken), str(next(vials.glob("good/*.bmp")))],
                          "category": [("good",), ("good",)]})
    generator = build_image_data_generator(table, batch_size=2, image={"target_size": (32, 32)})
    record_first_batch(job, generator)
    batch = section(read_text(write_report(job)), "batch")
    assert batch.count('<figure class="failed">') == 1 and batch.count("<figure") == 2
    assert "Samples that could not be loaded (1)" in batch and "broken.bmp" in batch


def test_an_unreadable_atlas_gives_placeholders_and_a_listed_problem(trained, tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    folder = job.artifact_path("report", "first_batch", dir=True)
    with open(f"{folder}/facets.json", "w") as f:
        json.dump([{"category": ["good"]}, {"category": ["bad"]}], f)
    with open(f"{folder}/spriteatlas.jpeg", "wb") as f:
        f.write(b"\xff\xd8 broken jpeg")
    html = read_text(write_report(job))
    assert section(html, "batch").count("<img") == 2
    assert "spriteatlas.jpeg could not be read" in section(html, "problems")


def test_the_page_fetches_nothing(trained):
    _, html = trained
    assert not re.search(r"<script|<link|<iframe|@import|url\(", html)
    assert not re.search(r'(src|href)="(?!data:)', html)


def test_text_from_the_job_is_escaped(tmp_path):
    job = start_job(Job, tmp_path, name="<script>alert('x')</script>", complete=False)
    html = read_text(write_report(job))
    assert "<script" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_a_missing_job_folder_is_an_error_unless_warnings_are_asked_for(tmp_path, caplog):
    with pytest.raises(FileNotFoundError, match=f"no job folder at {tmp_path / 'nope'}"):
        write_report(str(tmp_path / "nope"))
    with caplog.at_level(logging.WARNING):
        assert write_report(str(tmp_path / "nope"), errors="warn") is None
    assert "Could not write the job report" in caplog.text


def test_record_samples_needs_category_and_dataset_id(tmp_path):
    job = start_job(Job, tmp_path, complete=False)
    with pytest.raises(KeyError, match=r"needs the sample columns \['dataset_id'\]"):
        record_samples(job, pd.DataFrame({"category": [("a",)]}))


def test_gathered_data_keeps_the_recorded_sample_table(trained):
    job, _ = trained
    data = gather(job.job_dir)
    assert len(data.samples) == len(job.datasets[0].get_image_samples())
    assert isinstance(data.samples["category"].iloc[0], tuple) and set(data.samples["purpose"]) == {"train", "devel"}


def test_report_of_a_job_on_s3(s3_bucket, s3_client, vials):
    job = start_job(TrainingJob, s3_bucket, [vials])
    path = write_report(job)
    assert path == f"{s3_bucket}/{job.id}/artifacts/report.html"
    html = s3_client.get_object(Bucket=s3_bucket[5:], Key=f"{job.id}/artifacts/report.html")["Body"].read().decode()
    assert html.count("<svg") == 2 and html.count("<figure") == 8 and "samples (unique)" in html
