"""SampleSplit.update_unassigned from several processes at once on one id file, local and on S3 (moto server)."""
import multiprocessing

import pandas as pd
import pytest
from test_split import table

from brevetti_core.io_tools import IoTools
from brevetti_core.split import SampleSplit

PROCESSES = 3
ROUNDS = 6


def _split_rounds(id_path: str, samples: pd.DataFrame, seed: int, barrier, result_path: str) -> None:
    """Run in a child process: update the id file ROUNDS times with a growing part of `samples`, save every answer."""
    io = IoTools()
    barrier.wait()
    answers = []
    for step in range(1, ROUNDS + 1):
        part = samples.iloc[:len(samples) * step // ROUNDS]
        answers.append(SampleSplit(seed=seed).update_unassigned(part, id_path=id_path, io=io)[["etag", "purpose"]])
    pd.concat(answers).to_csv(result_path, index=False)


def _samples_per_process() -> list[pd.DataFrame]:
    """300 samples every process has, plus 900 of its own each, in a different order per process."""
    rows = table(300 + 900 * PROCESSES)
    shared = rows.iloc[:300]
    return [pd.concat([shared, rows.iloc[300 + 900 * p:300 + 900 * (p + 1)]]).sample(frac=1.0, random_state=p)
            for p in range(PROCESSES)]


def _run_concurrently(id_path: str, tmp_path) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Each process's samples and every (etag, purpose) it was given, after all processes ran at once."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    samples = _samples_per_process()
    results = [str(tmp_path / f"answers-{p}.csv") for p in range(PROCESSES)]
    processes = [context.Process(target=_split_rounds, args=(id_path, samples[p], p + 1, barrier, results[p]))
                 for p in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [process.exitcode for process in processes] == [0] * PROCESSES
    return samples, [pd.read_csv(path, dtype=str) for path in results]


def _assert_union_and_one_purpose_per_id(id_file: pd.DataFrame, samples, answers) -> None:
    every_etag = set(pd.concat(samples)["etag"])
    assert len(id_file) == len(every_etag) and set(id_file["etag"]) == every_etag
    given = pd.concat(answers).drop_duplicates()
    assert given.groupby("etag")["purpose"].nunique().max() == 1
    stored = id_file.set_index("etag")["purpose"]
    assert (given.set_index("etag")["purpose"] == stored.loc[given["etag"]].to_numpy()).all()


def test_processes_updating_one_local_id_file_at_once_lose_no_id_and_agree_on_every_purpose(tmp_path):
    id_path = tmp_path / "artifacts" / "ids.csv"
    samples, answers = _run_concurrently(str(id_path), tmp_path)
    _assert_union_and_one_purpose_per_id(pd.read_csv(id_path, dtype=str), samples, answers)


@pytest.mark.usefixtures("s3_env")
def test_processes_updating_one_s3_id_file_at_once_lose_no_id_and_agree_on_every_purpose(s3_bucket, s3_client,
                                                                                         tmp_path):
    samples, answers = _run_concurrently(f"{s3_bucket}/job/artifacts/ids.csv", tmp_path)
    body = s3_client.get_object(Bucket=s3_bucket[len("s3://"):], Key="job/artifacts/ids.csv")["Body"]
    _assert_union_and_one_purpose_per_id(pd.read_csv(body, dtype=str), samples, answers)
