"""What only the PyTorch trainer has: its closed-form learning-rate decay and the compiler-stack guard."""
import subprocess
import sys

import pytest

from brevetti_demo import torch_trainer


def test_learning_rate_decays_from_one_to_zero_along_a_cosine():
    assert [torch_trainer.cosine_decay(step, 4) for step in range(5)] == \
        pytest.approx([1, 0.853553, 0.5, 0.146447, 0], abs=1e-6)


def test_torch_compiler_stack_after_tensorflow_is_an_error_not_a_crash(tmp_path):
    script = ("import tensorflow; from brevetti_demo import torch_trainer as t; from brevetti_demo.model import *; "
              "spec = CnnSpec(image_size=(8, 8), classes=2, filters=(2,), hidden=0); "
              "t.export_model(t.build_model(spec, initial_weights(spec, 0)), spec, sys.argv[1])")
    done = subprocess.run([sys.executable, "-c", f"import sys; {script}", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]  # not -11 (SIGSEGV)
    assert "RuntimeError: export_model: TensorFlow was imported before brevetti_demo.torch_trainer" in done.stderr
    assert "import brevetti_demo.torch_trainer before tensorflow, or train each framework in its own process" \
        in done.stderr
