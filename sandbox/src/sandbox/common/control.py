"""A client of the control path (``/__sandbox/...``, contracts §3), shared by the CLI and the fixtures."""

from __future__ import annotations

import requests

CONTROL = "/__sandbox"


class SandboxControlError(RuntimeError):
    """The stand-in refused a control request; the message carries its answer."""


class ControlClient:
    """Talks to one running stand-in's control routes."""

    def __init__(self, url: str, *, verify: str | bool = True, timeout: float = 120.0) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.verify = verify
        self.session.trust_env = False  # 127.0.0.1 only: no proxy, and our CA whatever REQUESTS_CA_BUNDLE says
        self.timeout = timeout

    def call(self, method: str, name: str, body=None):
        response = self.session.request(method, f"{self.url}{CONTROL}/{name}", json=body, timeout=self.timeout)
        if response.status_code >= 400:
            raise SandboxControlError(f"{method} {CONTROL}/{name} -> {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def is_up(self) -> bool:
        try:
            self.session.get(f"{self.url}{CONTROL}/counters", timeout=1).raise_for_status()
        except requests.RequestException:
            return False
        return True

    def requests(self) -> list[dict]:
        return self.call("GET", "requests")

    def counters(self) -> dict:
        return self.call("GET", "counters")

    def clear_requests(self) -> None:
        self.call("DELETE", "requests")

    def inject_fault(self, match: str, count: int = 1, status: int = 500, body=None, content_type: str | None = None,
                     kind: str = "http", delay_ms: float = 0, headers: dict | None = None) -> dict:
        spec = {"match": match, "count": count, "status": status, "body": body, "content_type": content_type,
                "kind": kind, "delay_ms": delay_ms, "headers": headers}
        return self.call("POST", "faults", spec)

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def set_latency(self, ms: float) -> None:
        self.call("POST", "latency", {"ms": ms})

    def load(self, payload: dict) -> dict:
        return self.call("POST", "load", payload)

    def snapshot(self) -> dict:
        return self.call("GET", "snapshot")

    def reset(self) -> None:
        self.call("POST", "reset")

    def close(self) -> None:
        self.session.close()
