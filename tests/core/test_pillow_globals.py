"""pillow_globals: Pillow's process-wide decode switches set for one decode at a time, across threads and forks."""
import multiprocessing
import threading

from PIL import Image, ImageFile

from brevetti_core.image.pillow_globals import pillow_globals

WAIT_S = 10


def switches():
    return ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS


def hold(allow_truncated, entered, release, seen):
    with pillow_globals(allow_truncated):
        seen.append(switches())
        entered.set()
        release.wait(WAIT_S)


def test_inside_the_switches_are_the_decodes_and_pillows_own_limit_is_off():
    with pillow_globals(allow_truncated=True):
        assert switches() == (True, None)
    with pillow_globals(allow_truncated=False):
        assert switches() == (False, None)


def test_the_process_values_are_back_after_the_decode(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1234)
    with pillow_globals(allow_truncated=False):
        pass
    assert switches() == (True, 1234)


def test_decodes_wanting_the_same_switches_run_at_the_same_time():
    entered, release, seen = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=hold, args=(True, entered, release, seen))
    holder.start()
    assert entered.wait(WAIT_S)
    with pillow_globals(allow_truncated=True):  # does not wait for the holder
        assert switches() == (True, None)
    release.set()
    holder.join(WAIT_S)


def test_a_decode_wanting_other_switches_waits_until_the_running_ones_end():
    first_in, release_first, seen = threading.Event(), threading.Event(), []
    second_in = threading.Event()
    first = threading.Thread(target=hold, args=(True, first_in, release_first, seen))
    first.start()
    assert first_in.wait(WAIT_S)
    second = threading.Thread(target=hold, args=(False, second_in, threading.Event(), seen))
    second.start()
    assert not second_in.wait(0.5)  # blocked while the first decode runs with truncated files allowed
    release_first.set()
    assert second_in.wait(WAIT_S)
    first.join(WAIT_S)
    second.join(WAIT_S)
    assert seen == [(True, None), (False, None)]


def child_report(queue):
    before = switches()
    with pillow_globals(allow_truncated=True):  # would hang on a lock held by the parent at fork
        queue.put((before, switches()))


def test_a_child_forked_during_a_decode_starts_with_the_process_values():
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with pillow_globals(allow_truncated=True):
        child = context.Process(target=child_report, args=(queue,))
        child.start()
    before, inside = queue.get(timeout=WAIT_S)
    child.join(WAIT_S)
    assert before == (False, Image.MAX_IMAGE_PIXELS)
    assert inside == (True, None)
