"""Build each stand-in as served: its store, its app, and the recording/fault middleware around it.

The one place that knows the two apps' constructors; the CLI's server process and the pytest
fixtures both build their servers here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.common.middleware import SandboxMiddleware

EVENTMAKER = "eventmaker"
SALESFORCE = "salesforce"


@dataclass
class StandIn:
    name: str
    store: object  # EventmakerStore or the Salesforce store: load(), to_dict(), from_dict()
    app: SandboxMiddleware

    def snapshot(self) -> dict:
        return self.store.to_dict()


def eventmaker_stand_in(saved: dict | None = None) -> StandIn:
    from sandbox.eventmaker.app import EventmakerSettings, create_app
    from sandbox.eventmaker.store import EventmakerStore

    store = EventmakerStore.from_dict(saved) if saved else EventmakerStore()
    return StandIn(EVENTMAKER, store, SandboxMiddleware(create_app(store, EventmakerSettings())))


def salesforce_stand_in(saved: dict | None = None) -> StandIn:
    from sandbox.salesforce.app import create_app
    from sandbox.salesforce.store import SalesforceStore

    store = SalesforceStore.from_dict(saved) if saved else SalesforceStore()
    return StandIn(SALESFORCE, store, SandboxMiddleware(create_app(store, None)))


BUILDERS = {EVENTMAKER: eventmaker_stand_in, SALESFORCE: salesforce_stand_in}
