"""`sync-monitor`: the commands behind `meltano invoke sync-monitor:<command>`.

Results go to stdout; the `meltano` runs started here show their log lines (and a progress bar on a
terminal) on stderr.
"""

from __future__ import annotations

import csv
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from . import checks, runs
from .checks import parse_time
from .display import pipeline_display
from .error_guide import load_guides
from .filters import SYNC_STATUSES, ParticipantFilter
from .logs import find_run_log
from .meltano import Meltano, MeltanoFailed, parse_trigger, plan_run
from .outcome import nobody_text, run_error, run_lines
from .participants import COLUMNS, TABLE_COLUMNS, participant_row, status_counts
from .pipelines import DRY_RUN, EXPORT, RESEND, SYNC, Pipeline, parse_state_id, runs_of
from .reachability import Unreachable, check_pipeline
from .render import FORMATS, print_table, render
from .report import ReportData, run_points
from .report_html import render_report
from .retries import distinct_pipelines, still_failed

CONTEXT = {"help_option_names": ["-h", "--help"], "show_default": True, "max_content_width": 110}
PREFIX = "meltano invoke sync-monitor:"


class UserError(click.ClickException):
    """A refusal or a failure explained in one line (exit 2)."""

    exit_code = 2


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (`sync-monitor` script, tests)."""
    try:
        code = cli.main(args=argv, prog_name="sync-monitor", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except (ValueError, LookupError, MeltanoFailed, Unreachable) as error:
        click.echo(f"sync-monitor: {error}", err=True)
        return 2
    except click.Abort:
        return 130
    return code if isinstance(code, int) else 0


@click.group(context_settings=CONTEXT, help=__doc__, epilog=f"Example: {PREFIX}sync")
def cli() -> None:
    """The group."""


# --- pipelines ---------------------------------------------------------------------------------

def filter_options(command):
    """--uid, --event, --search and --status: which participants."""
    options = [
        click.option("--uid", multiple=True, help="a participant uid (repeatable)"),
        click.option("--event", multiple=True, callback=checks.event_id, help="an event id, 24 hex (repeatable)"),
        click.option("--search", help="an Eventmaker search query, e.g. 'status:registered'"),
        click.option("--status", multiple=True, type=click.Choice(SYNC_STATUSES),
                     help="sync status the participants must have (repeat: synced AND error)"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _selection(uid, event, search, status) -> ParticipantFilter:
    return ParticipantFilter(participant_uids=tuple(uid), event_ids=tuple(event), search=search, sync_status=tuple(status))


@cli.command(epilog=f"Example: {PREFIX}sync")
def sync() -> int:
    """Run the sync job (`meltano run sync`) and print its result."""
    return _run_and_report(SYNC, ParticipantFilter())


@cli.command(epilog=f"Examples: {PREFIX}resend --status error   |   {PREFIX}resend --uid <uid from `participants`>")
@filter_options
@click.option("--all", "everyone", is_flag=True, help="every participant of every event")
def resend(uid, event, search, status, everyone) -> int:
    """Send participants again, changed or not, under their own state id."""
    selection = _selection(uid, event, search, status)
    if selection.is_empty() and not everyone:
        raise UserError("say whom to resend: --uid, --event, --search, --status, or --all")
    return _run_and_report(RESEND, selection)


@cli.command("dry-run", epilog=f"Example: {PREFIX}dry-run --status never")
@filter_options
def dry_run(uid, event, search, status) -> int:
    """What a sync would create, update, skip or reject; writes nothing."""
    return _run_and_report(DRY_RUN, _selection(uid, event, search, status))


@cli.command(epilog=f"Example: {PREFIX}export --status error --output-dir /tmp/out")
@filter_options
@click.option("--output-dir", type=click.Path(file_okay=False), help="where target-csv writes  [default: output/]")
def export(uid, event, search, status, output_dir) -> int:
    """Every participant's sync information to CSV (tap -> target-csv)."""
    selection = _selection(uid, event, search, status)
    output = Path(output_dir or Meltano.from_env().project_root / "output").resolve()
    before = set(output.glob("*.csv"))
    code = _run_and_report(EXPORT, selection, env={"TARGET_CSV_OUTPUT_PATH": str(output)}, has_summary=False)
    written = 0
    for path in sorted(set(output.glob("*.csv")) - before):
        with path.open(encoding="utf-8", newline="") as csv_file:
            rows = sum(1 for _ in csv.reader(csv_file)) - 1
        written += rows
        click.echo(f"  wrote {path} ({rows} participants)")
    if code == 0 and written == 0:
        click.echo(f"  {nobody_text(selection)}")
    return code


def _run_and_report(pipeline: Pipeline, selection: ParticipantFilter, *, suffix=None, retry_of=None, env=None,
                    has_summary: bool = True) -> int:
    meltano = Meltano.from_env()
    if missing := checks.missing_env_vars(meltano.project_root, meltano.environment, (pipeline.extractor, pipeline.loader)):
        where = "`. scripts/activate` sets them" if meltano.environment == "sandbox" else "export them or put them in .env"
        raise UserError(f"environment '{meltano.environment}' needs these variables, unset now ({where}): "
                        f"{', '.join(missing)}")
    check_pipeline(meltano, pipeline.extractor, pipeline.loader)
    planned = plan_run(pipeline, participants=selection, suffix=suffix, retry_of=retry_of)
    with pipeline_display() as display:
        finished = meltano.run(planned.args, {**planned.env, **(env or {})}, on_line=display)
    run = runs.get_run(_engine(meltano), planned.run_id)
    if run is None:  # refused before it started, e.g. by Meltano's RUNNING guard
        click.echo(f"NOT STARTED  {pipeline.job} (meltano exit {finished.returncode}):\n{finished.log_tail}")
        return finished.returncode or 1
    click.echo("\n".join(run_lines(run, selection, has_summary=has_summary)))
    return 0 if run.status == "success" else 1


# --- participants ------------------------------------------------------------------------------

@cli.command(epilog=f"Examples: {PREFIX}participants --status error   |   {PREFIX}participants --format json")
@filter_options
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table")
def participants(uid, event, search, status, output_format) -> None:
    """List participants with their Salesforce sync columns (table, JSON or CSV)."""
    selection = _selection(uid, event, search, status)
    meltano = Meltano.from_env()
    check_pipeline(meltano, "tap-eventmaker", None)
    records = meltano.read_records("tap-eventmaker", selection.tap_env("tap-eventmaker"), "guests")
    rows = [participant_row(record) for record in records]
    if output_format != "table":
        click.echo(render(rows, COLUMNS, output_format))
    elif not rows:
        click.echo(nobody_text(selection) if not selection.is_empty() else "no participant in Eventmaker")
    else:
        print_table(rows, TABLE_COLUMNS)
        click.echo("\n" + ", ".join(f"{value} {key}" for key, value in status_counts(rows).items()))


# --- run history -------------------------------------------------------------------------------

RUN_COLUMNS = ("run_id", "state_id", "status", "started_at", "ended_at", "trigger", "error")


def run_filter_options(command):
    """--pipeline, --since and --until."""
    command = click.option("--until", callback=checks.iso_time, help="started before (a bare date includes that day)")(command)
    command = click.option("--since", callback=checks.iso_time, help="started at or after (ISO date or date-time, UTC)")(command)
    return click.option("--pipeline", callback=checks.pipeline,
                        help="a job (sync, resend, dry-run, export) or an exact state id")(command)


@cli.group(epilog=f"Example: {PREFIX}runs list --status failed")
def runs_group() -> None:
    """Run history: `runs list|show|retry`."""


cli.add_command(runs_group, "runs")


@runs_group.command("list", epilog=f"Example: {PREFIX}runs list --pipeline sync --since 2026-11-25")
@run_filter_options
@click.option("--status", multiple=True, type=click.Choice(tuple(runs.STATUSES)), help="only runs in this status (repeatable)")
@click.option("--limit", type=click.IntRange(min=1), default=50)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table")
def runs_list(pipeline, since, until, status, limit, output_format) -> None:
    """List runs, newest first, each failure with the plugin's own first error line."""
    listed = [{**run.to_json(), "error": run_error(run)} for run in _select_runs(pipeline, since, until, status, limit)]
    if output_format == "table":
        print_table(listed, RUN_COLUMNS) if listed else click.echo("no run matches")
    else:
        click.echo(render(listed, RUN_COLUMNS, output_format))


@runs_group.command("show", epilog=f"Example: {PREFIX}runs show 23ba2f8e-da61-4218-85ec-fc8395f0dd71 --tail 20")
@click.argument("run_id", callback=checks.run_id)
@click.option("--log/--no-log", default=True, help="also print the run's log")
@click.option("--tail", type=click.IntRange(min=1), help="only the last N log lines")
def runs_show(run_id, log, tail) -> None:
    """One run: result, first error and log."""
    run = runs.get_run(_engine(Meltano.from_env()), run_id)
    if run is None:
        raise UserError(f"no run {run_id} in the run history (see `runs list`)")
    click.echo("\n".join(run_lines(run, parse_trigger(run.trigger)[1], has_summary=_has_summary(run))))
    path = find_run_log(run.run_id)
    if log and path:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        click.echo("\n".join(lines[-tail:] if tail else lines))
    elif log:
        click.echo("  (no log file: Meltano writes it under `meltano logs dir`; was XDG_STATE_HOME the same?)")


@runs_group.command("retry", epilog=f"Examples: {PREFIX}runs retry <run id>   |   {PREFIX}runs retry --failed --since 2026-11-25")
@click.argument("run_id", required=False, callback=checks.run_id)
@click.option("--failed", is_flag=True, help="every failed run matching the filters, not completed by a later retry")
@run_filter_options
def runs_retry(run_id, failed, pipeline, since, until) -> int:
    """Re-run failed runs with the same pipeline, state id and participant filter."""
    engine = _engine(Meltano.from_env())
    if run_id:
        run = runs.get_run(engine, run_id)
        if run is None:
            raise UserError(f"no run {run_id} in the run history (see `runs list`)")
        chosen = [run]
    elif failed:
        candidates = _select_runs(pipeline, since, until, ("failed",), None)
        chosen = still_failed(candidates, runs.list_runs(engine))
        if skipped := len(candidates) - len(chosen):
            click.echo(f"{skipped} failed run(s) already completed by a later retry: not retried")
    else:
        raise UserError("say which runs: a RUN_ID, or --failed with --pipeline/--since/--until")
    if not chosen:
        click.echo("no failed run to retry")
        return 0
    return max(_retry(run) for run in distinct_pipelines(chosen))


def _retry(run: runs.Run) -> int:
    """Run the same pipeline (same state id) with the same participant filter."""
    parsed = parse_state_id(run.state_id)
    if parsed is None or parsed.pipeline is None:
        raise UserError(f"{run.state_id} is not a pipeline of this project")
    environment = Meltano.from_env().environment
    if parsed.environment != environment:
        raise UserError(f"run {run.run_id} ran in '{parsed.environment}'; retry it with "
                        f"`meltano --environment {parsed.environment} invoke sync-monitor:runs retry ...`")
    click.echo(f"retrying {run.run_id} ({run.state_id})")
    return _run_and_report(parsed.pipeline, parse_trigger(run.trigger)[1], suffix=parsed.suffix, retry_of=run.run_id,
                           has_summary=parsed.pipeline is not EXPORT)


def _has_summary(run: runs.Run) -> bool:
    parsed = parse_state_id(run.state_id)
    return bool(parsed and parsed.pipeline and parsed.pipeline is not EXPORT)


def _select_runs(pipeline, since, until, statuses, limit) -> list[runs.Run]:
    meltano = Meltano.from_env()
    state_id, include_suffixed = runs_of(pipeline, meltano.environment) if pipeline else (None, False)
    return runs.list_runs(
        _engine(meltano), state_id=state_id, include_suffixed=include_suffixed, statuses=tuple(statuses),
        since=parse_time(since) if since else None, until=parse_time(until, end_of_day=True) if until else None,
        limit=limit,
    )


# --- report ------------------------------------------------------------------------------------

@cli.command(epilog=f"Example: {PREFIX}report --output /tmp/sync-report.html")
@click.option("--output", type=click.Path(dir_okay=False), envvar="SYNC_MONITOR_REPORT", show_envvar=True,
              help="the HTML file  [default: output/sync-report.html]")
@click.option("--limit", type=click.IntRange(min=1), default=100, help="newest runs shown")
def report(output, limit) -> int:
    """One self-contained HTML page: run timeline, failures by code, participants in error, API budget."""
    meltano = Meltano.from_env()
    history = runs.list_runs(_engine(meltano), limit=limit)
    in_error, unavailable = [], None
    try:
        check_pipeline(meltano, "tap-eventmaker", None)
        selection = ParticipantFilter(sync_status=("error",))
        records = meltano.read_records("tap-eventmaker", selection.tap_env("tap-eventmaker"), "guests")
        in_error = [participant_row(record) for record in records]
    except (MeltanoFailed, Unreachable) as error:
        unavailable = str(error).splitlines()[0]
        click.echo(f"sync-monitor: participants in error not shown: {unavailable}", err=True)
    data = ReportData(meltano.environment, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                      run_points(history), in_error, unavailable)
    path = Path(output or meltano.project_root / "output" / "sync-report.html").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data), encoding="utf-8")
    totals = data.totals()
    click.echo(f"wrote {path} ({totals['runs']} runs, {totals['failed_runs']} failed, "
               f"{totals['in_error']} participants in error)")
    return 0


# --- error guide -------------------------------------------------------------------------------

@cli.command(epilog=f"Example: {PREFIX}errors STRING_TOO_LONG")
@click.argument("code", required=False)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table")
def errors(code, output_format) -> None:
    """The Salesforce API error guide (cause and fix), from the target's own error_guide.json."""
    guides = load_guides()
    if code and code not in guides:
        raise UserError(f"no guide for {code!r}; known codes: {', '.join(guides)}")
    rows = [{"code": g.code, "cause": g.cause, "fix": g.fix} for g in ([guides[code]] if code else guides.values())]
    print_table(rows, ("code", "cause", "fix")) if output_format == "table" else click.echo(render(rows, ("code", "cause", "fix"), output_format))


# --- wiring ------------------------------------------------------------------------------------

def _engine(meltano: Meltano):
    default = f"sqlite:///{meltano.project_root / '.meltano' / 'meltano.db'}"
    return runs.connect(os.environ.get("MELTANO_DATABASE_URI", default))


if __name__ == "__main__":
    sys.exit(main())
