"""update_file, the id file's guarded read-modify-write: S3 conditional PUTs (moto server), local file locks."""
import logging

import filelock
import pytest

from brevetti_core.file_update import lock_path, update_file
from brevetti_core.io_tools import IoTools


def append(line: bytes):
    """A change adding `line` to the file (creating it)."""
    return lambda old: (old or b"") + line


def test_an_s3_update_that_lost_the_race_is_retried_on_the_new_content_and_logged(s3_bucket, s3_client, caplog):
    bucket, key = s3_bucket[len("s3://"):], "ids.csv"
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"first\n")
    calls = []

    def change(old):
        calls.append(old)
        if len(calls) == 1:  # another writer lands between this update's read and its write
            s3_client.put_object(Bucket=bucket, Key=key, Body=old + b"other\n")
        return old + b"mine\n"

    with caplog.at_level(logging.WARNING, logger="brevetti_core.file_update"):
        update_file(f"{s3_bucket}/{key}", change, IoTools())
    assert calls == [b"first\n", b"first\nother\n"]
    assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"first\nother\nmine\n"
    assert "changed while this process updated it (attempt 1 of 8); retrying on the new content" in caplog.text


def test_an_s3_update_of_a_new_file_loses_to_a_concurrent_creation_and_is_retried(s3_bucket, s3_client):
    bucket, key = s3_bucket[len("s3://"):], "new/ids.csv"

    def change(old):
        if old is None:
            s3_client.put_object(Bucket=bucket, Key=key, Body=b"theirs\n")
        return (old or b"") + b"mine\n"

    update_file(f"{s3_bucket}/{key}", change, IoTools())
    assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"theirs\nmine\n"


def test_an_s3_update_gives_up_after_its_attempts_naming_the_file(s3_bucket, s3_client):
    bucket, key = s3_bucket[len("s3://"):], "busy.csv"
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"0\n")

    def change(old):
        s3_client.put_object(Bucket=bucket, Key=key, Body=old + b"other\n")
        return old + b"mine\n"

    with pytest.raises(RuntimeError, match=rf"gave up updating {s3_bucket}/busy\.csv after 3 attempts"):
        update_file(f"{s3_bucket}/{key}", change, IoTools(), attempts=3)
    assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"0\n" + b"other\n" * 3


def test_an_unchanged_s3_file_is_not_written(s3_bucket, s3_client):
    bucket, key = s3_bucket[len("s3://"):], "same.csv"
    s3_client.put_object(Bucket=bucket, Key=key, Body=b"same\n")
    before = s3_client.head_object(Bucket=bucket, Key=key)["LastModified"]
    update_file(f"{s3_bucket}/{key}", lambda old: old, IoTools())
    assert s3_client.head_object(Bucket=bucket, Key=key)["LastModified"] == before


def test_a_local_update_waits_for_the_lock_and_its_timeout_names_the_lock_file(tmp_path):
    path = tmp_path / "ids.csv"
    with filelock.FileLock(lock_path(path)), \
            pytest.raises(TimeoutError, match=rf"could not lock {path} within 0\.2 s: another process holds "
                                              rf"{tmp_path}/\.ids\.csv\.lock"):
        update_file(path, append(b"mine\n"), timeout=0.2)
    assert not path.exists()


def test_a_local_update_creates_the_file_and_its_folder(tmp_path):
    update_file(tmp_path / "artifacts" / "ids.csv", append(b"mine\n"))
    assert (tmp_path / "artifacts" / "ids.csv").read_bytes() == b"mine\n"


def test_a_memory_update_applies_the_change():
    io = IoTools()
    update_file("memory://split-file-update/ids.csv", append(b"one\n"), io)
    update_file("memory://split-file-update/ids.csv", append(b"two\n"), io)
    assert io.read_file("memory://split-file-update/ids.csv") == b"one\ntwo\n"
