"""brevetti_torch loading from S3 behind 0 and 20 ms of request latency, beside the same loader on local disk.

One generated dataset (JPEGs of 512x512 in 3 class folders) is written to a local folder and
uploaded to a moto S3 server (its own process, 127.0.0.1). The S3 loader reaches it through
``s3_proxy.LatencyProxy``, which delays every request by the latency and counts them. Every
contender is the same loader: build_image_data_generator(ImagePipeline(224, antialias, imagenet),
default ImageAugmenter, one-hot).get_dataset(num_workers=2, batch 32), one whole epoch timed from
the DataLoader's creation (worker start and the first batch included: "from the first epoch"):

- local disk (the peer);
- S3 at 0 and 20 ms: without a cache, with a cold cache (an empty cache root) and with a warm
  one (the cache the cold run just filled).

Rounds are interleaved across the contenders and the best round of each counts; requests per
image are the proxy's counts over that epoch (the listing is made before, untimed). Threads are
pinned: OMP/MKL/OpenBLAS at 1, torch.set_num_threads(1) in the main process and every worker.
Targets (issue 13): S3 at 20 ms >= 0.7x local disk from the first epoch; a warm cache <= 0.05
requests per image.

    .venv/bin/python benchmarks/bench_s3.py [--quick] [--images N] [--rounds R] [--start-method fork|spawn]
"""
from __future__ import annotations

import os

PINNED_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
os.environ.update(PINNED_ENV)

import argparse  # noqa: E402  # after pinning the thread pools, before numpy starts them
import io  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from s3_proxy import LatencyProxy  # noqa: E402

BATCH, WORKERS, SIZE, SEED = 32, 2, 224, 7
CLASSES = ("good", "missing_cap", "failed_cap")
IMAGE = {"target_size": (SIZE, SIZE), "antialias": True, "rescale": "imagenet"}
BUCKET = "bench-s3-loading"
LATENCIES_MS = (0, 20)
CACHES = ("no cache", "cold cache", "warm cache")
MOTO_SECONDS = 1800  # the S3 server stops itself after this, or when this process goes away
MOTO_SERVER = f"""
import sys, threading, os
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
threading.Timer({MOTO_SECONDS}, lambda: os._exit(0)).start()
print("ready", flush=True)
sys.stdin.read()  # until the benchmark closes the pipe (or dies)
os._exit(0)
"""


def pin_torch_threads(worker_id: int = 0) -> None:
    """One intra-op thread, in the main process and (as worker_init_fn) in every DataLoader worker."""
    import torch

    torch.set_num_threads(1)


def jpeg(rng: np.random.Generator) -> bytes:
    """A 512x512 JPEG (quality 90) of smooth random shapes with a little grain, about the size of a photo."""
    coarse = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).resize((512, 512), Image.BICUBIC)
    pixels = np.asarray(coarse, dtype=np.int16) + rng.integers(-8, 9, (512, 512, 3), dtype=np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def write_dataset(folder: Path, images: int) -> dict[str, bytes]:
    """`images` JPEGs in 3 class folders under `folder`; returns {relative path: bytes}."""
    rng = np.random.default_rng(SEED)
    files = {f"{CLASSES[i % 3]}/{i:05d}.jpg": jpeg(rng) for i in range(images)}
    for relative, data in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    """A moto S3 server in its own process (its CPU apart from the loader's main process); (process, URL)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", MOTO_SERVER, str(port)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if process.stdout is None or process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError("the moto S3 server did not start")
    return process, f"http://127.0.0.1:{port}"


def upload(endpoint: str, files: dict[str, bytes]) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    for key, data in files.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=data)


def epoch_seconds(samples, start_method: str) -> float:
    """Seconds for one whole epoch of the torch loader over `samples`, from creating the DataLoader."""
    from brevetti_torch import build_image_data_generator

    generator = build_image_data_generator(samples, batch_size=BATCH, shuffle=True, seed=SEED, image=IMAGE,
                                           augmentation={})
    start = time.perf_counter()
    loader = generator.get_dataset(num_workers=WORKERS, multiprocessing_context=start_method,
                                   worker_init_fn=pin_torch_threads)
    images = sum(len(batch[0]) for batch in loader)
    seconds = time.perf_counter() - start
    if images != len(samples):
        raise RuntimeError(f"the loader gave {images} images, expected {len(samples)}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="96 images, 1 round")
    parser.add_argument("--images", type=int, default=None, help="images in the dataset (default 384)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds; the best counts (default 2)")
    parser.add_argument("--start-method", default="fork", choices=("fork", "spawn", "forkserver"))
    args = parser.parse_args()
    images = args.images or (96 if args.quick else 384)
    rounds = args.rounds or (1 if args.quick else 2)
    pin_torch_threads()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)

    from brevetti_core.dataset import Dataset
    from brevetti_core.io_tools import io_tools

    moto, endpoint = start_moto()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-s3-") as scratch, \
                LatencyProxy(endpoint, max_seconds=MOTO_SECONDS) as proxy:
            local_folder = Path(scratch, "local")
            upload(endpoint, write_dataset(local_folder, images))
            os.environ["BREVETTI_S3_ENDPOINT"] = proxy.url
            local = Dataset(bucket=str(local_folder)).get_image_samples()
            remote = Dataset(bucket=f"s3://{BUCKET}").get_image_samples()
            best: dict[str, float] = {}
            requests: dict[str, dict[str, int]] = {}

            def run(name: str, samples, latency_ms: float = 0.0, cache_root: str | None = None) -> None:
                proxy.latency_s = latency_ms / 1000
                io_tools.set_cache_root(cache_root)
                proxy.reset()
                seconds = epoch_seconds(samples, args.start_method)
                if seconds < best.get(name, float("inf")):
                    best[name], requests[name] = seconds, dict(proxy.counts())

            for round_number in range(rounds):
                run("local disk", local)
                for latency in LATENCIES_MS:
                    run(f"S3 {latency:>2} ms, no cache", remote, latency)
                    cache = tempfile.mkdtemp(prefix=f"cache-{round_number}-{latency}-", dir=scratch)
                    run(f"S3 {latency:>2} ms, cold cache", remote, latency, cache)
                    run(f"S3 {latency:>2} ms, warm cache", remote, latency, cache)
            io_tools.set_cache_root(None)
    finally:
        if moto.stdin is not None:
            moto.stdin.close()
        moto.wait(timeout=30)

    report(best, requests, images, rounds, args.start_method)


def report(best: dict[str, float], requests: dict[str, dict[str, int]], images: int, rounds: int,
           start_method: str) -> None:
    local = images / best["local disk"]
    print(f"{images} JPEGs 512x512 -> {SIZE}x{SIZE} (antialias, imagenet) + default augmenter, batch {BATCH}, "
          f"{WORKERS} workers ({start_method}), one epoch from the DataLoader's creation, best of {rounds} round(s)")
    print(f"{'local disk':28s} {local:7.1f} img/s  (peer)")
    for name, seconds in best.items():
        if name == "local disk":
            continue
        rate = images / seconds
        counts = requests[name]
        per_image = sum(counts.values()) / images
        detail = ", ".join(f"{method} {count}" for method, count in sorted(counts.items())) or "none"
        print(f"{name:28s} {rate:7.1f} img/s  {rate / local:5.2f}x local  {per_image:5.2f} requests/image ({detail})")
    slow = min(images / best[f"S3 20 ms, {cache}"] for cache in CACHES[:2]) / local
    warm = max(sum(requests[f"S3 {ms:>2} ms, warm cache"].values()) / images for ms in LATENCIES_MS)
    print(f"target S3 at 20 ms >= 0.7x local from the first epoch (slower of no cache / cold cache): {slow:.2f}x "
          f"{'met' if slow >= 0.7 else 'MISSED'}")
    print(f"target warm cache <= 0.05 requests/image: {warm:.2f} {'met' if warm <= 0.05 else 'MISSED'}")


if __name__ == "__main__":
    main()
