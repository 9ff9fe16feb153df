"""Job settings: a typed tree (pydantic v2) filled from class defaults < the job definition < argv.

Settings are read from ``--name VALUE``, ``--a.b VALUE`` or ``--a.b=VALUE`` (`argv`); the target field's type
decides how the text is read (`values`): JSON for dict/list/tuple/set and nested-model fields, pydantic's reading
of the text for everything else. A boolean flag given without a value means true. Layers are merged with the
source of every value (`layering`), so that errors name the setting, the value and the file or flag it came from.

Why a small parser of our own rather than pydantic-settings' CLI source (tried, 2.16): that source
is built for ``BaseSettings`` (it also reads environment variables), its unknown-flag error is
argparse's (no close matches), and its type errors name the field but not the flag or the file
a value came from. Layering the job definition between class defaults and argv would also need
its own source machinery; here it is one merge.
"""
from .argv import Override, parse_argv, script_argv, script_name
from .errors import SettingsError
from .help import settings_help
from .job_settings import JobSettings
from .layering import load_settings

__all__ = ["JobSettings", "Override", "SettingsError", "load_settings", "parse_argv", "script_argv", "script_name",
           "settings_help"]
