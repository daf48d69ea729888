"""tap-eventmaker: Eventmaker events and participants, with their Salesforce sync state."""

from __future__ import annotations

import typing as t

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities

from tap_eventmaker import log_redaction, run_config, streams, sync_state
from tap_eventmaker.client import (
    DEFAULT_MAX_TRIES,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_BACKOFF_SECONDS,
    MAX_PAGE_SIZE,
)
from tap_eventmaker.read_plan import DEFAULT_CLOCK_SKEW_MARGIN_SECONDS, DEFAULT_FULL_PASS_INTERVAL_HOURS
from tap_eventmaker.selection import SYNC_STATUS_VALUES, ParticipantSelection

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

CONFIG_ARGS = "tap_eventmaker.config_args"  # click context meta key: the raw --config values
STREAM_TYPES = (streams.EventsStream, streams.GuestCategoriesStream, streams.GuestsStream)
SYNC_STATUS = th.StringType(allowed_values=list(SYNC_STATUS_VALUES))


class TapEventmaker(Tap):
    """Singer tap for the Eventmaker REST API v1."""

    name = "tap-eventmaker"
    package_name = "tap-eventmaker"

    capabilities: t.ClassVar[list] = [
        PluginCapabilities.ABOUT,
        TapCapabilities.DISCOVER,
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_url",
            th.StringType,
            default="https://app.eventmaker.io",
            description="Eventmaker root URL; the tap calls <api_url>/api/v1/....json.",
        ),
        th.Property(
            "auth_token",
            th.StringType,
            required=True,
            secret=True,
            description="API token of an Eventmaker user (profile page), sent as auth_token.",
        ),
        th.Property(
            "event_ids",
            th.ArrayType(th.StringType),
            default=[],
            description="Ids of the events to read; empty reads every event the token can see.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Read only participants updated at or after this time on a first run.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
            default=MAX_PAGE_SIZE,
            description=f"Records per page (per_page); the API's cap is {MAX_PAGE_SIZE}.",
        ),
        th.Property(
            "include_guest_metadata",
            th.BooleanType,
            default=False,
            description="Also read participants' custom fields (guest_metadata); larger pages.",
        ),
        th.Property(
            "sync_state_field",
            th.StringType(allowed_values=list(sync_state.STATE_FIELDS)),
            default=sync_state.REFS_FIELD,
            description=(
                "Where participants keep their Salesforce sync state: the third_party_applications_refs "
                "object, or guest_metadata custom fields salesforce_<key> (read with guest_metadata=true). "
                "Must match the target's writeback_field."
            ),
        ),
        th.Property(
            "participant_uids",
            th.ArrayType(th.StringType),
            default=[],
            description=(
                "Read only these participants (by uid, one API call each). Filtered runs read "
                "in full, ignore bookmarks and never move one."
            ),
        ),
        th.Property(
            "search",
            th.StringType,
            description=(
                "Eventmaker search query passed to the API as search=..., e.g. "
                "'status:registered'. Makes the run a filtered run."
            ),
        ),
        th.Property(
            "sync_status",
            th.OneOf(SYNC_STATUS, th.ArrayType(SYNC_STATUS)),
            description=(
                "Read only participants with this Salesforce sync status, or with every status "
                "of a list: synced (at least once), error (last sync failed), never (neither, "
                "so alone). ['synced', 'error'] = synced before and failed since. Evaluated by "
                "the tap; makes the run a filtered run."
            ),
        ),
        th.Property(
            "full_pass_interval_hours",
            th.NumberType(minimum=0),
            default=DEFAULT_FULL_PASS_INTERVAL_HOURS,
            description=(
                "Read each event in full (from start_date) when its last full pass is this old, "
                "to find participants whose updated_at is older than the bookmark (imports keeping "
                "their dates). 0 = every run."
            ),
        ),
        th.Property(
            "clock_skew_margin_seconds",
            th.NumberType(minimum=0),
            default=DEFAULT_CLOCK_SKEW_MARGIN_SECONDS,
            description=(
                "A run reads participants updated until its start minus this margin, and leaves "
                "later changes to the next run; must exceed the clock difference with Eventmaker."
            ),
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(minimum=1),
            default=DEFAULT_REQUEST_TIMEOUT,
            description="Seconds to wait for each API response before retrying.",
        ),
        th.Property(
            "max_tries",
            th.IntegerType(minimum=1),
            default=DEFAULT_MAX_TRIES,
            description="Attempts per request (the first included) on 429, 5xx, timeouts and connection errors.",
        ),
        th.Property(
            "retry_backoff_seconds",
            th.NumberType(minimum=0),
            default=DEFAULT_RETRY_BACKOFF_SECONDS,
            description="Wait before the first retry; doubled for each further retry (with jitter).",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up as the SDK does, then keep the auth token out of every log line of the process."""
        super().__init__(*args, **kwargs)
        log_redaction.install(self.config.get("auth_token"))

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:  # noqa: ANN401
        """Read the config files as the SDK does, and remember their paths for ``invoke``."""
        config = super().cb_config(ctx, param, value)
        ctx.meta[CONFIG_ARGS] = value
        return config

    @classmethod
    def invoke(cls, *, about: bool = False, **kwargs: t.Any) -> None:
        """Run the sync as the SDK does, first taking the secrets out of Meltano's run config files.

        Click calls this only once the config is read, and never for ``--discover``/``--test``
        (their callbacks exit before); ``--about`` exits in the SDK's ``invoke``.
        """
        if not about:
            config_args = click.get_current_context().meta.get(CONFIG_ARGS, ())
            run_config.protect_run_files(config_args, run_config.secret_settings(cls.config_jsonschema))
        super().invoke(about=about, **kwargs)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Check the settings against the schema, then the selection rules it cannot state.

        A selection that cannot be built fails even with validation off: no stream could be built.
        """
        errors = super()._validate_config(raise_errors=raise_errors)
        if not errors:
            try:
                ParticipantSelection.from_config(self.config)
            except ValueError as error:
                raise ConfigValidationError("Config validation failed", errors=[str(error)]) from error
        return errors

    def discover_streams(self) -> list[Stream]:
        """Return one instance of each stream."""
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]


if __name__ == "__main__":
    TapEventmaker.cli()
