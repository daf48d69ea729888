"""Keep each stand-in's data in ``<dir>/<name>.json``: written atomically, on change and on shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

from sandbox.common.standins import StandIn

DEFAULT_SAVE_INTERVAL_SECONDS = 5.0


def data_file(directory: Path, name: str) -> Path:
    return directory / f"{name}.json"


def read_json(path: Path) -> dict | None:
    """The saved data, or ``None`` when there is none yet."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def write_json_atomically(path: Path, data) -> None:
    """Readers see the old file or the new one, never half of one (temp file + fsync + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as temp:
            json.dump(data, temp, ensure_ascii=False, separators=(",", ":"))
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


class Saver:
    """Saves each stand-in whose middleware saw a state-changing request since its last save."""

    def __init__(self, directory: Path, stand_ins: list[StandIn]) -> None:
        self.directory = directory
        self.stand_ins = stand_ins
        self._saved_at_change = {stand_in.name: stand_in.app.changes for stand_in in stand_ins}

    def save_changed(self) -> list[str]:
        saved = []
        for stand_in in self.stand_ins:
            changes = stand_in.app.changes
            if changes != self._saved_at_change[stand_in.name]:
                write_json_atomically(data_file(self.directory, stand_in.name), stand_in.snapshot())
                self._saved_at_change[stand_in.name] = changes
                saved.append(stand_in.name)
        return saved

    def save_all(self) -> None:
        for stand_in in self.stand_ins:
            write_json_atomically(data_file(self.directory, stand_in.name), stand_in.snapshot())
            self._saved_at_change[stand_in.name] = stand_in.app.changes

    async def run_periodically(self, interval: float = DEFAULT_SAVE_INTERVAL_SECONDS) -> None:
        while True:
            await asyncio.sleep(interval)
            self.save_changed()
