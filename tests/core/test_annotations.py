"""Platform annotation files merged into the sample table as annotation_path / annotation_etag."""
import hashlib
import json

import pytest
from test_samples import write_image
from test_samples_s3 import upload_tree

from brevetti_core.annotations import list_annotations
from brevetti_core.dataset import Dataset, get_image_samples
from brevetti_core.io_tools import IoTools

ANNOTATION = {"annotations": [{"label": "cap", "type": "polygon", "color": "#ff0000",
                               "points": [{"x": 1, "y": 1}, {"x": 5, "y": 1}, {"x": 5, "y": 4}]}],
              "image": {"height": 6, "width": 8}}


def annotate(root, image_relpath, name, document=ANNOTATION):
    path = root / ".annotations" / image_relpath / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def annotated(tmp_path):
    """good/1.bmp annotated, good/2.bmp not, bad/3.bmp annotated twice."""
    root = tmp_path / "ds"
    write_image(root / "good" / "1.bmp", (1, 1, 1))
    write_image(root / "good" / "2.bmp", (2, 2, 2))
    write_image(root / "bad" / "3.bmp", (3, 3, 3))
    annotate(root, "good/1.bmp", "1651574629796.json")
    annotate(root, "bad/3.bmp", "1651574629796.json", {**ANNOTATION, "annotations": []})
    annotate(root, "bad/3.bmp", "1651574639999.json")
    return root


def by_name(samples):
    return samples.assign(name=samples["path"].str.rsplit("/", n=1).str[1]).set_index("name")


def test_annotations_are_merged_and_unannotated_images_are_kept(annotated):
    samples = by_name(Dataset(bucket=annotated).get_image_samples(annotations=True))
    assert list(samples.index) == ["3.bmp", "1.bmp", "2.bmp"]
    assert samples.loc["1.bmp", "annotation_path"] == str(annotated / ".annotations/good/1.bmp/1651574629796.json")
    assert samples.loc["2.bmp", ["annotation_path", "annotation_etag"]].tolist() == ["", ""]


def test_annotation_columns_follow_the_sample_columns(annotated):
    samples = Dataset(bucket=annotated).get_image_samples(annotations=True)
    assert list(samples.columns)[-2:] == ["annotation_path", "annotation_etag"]


def test_annotation_etag_is_the_md5_of_the_annotation_file(annotated):
    samples = by_name(Dataset(bucket=annotated).get_image_samples(annotations=True))
    path = annotated / ".annotations/good/1.bmp/1651574629796.json"
    assert samples.loc["1.bmp", "annotation_etag"] == hashlib.md5(path.read_bytes()).hexdigest()


def test_the_last_annotation_file_of_an_image_wins_by_default(annotated):
    samples = by_name(Dataset(bucket=annotated).get_image_samples(annotations=True))
    assert samples.loc["3.bmp", "annotation_path"].endswith("bad/3.bmp/1651574639999.json")


def test_all_annotation_files_give_one_row_each(annotated):
    samples = Dataset(bucket=annotated).get_image_samples(annotations={"duplicates": "all"})
    assert [p[-18:] for p in samples["annotation_path"]] == [
        "1651574629796.json", "1651574639999.json", "1651574629796.json", ""]


def test_inner_merge_drops_unannotated_images(annotated):
    samples = by_name(Dataset(bucket=annotated).get_image_samples(annotations={"how": "inner"}))
    assert list(samples.index) == ["3.bmp", "1.bmp"]


def test_unknown_merge_option_is_an_error(annotated):
    with pytest.raises(ValueError, match="'how' must be one of"):
        Dataset(bucket=annotated).get_image_samples(annotations={"how": "outer"})


def test_annotation_files_are_not_samples(annotated):
    samples = Dataset(bucket=annotated).get_image_samples(annotations=True)
    assert not samples["path"].str.contains(".annotations", regex=False).any()


def test_annotations_merge_across_several_datasets(annotated, tmp_path):
    write_image(tmp_path / "other" / "x.bmp")
    samples = get_image_samples([Dataset(bucket=annotated), Dataset(bucket=tmp_path / "other")], annotations=True)
    assert samples["annotation_path"].ne("").tolist() == [True, True, False, False]


def test_list_annotations_names_the_image_of_each_file(annotated):
    table = list_annotations(annotated)
    assert table["image_relpath"].tolist() == ["bad/3.bmp", "bad/3.bmp", "good/1.bmp"]


def test_annotations_on_s3_match_the_local_merge(annotated, s3_bucket, s3_client):
    upload_tree(s3_client, annotated, s3_bucket)
    remote = Dataset(bucket=s3_bucket).get_image_samples(annotations=True, io=IoTools())
    local = Dataset(bucket=annotated).get_image_samples(annotations=True)
    assert remote["annotation_path"].tolist() == [
        p.replace(str(annotated), s3_bucket) if p else "" for p in local["annotation_path"]]
    assert remote["annotation_etag"].tolist() == local["annotation_etag"].tolist()
