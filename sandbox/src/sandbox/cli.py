"""``sandbox``: start, stop, reset, seed and inspect the local Eventmaker and Salesforce stand-ins.

Data, logs, the CA bundle and the pid file live in ``.sandbox/`` under the current directory
(``SANDBOX_DIR``); ports 8765 / 8766 (``SANDBOX_EVENTMAKER_PORT`` / ``SANDBOX_SALESFORCE_PORT``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from sandbox.common.control import ControlClient, SandboxControlError
from sandbox.common.credentials import EVENTMAKER_AUTH_TOKEN, SALESFORCE_CREDENTIALS
from sandbox.common.daemon import Layout, serve
from sandbox.common.standins import EVENTMAKER, SALESFORCE

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 60


class CliError(Exception):
    """A failure the user can act on; printed without a traceback."""


# -- where the sandbox is, and whether it runs -------------------------------------------------------

def layout_from_env() -> Layout:
    def port(name: str, default: int) -> int:
        value = os.environ.get(name, str(default))
        if not value.isdigit():
            raise CliError(f"{name}={value!r} is not a port number")
        return int(value)

    return Layout(
        directory=Path(os.environ.get("SANDBOX_DIR", ".sandbox")).resolve(),
        eventmaker_port=port("SANDBOX_EVENTMAKER_PORT", 8765),
        salesforce_port=port("SANDBOX_SALESFORCE_PORT", 8766),
    )


def running_pid(layout: Layout) -> int | None:
    """The pid of this directory's sandbox process if it is alive (a stale ``running.json`` is removed)."""
    try:
        pid = json.loads(layout.running_file.read_text())["pid"]
    except (FileNotFoundError, ValueError, KeyError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        layout.running_file.unlink(missing_ok=True)
        return None
    except PermissionError:
        pass  # alive, owned by someone else
    return pid


def clients(layout: Layout) -> dict[str, ControlClient]:
    """Control clients of the running sandbox (URLs from ``running.json``, else from the layout)."""
    try:
        urls = json.loads(layout.running_file.read_text())
    except (FileNotFoundError, ValueError):
        urls = {}
    return {
        EVENTMAKER: ControlClient(urls.get(EVENTMAKER, layout.eventmaker_url)),
        SALESFORCE: ControlClient(urls.get(SALESFORCE, layout.salesforce_url), verify=str(layout.ca_pem)),
    }


def running_clients(layout: Layout) -> dict[str, ControlClient]:
    if running_pid(layout) is None:
        raise CliError(f"the sandbox is not running (no live process for {layout.directory}): run `sandbox up`")
    return clients(layout)


def port_is_free(port: int) -> bool:
    """Whether a server could listen there now (as uvicorn does: SO_REUSEADDR, so TIME_WAIT is fine)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# -- commands --------------------------------------------------------------------------------------

def cmd_up(layout: Layout, args) -> None:
    if running_pid(layout) is not None:
        print(f"sandbox already up: {layout.eventmaker_url} and {layout.salesforce_url} (data in {layout.directory})")
        return
    for variable, port in (("SANDBOX_EVENTMAKER_PORT", layout.eventmaker_port),
                           ("SANDBOX_SALESFORCE_PORT", layout.salesforce_port)):
        if not port_is_free(port):
            raise CliError(f"port {port} on 127.0.0.1 is busy (another program, or a sandbox of another "
                           f"directory); choose another one with {variable}=<port>")
    layout.directory.mkdir(parents=True, exist_ok=True)
    with layout.log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "SANDBOX_DIR": str(layout.directory),
                 "SANDBOX_EVENTMAKER_PORT": str(layout.eventmaker_port),
                 "SANDBOX_SALESFORCE_PORT": str(layout.salesforce_port)},
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not all(client.is_up() for client in clients(layout).values()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = layout.log_file.read_text(errors="replace")[-2000:]
            raise CliError(f"the sandbox did not start; end of {layout.log_file}:\n{tail}")
        time.sleep(0.1)
    print(f"sandbox up: Eventmaker {layout.eventmaker_url}, Salesforce {layout.salesforce_url} "
          f"(CA bundle {layout.ca_pem}, data in {layout.directory})")


def cmd_down(layout: Layout, args) -> None:
    pid = running_pid(layout)
    if pid is None:
        print("sandbox is not running")
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while running_pid(layout) is not None and layout.running_file.exists():
        if time.monotonic() > deadline:
            raise CliError(f"the sandbox (pid {pid}) did not stop within {STOP_TIMEOUT_SECONDS} s; see {layout.log_file}")
        time.sleep(0.1)
    print(f"sandbox down; data saved in {layout.directory}")


def cmd_serve(layout: Layout, args) -> None:
    layout.directory.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(layout))


def cmd_reset(layout: Layout, args) -> None:
    if running_pid(layout) is None:
        for name in (EVENTMAKER, SALESFORCE):
            layout.data_file(name).unlink(missing_ok=True)
    else:
        for client in clients(layout).values():
            client.reset()
    print("sandbox reset: no events or participants; Salesforce has only the sandbox campaign")


def cmd_seed(layout: Layout, args) -> None:
    from sandbox.seed import generate, summary_lines

    stand_ins = running_clients(layout)
    dataset = generate(participants=args.participants, events=args.events, seed=args.seed,
                       now=datetime.now(timezone.utc))
    if not args.append:
        for client in stand_ins.values():
            client.reset()
    stand_ins[SALESFORCE].load(dataset.salesforce)
    stand_ins[EVENTMAKER].load(dataset.eventmaker)
    print("added to the sandbox's data:" if args.append else
          "replaced the sandbox's data (issued Salesforce tokens stay valid):")
    for line in summary_lines(dataset):
        print(f"  {line}")
    print("The participants are stamped with the time of this seed, later than any earlier sync's bookmark: "
          "the next `meltano run sync` reads them all.")


def cmd_import_csv(layout: Layout, args) -> None:
    from sandbox.csv_import import CsvFileError, import_participants, read_csv_text

    eventmaker = running_clients(layout)[EVENTMAKER]
    url = f"{eventmaker.url}/api/v1/events/{args.event}/guests.json"

    def create_guest(guest: dict) -> dict:
        response = eventmaker.session.post(url, params={"auth_token": EVENTMAKER_AUTH_TOKEN}, json={"guest": guest})
        if response.status_code == 404:
            raise CliError(f"event {args.event} does not exist in the sandbox")
        if response.status_code != 201:
            body = response.json()
            raise ValueError(json.dumps(body.get("errors") or body.get("error") or body))
        return response.json()

    try:
        result = import_participants(read_csv_text(Path(args.file)), create_guest,
                                     default_category_id=args.category, into=args.into)
    except (CsvFileError, OSError) as exc:
        raise CliError(f"{args.file}: {exc}") from None
    if result.ignored_columns:
        print(f"ignored columns: {', '.join(result.ignored_columns)}")
    for error in result.errors:
        print(f"{args.file}: {error}", file=sys.stderr)
    print(f"imported {len(result.created)} participants into event {args.event}; {len(result.errors)} rows refused")
    if result.errors:
        raise SystemExit(1)


def status(layout: Layout) -> dict:
    """What a user or a script needs: URLs, credentials, CA bundle, running state and counters."""
    running = running_pid(layout) is not None
    stand_ins = clients(layout)
    report = {"running": running, "directory": str(layout.directory), "ca_bundle": str(layout.ca_pem)}
    credentials = {EVENTMAKER: {"auth_token": EVENTMAKER_AUTH_TOKEN},
                   SALESFORCE: {**SALESFORCE_CREDENTIALS, "login_url": stand_ins[SALESFORCE].url}}
    for name, client in stand_ins.items():
        up = running and client.is_up()
        report[name] = {"url": client.url, "running": up, "credentials": credentials[name],
                        "counters": client.counters() if up else None}
    return report


def cmd_status(layout: Layout, args) -> None:
    report = status(layout)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"sandbox {'running' if report['running'] else 'stopped'} (data in {report['directory']})")
    for name in (EVENTMAKER, SALESFORCE):
        part = report[name]
        total = part["counters"]["total"] if part["counters"] else "-"
        print(f"  {name:<10} {part['url']:<26} {'up' if part['running'] else 'down':<5} requests: {total}")
    print(f"  CA bundle  {report['ca_bundle']}")


def issue_tokens(salesforce: ControlClient) -> dict:
    """A fresh refresh token of the sandbox's connected app, and the session it logs in to (OAuth refresh grant)."""
    minted = salesforce.call("POST", "token")
    reply = salesforce.session.post(minted["token_url"], timeout=salesforce.timeout, data={
        "grant_type": "refresh_token", "refresh_token": minted["refresh_token"],
        "client_id": minted["client_id"], "client_secret": minted["client_secret"]})
    if reply.status_code != 200:
        raise CliError(f"the refresh token was refused: {reply.status_code} {reply.text[:300]}")
    login = reply.json()
    return {**minted, "access_token": login["access_token"], "instance_url": login["instance_url"],
            "id": login["id"]}


def cmd_token(layout: Layout, args) -> None:
    tokens = issue_tokens(running_clients(layout)[SALESFORCE])
    tokens["ca_bundle"] = str(layout.ca_pem)
    if args.json:
        print(json.dumps(tokens, indent=2))
        return
    for name in ("refresh_token", "access_token", "instance_url", "id", "token_url", "client_id", "client_secret",
                 "ca_bundle"):
        print(f"{name:<14} {tokens[name]}")


def _targets(layout: Layout, args) -> list[ControlClient]:
    stand_ins = running_clients(layout)
    return list(stand_ins.values()) if args.on == "both" else [stand_ins[args.on]]


def cmd_fault(layout: Layout, args) -> None:
    for client in _targets(layout, args):
        if args.clear:
            client.clear_faults()
        else:
            body = json.loads(args.body) if args.json_body else args.body
            client.inject_fault(args.match, count=args.count, status=args.status, body=body,
                                content_type=args.content_type, kind=args.kind, delay_ms=args.delay_ms)
    print("faults cleared" if args.clear else f"next {args.count} requests matching {args.match!r} will fail")


def cmd_config(layout: Layout, args) -> None:
    changes = {}
    for setting in args.settings:
        name, equals, value = setting.partition("=")
        if not equals:
            raise CliError(f"{setting!r}: settings are NAME=VALUE, e.g. ignore_refs_writes=true")
        try:
            changes[name] = json.loads(value)
        except ValueError:
            raise CliError(f"{setting!r}: the value must be JSON (true, false, a number, null)") from None
    client = running_clients(layout)[args.on]
    print(json.dumps(client.call("POST", "config", changes) if changes else client.call("GET", "config")))


def cmd_latency(layout: Layout, args) -> None:
    for client in _targets(layout, args):
        client.set_latency(args.ms)
    print(f"added latency: {args.ms} ms per request")


# -- argument parsing ------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="sandbox", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    command("up", cmd_up, "start both stand-ins in the background (no-op when already up)")
    command("down", cmd_down, "stop them, saving their data")
    command("serve", cmd_serve, "run both stand-ins in the foreground (what `up` starts)")
    command("reset", cmd_reset, "empty both stand-ins (Salesforce keeps the sandbox campaign)")
    seed = command("seed", cmd_seed, "generate realistic data and load it (replaces the data unless --append)")
    seed.add_argument("--participants", type=int, required=True)
    seed.add_argument("--events", type=int, default=3, help="events, each with its own Campaign (default 3)")
    seed.add_argument("--seed", type=int, default=0, help="same seed, same data")
    seed.add_argument("--append", action="store_true", help="keep existing data (use another --seed)")
    importer = command("import-csv", cmd_import_csv, "import participants from a CSV file into an event")
    importer.add_argument("file")
    importer.add_argument("--event", required=True, help="the Eventmaker event _id")
    importer.add_argument("--category", help="guest_category_id for rows without one")
    importer.add_argument("--into", choices=("third_party_applications_refs", "guest_metadata"),
                          default="third_party_applications_refs",
                          help="where the salesforce_* Id columns go: the refs entry (default) or custom fields "
                               "of those names (the pipeline's writeback_field / sync_state_field)")
    token = command("token", cmd_token, "issue a refresh token (and an access token) of the sandbox's connected "
                    "app; valid until revoked, across seed, reset and restarts")
    token.add_argument("--json", action="store_true")
    state = command("status", cmd_status, "URLs, credentials, CA bundle, running state, request counters")
    state.add_argument("--json", action="store_true")
    fault = command("fault", cmd_fault, "make the next requests matching 'METHOD path-regex' fail")
    fault.add_argument("match", nargs="?", default="* .*")
    fault.add_argument("--on", choices=(EVENTMAKER, SALESFORCE, "both"), default="both")
    fault.add_argument("--count", type=int, default=1)
    fault.add_argument("--status", type=int, default=500)
    fault.add_argument("--body")
    fault.add_argument("--json-body", action="store_true", help="parse --body as JSON")
    fault.add_argument("--content-type")
    fault.add_argument("--kind", choices=("http", "reset", "delay"), default="http")
    fault.add_argument("--delay-ms", type=float, default=0)
    fault.add_argument("--clear", action="store_true", help="remove every pending fault instead")
    config = command("config", cmd_config, "show or change a stand-in's live settings, e.g. "
                     "`sandbox config --on eventmaker ignore_refs_writes=true`")
    config.add_argument("settings", nargs="*", metavar="NAME=VALUE")
    config.add_argument("--on", choices=(EVENTMAKER, SALESFORCE), default=EVENTMAKER)
    latency = command("latency", cmd_latency, "add MS milliseconds to every request (0 to stop)")
    latency.add_argument("ms", type=float)
    latency.add_argument("--on", choices=(EVENTMAKER, SALESFORCE, "both"), default="both")
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        args.handler(layout_from_env(), args)
    except (CliError, SandboxControlError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except requests.ConnectionError as exc:
        print(f"sandbox: cannot reach the sandbox ({exc.__class__.__name__}); is it up? try `sandbox status`",
              file=sys.stderr)
        raise SystemExit(1) from None
