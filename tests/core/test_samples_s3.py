"""Sample tables from a real S3 endpoint (moto server): same table as on disk, listing ETags, errors."""
import hashlib
import os

import pytest
from test_samples import write_image

from brevetti_core.dataset import Dataset
from brevetti_core.io_tools import IoTools
from brevetti_core.storage_errors import StorageError


def upload_tree(s3_client, local_root, bucket_uri, prefix=""):
    bucket = bucket_uri[len("s3://"):]
    for folder, _, files in os.walk(local_root):
        for name in files:
            path = os.path.join(folder, name)
            key = prefix + os.path.relpath(path, local_root).replace(os.sep, "/")
            s3_client.upload_file(path, bucket, key)


@pytest.fixture
def local_tree(tmp_path):
    root = tmp_path / "ds"
    write_image(root / "good" / "1_100.bmp", (1, 1, 1))
    write_image(root / "good" / "2_200.bmp", (2, 2, 2))
    write_image(root / "defects" / "scratch" / "3_300.png", (3, 3, 3))
    write_image(root / "root.jpg", (5, 5, 5))
    (root / "good" / "2_copy.bmp").write_bytes((root / "good" / "2_200.bmp").read_bytes())
    (root / "notes.txt").write_text("not an image")
    write_image(root / ".annotations" / "x.bmp")
    return root


def test_s3_table_equals_the_local_table_of_the_same_files(local_tree, s3_bucket, s3_client):
    upload_tree(s3_client, local_tree, s3_bucket)
    io = IoTools()
    local = Dataset(bucket=local_tree).get_image_samples(class_mapping={"defects": "defect|scratch"}, io=io)
    remote = Dataset(bucket=s3_bucket).get_image_samples(class_mapping={"defects": "defect|scratch"}, io=io)
    relative = [p[len(s3_bucket) + 1:] for p in remote["path"]]
    assert relative == [p[len(str(local_tree)) + 1:] for p in local["path"]]
    assert remote["category"].tolist() == local["category"].tolist()
    assert remote["folder"].tolist() == local["folder"].tolist()
    assert remote["etag"].tolist() == local["etag"].tolist()
    assert set(remote["bucket"]) == {s3_bucket}


def test_s3_etags_are_content_md5_so_duplicates_share_them(local_tree, s3_bucket, s3_client):
    upload_tree(s3_client, local_tree, s3_bucket)
    samples = Dataset(bucket=s3_bucket).get_image_samples(io=IoTools()).set_index("path")
    expected = hashlib.md5((local_tree / "good" / "2_200.bmp").read_bytes()).hexdigest()
    assert samples.loc[f"{s3_bucket}/good/2_200.bmp", "etag"] == expected
    assert samples.loc[f"{s3_bucket}/good/2_copy.bmp", "etag"] == expected


def test_multipart_upload_etag_is_replaced_by_the_content_md5(s3_bucket, s3_client):
    bucket = s3_bucket[len("s3://"):]
    parts = [os.urandom(5 * 1024 * 1024), b"tail"]
    upload = s3_client.create_multipart_upload(Bucket=bucket, Key="big/huge.bmp")
    etags = [s3_client.upload_part(Bucket=bucket, Key="big/huge.bmp", PartNumber=i + 1, UploadId=upload["UploadId"],
                                   Body=part)["ETag"] for i, part in enumerate(parts)]
    s3_client.complete_multipart_upload(Bucket=bucket, Key="big/huge.bmp", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": i + 1}
                                                                   for i, e in enumerate(etags)]})
    assert "-" in s3_client.head_object(Bucket=bucket, Key="big/huge.bmp")["ETag"]
    samples = Dataset(bucket=s3_bucket).get_image_samples(io=IoTools())
    assert samples["etag"].tolist() == [hashlib.md5(b"".join(parts)).hexdigest()]


def test_s3_prefix_is_a_dataset_of_its_own(local_tree, s3_bucket, s3_client):
    upload_tree(s3_client, local_tree, s3_bucket, prefix="datasets/parts/")
    samples = Dataset(bucket=f"{s3_bucket}/datasets/parts/").get_image_samples(io=IoTools())
    assert samples["category"].tolist() == [("scratch",), ("good",), ("good",), ("good",), ("__root__",)]
    assert set(samples["bucket"]) == {f"{s3_bucket}/datasets/parts"}


def test_s3_urls_point_at_the_configured_endpoint(local_tree, s3_bucket, s3_client, s3_env):
    upload_tree(s3_client, local_tree, s3_bucket)
    samples = Dataset(bucket=s3_bucket).get_image_samples(io=IoTools())
    assert samples["url"].iloc[0] == f"{s3_env}/{s3_bucket[5:]}/defects/scratch/3_300.png"


def test_missing_bucket_is_an_error_naming_it(s3_env):
    with pytest.raises(StorageError, match="no-such-bucket-here"):
        Dataset(bucket="s3://no-such-bucket-here").get_image_samples(io=IoTools())


def test_missing_prefix_is_an_error_naming_it(s3_bucket):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        Dataset(bucket=f"{s3_bucket}/nothing-here").get_image_samples(io=IoTools())
