"""Plans as data: save_plan/load_plan round trips (CSV, Parquet) and replaying a saved or pandas-read plan."""
import io
import itertools

import numpy as np
import pandas as pd
import pytest

from brevetti_core.actions import Action
from brevetti_core.encoding import OneHotEncoder
from brevetti_core.generator import DataGenerator
from brevetti_core.plan_file import load_plan


class Jitter(Action):
    """A random offset, flag and seed per sample, applied to a per-sample array."""

    plan_prefix = "jitter"

    def sample_params(self, streams, n):
        return {"offset": streams.uniform("offset", n, -1, 1), "flip": streams.chance("flip", n, 0.5),
                "seed": streams.seeds("seed", n)}

    def __call__(self, sample, params):
        values = np.arange(4, dtype=np.float32) + np.float32(sample["id"])
        values = values[::-1] if params["flip"] else values
        return {**sample, "x": values + np.float32(params["offset"]) + np.float32(params["seed"] % 7)}


def samples(n: int = 23) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(n), "path": [f"s3://bucket/{i}.png" for i in range(n)],
                         "category": [("good",) if i % 3 else ("bad", "good") for i in range(n)],
                         "kind": ["a" if i % 4 else "b" for i in range(n)],
                         "annotation": [None if i % 2 else f"{i}.json" for i in range(n)],
                         "score": [np.nan if i % 5 == 0 else i / 10 for i in range(n)]})


def generator(**kw) -> DataGenerator:
    settings = {"batch_size": 4, "shuffle": True, "repeat": 3, "seed": 11, "sampling_groupby": "kind"} | kw
    return DataGenerator(samples(), **settings).map([Jitter(), OneHotEncoder(["bad", "good"])])


def epoch_batches(gen: DataGenerator, epoch: int) -> list[dict]:
    return list(itertools.islice(gen.get_dataset_numpy(structure=None, start_batch=epoch * len(gen)), len(gen)))


def assert_same_batches(replayed: list[dict], expected: list[dict]) -> None:
    assert len(replayed) == len(expected)
    for got, want in zip(replayed, expected):
        assert sorted(got) == sorted(want)
        for key in ("x", "onehot", "id", "category"):
            assert got[key].dtype == want[key].dtype and got[key].tobytes() == want[key].tobytes()
    assert any(batch["onehot"].any() for batch in replayed)


@pytest.mark.parametrize("name", ["plan.csv", "plan.csv.gz", "plan.parquet"])
def test_a_saved_plan_reads_back_equal_with_its_tuples_and_dtypes(tmp_path, name):
    gen = generator()
    gen.save_plan(tmp_path / name, epoch=1)
    table, expected = DataGenerator.load_plan(tmp_path / name), gen.plan(1)
    assert table.dtypes.to_dict() == expected.dtypes.to_dict()
    assert table.equals(expected)
    assert all(isinstance(category, tuple) for category in table["category"]) and table["annotation"].isna().any()


def test_the_plan_file_header_holds_the_generator_settings(tmp_path):
    generator().save_plan(tmp_path / "plan.csv", epoch=2)
    settings = load_plan(tmp_path / "plan.csv").attrs["brevetti-plan"]["settings"]
    assert {key: settings[key] for key in ("seed", "batch_size", "shuffle", "repeat", "sampling_groupby", "epoch",
                                           "batches_per_epoch", "samples")} == \
           {"seed": 11, "batch_size": 4, "shuffle": True, "repeat": 3, "sampling_groupby": ["kind"], "epoch": 2,
            "batches_per_epoch": 6, "samples": 23}
    assert list(settings["actions"]) == ["jitter", "onehot"]


def test_pandas_reads_a_csv_plan_file_after_its_header_line(tmp_path):
    generator().save_plan(tmp_path / "plan.csv")
    assert (tmp_path / "plan.csv").read_text().startswith("# brevetti-plan {")
    raw = pd.read_csv(tmp_path / "plan.csv", skiprows=1)
    assert list(raw.columns) == list(generator().plan(0).columns)
    assert raw["category"].tolist() == [str(category) for category in generator().plan(0)["category"]]


@pytest.mark.parametrize("name", ["plan.csv", "plan.parquet"])
def test_a_saved_plan_replays_to_identical_batches(tmp_path, name):
    gen = generator()
    gen.save_plan(tmp_path / name, epoch=1)
    assert_same_batches(list(gen.get_dataset_numpy(structure=None, plan=tmp_path / name)), epoch_batches(gen, 1))


def test_a_plain_to_csv_read_back_with_pandas_replays_with_its_labels():
    gen = generator()
    saved = io.StringIO()
    gen.plan(2).to_csv(saved)
    table = pd.read_csv(io.StringIO(saved.getvalue()))
    assert_same_batches(list(gen.get_dataset_numpy(structure=None, plan=table)), epoch_batches(gen, 2))


def test_loading_a_plain_to_csv_parses_its_tuple_columns(tmp_path):
    generator().plan(0).to_csv(tmp_path / "plain.csv", index=False)
    table = load_plan(tmp_path / "plain.csv")
    assert table["category"].tolist() == generator().plan(0)["category"].tolist()
    assert table["path"].tolist() == generator().plan(0)["path"].tolist()


def test_a_replayed_plan_resumes_and_shards_like_the_generator():
    gen = generator()
    table = pd.concat([gen.plan(0), gen.plan(1)])
    resumed = list(gen.get_dataset_numpy(structure="x", plan=table, start_batch=4))
    assert [x.tobytes() for x in resumed] == [x.tobytes() for x in itertools.islice(
        gen.get_dataset_numpy(structure="x", start_batch=4), 8)]
    halves = [list(gen.get_samples_numpy(structure="id", plan=table, rank=r, world_size=2)) for r in range(2)]
    assert [np.concatenate(parts).tolist() for parts in zip(*halves)] == \
           [batch.tolist() for batch in itertools.islice(gen.get_samples_numpy(structure="id"), 12)]


def test_an_edited_plan_replays_its_edits():
    gen = generator()
    table = gen.plan(0)
    table["jitter.offset"] = 0.0
    table["jitter.flip"] = False
    first = next(gen.get_dataset_numpy(structure=("id", "x"), plan=table))
    ids, x = first
    assert np.array_equal(x, np.arange(4, dtype=np.float32) + ids[:, None] + (table["jitter.seed"][:4] % 7).to_numpy(
        dtype=np.float32)[:, None])


def test_replaying_at_the_end_yields_nothing_and_past_it_names_the_length():
    gen, table = generator(), generator().plan(0)
    assert list(gen.get_dataset_numpy(plan=table, start_batch=6)) == []
    with pytest.raises(ValueError, match=r"start_batch must be in \[0, 6\] \(the replayed plan has 6 batches\)"):
        gen.get_dataset_numpy(plan=table, start_batch=7)


def test_a_plan_made_for_other_samples_is_refused_naming_the_row():
    table = generator().plan(0)
    table.loc[3, "path"] = "s3://bucket/elsewhere.png"
    with pytest.raises(ValueError, match=r"plan row 3: path 's3://bucket/elsewhere.png' but the generator's sample"):
        generator().get_dataset_numpy(plan=table)


def test_a_plan_without_sample_indices_is_refused():
    with pytest.raises(KeyError, match=r"lacks \['index'\]"):
        generator().get_dataset_numpy(plan=generator().plan(0).drop(columns="index"))


def test_a_plan_column_a_file_cannot_hold_is_named(tmp_path):
    gen = DataGenerator(samples().assign(handle=[object()] * 23), seed=0)
    with pytest.raises(ValueError, match="plan column 'handle' holds a object value"):
        gen.save_plan(tmp_path / "plan.csv")
