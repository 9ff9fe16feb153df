"""Both adapters in one Python session: torch's compiler stack must load before TensorFlow, or the process dies.

triton (loaded by torch._dynamo: torch.optim, torch.export, torchvision.models) crashes with SIGSEGV when
TensorFlow's native library is already loaded. Real interpreters, as a user's notebook would run.
"""
import subprocess
import sys


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_torch_then_tf_then_torchvision_models_in_one_session():
    done = python("import brevetti_torch, brevetti_tf, torchvision.models; print('alive')")
    assert (done.returncode, done.stdout.strip()) == (0, "alive"), done.stderr[-3000:]


def test_plain_torch_then_brevetti_tf_then_torchvision_models_in_one_session():
    done = python("import torch, brevetti_tf, torchvision.models; print('alive')")
    assert (done.returncode, done.stdout.strip()) == (0, "alive"), done.stderr[-3000:]


def test_tensorflow_before_brevetti_torch_is_warned_about_with_the_fix():
    done = python("import tensorflow, brevetti_torch")
    assert done.returncode == 0
    assert "TensorFlow was imported before brevetti_torch" in done.stderr
    assert "import brevetti_torch (or torch) before TensorFlow" in done.stderr


def test_brevetti_torch_alone_warns_about_nothing():
    done = python("import brevetti_torch")
    assert (done.returncode, done.stderr) == (0, "")
