"""Listing 20,000 objects from a moto S3 server into a sample table, against a bare s3fs find of the same prefix.

The peer is `s3fs.S3FileSystem(...).find(prefix, detail=True)`, the listing our table is built on;
the ratio is what categorising, etag extraction, URLs and logging add on top.
Run: .venv/bin/python benchmarks/bench_listing.py [--quick]
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

FOLDERS = ["good", "missing_cap", "failed_cap", "defects/scratch", "defects/dent/deep"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def upload(client, bucket: str, n: int) -> None:
    """n small, distinct objects spread over nested class folders, put from 16 threads."""
    def put(i: int) -> None:
        key = f"{FOLDERS[i % len(FOLDERS)]}/{i // 3}_{1543413266626 + i}.bmp"
        client.put_object(Bucket=bucket, Key=key, Body=b"BM" + i.to_bytes(8, "little"))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(n)))


def best_of(repeats: int, run) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 objects instead of 20,000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = 2_000 if args.quick else 20_000

    from moto.server import ThreadedMotoServer

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                      BREVETTI_S3_ENDPOINT=endpoint)
    os.environ.pop("AWS_PROFILE", None)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        import boto3
        import botocore.config
        import s3fs

        from brevetti_core.dataset import Dataset
        from brevetti_core.io_tools import IoTools

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              config=botocore.config.Config(max_pool_connections=32))
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=bucket)
        start = time.perf_counter()
        upload(client, bucket, n)
        print(f"uploaded {n:,} objects in {time.perf_counter() - start:.1f} s")

        def bare_find():
            fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint}, skip_instance_cache=True,
                                   use_listings_cache=False)
            return fs.find(bucket, detail=True)

        def sample_table():
            return Dataset(name="bench", bucket=f"s3://{bucket}").get_image_samples(io=IoTools())

        peer, found = best_of(args.repeats, bare_find)
        ours, samples = best_of(args.repeats, sample_table)
        assert len(found) == len(samples) == n, (len(found), len(samples))
        print(f"s3fs find(detail=True)        {peer:7.3f} s  {n / peer:10,.0f} objects/s")
        print(f"Dataset.get_image_samples     {ours:7.3f} s  {n / ours:10,.0f} objects/s")
        print(f"ratio (ours / bare find)      {ours / peer:7.2f}x")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
