"""Meltano's run config files, which hold every secret setting (issue 10 class 3).

Meltano 4 writes `.meltano/run/<plugin>/{tap,target}.<uuid>.config.json` with the process umask
(0644) before starting the plugins, and deletes them only when the run ends normally: a killed
`meltano run` leaves them behind, readable by every user. Meltano reads them never again and its
cleanup only unlinks them, so:
- once the target has read its config, it rewrites its file without the secret settings, owner only
  (0600), and makes Meltano's run directories private (0700);
- once the tap's first message arrives (the tap has then read its config, after its discovery run
  that needs the same file), the target does the same to the tap's file(s) in
  `.meltano/run/$MELTANO_EXTRACTOR_NAME/`, removing the settings whose value is the tap's token;
  only the file(s) our sibling tap process was started with (this run's: two runs of one tap plugin
  share its run dir, and the other run's tap may not have read its file yet).
Files outside a Meltano run directory (a config the user passes by hand) are never touched.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

MELTANO_RUN_FILE = re.compile(r"^(?P<kind>tap|target)\.[0-9a-f-]{8,}\.config\.json$")
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600

logger = logging.getLogger(__name__)


def config_paths(argv: list[str]) -> list[Path]:
    """The `--config` paths of a command line (`--config P` and `--config=P`; `ENV` is not a path)."""
    paths = []
    for index, arg in enumerate(argv):
        value = argv[index + 1] if arg == "--config" and index + 1 < len(argv) else None
        value = arg.split("=", 1)[1] if arg.startswith("--config=") else value
        if value and value != "ENV":
            paths.append(Path(value))
    return paths


def is_meltano_run_file(path: Path, kind: str = "target") -> bool:
    """True for a file Meltano generated for a run (`.../run/<plugin>/<kind>.<uuid>.config.json`)."""
    match = MELTANO_RUN_FILE.match(path.name)
    return bool(match) and match["kind"] == kind and path.parent.parent.name == "run"


def scrub(path: Path, secret_keys: Iterable[str] = (), secret_values: Iterable[str] = ()) -> None:
    """Make the run directories 0700, then replace the file by a copy without the secret keys and
    values, 0600. A file that cannot be scrubbed is reported, never a reason to stop the run."""
    try:
        _scrub(path, secret_keys, secret_values)
    except (OSError, ValueError) as exc:
        logger.warning("Could not remove the secrets from Meltano's run config %s (%s): it may outlive a crash.",
                       path, type(exc).__name__)


def _scrub(path: Path, secret_keys: Iterable[str], secret_values: Iterable[str]) -> None:
    for directory in (path.parent.parent, path.parent):
        os.chmod(directory, PRIVATE_DIR)
    config = json.loads(path.read_text(encoding="utf-8"))
    secret_keys, secret_values = set(secret_keys), set(secret_values)
    kept = {key: value for key, value in config.items()
            if key not in secret_keys and not (isinstance(value, str) and value in secret_values)}
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(kept, file, indent=2)
    os.replace(temporary, path)


def scrub_meltano_run_files(argv: list[str], secret_keys: Iterable[str]) -> list[Path]:
    """Scrub every Meltano run config file of the target named on the command line; return them."""
    found = [path for path in config_paths(argv) if is_meltano_run_file(path) and path.is_file()]
    keys = list(secret_keys)
    for path in found:
        scrub(path, keys)
    return found


def sibling_config_paths(proc: Path = Path("/proc")) -> list[Path]:
    """The `--config` paths of the other children of our parent process (Meltano runs the tap and
    the target as siblings), read from /proc; empty where /proc is not there."""
    parent, paths = os.getppid(), []
    for entry in proc.glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != parent or int(entry.name) == os.getpid():
                continue
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile, or is not ours to read
        paths.extend(config_paths(argv))
    return paths


def scrub_tap_run_files(own_files: list[Path], extractor: str | None, token_values: Iterable[str],
                        tap_configs: Iterable[Path]) -> list[Path]:
    """Scrub the tap's run config files of this run: those our sibling tap process was started with
    (never another run's, whose tap may not have read its file yet), in the run dir next to ours."""
    if not own_files or not extractor or "/" in extractor or extractor in (".", ".."):
        return []
    directory = (own_files[0].parent.parent / extractor).resolve()
    found = [path for path in tap_configs
             if is_meltano_run_file(path, "tap") and path.resolve().parent == directory and path.is_file()]
    values = [v for v in token_values if v]
    for path in found:
        scrub(path, secret_values=values)
    return found


class RunFiles:
    """This run's Meltano config files: ours scrubbed at once, the tap's when `tap_started` says so."""

    def __init__(self, argv: list[str], secret_keys: Iterable[str]) -> None:
        self.own = scrub_meltano_run_files(argv, secret_keys)
        self._tap_done = False

    def tap_started(self, extractor: str | None, token_values: Iterable[str | None]) -> None:
        """The tap's first message arrived: scrub its file(s), once."""
        if not self._tap_done:
            self._tap_done = True
            scrub_tap_run_files(self.own, extractor, [v for v in token_values if v], sibling_config_paths())
