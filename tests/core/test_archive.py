"""ModelArchive: tar.gz of assets plus metadata.json with sha256 hashes, modes, versioned names, damaged archives."""
import gzip
import hashlib
import io
import json
import os
import re
import tarfile

import pytest

from brevetti_core.archive import ModelArchive, ModelArchiveError


@pytest.fixture
def weights(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(os.urandom(200_000))
    return path


def write_archive(path, weights, metadata=None) -> ModelArchive:
    archive = ModelArchive(path, metadata or {"name": "vials", "producer": "test"})
    with archive.open_write() as writer:
        writer.add_asset("weights", "model/weights.bin", weights)
        writer.add_asset("classes", "classes.json", b'["good", "bad"]')
    return archive


def test_assets_round_trip_with_their_metadata(tmp_path, weights):
    write_archive(tmp_path / "model.tar.gz", weights)
    archive = ModelArchive(tmp_path / "model.tar.gz")
    assert archive.metadata["name"] == "vials" and archive.metadata["producer"] == "test"
    with archive.open_read() as reader:
        assert reader.get_asset("weights").read() == weights.read_bytes()
        assert reader.get_asset("classes").read() == b'["good", "bad"]'


def test_metadata_json_records_sha256_of_each_asset_in_a_plain_tar_gz(tmp_path, weights):
    write_archive(tmp_path / "model.tar.gz", weights)
    with tarfile.open(tmp_path / "model.tar.gz", "r:gz") as tar:
        assert tar.getnames() == ["model/weights.bin", "classes.json", "metadata.json"]
        metadata = json.load(tar.extractfile("metadata.json"))
    assert metadata["type"] == "ModelArchiveMetadata" and "numpy" in metadata["environment"]
    assert metadata["assets"] == {
        "weights": {"file": "model/weights.bin", "hash": "sha256:" + hashlib.sha256(weights.read_bytes()).hexdigest()},
        "classes": {"file": "classes.json", "hash": "sha256:" + hashlib.sha256(b'["good", "bad"]').hexdigest()},
    }


def test_opening_for_reading_before_writing_is_a_missing_file(tmp_path):
    archive = ModelArchive(tmp_path / "model.tar.gz", {"name": "vials"})
    with pytest.raises(FileNotFoundError, match="no model archive at .*model.tar.gz"):
        archive.open_read()


def test_without_metadata_the_archive_must_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="pass metadata=... to create one"):
        ModelArchive(tmp_path / "model.tar.gz")


def test_reading_while_writing_and_writing_while_reading_are_errors(tmp_path, weights):
    archive = ModelArchive(tmp_path / "model.tar.gz", {"name": "vials"})
    with archive.open_write(), pytest.raises(OSError, match="open for writing; close it before opening it for reading"):
        archive.open_read()
    with archive.open_read(), pytest.raises(OSError, match="open for reading; close it before opening it for writing"):
        archive.open_write()


def test_assets_are_added_only_in_write_mode_and_read_only_in_read_mode(tmp_path, weights):
    archive = write_archive(tmp_path / "model.tar.gz", weights)
    with pytest.raises(OSError, match="not open for writing"):
        archive.add_asset("more", "more.bin", b"1")
    with pytest.raises(OSError, match="not open for reading"):
        archive.get_asset("weights")


def test_writing_starts_a_new_archive_without_the_previous_assets(tmp_path, weights):
    archive = write_archive(tmp_path / "model.tar.gz", weights)
    with archive.open_write() as writer:
        writer.add_asset("only", "only.txt", b"x")
    assert set(ModelArchive(tmp_path / "model.tar.gz").assets) == {"only"}


def failed_export(archive: ModelArchive) -> None:
    """An export that adds one asset, then fails."""
    with archive.open_write() as writer:
        writer.add_asset("partial", "partial.bin", b"123")
        raise RuntimeError("export failed")


def test_a_failed_export_leaves_the_previous_archive_untouched(tmp_path, weights):
    write_archive(tmp_path / "model.tar.gz", weights)
    before = (tmp_path / "model.tar.gz").read_bytes()
    archive = ModelArchive(tmp_path / "model.tar.gz", {"name": "vials"})
    with pytest.raises(RuntimeError, match="export failed"):
        failed_export(archive)
    assert (tmp_path / "model.tar.gz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tar.gz", "weights.bin"]


def test_versioned_name_is_the_md5_version_of_the_archive(tmp_path, weights):
    archive = write_archive(tmp_path / "test.tar.gz", weights)
    digest = hashlib.md5((tmp_path / "test.tar.gz").read_bytes()).digest()
    assert re.fullmatch(r"test\.[0-9]+\.tar\.gz", archive.versioned_name)
    assert archive.versioned_name == f"test.{int.from_bytes(digest[:4], 'little')}.tar.gz"


def test_the_same_assets_and_metadata_give_the_same_bytes(tmp_path, weights):
    first = write_archive(tmp_path / "a" / "test.tar.gz", weights)
    os.utime(weights, (1_000_000, 1_000_000))
    second = write_archive(tmp_path / "b" / "test.tar.gz", weights)
    assert first.versioned_name == second.versioned_name


def test_versioned_name_needs_a_written_closed_archive(tmp_path, weights):
    archive = ModelArchive(tmp_path / "test.tar.gz", {"name": "vials"})
    with pytest.raises(FileNotFoundError, match="write it before asking"):
        _ = archive.versioned_name
    with archive.open_write(), pytest.raises(OSError, match="close it before asking"):
        _ = archive.versioned_name


def test_unknown_asset_names_the_assets_there_are(tmp_path, weights):
    archive = write_archive(tmp_path / "model.tar.gz", weights)
    with archive.open_read(), pytest.raises(KeyError, match=r"no asset 'model'; assets: \['classes', 'weights'\]"):
        archive.get_asset("model")


@pytest.mark.parametrize("arcname", ["../escape.bin", "/etc/passwd", "", "metadata.json", "model/weights.bin"])
def test_bad_or_taken_arcnames_are_refused(tmp_path, weights, arcname):
    archive = ModelArchive(tmp_path / "model.tar.gz", {"name": "vials"})
    with archive.open_write() as writer:
        writer.add_asset("weights", "model/weights.bin", weights)
        with pytest.raises(ValueError, match="arcname|already taken"):
            writer.add_asset("other", arcname, b"1")


def test_an_asset_name_is_used_once(tmp_path, weights):
    with ModelArchive(tmp_path / "model.tar.gz", {"name": "vials"}).open_write() as writer:
        writer.add_asset("weights", "a.bin", b"1")
        with pytest.raises(ValueError, match="already has an asset named 'weights'"):
            writer.add_asset("weights", "b.bin", b"2")


def test_a_missing_asset_file_names_the_asset(tmp_path):
    archive = ModelArchive(tmp_path / "model.tar.gz", {"name": "vials"})
    missing = "asset 'weights': no such file .*nope.bin"
    with archive.open_write() as writer, pytest.raises(FileNotFoundError, match=missing):
        writer.add_asset("weights", "weights.bin", tmp_path / "nope.bin")


def forged_archive(path, members: dict[str, bytes], assets: dict) -> None:
    """A tar.gz with the given members and a metadata.json claiming `assets`."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {**members, "metadata.json": json.dumps({"assets": assets}).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_wrong_asset_hash_is_an_error_naming_the_asset(tmp_path):
    forged_archive(tmp_path / "model.tar.gz", {"weights.bin": b"tampered"},
                   {"weights": {"file": "weights.bin", "hash": "sha256:" + hashlib.sha256(b"original").hexdigest()}})
    with pytest.raises(ModelArchiveError, match=r"asset 'weights' \(weights.bin\) in model archive .* is corrupted"):
        ModelArchive(tmp_path / "model.tar.gz")


def test_an_asset_missing_from_the_archive_is_an_error_naming_it(tmp_path):
    forged_archive(tmp_path / "model.tar.gz", {}, {"weights": {"file": "weights.bin", "hash": "sha256:00"}})
    with pytest.raises(ModelArchiveError,
                       match=r"asset 'weights' \(weights.bin\) is listed in metadata.json but missing"):
        ModelArchive(tmp_path / "model.tar.gz")


def test_a_flipped_byte_in_an_asset_is_an_error_naming_the_asset(tmp_path, weights):
    write_archive(tmp_path / "model.tar.gz", weights)
    data = bytearray((tmp_path / "model.tar.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the (incompressible) weights
    (tmp_path / "bad.tar.gz").write_bytes(bytes(data))
    with pytest.raises(ModelArchiveError, match="weights"):
        ModelArchive(tmp_path / "bad.tar.gz")


def test_a_flipped_byte_in_a_compressed_asset_is_an_error_naming_the_asset(tmp_path):
    (tmp_path / "labels.txt").write_text("good vial\n" * 50_000)
    archive = ModelArchive(tmp_path / "model.tar.gz", {"name": "vials"})
    with archive.open_write() as writer:
        writer.add_asset("labels", "labels.txt", tmp_path / "labels.txt")
    data = bytearray((tmp_path / "model.tar.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "bad.tar.gz").write_bytes(bytes(data))
    with pytest.raises(ModelArchiveError, match=r"bad.tar.gz is corrupted in (or after )?member 'labels.txt'"):
        ModelArchive(tmp_path / "bad.tar.gz")


def test_a_truncated_archive_is_an_error_naming_the_member_it_breaks_in(tmp_path, weights):
    write_archive(tmp_path / "model.tar.gz", weights)
    data = (tmp_path / "model.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(ModelArchiveError, match=r"cut.tar.gz is corrupted in member 'model/weights.bin'"):
        ModelArchive(tmp_path / "cut.tar.gz")


def test_a_file_that_is_not_an_archive_is_an_error_naming_it(tmp_path):
    (tmp_path / "model.tar.gz").write_bytes(b"definitely not gzip")
    with pytest.raises(ModelArchiveError, match="model.tar.gz is not a readable tar.gz model archive"):
        ModelArchive(tmp_path / "model.tar.gz")


def test_an_archive_without_metadata_is_an_error(tmp_path):
    with gzip.open(tmp_path / "model.tar.gz", "wb") as f, tarfile.open(fileobj=f, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("empty.txt"), io.BytesIO(b""))
    with pytest.raises(ModelArchiveError, match=r"has no metadata.json; members: \['empty.txt'\]"):
        ModelArchive(tmp_path / "model.tar.gz")


def test_archive_on_s3_round_trips(s3_bucket, weights):
    uri = f"{s3_bucket}/job/artifacts/model.tar.gz"
    write_archive(uri, weights)
    archive = ModelArchive(uri)
    with archive.open_read():
        assert archive.get_asset("weights").read() == weights.read_bytes()
    assert re.fullmatch(r"model\.[0-9]+\.tar\.gz", archive.versioned_name)
