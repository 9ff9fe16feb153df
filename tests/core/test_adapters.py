"""The adapter registry: one list of frameworks, loaded lazily, open to a third adapter."""
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from brevetti_core import adapters
from brevetti_core.adapters import FrameworkUnavailable, get_adapter, register_adapter, registered_adapters
from brevetti_core.data_settings import DataSettings


@pytest.fixture
def clean_registry(monkeypatch):
    """The registry as it is, restored after the test."""
    monkeypatch.setattr(adapters, "_registry", dict(adapters._registry))
    monkeypatch.setattr(adapters, "_loaded", dict(adapters._loaded))


def test_the_installed_adapters_are_registered_through_entry_points():
    assert registered_adapters() == ["numpy", "tf", "torch"]


def test_listing_the_adapters_imports_no_framework():
    script = ("import sys; from brevetti_core.adapters import registered_adapters; names = registered_adapters(); "
              "print(names, [m for m in ('torch', 'tensorflow') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "['numpy', 'tf', 'torch'] []", done.stderr[-2000:]


def test_an_unknown_framework_is_one_error_listing_the_registered_adapters():
    with pytest.raises(ValueError, match=r"unknown framework 'jax'; registered adapters: numpy, tf, torch"):
        get_adapter("jax")


def test_data_settings_name_the_registered_adapters_for_an_unknown_framework():
    with pytest.raises(ValueError, match=r"registered adapters: numpy, tf, torch"):
        DataSettings().generator(pd.DataFrame(), framework="pytorch")


def test_numpy_is_the_core_itself():
    adapter = get_adapter("numpy")
    assert adapter.package.__name__ == "brevetti_core" and adapter.version is None


def test_a_third_adapter_is_one_package_and_one_registration(clean_registry, tmp_path, monkeypatch,
                                                              small_vials_samples):
    (tmp_path / "brevetti_listy.py").write_text(textwrap.dedent('''
        """A toy adapter: batches as lists of (path, image) pairs."""
        import numpy as np
        import brevetti_core
        from brevetti_core.adapters import Adapter

        def iterate(generator, structure=None, workers=0, **options):
            for batch in generator.get_dataset_numpy(structure=None, **options):
                yield list(zip(batch["path"].tolist(), batch["img"]))

        def to_numpy(batch):
            return {"path": np.array([p for p, _ in batch]), "img": np.stack([i for _, i in batch])}

        ADAPTER = Adapter("listy", brevetti_core, iterate, to_numpy, "0.1")
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    register_adapter("listy", "brevetti_listy:ADAPTER")
    assert "listy" in registered_adapters()
    data = DataSettings(image={"target_size": [16, 16]}, batch_size=4, shuffle=False)
    generator = data.generator(small_vials_samples.assign(purpose="train"), framework="listy")
    listy = get_adapter("listy")
    [first, *_] = [listy.to_numpy(batch) for batch in listy.iterate(generator)]
    expected = next(iter(generator.get_dataset_numpy(structure=None)))
    assert first["path"].tolist() == expected["path"].tolist()
    assert first["img"].tobytes() == expected["img"].tobytes()


def test_a_registered_adapter_whose_framework_is_missing_says_how_to_install_it(clean_registry):
    register_adapter("jax", "brevetti_jax_not_installed.adapter:ADAPTER", extra="jax")
    with pytest.raises(FrameworkUnavailable, match=r'pip install -c constraints.txt -e "\.\[jax\]"'):
        get_adapter("jax")


def test_registering_a_taken_name_elsewhere_needs_clobber(clean_registry):
    with pytest.raises(ValueError, match="adapter 'torch' is already registered as brevetti_torch.adapter:ADAPTER"):
        register_adapter("torch", "elsewhere:ADAPTER")
    register_adapter("torch", "elsewhere:ADAPTER", clobber=True)
    assert adapters._registry["torch"].target == "elsewhere:ADAPTER"
