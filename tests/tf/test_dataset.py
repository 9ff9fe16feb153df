"""brevetti_tf datasets: element_spec, strings, resume, sharding, input contexts and errors.

Byte parity with get_dataset_numpy() over the whole pipeline matrix lives in tests/parity; here each
test checks one property of the tf.data pipeline itself.
"""
import time

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

from brevetti_core.actions import Action
from brevetti_core.executor import SampleError
from brevetti_tf.pipeline import to_numpy


def test_element_spec_has_the_static_image_shape_and_dtypes(make_tf_generator):
    dataset = make_tf_generator(image={"target_size": (64, 64)}).get_dataset()
    assert isinstance(dataset, tf.data.Dataset)
    img, onehot = dataset.element_spec
    assert (img.shape.as_list(), img.dtype) == ([None, 64, 64, 3], tf.float32)
    assert (onehot.shape.as_list(), onehot.dtype) == ([None, 4], tf.float32)


def test_batches_have_the_spec_shapes(make_tf_generator):
    img, onehot = next(iter(make_tf_generator(image={"target_size": (64, 64)}).get_dataset()))
    assert img.shape == (6, 64, 64, 3) and onehot.shape == (6, 4)


def test_get_samples_gives_every_column_as_strings_with_label_tuples_two_dimensional(make_tf_generator, tf_samples):
    spec = make_tf_generator().get_samples().element_spec
    assert sorted(spec) == sorted(tf_samples.columns)
    assert all(s.dtype == tf.string for s in spec.values())
    assert spec["path"].shape.as_list() == [None] and spec["category"].shape.as_list() == [None, None]


def test_strings_come_back_as_the_table_values(make_tf_generator, tf_samples):
    generator = make_tf_generator()
    path, category = next(iter(generator.get_samples(structure=("path", "category"))))
    expected_path, expected_category = next(generator.get_samples_numpy(structure=("path", "category")))
    assert [p.decode() for p in path.numpy()] == expected_path.tolist()
    assert to_numpy(category).tolist() == expected_category.tolist()


def test_per_roi_images_have_a_spec_each(make_tf_generator):
    image = {"rois": [((0, 0), (16, 24)), ((8, 8), (32, 32))], "roi_mode": None, "target_size": (12, 12)}
    (first, second), _ = make_tf_generator(image=image).get_dataset().element_spec
    assert first.shape.as_list() == second.shape.as_list() == [None, 12, 12, 3]


def test_unbatched_dataset_yields_samples_with_the_static_shape(make_tf_generator):
    generator = make_tf_generator()
    dataset = generator.get_dataset(batch=False)
    assert dataset.element_spec[0].shape.as_list() == [24, 24, 3]
    samples = list(dataset)
    first_batch = next(generator.get_dataset_numpy())
    assert len(samples) == 20 and np.array_equal(samples[2][0].numpy(), first_batch[0][2])


@pytest.mark.parametrize("start_batch", [1, 3, 5])
def test_resume_at_start_batch_gives_the_tail_of_the_full_run(make_tf_generator, start_batch):
    generator = make_tf_generator(repeat=2)  # 4 batches per epoch: 3 and 5 resume inside the second epoch
    full = [to_numpy(batch) for batch in generator.get_dataset()]
    resumed = [to_numpy(batch) for batch in generator.get_dataset(start_batch=start_batch)]
    assert len(resumed) == len(full) - start_batch
    for (img, onehot), (expected_img, expected_onehot) in zip(resumed, full[start_batch:]):
        assert img.tobytes() == expected_img.tobytes() and onehot.tobytes() == expected_onehot.tobytes()


@pytest.mark.parametrize("world_size", [2, 3])
def test_rank_slices_concatenate_to_the_global_batch(make_tf_generator, world_size):
    generator = make_tf_generator(batch_size=5)  # 4 batches of 5: every rank's slice holds a sample
    ranks = [[to_numpy(b) for b in generator.get_dataset(rank=rank, world_size=world_size, structure=("path", "img"))]
             for rank in range(world_size)]
    for number, (paths, img) in enumerate(generator.get_dataset_numpy(structure=("path", "img"))):
        slices = [shard[number] for shard in ranks]
        assert [p for s in slices for p in s[0].tolist()] == paths.tolist()
        assert np.concatenate([s[1] for s in slices]).tobytes() == img.tobytes()


def test_a_rank_whose_slice_is_empty_gets_an_empty_batch_so_ranks_stay_in_step(make_tf_generator):
    generator = make_tf_generator()  # 20 samples: batches of 6, 6, 6 and 2, so rank 2 of 3 gets nothing of the last
    ranks = [[to_numpy(b) for b in generator.get_dataset(rank=rank, world_size=3, structure=("path", "img"))]
             for rank in range(3)]
    assert [[len(paths) for paths, _ in batches] for batches in ranks] == [[2, 2, 2, 1], [2, 2, 2, 1], [2, 2, 2, 0]]
    _, img = ranks[2][-1]
    assert img.shape == (0, 24, 24, 3) and img.dtype == np.float32


def pipeline_context(pipelines: int, pipeline: int, replicas: int) -> tf.distribute.InputContext:
    return tf.distribute.InputContext(num_input_pipelines=pipelines, input_pipeline_id=pipeline,
                                      num_replicas_in_sync=replicas)


def test_the_input_pipelines_of_two_workers_yield_the_same_number_of_elements(make_tf_generator):
    generator = make_tf_generator(batch_size=19, repeat=2)  # batches of 19 and 1: worker 1's slice of 1 is empty
    workers = [[to_numpy(b) for b in generator.get_dataset(input_context=pipeline_context(2, k, 2), structure="path")]
               for k in range(2)]
    expected = list(generator.get_dataset_numpy(structure="path"))
    assert [len(elements) for elements in workers] == [len(expected)] * 2
    for number, paths in enumerate(expected):
        assert workers[0][number].tolist() + workers[1][number].tolist() == paths.tolist()


@pytest.mark.parametrize("sharding", [{}, {"rank": 1, "world_size": 2}, {"input_context": pipeline_context(1, 0, 2)},
                                      {"input_context": pipeline_context(2, 1, 2)}])
@pytest.mark.parametrize("repeat", [False, 2])
def test_resuming_at_the_end_yields_nothing(make_tf_generator, sharding, repeat):
    generator = make_tf_generator(repeat=repeat)
    assert list(generator.get_dataset(start_batch=generator.total_batches, **sharding)) == []


class TwoReplicaContext(tf.distribute.InputContext):
    """The input context of a single pipeline feeding two replicas (as MirroredStrategy over two devices)."""

    def __init__(self):
        super().__init__(num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=2)


def test_an_input_context_yields_each_replicas_slice_in_turn_keeping_empty_slices(make_tf_generator):
    generator = make_tf_generator(batch_size=19, repeat=2)  # batches of 19 and 1: replica 1's slice of 1 is empty
    elements = [to_numpy(b) for b in generator.get_dataset(input_context=TwoReplicaContext(), structure="path")]
    expected = list(generator.get_dataset_numpy(structure="path"))
    assert len(elements) == 2 * len(expected)
    for number, paths in enumerate(expected):
        assert elements[2 * number].tolist() + elements[2 * number + 1].tolist() == paths.tolist()


def test_a_bad_image_raises_naming_the_file_and_plan_position(make_tf_generator, tf_samples, tmp_path):
    bad = tmp_path / "broken.bmp"
    bad.write_bytes(b"BM" + bytes(100))
    table = tf_samples.copy()
    table.loc[9, "path"] = str(bad)
    dataset = make_tf_generator(samples=table, shuffle=False).get_dataset()
    with pytest.raises(tf.errors.OpError, match=rf"SampleError: ImagePipeline.*failed on sample 9 "
                                                rf"\(path '{bad}'\) at epoch 0, batch 1, position 3"):
        list(dataset)


def test_a_bad_image_in_the_first_batch_raises_when_the_dataset_is_built(make_tf_generator, tf_samples, tmp_path):
    bad = tmp_path / "broken.bmp"
    bad.write_bytes(b"BM" + bytes(100))
    table = tf_samples.copy()
    table.loc[0, "path"] = str(bad)
    with pytest.raises(SampleError, match=rf"\(path '{bad}'\) at epoch 0, batch 0, position 0"):
        make_tf_generator(samples=table, shuffle=False).get_dataset()


def test_rank_not_below_world_size_is_a_clear_error(make_tf_generator):
    with pytest.raises(ValueError, match=r"rank must be in \[0, world_size=2\), got rank=2"):
        make_tf_generator().get_dataset(rank=2, world_size=2)


def test_an_input_context_and_a_rank_together_are_a_clear_error(make_tf_generator):
    with pytest.raises(ValueError, match="either input_context or rank/world_size"):
        make_tf_generator().get_dataset(input_context=TwoReplicaContext(), rank=0)


def test_start_batch_past_the_end_is_a_clear_error(make_tf_generator):
    with pytest.raises(ValueError, match=r"start_batch must be in \[0, 4\] .*got 5"):
        make_tf_generator().get_dataset(start_batch=5)


def test_an_unknown_structure_key_is_a_clear_error_naming_the_available_keys(make_tf_generator):
    with pytest.raises(KeyError, match=r"structure key 'label' is not in the output; available keys: .*'onehot'"):
        make_tf_generator().get_dataset(structure=("img", "label"))


def test_skipped_failures_of_the_last_epoch_are_reported_when_the_dataset_ends(make_tf_generator, tf_samples,
                                                                               tmp_path, caplog):
    bad = tmp_path / "broken.bmp"
    bad.write_bytes(b"BM" + bytes(100))
    table = tf_samples.copy()
    table.loc[[3, 9], "path"] = str(bad)
    dataset = make_tf_generator(samples=table, on_error="skip", repeat=2).get_dataset()
    with caplog.at_level("WARNING", logger="brevetti_core.executor"):
        sizes = [len(img) for img, _ in dataset]
    assert sum(sizes) == 2 * (len(table) - 2)
    warnings = [r.getMessage() for r in caplog.records if "on_error='skip'" in r.getMessage()]
    assert [w.split(" and were")[0] for w in warnings] == ["on_error='skip': 2 samples failed in epoch 0",
                                                           "on_error='skip': 2 samples failed in epoch 1"]
    assert str(bad) in warnings[1]


def test_zeros_keeps_the_shape_of_a_batch_in_which_every_sample_failed(make_tf_generator, tf_samples, tmp_path):
    bad = tmp_path / "broken.bmp"
    bad.write_bytes(b"BM" + bytes(100))
    table = tf_samples.copy()
    table.loc[6:11, "path"] = str(bad)  # the whole second batch of 6
    batches = [to_numpy(b) for b in make_tf_generator(samples=table, shuffle=False, on_error="zeros").get_dataset()]
    assert [img.shape for img, _ in batches] == [(6, 24, 24, 3)] * 3 + [(2, 24, 24, 3)]
    assert not batches[1][0].any() and not batches[1][1].any() and batches[0][0].any()


def test_a_plan_read_back_with_pandas_replays_as_the_batches_it_was_saved_from(make_tf_generator, tmp_path):
    generator = make_tf_generator(repeat=2)
    generator.plan(1).to_csv(tmp_path / "plan.csv")
    expected = [to_numpy(batch) for batch in generator.get_dataset(start_batch=len(generator))]
    replayed = [to_numpy(batch) for batch in generator.get_dataset(plan=pd.read_csv(tmp_path / "plan.csv"))]
    assert [img.tobytes() for img, _ in replayed] == [img.tobytes() for img, _ in expected]
    assert [onehot.tobytes() for _, onehot in replayed] == [onehot.tobytes() for _, onehot in expected]
    assert all(onehot.any(axis=1).all() for _, onehot in replayed)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_worker_processes_give_the_batches_of_the_calling_process(make_tf_generator, context):
    generator = make_tf_generator(repeat=2, augmentation={})
    expected = list(generator.get_dataset_numpy())
    dataset = generator.get_dataset(num_workers=2, multiprocessing_context=context)
    batches = [to_numpy(batch) for batch in dataset]
    assert [img.tobytes() for img, _ in batches] == [img.tobytes() for img, _ in expected]
    assert [onehot.tobytes() for _, onehot in batches] == [onehot.tobytes() for _, onehot in expected]


def test_worker_processes_resume_and_repeat_iteration_in_plan_order(make_tf_generator):
    generator = make_tf_generator(repeat=2)
    expected = [img.tobytes() for img, _ in generator.get_dataset_numpy()]
    dataset = generator.get_dataset(start_batch=3, num_workers=2)
    first = [to_numpy(img).tobytes() for img, _ in dataset]
    again = [to_numpy(img).tobytes() for img, _ in dataset.take(2)]
    assert first == expected[3:] and again == expected[3:5]


def test_failures_in_worker_processes_are_reported_in_the_calling_process(make_tf_generator, tf_samples, tmp_path,
                                                                           caplog):
    bad = tmp_path / "broken.bmp"
    bad.write_bytes(b"BM" + bytes(100))
    table = tf_samples.copy()
    table.loc[[3, 9], "path"] = str(bad)
    dataset = make_tf_generator(samples=table, on_error="skip").get_dataset(num_workers=2)
    with caplog.at_level("WARNING", logger="brevetti_core.executor"):
        assert sum(len(img) for img, _ in dataset) == len(table) - 2
    assert any("on_error='skip': 2 samples failed in epoch 0" in r.getMessage() for r in caplog.records)


class SlowFirstEpoch(Action):
    """Fails the sample at table index 0 in every epoch, and takes `seconds` per sample in epoch 0 only."""

    plan_prefix = "slow"

    def __init__(self, seconds: float):
        self.seconds = seconds

    def sample_params(self, streams, n):
        return {"delay": np.full(n, self.seconds if streams.epoch == 0 else 0.0, np.float32)}

    def __call__(self, sample, params):
        time.sleep(params["delay"])
        if sample["path"].endswith(FAILING_NAME):
            raise ValueError("this sample fails")
        return sample


FAILING_NAME = "failing.png"


def test_failures_are_reported_per_epoch_even_when_a_later_epoch_loads_first(make_tf_generator, tf_samples, tmp_path,
                                                                             caplog):
    table = tf_samples.head(4).copy()
    table.loc[table.index[0], "path"] = str(tmp_path / FAILING_NAME)
    Image.new("RGB", (24, 24)).save(tmp_path / FAILING_NAME)
    # One batch per epoch; epoch 0's batch is the slowest, so parallel calls finish epochs 1 and 2 before it.
    generator = make_tf_generator(samples=table, batch_size=4, shuffle=False, on_error="skip", repeat=3)
    dataset = generator.map(SlowFirstEpoch(seconds=0.5)).get_dataset(num_parallel_calls=3)
    with caplog.at_level("WARNING", logger="brevetti_core.executor"):
        assert [len(img) for img, _ in dataset] == [3, 3, 3]
    warnings = [r.getMessage().split(" and were")[0] for r in caplog.records if "on_error='skip'" in r.getMessage()]
    assert warnings == [f"on_error='skip': 1 samples failed in epoch {epoch}" for epoch in range(3)]
