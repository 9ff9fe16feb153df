"""`brevetti demo`: create a fresh local job, run it and list what it wrote (extra flags set its settings)."""
from __future__ import annotations

import argparse
import os

from pydantic import Field

from ..io_tools import join
from ..job import Job
from ..settings import JobSettings


class DemoSettings(JobSettings):
    message: str = Field(default="hello from brevetti", description="Text the job writes to its artifacts")
    repeats: int = Field(default=3, ge=1, description="How many lines to write (also reported as a metric)")


class DemoJob(Job):
    """Writes `repeats` lines of `message` to artifacts/demo/message.txt and reports one metric."""

    settings: DemoSettings

    def run(self) -> None:
        lines = [self.settings.message] * self.settings.repeats
        self.io.write_file(self.artifact_path("demo", "message.txt"), "\n".join(lines) + "\n")
        self.get_remote_monitor().on_epoch_end(0, {"lines": len(lines)})
        self.add_output_metric("lines_written", len(lines))
        return None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="run a small local job and list its artifacts",
        description="Creates a local job under the data root, runs it and lists its artifacts. "
                    "Settings: --message TEXT, --repeats N.",
    )
    parser.set_defaults(func=run_demo, accepts_extra=True)


def run_demo(args: argparse.Namespace) -> int:
    """Run DemoJob with the extra flags as its settings; print the artifact listing."""
    job = DemoJob.init(argv=args.extra)
    job.start()
    artifacts = join(job.job_dir, "artifacts")
    print(f"job {job.id} ({job.name}) completed; artifacts in {artifacts}:")
    for path, info in sorted(job.io.find(artifacts, detail=True).items()):
        relative = path[len(artifacts) + 1:] if "://" in artifacts else os.path.relpath(path, artifacts)
        print(f"  {relative}  {info.get('size', 0)} bytes")
    return 0
