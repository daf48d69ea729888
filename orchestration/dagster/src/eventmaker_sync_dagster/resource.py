"""The Meltano project as a Dagster resource: runs the project's own `meltano` CLI in a subprocess.

Each run gets its own Meltano system directory (`MELTANO_SYS_DIR_ROOT`), so its run directory
(`run/<plugin>/`: catalog, config, incoming state) is its own (meltano#8763); the installed plugin
virtualenvs of the project's `.meltano/` are linked in. Every run shares the one system database
(`database_uri`: the run history and the RUNNING guard) and the project's state backend.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from .commands import MeltanoCommand, checked
from .logs import RunLog

PLUGIN_KINDS = ("extractors", "loaders", "utilities", "mappers", "transformers", "orchestrators", "files")
PROJECT_ROOT_ENV = "MELTANO_PROJECT_ROOT"


def default_project_root() -> str:
    """`MELTANO_PROJECT_ROOT`, else the repository this package sits in (an editable install)."""
    if os.environ.get(PROJECT_ROOT_ENV):
        return os.environ[PROJECT_ROOT_ENV]
    for parent in Path(__file__).resolve().parents:
        if (parent / "meltano.yml").is_file():
            return str(parent)
    return os.getcwd()


@dataclass(frozen=True)
class MeltanoResult:
    """A finished `meltano` process: exit code, what it logged, its stdout lines."""

    returncode: int
    log: RunLog
    stdout: list[str]

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def link_installed_plugins(project_meltano_dir: Path, system_dir: Path) -> None:
    """Make `system_dir` a Meltano system directory using the project's installed plugins."""
    system_dir.mkdir(parents=True, exist_ok=True)
    for kind in PLUGIN_KINDS:
        source = project_meltano_dir / kind
        if source.is_dir():
            (system_dir / kind).symlink_to(source.resolve(), target_is_directory=True)


class MeltanoProject(ConfigurableResource):
    """This repository's Meltano project, driven through its CLI (the main virtualenv's `meltano`)."""

    project_root: str | None = Field(None, description="Directory of meltano.yml (default: MELTANO_PROJECT_ROOT or this checkout)")
    executable: str | None = Field(None, description="meltano CLI (default: <project_root>/.venv/bin/meltano)")
    environment: str | None = Field(None, description="Meltano environment (default: MELTANO_ENVIRONMENT or meltano.yml's)")
    database_uri: str | None = Field(
        None, description="Shared system database (default: MELTANO_DATABASE_URI or <project_root>/.meltano/meltano.db)")
    state_backend_uri: str | None = Field(None, description="State backend (default: MELTANO_STATE_BACKEND_URI or meltano.yml's)")
    runs_dir: str | None = Field(None, description="Where per-run system directories go (default: <project_root>/.meltano/dagster-runs)")
    env: dict[str, str] = Field(default={}, description="Extra environment for every meltano process")
    timeout_seconds: int = Field(6 * 3600, description="A run still going after this long is stopped")

    @property
    def root(self) -> Path:
        return Path(self.project_root or default_project_root()).resolve()

    def export_dir(self) -> Path:
        """Where target-csv writes (meltano.yml: `${MELTANO_PROJECT_ROOT}/output`, unless overridden)."""
        override = {**os.environ, **self.env}.get("TARGET_CSV_OUTPUT_PATH")
        return Path(override) if override else self.root / "output"

    def process_env(self, system_dir: Path) -> dict[str, str]:
        """The environment of one `meltano` process using `system_dir` as its system directory."""
        env = {**os.environ, **self.env}
        database = self.database_uri or env.get("MELTANO_DATABASE_URI") or f"sqlite:///{self.root / '.meltano' / 'meltano.db'}"
        env.update({
            PROJECT_ROOT_ENV: str(self.root),
            "MELTANO_SYS_DIR_ROOT": str(system_dir),
            "MELTANO_DATABASE_URI": database,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        })
        if self.environment:
            env["MELTANO_ENVIRONMENT"] = self.environment
        if self.state_backend_uri:
            env["MELTANO_STATE_BACKEND_URI"] = self.state_backend_uri
        env.setdefault("XDG_STATE_HOME", str(self.root / ".meltano" / "user-state"))  # as the Makefile
        return env

    @contextmanager
    def system_dir(self, label: str) -> Iterator[Path]:
        """A fresh system directory for one run, removed afterwards (its run files hold config)."""
        base = Path(self.runs_dir) if self.runs_dir else self.root / ".meltano" / "dagster-runs"
        base.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=base))
        try:
            link_installed_plugins(self.root / ".meltano", directory)
            yield directory
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def command_line(self, command: MeltanoCommand) -> list[str]:
        executable = self.executable or str(self.root / ".venv" / "bin" / "meltano")
        return [executable, "--log-format", "json", *checked(command.args)]

    def execute(self, command: MeltanoCommand, label: str, on_line: Callable[[str], None] | None = None) -> MeltanoResult:
        """Run `command` to its end in its own system directory; `on_line` sees each stderr line."""
        log, stdout = RunLog(), []
        with self.system_dir(label) as directory:
            process = subprocess.Popen(
                self.command_line(command), cwd=self.root, env={**self.process_env(directory), **command.env},
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                encoding="utf-8", errors="replace",
            )
            reader = threading.Thread(target=lambda: stdout.extend(process.stdout), daemon=True)
            reader.start()
            timer = threading.Timer(self.timeout_seconds, process.terminate)
            timer.start()
            try:
                for line in process.stderr:
                    log.feed(line)
                    if on_line:
                        on_line(line)
                returncode = process.wait()
            finally:
                timer.cancel()
                if process.poll() is None:
                    process.terminate()
                    process.wait()
            reader.join()
        return MeltanoResult(returncode, log, stdout)
