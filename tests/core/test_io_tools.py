"""IoTools: local, memory and S3 round trips, atomic writes, the ETag-checked read cache."""
import os
import pickle

import pytest

from brevetti_core.io_tools import IoTools


def test_write_then_read_local_creates_parent_folders(tmp_path):
    io = IoTools()
    target = tmp_path / "a" / "b" / "note.txt"
    io.write_file(target, "Valuable information")
    assert io.read_file(target) == b"Valuable information"
    assert io.exists(target) and io.isfile(target)


def test_failed_local_write_keeps_previous_file(tmp_path, monkeypatch):
    io = IoTools()
    target = tmp_path / "output.json"
    io.write_file(target, b"old")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        io.write_file(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["output.json"]


def test_memory_filesystem_round_trip():
    io = IoTools()
    io.write_file("memory://bucket/x/y.bin", b"\x00\x01")
    assert io.read_file("memory://bucket/x/y.bin") == b"\x00\x01"
    assert io.find("memory://bucket/x") == ["memory://bucket/x/y.bin"]


def test_missing_file_error_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        IoTools().read_file(tmp_path / "nope.txt")


def test_http_urls_are_read_only():
    with pytest.raises(PermissionError, match="read-only"):
        IoTools().write_file("https://example.invalid/x.txt", "no")


def test_s3_round_trip_is_visible_to_a_second_client(s3_bucket, s3_client):
    io = IoTools()
    io.write_file(f"{s3_bucket}/dir/file.txt", "hello")
    body = s3_client.get_object(Bucket=s3_bucket[5:], Key="dir/file.txt")["Body"].read()
    assert body == b"hello"
    assert io.find(s3_bucket) == [f"{s3_bucket}/dir/file.txt"]
    io.copy(f"{s3_bucket}/dir", f"{s3_bucket}/copy")
    assert io.read_file(f"{s3_bucket}/copy/file.txt") == b"hello"


def test_cache_hit_then_invalidation_when_etag_changes(s3_bucket, s3_client, tmp_path):
    bucket = s3_bucket[5:]
    s3_client.put_object(Bucket=bucket, Key="img.bmp", Body=b"version-1")
    io = IoTools(cache_root=tmp_path / "cache")
    assert io.read_file(f"{s3_bucket}/img.bmp") == b"version-1"  # miss: downloaded
    cached = [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.read_bytes() == b"version-1"]
    assert len(cached) == 1

    # A hit is served from disk: prove it by tampering with the cached copy.
    cached[0].write_bytes(b"from-cache")
    assert io.read_file(f"{s3_bucket}/img.bmp") == b"from-cache"

    # The object changes remotely: new ETag, so the cache revalidates and downloads again.
    s3_client.put_object(Bucket=bucket, Key="img.bmp", Body=b"version-2")
    assert io.read_file(f"{s3_bucket}/img.bmp") == b"version-2"
    assert io.read_file(f"{s3_bucket}/img.bmp", cache=False) == b"version-2"


def test_a_pickled_copy_keeps_the_cache_root_and_reads_the_same_files(tmp_path):
    io = IoTools(cache_root=tmp_path / "cache")
    io.write_file(tmp_path / "note.txt", "kept")
    copy = pickle.loads(pickle.dumps(io))
    assert copy.cache_root == io.cache_root and copy.read_file(tmp_path / "note.txt") == b"kept"
