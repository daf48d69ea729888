"""A no-op Singer target for the SDK floor: validates and batches records like any SDK target, writes nothing."""

from __future__ import annotations

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink


class DiscardSink(BatchSink):
    """Receives batches and drops them."""

    def process_batch(self, context: dict) -> None:
        """Nothing to write."""


class NoopTarget(Target):
    name = "target-noop"
    config_jsonschema = th.PropertiesList().to_dict()
    default_sink_class = DiscardSink


if __name__ == "__main__":
    NoopTarget.cli()
