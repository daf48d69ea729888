"""A private PostgreSQL cluster (Debian's `postgresql` binaries) in a temp dir, on a free port.

Used as Meltano's system database by the Dagster tests and by benchmarks/scale_out.py. PostgreSQL
refuses to run as root: as root the cluster runs as Debian's `postgres` account.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_USER = "postgres"
SUPERUSER = "meltano"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bindir() -> Path:
    """The newest installed server's binaries (`apt-get install postgresql`; `make postgresql`)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql (make postgresql)")
    return found[0].parent


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *args] if os.geteuid() == 0 else args


@contextmanager
def private_postgres() -> Iterator[str]:
    """Start a cluster for the block; yields the SQLAlchemy URI of its `meltano` database."""
    binaries, port = bindir(), free_port()
    directory = Path(tempfile.mkdtemp(prefix="eventmaker-pg-"))
    directory.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(directory, PG_USER)
    data = directory / "data"

    def run(*args: str) -> None:
        subprocess.run(_as_server_user([str(binaries / args[0]), *args[1:]]), check=True, capture_output=True,
                       timeout=120)

    run("initdb", "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    run("pg_ctl", "-D", str(data), "-l", str(directory / "server.log"), "-o", options, "-w", "start")
    try:
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, "meltano")
        yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/meltano"
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(directory, ignore_errors=True)


def psql(uri: str, query: str) -> list[list[str]]:
    """Rows of `query` (tab-separated text) on the database of `uri`."""
    host_port, database = uri.split("@", 1)[1].split("/", 1)
    host, port = host_port.split(":")
    result = subprocess.run(["psql", "-h", host, "-p", port, "-U", SUPERUSER, "-d", database, "-At", "-F", "\t",
                             "-c", query], check=True, capture_output=True, text=True, timeout=60)
    return [line.split("\t") for line in result.stdout.splitlines() if line]
