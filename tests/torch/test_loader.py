"""brevetti_torch DataLoaders: layout, strings, start methods, DataLoader options, resume, sharding and errors.

Byte parity with get_dataset_numpy() over the whole pipeline matrix lives in tests/parity; here each
test checks one property of the loader itself. Loaders with workers get a `timeout`, so a worker
that hangs fails the test instead of blocking the suite. (A DataLoader iterator whose worker raised
takes torch 5 s per worker to collect: the error tests use one worker, or none.)
"""
import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from brevetti_core.executor import SampleError
from brevetti_torch.pipeline import to_numpy

WORKER_TIMEOUT_S = 60


def numpy_batches(generator, **options):
    return list(generator.get_dataset_numpy(**options))


def assert_same_images(torch_batches, numpy_batches_, channels_last=False):
    assert len(torch_batches) == len(numpy_batches_)
    for (img, onehot), (expected_img, expected_onehot) in zip(torch_batches, numpy_batches_):
        layout = expected_img if channels_last else expected_img.transpose(0, 3, 1, 2)
        assert img.numpy().tobytes() == np.ascontiguousarray(layout).tobytes() and img.shape == layout.shape
        assert onehot.numpy().tobytes() == expected_onehot.tobytes()


def test_get_dataset_is_a_dataloader_of_nchw_float_tensors(make_generator):
    generator = make_generator()
    loader = generator.get_dataset()
    assert isinstance(loader, DataLoader)
    img, onehot = next(iter(loader))
    assert isinstance(img, torch.Tensor) and img.dtype == torch.float32 and img.shape == (6, 3, 24, 24)
    assert onehot.shape == (6, 4)
    assert_same_images(list(loader), numpy_batches(generator))


def test_channels_last_gives_nhwc_tensors(make_generator):
    generator = make_generator()
    batches = list(generator.get_dataset(channels_last=True))
    assert batches[0][0].shape == (6, 24, 24, 3)
    assert_same_images(batches, numpy_batches(generator), channels_last=True)


def test_strings_are_lists_and_label_tuples_lists_of_tuples(make_generator, samples):
    generator = make_generator()
    paths, category = next(iter(generator.get_samples(structure=("path", "category"))))
    expected = next(generator.get_samples_numpy(structure=("path", "category")))[0]
    assert paths == expected.tolist() and all(isinstance(p, str) for p in paths)
    assert isinstance(category, list) and all(isinstance(c, tuple) for c in category)
    assert category == [tuple(samples.set_index("path").loc[p, "category"]) for p in paths]


def test_unbatched_dataset_yields_one_sample_at_a_time(make_generator):
    generator = make_generator()
    samples = list(generator.get_dataset(batch=False))
    batches = numpy_batches(generator)
    assert len(samples) == sum(len(img) for img, _ in batches)
    img, onehot = samples[7]
    assert img.shape == (3, 24, 24) and np.array_equal(img.numpy(), batches[1][0][1].transpose(2, 0, 1))
    assert np.array_equal(onehot.numpy(), batches[1][1][1])


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_workers_started_by_either_start_method_give_the_numpy_batches(make_generator, start_method):
    generator = make_generator(repeat=2)
    loader = generator.get_dataset(num_workers=2, multiprocessing_context=start_method, timeout=WORKER_TIMEOUT_S)
    assert_same_images(list(loader), numpy_batches(generator))


def test_dataloader_options_pass_through(make_generator):
    loader = make_generator().get_dataset(num_workers=1, persistent_workers=True, prefetch_factor=3,
                                          pin_memory=True, timeout=WORKER_TIMEOUT_S)
    assert (loader.num_workers, loader.persistent_workers, loader.prefetch_factor) == (1, True, 3)
    assert loader.pin_memory and loader.timeout == WORKER_TIMEOUT_S


def test_persistent_workers_serve_every_epoch_the_same_batches(make_generator):
    generator = make_generator()
    loader = generator.get_dataset(num_workers=1, persistent_workers=True, timeout=WORKER_TIMEOUT_S)
    first = list(loader)
    workers = [worker.pid for worker in loader._iterator._workers]
    second = list(loader)
    assert [worker.pid for worker in loader._iterator._workers] == workers
    assert_same_images(first, numpy_batches(generator))
    assert_same_images(second, numpy_batches(generator))


@pytest.mark.parametrize("start_batch", [1, 3, 5])
def test_resume_at_start_batch_gives_the_tail_of_the_full_run(make_generator, start_batch):
    generator = make_generator(repeat=2)  # 4 batches per epoch: 3 and 5 resume inside the second epoch
    full = [to_numpy(batch) for batch in generator.get_dataset()]
    resumed = [to_numpy(batch) for batch in generator.get_dataset(start_batch=start_batch, num_workers=1,
                                                                  timeout=WORKER_TIMEOUT_S)]
    assert len(resumed) == len(full) - start_batch == len(generator.get_dataset(start_batch=start_batch))
    for (img, onehot), (expected_img, expected_onehot) in zip(resumed, full[start_batch:]):
        assert img.tobytes() == expected_img.tobytes() and onehot.tobytes() == expected_onehot.tobytes()


@pytest.mark.parametrize("world_size", [2, 3])
def test_rank_slices_concatenate_to_the_global_batch(make_generator, world_size):
    generator = make_generator(batch_size=5)  # 4 batches of 5: every rank's slice holds a sample
    ranks = [list(generator.get_dataset(rank=rank, world_size=world_size, structure=("path", "img")))
             for rank in range(world_size)]
    for number, (paths, img) in enumerate(numpy_batches(generator, structure=("path", "img"))):
        slices = [shard[number] for shard in ranks]
        assert [p for s in slices for p in s[0]] == paths.tolist()
        assert torch.cat([s[1] for s in slices]).numpy().tobytes() == img.transpose(0, 3, 1, 2).tobytes()


def test_a_rank_whose_slice_is_empty_gets_an_empty_batch_so_ranks_stay_in_step(make_generator):
    generator = make_generator()  # 20 samples: batches of 6, 6, 6 and 2, so rank 2 of 3 gets nothing of the last
    ranks = [list(generator.get_dataset(rank=rank, world_size=3, structure=("path", "img")))
             for rank in range(3)]
    assert [[len(paths) for paths, _ in batches] for batches in ranks] == [[2, 2, 2, 1], [2, 2, 2, 1], [2, 2, 2, 0]]
    paths, img = ranks[2][-1]
    assert paths == [] and img.shape == (0, *ranks[0][-1][1].shape[1:]) and img.dtype == torch.float32


@pytest.mark.parametrize("rank, world_size", [(0, 1), (1, 2), (2, 3)])
@pytest.mark.parametrize("repeat", [False, 2])
def test_resuming_at_the_end_yields_nothing(make_generator, rank, world_size, repeat):
    generator = make_generator(repeat=repeat)
    loader = generator.get_dataset(start_batch=generator.total_batches, rank=rank, world_size=world_size)
    assert len(loader) == 0 and list(loader) == []


def test_a_bad_image_in_a_worker_raises_in_the_main_process_naming_file_and_position(make_generator, samples,
                                                                                      tmp_path):
    bad = tmp_path / "good" / "broken.bmp"
    bad.parent.mkdir()
    bad.write_bytes(b"BM" + bytes(100))
    table = samples.copy()
    table.loc[9, "path"] = str(bad)
    generator = make_generator(samples=table, shuffle=False)
    loader = generator.get_dataset(num_workers=1, timeout=WORKER_TIMEOUT_S)
    with pytest.raises(SampleError, match=rf"ImagePipeline.*failed on sample 9 \(path '{bad}'\) at epoch 0, "
                                          rf"batch 1, position 3"):
        list(loader)


def test_a_good_file_is_not_blamed_for_a_bad_neighbour(make_generator, samples, tmp_path):
    bad = tmp_path / "broken.bmp"
    Image.new("RGB", (8, 8)).save(bad)
    bad.write_bytes(bad.read_bytes()[:40])  # a valid header, truncated pixels
    table = samples.copy()
    table.loc[0, "path"] = str(bad)
    generator = make_generator(samples=table, shuffle=False)
    with pytest.raises(SampleError) as raised:
        list(generator.get_dataset())
    assert str(bad) in str(raised.value) and "batch 0, position 0" in str(raised.value)
    assert str(samples.loc[1, "path"]) not in str(raised.value)


def test_rank_not_below_world_size_is_a_clear_error(make_generator):
    with pytest.raises(ValueError, match=r"rank must be in \[0, world_size=2\), got rank=2"):
        make_generator().get_dataset(rank=2, world_size=2)


def test_start_batch_past_the_end_is_a_clear_error(make_generator):
    generator = make_generator()
    with pytest.raises(ValueError, match=r"start_batch must be in \[0, 4\] .*got 5"):
        generator.get_dataset(start_batch=5)


def test_an_unknown_structure_key_is_a_clear_error_naming_the_available_keys(make_generator):
    loader = make_generator().get_dataset(structure=("img", "label"))
    with pytest.raises(KeyError, match=r"structure key 'label' is not in the output; available keys: .*'onehot'"):
        next(iter(loader))


def test_failures_skipped_in_workers_are_reported_per_epoch_in_the_main_process(make_generator, samples, tmp_path,
                                                                                caplog):
    bad = tmp_path / "broken.bmp"
    bad.write_bytes(b"BM" + bytes(100))
    table = samples.copy()
    table.loc[[3, 9], "path"] = str(bad)
    loader = make_generator(samples=table, on_error="skip", repeat=2).get_dataset(num_workers=1,
                                                                                  timeout=WORKER_TIMEOUT_S)
    with caplog.at_level("WARNING", logger="brevetti_core.executor"):
        sizes = [len(img) for img, _ in loader]
    assert sum(sizes) == 2 * (len(table) - 2)
    warnings = [r.getMessage() for r in caplog.records if "on_error='skip'" in r.getMessage()]
    assert [w.split(" and were")[0] for w in warnings] == ["on_error='skip': 2 samples failed in epoch 0",
                                                           "on_error='skip': 2 samples failed in epoch 1"]
    assert str(bad) in warnings[1]


def test_zeros_keeps_the_shape_of_a_batch_in_which_every_sample_failed(make_generator, samples, tmp_path):
    bad = tmp_path / "broken.bmp"
    bad.write_bytes(b"BM" + bytes(100))
    table = samples.copy()
    table.loc[6:11, "path"] = str(bad)  # the whole second batch of 6
    generator = make_generator(samples=table, shuffle=False, on_error="zeros")
    batches = list(generator.get_dataset(num_workers=1, timeout=WORKER_TIMEOUT_S))
    assert [tuple(img.shape) for img, _ in batches] == [(6, 3, 24, 24)] * 3 + [(2, 3, 24, 24)]
    assert not batches[1][0].any() and not batches[1][1].any() and batches[0][0].any()


@pytest.mark.parametrize("name", ["plan.csv", "plan.parquet"])
def test_a_saved_plan_replays_as_the_batches_it_was_saved_from(make_generator, tmp_path, name):
    generator = make_generator(repeat=2)
    generator.save_plan(tmp_path / name, epoch=1)
    expected = [to_numpy(batch) for batch in generator.get_dataset(start_batch=len(generator))]
    replayed = [to_numpy(batch) for batch in generator.get_dataset(plan=tmp_path / name, num_workers=1,
                                                                   timeout=WORKER_TIMEOUT_S)]
    assert [img.tobytes() for img, _ in replayed] == [img.tobytes() for img, _ in expected]
    assert [onehot.tobytes() for _, onehot in replayed] == [onehot.tobytes() for _, onehot in expected]
    assert all(onehot.any(axis=1).all() for _, onehot in replayed)


class _TensorsOfWorker(torch.utils.data.Dataset):
    """Each item: what ``to_torch`` makes in the worker of numpy batch values of every kind it converts."""

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int):
        from brevetti_torch.pipeline import to_torch

        values = {"img": np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3),
                  "onehot": np.eye(2, dtype=np.float32), "index": np.array([3, 4]), "flag": np.array([True, False])}
        return {key: (to_torch(value, channels_last=False), value) for key, value in values.items()}


def test_worker_tensors_arrive_in_shared_memory_equal_to_their_numpy_values():
    batch = next(iter(DataLoader(_TensorsOfWorker(), batch_size=None, num_workers=1)))
    for key, (tensor, value) in batch.items():
        expected = value.numpy().transpose(0, 3, 1, 2) if key == "img" else value.numpy()
        assert tensor.is_shared() and tensor.is_contiguous(), key
        assert tensor.dtype == value.dtype and np.array_equal(tensor.numpy(), expected), key
