"""The process behind ``sandbox up``: both stand-ins on one event loop, their data saved in the data dir.

``sandbox serve`` runs it in the foreground; ``sandbox up`` starts it detached. It writes
``running.json`` (pid and URLs) while it runs, saves each store when it changed (every few seconds)
and on SIGTERM/SIGINT, then exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from sandbox.common.persistence import DEFAULT_SAVE_INTERVAL_SECONDS, Saver, data_file, read_json
from sandbox.common.server import uvicorn_config
from sandbox.common.standins import BUILDERS, EVENTMAKER, SALESFORCE
from sandbox.common.tls import ensure_tls_files


@dataclass(frozen=True)
class Layout:
    """Where a sandbox keeps its files, and on which ports it serves."""

    directory: Path
    eventmaker_port: int
    salesforce_port: int

    @property
    def eventmaker_url(self) -> str:
        return f"http://127.0.0.1:{self.eventmaker_port}"

    @property
    def salesforce_url(self) -> str:
        return f"https://127.0.0.1:{self.salesforce_port}"

    @property
    def running_file(self) -> Path:
        return self.directory / "running.json"

    @property
    def log_file(self) -> Path:
        return self.directory / "sandbox.log"

    @property
    def ca_pem(self) -> Path:
        return self.directory / "ca.pem"

    def data_file(self, name: str) -> Path:
        return data_file(self.directory, name)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the daemon, which stops both servers together."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


async def serve(layout: Layout, save_interval: float = DEFAULT_SAVE_INTERVAL_SECONDS) -> None:
    tls = ensure_tls_files(layout.directory)
    stand_ins = [BUILDERS[name](read_json(layout.data_file(name))) for name in (EVENTMAKER, SALESFORCE)]
    servers = [
        _Server(uvicorn_config(stand_ins[0].app, layout.eventmaker_port)),
        _Server(uvicorn_config(stand_ins[1].app, layout.salesforce_port, tls.server_pem)),
    ]
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, lambda: [setattr(server, "should_exit", True) for server in servers])
    saver = Saver(layout.directory, stand_ins)
    saving = asyncio.create_task(saver.run_periodically(save_interval))
    layout.running_file.write_text(json.dumps({
        "pid": os.getpid(), EVENTMAKER: layout.eventmaker_url, SALESFORCE: layout.salesforce_url,
    }))
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        saving.cancel()
        saver.save_all()
        layout.running_file.unlink(missing_ok=True)
