"""SampleSplit.update_unassigned: the id file that keeps a split stable across runs."""
import logging

import numpy as np
import pandas as pd
import pytest
from test_split import table

from brevetti_core.io_tools import IoTools
from brevetti_core.split import SampleSplit
from brevetti_core.split_ids import read_id_file


def test_first_run_writes_one_row_per_etag_with_its_purpose(tmp_path):
    samples = table(1000)
    samples.loc[1, "etag"] = samples.loc[0, "etag"]
    assigned = SampleSplit(seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv")
    written = pd.read_csv(tmp_path / "ids.csv", dtype=str)
    assert list(written.columns) == ["etag", "purpose"]
    assert len(written) == 999 and written["etag"].is_unique
    expected = assigned.drop_duplicates("etag").set_index("etag")["purpose"].sort_index()
    pd.testing.assert_series_equal(written.set_index("etag")["purpose"], expected, check_dtype=False)
    assert set(assigned["purpose"]) == {"train", "devel"}


def test_second_run_reuses_the_split_and_logs_it(tmp_path, caplog):
    samples = table(1000)
    first = SampleSplit(seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv")
    with caplog.at_level(logging.INFO, logger="brevetti_core.split"):
        second = SampleSplit(seed=2).update_unassigned(samples, id_path=tmp_path / "ids.csv")
    assert "Looking for previous train / development split" in caplog.text
    assert "Using train / development split from run cached in artifacts" in caplog.text
    pd.testing.assert_series_equal(first["purpose"], second["purpose"])


def test_new_items_are_assigned_and_known_items_keep_their_purpose(tmp_path):
    grown = table(1200)
    first = SampleSplit(seed=1).update_unassigned(grown.iloc[:1000], id_path=tmp_path / "ids.csv")
    second = SampleSplit(seed=1).update_unassigned(grown, id_path=tmp_path / "ids.csv")
    pd.testing.assert_series_equal(second["purpose"].iloc[:1000], first["purpose"])
    assert second["purpose"].notna().all()
    assert abs((second["purpose"] == "train").mean() - 0.8) <= 0.01


def test_ids_no_longer_present_stay_in_the_file(tmp_path):
    samples = table(1000)
    SampleSplit(seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv")
    SampleSplit(seed=1).update_unassigned(samples.iloc[500:], id_path=tmp_path / "ids.csv")
    written = pd.read_csv(tmp_path / "ids.csv", dtype=str)
    assert set(written["etag"]) == set(samples["etag"])


def test_a_test_purpose_from_the_file_survives(tmp_path):
    samples = table(100)
    (tmp_path / "ids.csv").write_text("etag,purpose\n" + "".join(f"{e},test\n" for e in samples["etag"][:10]))
    assigned = SampleSplit(seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv")
    assert (assigned["purpose"].iloc[:10] == "test").all()
    assert set(assigned["purpose"].iloc[10:]) == {"train", "devel"}
    assert (pd.read_csv(tmp_path / "ids.csv", dtype=str).set_index("etag").loc[samples["etag"][:10], "purpose"]
            == "test").all()


def test_empty_purposes_in_the_file_leave_samples_unassigned_before_the_split(tmp_path):
    samples = table(100)
    (tmp_path / "ids.csv").write_text(f"etag,purpose\n{samples['etag'][0]},\n{samples['etag'][1]},devel\n")
    assigned = SampleSplit(split=0.0, seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv",
                                                               remainder=None)
    assert pd.isna(assigned["purpose"].iloc[0])
    assert assigned["purpose"].iloc[1] == "devel"


def test_purposes_already_in_the_table_win_over_the_file(tmp_path):
    samples = table(100)
    (tmp_path / "ids.csv").write_text(f"etag,purpose\n{samples['etag'][0]},train\n")
    samples = samples.assign(purpose=pd.Series(np.nan, index=samples.index, dtype="str"))
    samples.loc[0, "purpose"] = "test"
    assigned = SampleSplit(seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv")
    assert assigned["purpose"].iloc[0] == "test"


def test_regex_uniqueness_stores_the_captured_item_as_unique_id(tmp_path):
    samples = table(1000)
    assigned = SampleSplit(uniqueness=r"/(\d+)_\d+\.bmp$", seed=1).update_unassigned(samples, tmp_path / "ids.csv")
    written = pd.read_csv(tmp_path / "ids.csv", dtype=str)
    assert list(written.columns) == ["unique_id", "purpose"]
    items = samples["path"].str.extract(r"/(\d+)_\d+\.bmp$", expand=False)
    assert set(written["unique_id"]) == set(items)
    assert assigned.groupby(items)["purpose"].nunique().max() == 1


DAMAGED_LINES = {
    "cut in its purpose": ("{e1},tr", r"line 3: unknown purpose 'tr' \(the last line has no line end: was the file "
                                      r"cut short\?\)"),
    "cut before its purpose": ("{e1}", r"line 3: 1 field \(cut short\?\) where the header \['etag', 'purpose'\] "
                                       "has 2"),
    "mistyped purpose": ("{e1},trian\n", r"line 3: unknown purpose 'trian'; known purposes are \['devel', "
                                          r"'development', 'test', 'train'\]; did you mean 'train'\?"),
    "extra field": ("{e1},devel,extra\n", r"line 3: 3 fields where the header \['etag', 'purpose'\] has 2"),
    "empty key": (",devel\n", r"line 3: empty key \['etag'\]"),
}


@pytest.mark.parametrize("line, message", DAMAGED_LINES.values(), ids=DAMAGED_LINES.keys())
def test_a_damaged_line_is_an_error_naming_file_and_line_and_the_file_is_left_untouched(tmp_path, line, message):
    samples = table(10)
    content = f"etag,purpose\n{samples['etag'][0]},train\n" + line.format(e1=samples["etag"][1])
    (tmp_path / "ids.csv").write_text(content)
    with pytest.raises(ValueError, match=rf"split id file .*ids\.csv, {message}"):
        SampleSplit(seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv")
    assert (tmp_path / "ids.csv").read_text() == content


def test_blank_lines_are_skipped_and_errors_count_them(tmp_path):
    (tmp_path / "ids.csv").write_text("etag,purpose\n\nabc,train\n\nxyz,trian\n")
    with pytest.raises(ValueError, match=r"ids\.csv, line 5: unknown purpose 'trian'"):
        read_id_file(tmp_path / "ids.csv", ["etag"])


def test_purposes_the_caller_assigns_are_known(tmp_path):
    samples = table(100)
    (tmp_path / "ids.csv").write_text(f"etag,purpose\n{samples['etag'][0]},holdout\n")
    assigned = SampleSplit(seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv", remainder="holdout")
    assert assigned["purpose"].iloc[0] == "holdout"
    assert set(assigned["purpose"]) == {"train", "holdout"}


def test_extra_columns_survive_rewrites_in_their_order(tmp_path):
    samples = table(100)
    known, gone = samples["etag"][0], "f" * 32
    (tmp_path / "ids.csv").write_text(f"etag,note,purpose\n{known},blurred,test\n{gone},mislabelled,devel\n")
    SampleSplit(seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv")
    SampleSplit(seed=1).update_unassigned(samples, id_path=tmp_path / "ids.csv")
    written = pd.read_csv(tmp_path / "ids.csv", dtype=str).set_index("etag")
    assert list(written.columns) == ["note", "purpose"] and len(written) == 101
    assert written.loc[known].tolist() == ["blurred", "test"]
    assert written.loc[gone].tolist() == ["mislabelled", "devel"]
    assert written["note"].drop([known, gone]).isna().all()


def test_file_without_the_key_column_is_an_error_naming_the_header_line(tmp_path):
    (tmp_path / "ids.csv").write_text("md5,purpose\nabc,train\n")
    with pytest.raises(ValueError, match=r"ids\.csv, line 1: .*lacks \['etag'\]"):
        SampleSplit(seed=1).update_unassigned(table(10), id_path=tmp_path / "ids.csv")


def test_a_header_naming_a_column_twice_is_an_error_and_the_file_is_left_untouched(tmp_path):
    content = "etag,purpose,purpose\nabc,train,devel\n"
    (tmp_path / "ids.csv").write_text(content)
    with pytest.raises(ValueError, match=r"ids\.csv, line 1: header .* names \['purpose'\] more than once"):
        SampleSplit(seed=1).update_unassigned(table(10), id_path=tmp_path / "ids.csv")
    assert (tmp_path / "ids.csv").read_text() == content


def test_empty_key_is_an_error_naming_the_line(tmp_path):
    (tmp_path / "ids.csv").write_text("etag,purpose\nabc,train\n,devel\n")
    with pytest.raises(ValueError, match=r"ids\.csv, line 3: empty key"):
        read_id_file(tmp_path / "ids.csv", ["etag"])


def test_empty_file_is_an_error(tmp_path):
    (tmp_path / "ids.csv").write_text("")
    with pytest.raises(ValueError, match=r"ids\.csv, line 1: the file is empty"):
        read_id_file(tmp_path / "ids.csv", ["etag"])


def test_duplicate_keys_in_the_file_resolve_to_the_highest_priority(tmp_path):
    (tmp_path / "ids.csv").write_text("etag,purpose\nabc,test\nabc,train\nxyz,devel\n")
    ids = read_id_file(tmp_path / "ids.csv", ["etag"])
    assert ids.values.tolist() == [["abc", "train"], ["xyz", "devel"]]


def test_id_file_on_s3(s3_bucket, s3_client):
    io = IoTools()
    samples = table(500)
    first = SampleSplit(seed=1).update_unassigned(samples, id_path=f"{s3_bucket}/job/artifacts/ids.csv", io=io)
    body = s3_client.get_object(Bucket=s3_bucket[5:], Key="job/artifacts/ids.csv")["Body"].read().decode()
    assert body.startswith("etag,purpose\n") and body.count("\n") == 501
    second = SampleSplit(seed=2).update_unassigned(samples, id_path=f"{s3_bucket}/job/artifacts/ids.csv", io=io)
    pd.testing.assert_series_equal(first["purpose"], second["purpose"])
