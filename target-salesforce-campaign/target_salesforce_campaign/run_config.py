"""Meltano's run config file of this target, which holds every secret setting (issue 10 class 3).

Meltano 4 writes `.meltano/run/<plugin>/target.<uuid>.config.json` with the process umask (0644)
before starting the target, and deletes it only when the run ends normally: a killed `meltano run`
leaves it behind, readable by every user. Meltano reads it never again and its cleanup only unlinks
it, so once the target has read its config it rewrites the file without the secret settings, owner
only (0600), and makes Meltano's run directories private (0700), which also shields the tap's file
in `.meltano/run/<tap>/` from other users from then on. Files outside a Meltano run directory (a
config the user passes by hand) are never touched.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

MELTANO_RUN_FILE = re.compile(r"^target\.[0-9a-f-]{8,}\.config\.json$")
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def config_paths(argv: list[str]) -> list[Path]:
    """The `--config` paths of a command line (`--config P` and `--config=P`; `ENV` is not a path)."""
    paths = []
    for index, arg in enumerate(argv):
        value = argv[index + 1] if arg == "--config" and index + 1 < len(argv) else None
        value = arg.split("=", 1)[1] if arg.startswith("--config=") else value
        if value and value != "ENV":
            paths.append(Path(value))
    return paths


def is_meltano_run_file(path: Path) -> bool:
    """True for the file Meltano generated for this run (`.../run/<plugin>/target.<uuid>.config.json`)."""
    return bool(MELTANO_RUN_FILE.match(path.name)) and path.parent.parent.name == "run"


def scrub(path: Path, secret_keys: Iterable[str]) -> None:
    """Make the run directories 0700, then replace the file by its secret-free copy, 0600."""
    for directory in (path.parent.parent, path.parent):
        os.chmod(directory, PRIVATE_DIR)
    config = json.loads(path.read_text(encoding="utf-8"))
    secret_keys = set(secret_keys)
    kept = {key: value for key, value in config.items() if key not in secret_keys}
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(kept, file, indent=2)
    os.replace(temporary, path)


def scrub_meltano_run_files(argv: list[str], secret_keys: Iterable[str]) -> list[Path]:
    """Scrub every Meltano run config file named on the command line; return them."""
    found = [path for path in config_paths(argv) if is_meltano_run_file(path) and path.is_file()]
    keys = list(secret_keys)
    for path in found:
        scrub(path, keys)
    return found
