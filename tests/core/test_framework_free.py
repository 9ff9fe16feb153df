"""brevetti_core must never load torch or tensorflow (DESIGN §2)."""
import subprocess
import sys

PROBE = """
import importlib, pkgutil, sys
import brevetti_core
names = [m.name for m in pkgutil.walk_packages(brevetti_core.__path__, "brevetti_core.")]
for name in names:
    if name.endswith("__main__"):
        continue
    importlib.import_module(name)
for public in brevetti_core.__all__:
    getattr(brevetti_core, public)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "tensorflow", "keras", "tf_keras"))
print(len(names), "modules")
assert not loaded, f"brevetti_core loaded frameworks: {loaded[:5]}"
"""


def test_importing_every_core_module_loads_no_framework():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[0]) >= 5


JOB_PROBE = """
import sys
from brevetti_core.job import Job
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "PIL" or m.startswith("brevetti_core.report"))
assert not loaded, f"importing the job loaded {loaded[:5]}"
"""


def test_importing_the_job_loads_neither_the_report_nor_pillow():
    result = subprocess.run([sys.executable, "-c", JOB_PROBE], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
