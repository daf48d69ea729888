"""Take the tap's secrets out of the config file Meltano wrote for this run.

Meltano 4 writes every setting, the auth token included, to
``.meltano/run/<plugin>/tap.<uuid>.config.json`` (mode 0644) before starting the tap, and deletes
that file only when the run ends normally: a killed ``meltano run`` leaves the token readable by
every user. Meltano first runs ``--discover`` with the same file, then the sync, and never reads it
again, so once the sync has read its config the tap rewrites its own run file without the settings
its schema marks ``secret``, owner only (0600), in private directories (0700). The target does the
same once the tap's first message reaches it; doing it here too closes the window between the tap's
start and that message. Files outside a Meltano run directory (a config passed by hand) are never
touched, and a file that cannot be rewritten is a warning, never a reason to stop the sync.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

# Meltano names a run file tap.<uuid>.config.json, in .../run/<plugin name>/.
RUN_FILE_NAME = re.compile(r"tap\.[0-9a-f-]{8,}\.config\.json")
OWNER_ONLY_DIR = 0o700

logger = logging.getLogger(__name__)


def secret_settings(config_jsonschema: Mapping) -> frozenset[str]:
    """Names of the settings the schema marks ``secret``."""
    properties = config_jsonschema.get("properties", {})
    return frozenset(name for name, spec in properties.items() if spec.get("secret"))


def in_meltano_run_dir(path: Path) -> bool:
    """Whether ``path`` is a tap config file Meltano generated for a run."""
    return RUN_FILE_NAME.fullmatch(path.name) is not None and path.parent.parent.name == "run"


def strip_secrets(path: Path, secrets: frozenset[str]) -> None:
    """Make the run directories owner-only, then replace the file by a copy without ``secrets``, 0600."""
    plugin_dir = path.parent
    os.chmod(plugin_dir.parent, OWNER_ONLY_DIR)
    os.chmod(plugin_dir, OWNER_ONLY_DIR)
    settings = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(settings, dict):
        raise ValueError("not a JSON object")
    # mkstemp creates the file 0600, under a unique name (never the target's temporary file).
    descriptor, temporary = tempfile.mkstemp(dir=plugin_dir, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump({key: value for key, value in settings.items() if key not in secrets}, file, indent=2)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def protect_run_files(config_args: Iterable[str], secrets: frozenset[str]) -> list[Path]:
    """Strip the secrets from each ``--config`` file that lies in a Meltano run directory (``ENV``
    never does); return those rewritten. A failure is logged, without any value, and skipped."""
    rewritten = []
    for path in map(Path, config_args):
        if not in_meltano_run_dir(path):
            continue
        try:
            strip_secrets(path, secrets)
        except (OSError, ValueError) as exc:
            logger.warning("Could not take the secrets out of Meltano's run config %s (%s): a crash may leave "
                           "them on disk.", path, type(exc).__name__)
        else:
            rewritten.append(path)
    return rewritten
