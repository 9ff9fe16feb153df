"""Batches are the same bytes whichever kernels BLAS, numpy's SIMD loops, libm and libjpeg-turbo pick (DESIGN §3.8).

Each variant's fingerprints are compared sample-epoch by sample-epoch with the plain run's, so a
failure says which pipeline and how many of its samples moved, not just that a digest changed.
"""
from __future__ import annotations

from typing import Any

import pytest

from .dispatch import NO_AVX512, SSE4_ONLY, VARIANTS, environment, glibc_active_features
from .fingerprint_pipelines import MATRIX_SLOTS

LISTED = 5


def completed(runs: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """The result of run `name`, failing the test with the worker's stderr if it did not complete."""
    result = runs[name]
    assert "error" not in result, f"the {name} fingerprint run failed: {result['error']}"
    return result


def differences(expected: dict[str, list[str]], actual: dict[str, list[str]]) -> list[str]:
    """One line per entry whose digests differ: how many of how many, and the first positions."""
    lines = []
    for name, digests in expected.items():
        theirs = actual.get(name, [])
        if len(theirs) != len(digests):
            lines.append(f"{name}: {len(theirs)} items instead of {len(digests)}")
            continue
        moved = [i for i, (a, b) in enumerate(zip(digests, theirs)) if a != b]
        if moved:
            lines.append(f"{name}: {len(moved)} of {len(digests)} differ (first at {moved[:LISTED]})")
    return lines


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_pipeline_gives_the_plain_runs_bytes_under_restricted_dispatch(fingerprint_runs, variant):
    plain, restricted = completed(fingerprint_runs, "plain"), completed(fingerprint_runs, variant)
    moved = differences(plain["pipelines"], restricted["pipelines"])
    assert not moved, f"under {variant} ({VARIANTS[variant]}):\n" + "\n".join(moved)


@pytest.mark.parametrize("variant", VARIANTS)
def test_augmentation_kernels_give_the_plain_runs_bytes_under_restricted_dispatch(fingerprint_runs, variant):
    plain, restricted = completed(fingerprint_runs, "plain"), completed(fingerprint_runs, variant)
    moved = differences(plain["kernels"], restricted["kernels"])
    assert not moved, f"under {variant} ({VARIANTS[variant]}):\n" + "\n".join(moved)


def test_the_default_augmenter_runs_enough_sample_epochs_to_catch_a_one_in_3000_event(fingerprint_runs):
    plain = completed(fingerprint_runs, "plain")
    augmented = plain["pipelines"]["default_augmenter"]
    assert len(augmented) >= 9000 and len(plain["kernels"]["color_matrix"]) == MATRIX_SLOTS
    # Distinct parameters give distinct samples: a pipeline that ignored them would compare nothing.
    assert len(set(augmented)) > 0.9 * len(augmented)


@pytest.mark.parametrize("variant", [v for v, env in VARIANTS.items() if "OPENBLAS_CORETYPE" in env])
def test_openblas_variants_run_on_the_named_core(fingerprint_runs, variant):
    dispatch = completed(fingerprint_runs, variant)["dispatch"]
    assert dispatch["openblas_core"] == VARIANTS[variant]["OPENBLAS_CORETYPE"]


@pytest.mark.parametrize("variant", [v for v, env in VARIANTS.items() if "NPY_DISABLE_CPU_FEATURES" in env])
def test_numpy_variants_run_without_the_disabled_simd_targets(fingerprint_runs, variant):
    disabled = set(VARIANTS[variant]["NPY_DISABLE_CPU_FEATURES"].split())
    assert disabled in ({*NO_AVX512.split()}, {*SSE4_ONLY.split()})
    assert not disabled & set(completed(fingerprint_runs, variant)["dispatch"]["numpy_targets"])


@pytest.mark.parametrize("variant", [v for v, env in VARIANTS.items() if "GLIBC_TUNABLES" in env])
def test_glibc_variants_turn_fma_and_avx2_off(variant):
    assert glibc_active_features(environment(variant)) == {"FMA": False, "AVX2": False}
