"""The restricted CPU dispatch variants the portability tests run under, as process environments (x86-64 Linux).

Each variant makes one maths library pick the kernels it would pick on an older or different
CPU, through the switch that library reads at start-up:

- OpenBLAS (numpy's BLAS/LAPACK): ``OPENBLAS_CORETYPE`` names the core whose kernels to use;
  Sandybridge has AVX without FMA, Nehalem only SSE4.
- numpy's own SIMD loops: ``NPY_DISABLE_CPU_FEATURES`` turns dispatch targets off. numpy 2.4
  names them by group (``X86_V3`` = AVX2/FMA, ``X86_V4``, ``AVX512_ICL``, ``AVX512_SPR`` =
  AVX-512); it refuses to disable its baseline (``X86_V2``, SSE4.2), and leaving ``AVX512_ICL``
  on keeps AVX-512 loops even with ``X86_V4`` off, so the lists are taken from the build.
- glibc's libm (``math.sin``, ``exp``...): ``GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA`` picks
  the non-FMA variants. This glibc (2.36) spells features without the ``_Usable`` suffix of
  glibc < 2.33, and silently ignores names it does not know, hence `glibc_active_features`.
- libjpeg-turbo (Pillow's JPEG codec): ``JSIMD_FORCENONE=1`` uses its C code instead of SIMD.

Every run, the plain one included, starts from the caller's environment with all of these
switches removed, so a value already set on the machine (``OPENBLAS_CORETYPE`` on CI boxes)
never leaks into a run that does not name it.
"""
from __future__ import annotations

import os
import re
import subprocess

from numpy._core._multiarray_umath import __cpu_dispatch__

#: Variables that steer which kernels a library picks; removed from every run's environment first.
DISPATCH_SWITCHES = re.compile(r"^(OPENBLAS_\w+|GOTO\w+|NPY_(DISABLE|ENABLE)_CPU_FEATURES|GLIBC_TUNABLES|JSIMD_\w+)$")

NO_AVX512 = " ".join(t for t in __cpu_dispatch__ if t.startswith("AVX512") or t == "X86_V4")
SSE4_ONLY = " ".join(__cpu_dispatch__)  # everything above numpy's baseline X86_V2 (SSE4.2)
NO_FMA_AVX2 = "glibc.cpu.hwcaps=-AVX2,-FMA"

VARIANTS: dict[str, dict[str, str]] = {
    "openblas_sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "openblas_nehalem": {"OPENBLAS_CORETYPE": "Nehalem"},
    "numpy_no_avx512": {"NPY_DISABLE_CPU_FEATURES": NO_AVX512},
    "numpy_sse4_only": {"NPY_DISABLE_CPU_FEATURES": SSE4_ONLY},
    "glibc_no_fma_avx2": {"GLIBC_TUNABLES": NO_FMA_AVX2},
    "libjpeg_no_simd": {"JSIMD_FORCENONE": "1"},
    # The machine of the original report: AVX without FMA everywhere at once.
    "avx_without_fma": {"OPENBLAS_CORETYPE": "Sandybridge", "NPY_DISABLE_CPU_FEATURES": SSE4_ONLY,
                        "GLIBC_TUNABLES": NO_FMA_AVX2, "JSIMD_FORCENONE": "1"},
}

DYNAMIC_LOADER = "/lib64/ld-linux-x86-64.so.2"
# CPUID bits in glibc's diagnostics: leaf 1 ECX bit 12 is FMA, leaf 7 EBX bit 5 is AVX2.
_GLIBC_BITS = {"FMA": ("x86.cpu_features.features[0x0].active[0x2]", 12),
               "AVX2": ("x86.cpu_features.features[0x1].active[0x1]", 5)}


def environment(variant: str | None) -> dict[str, str]:
    """The caller's environment without any dispatch switch, plus those of `variant` (None: the plain run)."""
    env = {name: value for name, value in os.environ.items() if not DISPATCH_SWITCHES.match(name)}
    env["OPENBLAS_NUM_THREADS"] = "1"  # thread count splits no 3x3 product; it only keeps 2 cores calm
    env.update(VARIANTS[variant] if variant else {})
    return env


def glibc_active_features(env: dict[str, str]) -> dict[str, bool]:
    """Whether glibc, started with `env`, lets its ifuncs use FMA and AVX2 (from ``ld.so --list-diagnostics``)."""
    listing = subprocess.run([DYNAMIC_LOADER, "--list-diagnostics"], env=env, capture_output=True, text=True,
                             check=True).stdout
    values = dict(line.split("=", 1) for line in listing.splitlines() if "=" in line)
    return {feature: bool(int(values[key], 16) >> bit & 1) for feature, (key, bit) in _GLIBC_BITS.items()}
