"""Run this project's real `meltano` against sandbox stand-ins, isolated from every other run.

Used by the end-to-end and resilience suites and by the benchmark. An isolated run keeps all its
files under one work directory (see `WorkDir`): its own Meltano system directory (run files and
catalogs, system database; the plugin virtualenvs that `meltano install` put in the project's
`.meltano/` are linked in), state backend, log directory (XDG_STATE_HOME) and CSV output. A shared
`.meltano/run/<plugin>/` would let concurrent runs (other suites, benchmarks, the user's demo)
overwrite each other's catalog and config mid-run (meltano#8763).

    env = isolated_env(PROJECT, work, StandIns(eventmaker_url, salesforce_url, ca_bundle))
    subprocess.run(["meltano", "run", "sync"], cwd=PROJECT, env=env)

Every plugin of meltano.yml is pointed at the stand-ins, the inherited copies included: each reads
only its own environment prefix (`TAP_EVENTMAKER__RESEND_API_URL`, ...), not its parent's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from meltano.core.utils import to_env_var  # Meltano's own setting -> environment variable rule

from sandbox.common.credentials import EVENTMAKER_AUTH_TOKEN

PLUGIN_DIRS = ("extractors", "loaders", "utilities")
TAPS = ("tap-eventmaker", "tap-eventmaker--resend", "tap-eventmaker--dry-run", "tap-eventmaker--export")
TARGETS = ("target-salesforce-campaign", "target-salesforce-campaign--resend", "target-salesforce-campaign--dry-run")
CSV_TARGET = "target-csv"
SALESFORCE_LOGIN_SETTINGS = ("username", "password", "security_token", "client_id", "client_secret")


@dataclass(frozen=True)
class StandIns:
    """Where the two stand-ins listen and what they accept.

    `salesforce_credentials` may be a fixture's `.credentials`: only its login settings
    (`SALESFORCE_LOGIN_SETTINGS`) are used; left out, the sandbox environment's own apply, as does
    meltano.yml's sandbox campaign when `campaign_id` is None.
    """

    eventmaker_url: str
    salesforce_url: str
    ca_bundle: str | Path
    eventmaker_auth_token: str = EVENTMAKER_AUTH_TOKEN
    salesforce_credentials: Mapping[str, str] = field(default_factory=dict)
    campaign_id: str | None = None


@dataclass(frozen=True)
class WorkDir:
    """The files of an isolated run, all under `path`."""

    path: Path

    @property
    def system_dir(self) -> Path:
        return self.path / "meltano-sys"

    @property
    def database(self) -> Path:
        return self.system_dir / "meltano.db"

    @property
    def state_dir(self) -> Path:
        """The state backend: `<state_dir>/<state id>/state.json`."""
        return self.path / "state"

    @property
    def log_home(self) -> Path:
        return self.path / "xdg-state"

    @property
    def output_dir(self) -> Path:
        """Where target-csv writes exports."""
        return self.path / "output"


def link_plugin_venvs(project_root: Path, system_dir: Path) -> None:
    """Create `system_dir` with the project's installed plugin virtualenvs linked in (idempotent)."""
    system_dir.mkdir(parents=True, exist_ok=True)
    for kind in PLUGIN_DIRS:
        installed, link = project_root / ".meltano" / kind, system_dir / kind
        if installed.is_dir() and not link.exists():
            link.symlink_to(installed, target_is_directory=True)


def plugin_settings(stand_ins: StandIns, output_dir: Path) -> dict[str, str]:
    """Environment settings pointing every tap and target of meltano.yml at the stand-ins (pure)."""
    env = {}
    for tap in TAPS:
        env.update({to_env_var(tap, "api_url"): stand_ins.eventmaker_url,
                    to_env_var(tap, "auth_token"): stand_ins.eventmaker_auth_token})
    logins = {name: value for name, value in stand_ins.salesforce_credentials.items()
              if name in SALESFORCE_LOGIN_SETTINGS}
    # A fixture's one campaign replaces meltano.yml's per-event campaigns (the two ways do not combine).
    campaign = ({"campaign_id": stand_ins.campaign_id, "campaign_event_field": "", "create_missing_campaigns": "false"}
                if stand_ins.campaign_id else {})
    for target in TARGETS:
        target_settings = {
            "login_url": stand_ins.salesforce_url,
            "ca_bundle": str(stand_ins.ca_bundle),
            "eventmaker_api_url": stand_ins.eventmaker_url,
            "eventmaker_auth_token": stand_ins.eventmaker_auth_token,
            **logins,
            **campaign,
        }
        env.update({to_env_var(target, name): value for name, value in target_settings.items()})
    env[to_env_var(CSV_TARGET, "output_path")] = str(output_dir)
    return env


def isolated_env(project_root: Path, work: Path, stand_ins: StandIns,
                 base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment for `meltano` in `project_root`, isolated under `work`, on the stand-ins.

    `base` (default: this process's environment) is kept apart from Meltano's own locations; the
    project's `.venv/bin` comes first on PATH. Prepares `work` (the system dir and its links).
    """
    files = WorkDir(work)
    link_plugin_venvs(project_root, files.system_dir)
    base = os.environ if base is None else base
    return {
        **base,
        "PATH": os.pathsep.join([str(project_root / ".venv" / "bin"), base.get("PATH", "")]),
        "MELTANO_ENVIRONMENT": "sandbox",
        "MELTANO_SYS_DIR_ROOT": str(files.system_dir),
        "MELTANO_DATABASE_URI": f"sqlite:///{files.database}",
        "MELTANO_STATE_BACKEND_URI": f"file://{files.state_dir}",
        "XDG_STATE_HOME": str(files.log_home),
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        **plugin_settings(stand_ins, files.output_dir),
    }
