"""Before a pipeline starts: can its APIs be reached at all? One clear line instead of a traceback.

A TCP connection is tried a few times (bounded, a few seconds in all): no HTTP request is sent, so
nothing is counted or logged by the APIs. Settings come from the plugin's own variable when set
(what Meltano would use), else from `meltano config print`.
"""

from __future__ import annotations

import json
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from .filters import env_prefix

ATTEMPTS = 3
CONNECT_TIMEOUT = 2.0
WAITS = (0.5, 1.0)  # between attempts
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
URL_SETTINGS = {"extractor": ("api_url", "Eventmaker API"), "loader": ("login_url", "Salesforce login")}


class Unreachable(RuntimeError):
    """An API of the pipeline refused or ignored every connection attempt."""


def plugin_setting(meltano, plugin: str, setting: str) -> str | None:
    """A plugin's setting as Meltano resolves it."""
    if value := os.environ.get(f"{env_prefix(plugin)}_{setting.upper()}"):
        return value
    finished = meltano.run(["config", "print", plugin, "--format", "json"], {}, keep_stdout=True)
    try:
        return json.loads(finished.stdout or "{}").get(setting)
    except json.JSONDecodeError:
        return None


def connect_error(url: str) -> str | None:
    """Why `url`'s host and port take no TCP connection after the bounded retries; None once one does."""
    parts = urlsplit(url)
    if not parts.hostname:
        return f"{url!r} is not a URL"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    reason = ""
    for attempt in range(ATTEMPTS):
        try:
            with socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT):
                return None
        except OSError as error:
            reason = error.strerror or type(error).__name__
        if attempt < len(WAITS):
            time.sleep(WAITS[attempt])
    return f"{reason.lower() or 'no answer'} after {ATTEMPTS} tries"


def check_pipeline(meltano, extractor: str, loader: str | None) -> None:
    """Raise `Unreachable` (one line: which API, which URL, what to do) when an API of the pipeline is down."""
    checks = [(extractor, *URL_SETTINGS["extractor"])]
    if loader and loader.startswith("target-salesforce-campaign"):
        checks.append((loader, *URL_SETTINGS["loader"]))
    with ThreadPoolExecutor(len(checks)) as pool:
        urls = list(pool.map(lambda check: plugin_setting(meltano, check[0], check[1]), checks))
    for (plugin, _, label), url in zip(checks, urls):
        if not url:
            continue
        if error := connect_error(url):
            local = (urlsplit(url).hostname or "") in LOCAL_HOSTS
            todo = ("the local sandbox is not running there: run `sandbox up` (after `. scripts/activate`) or "
                    "`make demo`") if local else f"check {plugin}'s setting and the network"
            raise Unreachable(f"{label} at {url} cannot be reached ({error}); {todo}")
