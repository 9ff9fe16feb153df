"""The job report as one self-contained HTML page: inline CSS, inline SVG plots, base64 PNG thumbnails.

Nothing is fetched when the page opens (no scripts, fonts or images from the network). Long
tables are cut at `MAX_ROWS` rows with a note saying how many were left out.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

import pandas as pd

from .data import ReportData
from .plot import line_plot

MAX_ROWS = 200
MAX_PATHS = 5
MAX_TILES = 256

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d232b}
main{max-width:1200px;margin:0 auto;padding:24px}
header{background:#1d2b3a;color:#fff;padding:20px 24px}
header h1{margin:0 0 4px;font-size:22px}
header .meta{color:#c5d0dc;font-size:13px}
section{background:#fff;border:1px solid #dde2e8;border-radius:6px;margin:0 0 20px;padding:16px 20px}
h2{font-size:17px;margin:0 0 12px}
h3{font-size:14px;margin:16px 0 8px}
table{border-collapse:collapse;margin:4px 0 8px;font-size:13px}
th,td{border:1px solid #dde2e8;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5}
table.facts th{font-weight:500;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;background:#f7f8fa}
.note{color:#5b6673;font-size:12px;margin:4px 0}
.empty{color:#5b6673;font-style:italic}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#7b8794}
.badge.completed{background:#2f9e44}.badge.running{background:#1c7ed6}
.badge.failed,.badge.interrupted{background:#e03131}
.warn{color:#c92a2a;font-weight:600}
.plots{display:flex;flex-wrap:wrap;gap:12px}
svg.plot{background:#fff;border:1px solid #dde2e8;font-size:11px}
svg.plot .plot-title{font-size:14px;font-weight:600}
svg.plot .grid{stroke:#e6e9ee}svg.plot .axis{stroke:#7b8794}svg.plot .frame{fill:none;stroke:#7b8794}
.tiles{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;width:96px;text-align:center;font-size:11px}
figure img{width:96px;height:96px;image-rendering:pixelated;border:1px solid #dde2e8}
figure.failed img{border:2px solid #e03131}
code{font-size:12px;background:#eef1f5;padding:1px 4px;border-radius:3px}
ul.problems li{color:#c92a2a}
table.confusion td.diagonal{background:#e6f4ea;font-weight:600}
"""


def render(data: ReportData) -> str:
    """The report page of `data` as HTML text."""
    job = data.job
    title = job.get("name") or job.get("id") or "job"
    sections = [
        _job_section(data),
        _datasets_section(data),
        _training_section(data),
        _metrics_section(data),
        _evaluation_section(data),
        _batch_section(data),
        _environment_section(data),
    ]
    if data.problems:
        sections.append(_section("problems", "Problems reading the job's files",
                                 '<ul class="problems">' + "".join(f"<li>{escape(p)}</li>" for p in data.problems)
                                 + "</ul>"))
    status = (data.status or {}).get("status") or "not started"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Job report: {escape(str(title))}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{escape(str(title))} <span class="badge {escape(status)}">{escape(status)}</span></h1>'
        f'<div class="meta">job {escape(str(job.get("id", "")))} · run {escape(str(job.get("run_id", "")))} · '
        f"report generated {escape(data.generated)}</div></header><main>{''.join(sections)}</main></body></html>"
    )


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _empty(text: str) -> str:
    return f'<p class="empty">{escape(text)}</p>'


def _cell(value: Any) -> str:
    if value is None:
        return '<td class="empty">\N{EN DASH}</td>'
    if isinstance(value, bool):
        return f"<td>{escape(json.dumps(value))}</td>"
    if isinstance(value, (int, float)):
        return f'<td class="num">{value:.6g}</td>' if isinstance(value, float) else f'<td class="num">{value}</td>'
    if isinstance(value, (dict, list, tuple)):
        return f"<td><code>{escape(json.dumps(value, default=str))}</code></td>"
    return f"<td>{escape(str(value))}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], total: int | None = None,
          last_is_total: bool = False, cap: int = MAX_ROWS) -> str:
    """An HTML table of the first `cap` rows, with a note saying how many of `total` rows were left out."""
    rows = list(rows)
    total = len(rows) if total is None else total
    footer = rows[-1:] if last_is_total and rows else []
    shown = rows[:-1] if footer else rows
    body = "".join(f"<tr>{''.join(_cell(v) for v in row)}</tr>" for row in shown[:cap])
    body += "".join(f'<tr class="total">{"".join(_cell(v) for v in row)}</tr>' for row in footer)
    html = f"<table><thead><tr>{''.join(f'<th>{escape(str(h))}</th>' for h in headers)}</tr></thead>" \
           f"<tbody>{body}</tbody></table>"
    hidden = total - min(len(shown), cap) - len(footer)
    if hidden > 0:
        html += f'<p class="note">Showing the first {min(len(shown), cap):,} of {total - len(footer):,} rows; ' \
                f"{hidden:,} rows are not shown.</p>"
    return html


def facts(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of (name, value) pairs, names as row headers."""
    rows = "".join(f"<tr><th>{escape(name)}</th>{_cell(value)}</tr>" for name, value in pairs)
    return f'<table class="facts"><tbody>{rows}</tbody></table>'


def _frame_table(frame: pd.DataFrame, last_is_total: bool = False) -> str:
    rows = frame.reset_index().itertuples(index=False, name=None) if frame.index.name else \
        frame.itertuples(index=False, name=None)
    headers = [frame.index.name, *frame.columns] if frame.index.name else list(frame.columns)
    return table([str(h) for h in headers], [[_plain(v) for v in row] for row in rows], last_is_total=last_is_total)


def _plain(value: Any) -> Any:
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _flatten(settings: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows = []
    for key, value in settings.items():
        if isinstance(value, Mapping) and value:
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def _job_section(data: ReportData) -> str:
    job, status = data.job, data.status or {}
    rows = [("name", job.get("name", "")), ("id", job.get("id", "")), ("run id", job.get("run_id", "")),
             ("status", status.get("status", "not started")), ("status time", status.get("time", "")),
             ("job folder", data.job_dir), ("model package", job.get("model_path") or "none")]
    if status.get("error"):
        rows.append(("error", status["error"]))
    body = facts(rows)
    settings = [(name, _datasets_used(job) if name.endswith("datasets") and value == [] else value)
                for name, value in _flatten(job.get("settings") or {})]
    body += "<h3>Settings</h3>" + (table(["setting", "value"], settings) if settings else _empty("No settings."))
    seeds = job.get("seeds") or []
    body += "<h3>Seeds</h3>" + (table(["owner", "seed", "drawn from the OS"],
                                      [(s.get("owner"), s.get("seed"), s.get("drawn")) for s in seeds])
                                if seeds else _empty("No seeds recorded."))
    return _section("job", "Job", body)


def _datasets_used(job: Mapping[str, Any]) -> str:
    """What an empty datasets setting means: the job's own datasets, named."""
    datasets = job.get("datasets") or []
    if not datasets:
        return "[] (none)"
    return "[] (the job's datasets: " + ", ".join(f"{d.get('name') or d.get('id')} ({d.get('bucket', '')})"
                                                  for d in datasets) + ")"


def _datasets_section(data: ReportData) -> str:
    counts = data.dataset_counts
    body = _frame_table(counts) if len(counts) else _empty("The job has no datasets.")
    pivot = data.pivot  # None exactly when no sample table was recorded
    if pivot is None:
        body += _empty("No sample table recorded: call brevetti_core.report.record_samples(job, samples) in run().")
        return _section("datasets", "Datasets and samples", body)
    body += f"<h3>Samples per category and purpose</h3>{_frame_table(pivot, last_is_total=True)}"
    body += '<p class="note">A sample with several labels counts once per label; the last row counts samples.</p>'
    duplicates = data.duplicates
    body += "<h3>Duplicate groups (identical content)</h3>"
    if duplicates is None or duplicates.empty:
        body += _empty("No duplicate files." if duplicates is not None else "No etag column recorded.")
    else:
        rows = []
        for etag, count, purposes, paths in duplicates.itertuples(index=False, name=None):
            mixed = "," in purposes
            listed = "<br>".join(escape(p) for p in paths[:MAX_PATHS])
            if len(paths) > MAX_PATHS:
                listed += f"<br>… and {len(paths) - MAX_PATHS} more"
            purpose_cell = f'<span class="warn">{escape(purposes)} (split across purposes)</span>' if mixed \
                else escape(purposes)
            rows.append(f"<tr><td><code>{escape(str(etag))}</code></td><td class=\"num\">{count}</td>"
                        f"<td>{purpose_cell}</td><td>{listed}</td></tr>")
        body += (f'<p class="note">{len(duplicates):,} groups, {int(duplicates["count"].sum()):,} files.</p>'
                 "<table><thead><tr><th>etag</th><th>files</th><th>purposes</th><th>paths</th></tr></thead>"
                 f"<tbody>{''.join(rows[:MAX_ROWS])}</tbody></table>")
        if len(rows) > MAX_ROWS:
            body += f'<p class="note">Showing the first {MAX_ROWS:,} of {len(rows):,} groups.</p>'
    return _section("datasets", "Datasets and samples", body)


def _training_section(data: ReportData) -> str:
    curves = data.curves
    if data.progress is None or not curves:
        return _section("training", "Training progress", _empty("No progress recorded yet."))
    plots = "".join(line_plot(name, series, x_label="epoch", y_label=name) for name, series in curves.items())
    progress = data.progress.drop(columns=[c for c in ("time",) if c in data.progress.columns])
    body = f'<div class="plots">{plots}</div><h3>Per epoch</h3>{_frame_table(progress)}'
    return _section("training", "Training progress", body)


def _metrics_section(data: ReportData) -> str:
    if not data.metrics:
        return _section("metrics", "Output metrics", _empty("No output metrics recorded."))
    rows, tables = [], []
    for name, value in data.metrics.items():
        counts = _count_table(str(name), value)
        if counts is not None:
            tables.append(f"<h3>{escape(str(name))}</h3>{_frame_table(counts, last_is_total=True)}")
        elif isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            rows.append((name, ", ".join(map(str, value))))
        else:
            rows.append((name, value))
    return _section("metrics", "Output metrics", table(["metric", "value"], rows) + "".join(tables))


def _count_table(name: str, value: Any) -> pd.DataFrame | None:
    """A {column: {row: count}} metric `name` (the split: {purpose: {category: samples}}) as a table with totals
    (its rows headed by `name`), else None."""
    if not isinstance(value, Mapping) or not value or not all(
            isinstance(inner, Mapping) and all(isinstance(n, int) and not isinstance(n, bool) for n in inner.values())
            for inner in value.values()):
        return None
    frame = pd.DataFrame(value).fillna(0).astype(int)
    frame = frame.reindex(sorted(frame.index, key=str))
    frame["total"] = frame.sum(axis=1)
    frame.loc["total"] = frame.sum(axis=0)
    frame.index.name = name
    return frame


def _evaluation_section(data: ReportData) -> str:
    title = "Devel evaluation"
    confusion, scores = data.confusion("devel"), data.class_scores("devel")
    if confusion is None or scores is None:
        return _section("evaluation", title, _empty(
            "No devel predictions recorded: call brevetti_core.report.record_predictions(job, true, predicted) "
            "in run()."))
    total, correct = int(confusion.to_numpy().sum()), int(confusion.to_numpy().trace())
    body = f'<p class="note">{total:,} devel samples, {correct:,} classified correctly ({correct / total:.1%}); ' \
           "computed with scikit-learn's metrics.</p>"
    body += "<h3>Confusion matrix (rows: true class, columns: predicted class)</h3>" + _confusion_table(confusion)
    body += "<h3>Per class</h3>" + _frame_table(scores.round(3))
    body += '<p class="note">Recall of a class: its samples found (1 - recall: its escapes, when it is a defect); ' \
            "precision: how many of the samples predicted as it really are it (the rest: its false rejects, " \
            "when it is a defect and they are good).</p>"
    return _section("evaluation", title, body)


def _confusion_table(confusion: pd.DataFrame) -> str:
    """The confusion matrix with the correct counts (the diagonal) marked."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in confusion.columns)
    rows = []
    for i, (label, counts) in enumerate(confusion.iterrows()):
        cells = "".join(f'<td class="num{" diagonal" if i == j else ""}">{int(n)}</td>' for j, n in enumerate(counts))
        rows.append(f"<tr><th>{escape(str(label))}</th>{cells}</tr>")
    return f'<table class="confusion"><thead><tr><th>true \\ predicted</th>{head}</tr></thead>' \
           f"<tbody>{''.join(rows)}</tbody></table>"


def _batch_section(data: ReportData) -> str:
    title = {True: "First training batch (after augmentation)", False: "First training batch (not augmented)",
             None: "First training batch"}[data.first_batch_augmented]
    if data.first_batch is None:
        return _section("batch", title, _empty("No batch recorded: call brevetti_core.report.record_first_batch"
                                               "(job, generator) in run()."))
    figures = []
    for index, tile in enumerate(data.first_batch[:MAX_TILES]):
        source = "data:image/png;base64," + base64.b64encode(tile.png).decode("ascii")
        alt = f"sample {index}: {tile.caption}" + (" (could not be loaded)" if tile.error else "")
        figures.append(f'<figure class="{"failed" if tile.error else ""}"><img src="{source}" alt="{escape(alt)}">'
                       f"<figcaption>{escape(tile.caption)}</figcaption></figure>")
    body = f'<div class="tiles">{"".join(figures)}</div>'
    if len(data.first_batch) > MAX_TILES:
        body += f'<p class="note">Showing {MAX_TILES} of {len(data.first_batch)} samples.</p>'
    errors = [(index, tile.error) for index, tile in enumerate(data.first_batch) if tile.error]
    if errors:
        body += f"<h3>Samples that could not be loaded ({len(errors)})</h3>" + table(["sample", "error"], errors)
    return _section("batch", title, body)


def _environment_section(data: ReportData) -> str:
    env = data.environment
    if not env:
        return _section("environment", "Environment", _empty("No environment recorded (output.json missing)."))
    git = env.get("git") or {}
    body = facts([("python", env.get("python", "")), ("platform", env.get("platform", "")),
                  ("git commit", git.get("commit", "not in a git checkout")),
                  ("uncommitted changes", git.get("dirty"))])
    packages = env.get("packages") or {}
    if packages:
        body += "<h3>Packages</h3>" + table(["package", "version"], sorted(packages.items()))
    return _section("environment", "Environment", body)
