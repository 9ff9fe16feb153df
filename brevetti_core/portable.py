"""Portable arithmetic: the recipe that gives every float reaching a batch the same bits on every CPU.

A plan must give the same bytes on any machine (DESIGN §3.8), but the maths libraries under
numpy pick their kernels by CPU: OpenBLAS multiplies with FMA kernels on one core type and
without on another, numpy's exp/log/sin/cos have AVX2 and AVX-512 loops that differ from its
scalar ones in the last bit, and glibc's libm picks FMA variants of sin, cos and exp when it
loads. One last-bit difference in a matrix entry can move a pixel by a float32 ulp. So everything
between the random bits and the pixels follows this recipe:

1. Random numbers are exact: Philox gives the same 64-bit words everywhere, and a uniform is
   such bits times a power of two (``Generator.random``), exact in any precision.
2. Only IEEE basic operations, + - * / and sqrt, which IEEE 754 rounds correctly and so every CPU
   rounds alike, in an order the source writes out. On Python floats each operation is its own
   bytecode, so no compiler can fuse ``a * b + c`` into an FMA; on arrays, numpy's element-wise
   ufuncs round every SIMD lane as their scalar loop does.
3. No transcendental function from a library: where a recipe needs cos, sin, exp or log this
   module computes it by rule 2, from an exact argument reduction and a fixed polynomial.
4. No BLAS: no ``@``, ``np.dot``, ``np.linalg`` or ``einsum``. Small matrices are multiplied out
   term by term; constant ones (the YIQ inverse) are exact rationals (``fractions``) rounded once.
5. Sums in a fixed order: a few terms are written out or summed by ``math.fsum`` (exactly
   rounded on every Python); sums over pixels use numpy's pairwise summation, whose order the
   array's shape fixes (eight scalar accumulators, blocks of 128), not the SIMD width.
6. Normal noise does not come from numpy's ``standard_normal``, whose ziggurat calls libm's exp
   and log1p in its rare wedge and tail steps: `normal_quantile` maps exact uniforms instead, and
   pixel noise looks its values up in a table of 2**16 such quantiles (`normal_levels`), four
   per random 64-bit word.
7. Matrices Pillow resamples with are rounded to multiples of 2**-20 (`on_grid`), so the pixel
   positions Pillow derives from them in double precision are exact sums, whatever operation
   order or fused multiply-adds its build uses.

Pixels are then numpy element-wise arithmetic (rule 2), Pillow's C resampling or libjpeg-turbo's
integer decoding, one compiled binary for every CPU. tests/portability runs every pipeline under
restricted CPU dispatch to prove it; docs/portability.md states the promise for users.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

Real = TypeVar("Real", float, np.ndarray)

#: Matrices handed to Pillow are multiples of this (rule 7).
GRID = 2.0 ** -20

# ln 2 split so that k * _LN2_HI is exact for |k| < 2**21 (its low 21 bits are zero), as in fdlibm.
_LN2 = float.fromhex("0x1.62e42fefa39efp-1")
_LN2_HI = float.fromhex("0x1.62e42fee00000p-1")
_LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
_SQRT_HALF = math.sqrt(0.5)

# Taylor coefficients, lowest degree first; int / int is correctly rounded, so these are the same everywhere.
_SIN = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(11))  # in x**2, times x; |x| <= pi/4
_COS = tuple((-1) ** k / math.factorial(2 * k) for k in range(11))      # in x**2; |x| <= pi/4
_EXP = tuple(1 / math.factorial(k) for k in range(18))                  # |x| <= ln(2)/2
_LOG = tuple(2 / (2 * k + 1) for k in range(12))  # log(m) = s * sum(2 z**k / (2k+1)), s = (m-1)/(m+1), z = s*s

# Acklam's rational approximation of the normal quantile (relative error below 1.2e-9), lowest degree first.
_CENTRAL_NUMERATOR = (2.506628277459239e+00, -3.066479806614716e+01, 1.383577518672690e+02,
                      -2.759285104469687e+02, 2.209460984245205e+02, -3.969683028665376e+01)
_CENTRAL_DENOMINATOR = (1.0, -1.328068155288572e+01, 6.680131188771972e+01, -1.556989798598866e+02,
                        1.615858368580409e+02, -5.447609879822406e+01)
_TAIL_NUMERATOR = (2.938163982698783e+00, 4.374664141464968e+00, -2.549732539343734e+00,
                   -2.400758277161838e+00, -3.223964580411365e-01, -7.784894002430293e-03)
_TAIL_DENOMINATOR = (1.0, 3.754408661907416e+00, 2.445134137142996e+00, 3.224671290700398e-01,
                     7.784695709041462e-03)
_TAIL = 0.02425


def cos_sin_turns(turns: float) -> tuple[float, float]:
    """cos and sin of `turns` full turns (an angle of 2*pi*turns), exact at every quarter turn."""
    quarter = round(4 * turns)
    rest = turns - quarter / 4  # exact: both are multiples of turns' ulp and |rest| <= 1/8
    return _turned(quarter, rest * math.tau)


def cos_sin_degrees(degrees: float) -> tuple[float, float]:
    """cos and sin of an angle in degrees, exact at every multiple of 90."""
    quarter = round(degrees / 90)
    rest = degrees - 90 * quarter  # exact for |degrees| < 2**50, by the same argument
    return _turned(quarter, rest * (math.pi / 180))


def exp(x: float) -> float:
    """e**x to about one ulp by rule 2: x = k*ln2 + r with |r| <= ln2/2, e**r by its Taylor series, times 2**k."""
    if x < -746.0:
        return 0.0
    if x > 709.0:
        raise OverflowError(f"exp({x!r}) overflows a float")
    k = round(x / _LN2)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    return math.ldexp(_horner(_EXP, r), k)


def log(x: np.ndarray) -> np.ndarray:
    """Natural log of positive float64 values to about one ulp by rule 2 (frexp is exact)."""
    mantissa, exponent = np.frexp(np.asarray(x, dtype=np.float64))
    low = mantissa < _SQRT_HALF
    mantissa = np.where(low, mantissa * 2.0, mantissa)  # now in [sqrt(1/2), sqrt(2))
    exponent = exponent - low
    s = (mantissa - 1.0) / (mantissa + 1.0)
    return exponent * _LN2_HI + (exponent * _LN2_LO + s * _horner(_LOG, s * s))


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """The standard normal quantile of probabilities in (0, 1), float64, by rules 2 and 3 (Acklam's method)."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    r = q * q
    x = _horner(_CENTRAL_NUMERATOR, r)
    x *= q
    x /= _horner(_CENTRAL_DENOMINATOR, r)
    tail = np.minimum(p, 1.0 - p)  # exact: 1 - p is exact for p >= 1/2
    where = np.flatnonzero(tail < _TAIL)
    if where.size:
        u = np.sqrt(-2.0 * log(tail[where]))
        lower = _horner(_TAIL_NUMERATOR, u) / _horner(_TAIL_DENOMINATOR, u)  # the quantile of tail, negative
        x[where] = np.where(q[where] < 0, lower, -lower)
    return x


def normal_levels(words: np.ndarray, count: int) -> np.ndarray:
    """`count` float32 N(0, 1) values from uint64 `words` (at least count/4 of them): 16 bits per value.

    Each 16-bit index k picks the normal quantile of (2k + 1) / 2**17, so values are the 65,536
    equally likely levels of a normal distribution (|value| <= 4.33; the sixteenth-bit step is
    far below any pixel noise's resolution). A table lookup costs a tenth of computing quantiles.
    """
    indices = np.asarray(words, dtype="<u8").view("<u2")[:count]  # little-endian: the same indices everywhere
    if len(indices) < count:
        raise ValueError(f"normal_levels needs {(count + 3) // 4} words for {count} values, got {len(words)}")
    return _normal_table().take(indices.astype(np.intp))  # take is 3x faster with native indices


@functools.cache
def _normal_table() -> np.ndarray:
    """The 2**16 normal quantiles of `normal_levels`, by rules 2 and 3 (so the same table everywhere)."""
    levels = np.arange(2 ** 16, dtype=np.float64)
    levels *= 2.0
    levels += 1.0
    levels *= 2.0 ** -17
    table = normal_quantile(levels).astype(np.float32)
    table.flags.writeable = False
    return table


def on_grid(value: float) -> float:
    """`value` rounded to the nearest multiple of `GRID` (ties to even); exact, so the same everywhere."""
    return round(value / GRID) * GRID


def _turned(quarter: int, x: float) -> tuple[float, float]:
    """cos and sin of x + quarter * pi/2 for |x| <= pi/4: the quarter turns only swap and negate."""
    z = x * x
    cos, sin = _horner(_COS, z), x * _horner(_SIN, z)
    return ((cos, sin), (-sin, cos), (-cos, -sin), (sin, -cos))[quarter % 4]


def _horner(coefficients: Sequence[float], x: Real) -> Real:
    """c0 + c1*x + c2*x**2 + ... from the highest term down, one rounding per operation (never fused)."""
    result = coefficients[-1] * x + coefficients[-2]
    for c in reversed(coefficients[:-2]):
        result *= x  # in place on arrays: the same roundings, fewer temporaries
        result += c
    return result
