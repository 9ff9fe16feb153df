"""Conformance: brevettiai's documented ModelArchive behaviours (its tests/test_model_archive.py, inventory §1.14).

Each test states one behaviour of the reference in its docstring, on archives written to disk.
"""
import hashlib
import json
import re
import tarfile

import pytest

from brevetti_core import ModelArchive

METADATA = {"id": "job-1", "name": "test"}


def written(path, assets: dict[str, bytes]) -> ModelArchive:
    archive = ModelArchive(str(path), metadata=METADATA)
    with archive.open_write() as writer:
        for name, data in assets.items():
            writer.add_asset(name, f"assets/{name}.bin", data)
    return archive


def test_open_read_before_writing_is_file_not_found(tmp_path):
    """Reference test_model_archive: open_read() of an archive never written raises FileNotFoundError."""
    with pytest.raises(FileNotFoundError):
        ModelArchive(str(tmp_path / "test.tar.gz"), metadata=METADATA).open_read()


def test_reading_while_writing_is_an_io_error(tmp_path):
    """Reference test_model_archive: open_read() while open for writing raises IOError."""
    archive = ModelArchive(str(tmp_path / "test.tar.gz"), metadata=METADATA)
    with archive.open_write(), pytest.raises(IOError):
        archive.open_read()


def test_writing_while_reading_is_an_io_error(tmp_path):
    """Reference test_model_archive: open_write() while open for reading raises IOError."""
    archive = written(tmp_path / "test.tar.gz", {"model": b"weights"})
    with archive.open_read(), pytest.raises(IOError):
        archive.open_write()


def test_assets_round_trip(tmp_path):
    """Reference test_model_archive: an asset's bytes come back as written, from a new archive object."""
    written(tmp_path / "test.tar.gz", {"model": b"weights", "config": b"{}"})
    with ModelArchive(str(tmp_path / "test.tar.gz")).open_read() as reader:
        assert reader.get_asset("model").read() == b"weights" and reader.get_asset("config").read() == b"{}"


def test_an_unknown_asset_is_a_key_error(tmp_path):
    """Reference §1.14 get_asset: an unknown name raises KeyError."""
    archive = written(tmp_path / "test.tar.gz", {"model": b"weights"})
    with archive.open_read(), pytest.raises(KeyError):
        archive.get_asset("optimizer")


def test_versioned_name_is_name_dot_md5_version_dot_tar_gz(tmp_path):
    """Reference test_model_archive: versioned_name matches test\\.[0-9]+\\.tar\\.gz, the version being the first
    four bytes (little endian) of the archive's MD5."""
    archive = written(tmp_path / "test.tar.gz", {"model": b"weights"})
    digest = hashlib.md5((tmp_path / "test.tar.gz").read_bytes()).digest()
    assert re.fullmatch(r"test\.[0-9]+\.tar\.gz", archive.versioned_name)
    assert archive.versioned_name == f"test.{int.from_bytes(digest[:4], 'little')}.tar.gz"


def test_metadata_json_lists_each_asset_with_its_sha256(tmp_path):
    """Reference §1.14: closing a written archive appends metadata.json with type ModelArchiveMetadata, the given
    metadata and assets {name: {file, hash: sha256:<hex>}}."""
    written(tmp_path / "test.tar.gz", {"model": b"weights"})
    with tarfile.open(tmp_path / "test.tar.gz") as tar:
        metadata = json.load(tar.extractfile("metadata.json"))
    assert metadata["type"] == "ModelArchiveMetadata" and metadata["name"] == "test"
    assert metadata["assets"] == {"model": {"file": "assets/model.bin",
                                            "hash": "sha256:" + hashlib.sha256(b"weights").hexdigest()}}


def test_open_write_starts_without_the_previous_assets(tmp_path):
    """Reference §1.14 open_write: the assets are cleared; the previous contents are not carried over."""
    archive = written(tmp_path / "test.tar.gz", {"model": b"weights"})
    with archive.open_write() as writer:
        writer.add_asset("config", "assets/config.bin", b"{}")
    with ModelArchive(str(tmp_path / "test.tar.gz")).open_read() as reader:
        assert set(reader.assets) == {"config"}


def test_an_archive_without_metadata_must_exist(tmp_path):
    """Reference §1.14: without metadata the archive's own is read; when there is no archive the reference raises
    TypeError, brevetti a FileNotFoundError naming the path (the missing file is the cause)."""
    with pytest.raises(FileNotFoundError, match="no model archive at .*test.tar.gz"):
        ModelArchive(str(tmp_path / "test.tar.gz"))
