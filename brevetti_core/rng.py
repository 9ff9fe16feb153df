"""Counter-based random streams: every random number is keyed by (seed, stream, epoch, name).

Generators are built from ``SeedSequence([seed, stream, epoch, name_key])`` with the Philox
bit generator, so a draw depends only on its key, never on call order, process, worker or
framework. Keying by a tuple (not ``seed + epoch``) keeps seed 1/epoch 0 apart from seed 0/epoch 1.
Unseeded (``seed=None``) objects draw one seed from the OS, log it and record it in the seed
ledger that the job writes into ``output.json``, so every run can be replayed.

Random values are built only from the generators' exact bits and the portable recipe
(`brevetti_core.portable`): uniforms are bits times a power of two, scaled and shifted by
element-wise arithmetic; normals go through a portable quantile, never numpy's ziggurat, whose
rare steps call libm. So a key gives the same values on every CPU, not only in every process.
"""
from __future__ import annotations

import logging
import math
import secrets
import threading
import zlib

import numpy as np

from .portable import normal_quantile

log = logging.getLogger(__name__)

# Stream ids reserved for the plan itself; mapped actions use their position in the chain + 1000.
STREAM_ORDER = 1
STREAM_GROUPS = 2
STREAM_ACTIONS = 1000

_NORMAL_CHUNK = 1 << 14

_ledger: list[dict] = []
_ledger_lock = threading.Lock()


def resolve_seed(seed: int | None, owner: str) -> int:
    """`seed` itself, or a fresh seed from the OS (logged and recorded) when it is None."""
    if seed is not None:
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"{owner}: seed must be a non-negative integer or None, got {seed!r}")
        seed = int(seed)
        drawn = False
    else:
        seed = secrets.randbits(63)
        drawn = True
        log.info("%s: no seed given, drew seed=%d from the OS (pass seed=%d to replay)", owner, seed, seed)
    with _ledger_lock:
        _ledger.append({"owner": owner, "seed": seed, "drawn": drawn})
    return seed


def ledger_mark() -> int:
    """A position in the seed ledger: ``seeds_used(since=mark)`` lists only what was resolved after it."""
    with _ledger_lock:
        return len(_ledger)


def seeds_used(since: int = 0) -> list[dict]:
    """The distinct seeds resolved in this process after ledger position `since`: [{owner, seed, drawn}]."""
    with _ledger_lock:
        entries = _ledger[since:]
    distinct = {(e["owner"], e["seed"], e["drawn"]): e for e in entries}
    return [dict(entry) for entry in distinct.values()]


def name_key(name: str) -> int:
    """A stable 32-bit key for a parameter name (the same in every process and Python version)."""
    return zlib.crc32(name.encode("utf-8"))


def generator(seed: int, stream: int, epoch: int, name: str = "") -> np.random.Generator:
    """The numpy Generator for one key; equal keys give equal sequences everywhere."""
    sequence = np.random.SeedSequence([int(seed), int(stream), int(epoch), name_key(name)])
    return np.random.Generator(np.random.Philox(sequence))


class ParamStreams:
    """The random streams of one mapped action in one epoch: one independent generator per name.

    Actions draw their parameters for a whole epoch at once (vectorised over slots) from
    ``streams.generator("rotate_deg")`` etc. Adding a parameter never changes the others.
    """

    def __init__(self, seed: int, stream: int, epoch: int):
        self.seed, self.stream, self.epoch = int(seed), int(stream), int(epoch)

    def generator(self, name: str) -> np.random.Generator:
        return generator(self.seed, self.stream, self.epoch, name)

    def uniform(self, name: str, n: int, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        """n float64 values U(low, high): exact uniforms times (high - low), plus low, each rounded once."""
        values = self.generator(name).random(n)
        values *= float(high) - float(low)
        values += float(low)
        return values

    def chance(self, name: str, n: int, p: float) -> np.ndarray:
        """n independent booleans, each True with probability p."""
        return self.generator(name).random(n) < p

    def seeds(self, name: str, n: int) -> np.ndarray:
        """n uint64 seeds for per-sample pixel noise (kernels build ``pixel_rng(seed)`` from them)."""
        # Raw 64-bit draws shifted to 63 bits: 3x faster than bounded integers() at epoch scale.
        return self.generator(name).bit_generator.random_raw(n) >> np.uint64(1)


def pixel_rng(seed: int | np.integer) -> np.random.Generator:
    """The generator a kernel uses for per-pixel noise of one sample, from that sample's plan seed."""
    return np.random.Generator(np.random.Philox(key=int(seed)))


def standard_normal(generator: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """float32 N(0, 1) values of `shape` from `generator`'s raw 64-bit words, the same on every CPU.

    Each word's top 52 bits k give the probability (2k + 1) / 2**53, exact in float64 and never 0
    or 1, and `normal_quantile` maps it to a normal value: one word per value, no rejection.
    Words are drawn in chunks that fit the CPU's caches; a stream drawn in chunks is the same stream.
    """
    values = np.empty(math.prod(shape), dtype=np.float32)
    for start in range(0, len(values), _NORMAL_CHUNK):
        words = generator.bit_generator.random_raw(min(_NORMAL_CHUNK, len(values) - start))
        odd = (words >> np.uint64(11)) | np.uint64(1)
        probabilities = odd.astype(np.float64)
        probabilities *= 2.0 ** -53
        values[start:start + len(words)] = normal_quantile(probabilities)
    return values.reshape(shape)
