"""The job-API seed notebook, up to "Accessing datasets", runs with only its imports changed.

The cells below are copied from seeds/seed-notebook-job-api.md with `brevettiai` / `brevettiai.platform`
imports replaced by `brevetti_core`. The notebook's first code block is left out: it is an
illustration that cannot run in the reference either (its `run` reads the undefined
`self.my_custom_setting`, and job 'UUID' does not exist). A small runner executes the cells in
one namespace and, like Jupyter, prints the value of each cell's last expression.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

API_KEY = "seed-api-key-0c1d2e3f"

CELLS = [
    """\
from brevetti_core import Job
job = Job.init()
""",
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
        
''',  # noqa: E501, W293  # the seed notebook's cell, verbatim (blank lines with spaces included)
    """\
# Job info: NB: replace with ID and api key from your job
import os
import getpass

model_id = os.getenv("job_id") or input("Training job model id (can be read from url https://platform.brevetti.ai/models/{model_id})")
api_key = os.getenv("api_key") or getpass.getpass("Training job Api Key:")
""",
    """\
job = MyJob.init(job_id=model_id, api_key=api_key)
job.start(complete=False)
job.settings.my_custom_int_setting
""",
    """\
from brevetti_core import Job
import sys

# Parsing parameters using command line args will set the settings in the nested object
# job.settings

# For classes hinted to be an object type as 'dict', 'list' etc the parameter text will be json parsed

sys.argv += ["--my_custom_int_setting", '10']

job = MyJob.init(job_id=model_id, api_key=api_key)
job.start(complete=False)
job.settings.my_custom_int_setting
""",
    """\
job.upload_job_output()
""",
    """\
temp_path = job.temp_path("something_i_want_to_save_temporarily.txt")
print(temp_path)

job.io.write_file(temp_path, "Valuable information")
print(str(job.io.read_file(temp_path), "utf-8"))
""",
    """\
artifact_path = job.artifact_path("something_i_want_to_save.txt")
print(f"Available at on the website: {job.host_name}/models/{job.id}/artifacts")

# And in from the job
job.io.write_file(artifact_path, "Valuable information")
print(str(job.io.read_file(artifact_path), "utf-8"))

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


def run_notebook(tmp_path, data_root_uri: str, job_id: str) -> list[list[str]]:
    """Run the cells in a fresh interpreter; returns the printed lines of each cell."""
    (tmp_path / "cells.json").write_text(json.dumps(CELLS))
    (tmp_path / "runner.py").write_text(RUNNER)
    env = {**os.environ, "BREVETTI_DATA_BUCKET": data_root_uri, "job_id": job_id, "api_key": API_KEY}
    env.pop("BREVETTI_CACHE", None)
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
    assert len(outputs) == len(CELLS), done.stdout
    return outputs


def create_job(data_root_uri: str, dataset: str) -> str:
    env = {**os.environ, "BREVETTI_DATA_BUCKET": data_root_uri}
    done = subprocess.run([sys.executable, "-m", "brevetti_core", "job", "create", "--name", "NeurIPS vials TRAIN",
                           "--dataset", dataset], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def check_outputs(outputs: list[list[str]], job_id: str, host_name: str) -> None:
    setting_line = 'Run my custom code using custom parameter "my_custom_int_setting": {}'
    assert outputs[3] == [setting_line.format(25), "25"]
    assert outputs[4] == [setting_line.format(10), "10"]
    assert outputs[5] == ["'artifacts/output.json'"]
    temp_line, text = outputs[6]
    temp_dir = re.escape(tempfile.gettempdir())
    pattern = rf"{temp_dir}/brevetti-job-{job_id}-[^/]+/something_i_want_to_save_temporarily\.txt"
    assert re.fullmatch(pattern, temp_line) and text == "Valuable information"
    assert outputs[7] == [f"Available at on the website: {host_name}/models/{job_id}/artifacts", "Valuable information"]


def test_seed_notebook_runs_on_a_local_data_root(tmp_path, monkeypatch):
    monkeypatch.delenv("BREVETTI_HOST_NAME", raising=False)
    root = tmp_path / "data"
    dataset = tmp_path / "vials"
    dataset.mkdir()
    job_id = create_job(str(root), str(dataset))
    outputs = run_notebook(tmp_path, str(root), job_id)
    check_outputs(outputs, job_id, f"file://{root}")

    artifacts = root / job_id / "artifacts"
    assert (artifacts / "something_i_want_to_save.txt").read_text() == "Valuable information"
    output = json.loads((artifacts / "output.json").read_text())
    assert output["job"]["settings"] == {"my_custom_int_setting": 10}
    assert output["job"]["datasets"][0]["name"] == "vials"
    for folder, _, names in os.walk(root):
        for name in names:
            assert API_KEY not in Path(folder, name).read_text()


def test_seed_notebook_runs_on_an_s3_data_root(tmp_path, s3_bucket, s3_client, monkeypatch):
    monkeypatch.delenv("BREVETTI_HOST_NAME", raising=False)
    bucket = s3_bucket[len("s3://"):]
    s3_client.put_object(Bucket=bucket, Key="datasets/vials/good/0.bmp", Body=b"BM")
    job_id = create_job(s3_bucket, f"{s3_bucket}/datasets/vials")
    outputs = run_notebook(tmp_path, s3_bucket, job_id)
    check_outputs(outputs, job_id, s3_bucket)

    def read(key):
        return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()

    assert read(f"{job_id}/artifacts/something_i_want_to_save.txt") == "Valuable information"
    output = json.loads(read(f"{job_id}/artifacts/output.json"))
    assert output["job"]["settings"] == {"my_custom_int_setting": 10}
    assert output["job"]["datasets"][0]["bucket"] == f"{s3_bucket}/datasets/vials"
    for obj in s3_client.list_objects_v2(Bucket=bucket)["Contents"]:
        assert API_KEY not in read(obj["Key"]), obj["Key"]

