"""`sync-monitor`: the commands behind `meltano invoke sync-monitor:<command>`.

Results go to stdout; the `meltano` runs started here log to stderr.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import runs
from .error_guide import GUIDES
from .filters import SYNC_STATUSES, ParticipantFilter
from .logs import describe_summary, find_run_log, parse_summary
from .meltano import Meltano, MeltanoFailed, parse_trigger, plan_run
from .participants import COLUMNS, TABLE_COLUMNS, participant_row, status_counts
from .pipelines import DRY_RUN, EXPORT, PIPELINES, RESEND, SYNC, Pipeline, parse_state_id, runs_of
from .render import FORMATS, render


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, LookupError, MeltanoFailed) as error:
        print(f"sync-monitor: {error}", file=sys.stderr)
        return 2


# --- pipelines ---------------------------------------------------------------------------------

def cmd_sync(args) -> int:
    return _run_and_report(SYNC, ParticipantFilter())


def cmd_resend(args) -> int:
    selection = _filter_from(args)
    if selection.is_empty() and not args.all:
        raise ValueError("say whom to resend: --uid, --event, --search, --status, or --all")
    return _run_and_report(RESEND, selection)


def cmd_dry_run(args) -> int:
    return _run_and_report(DRY_RUN, _filter_from(args))


def cmd_export(args) -> int:
    output_dir = Path(args.output_dir or Meltano.from_env().project_root / "output").resolve()
    before = set(output_dir.glob("*.csv"))
    code = _run_and_report(EXPORT, _filter_from(args), env={"TARGET_CSV_OUTPUT_PATH": str(output_dir)})
    for path in sorted(set(output_dir.glob("*.csv")) - before):
        with path.open(encoding="utf-8", newline="") as csv_file:
            rows = sum(1 for _ in csv.reader(csv_file)) - 1
        print(f"  wrote {path} ({rows} participants)")
    return code


def _run_and_report(pipeline: Pipeline, selection: ParticipantFilter, *, suffix=None, retry_of=None, env=None) -> int:
    meltano = Meltano.from_env()
    planned = plan_run(pipeline, participants=selection, suffix=suffix, retry_of=retry_of)
    finished = meltano.run(planned.args, {**planned.env, **(env or {})})
    run = runs.get_run(_engine(meltano), planned.run_id)
    if run is None:  # refused before it started, e.g. by Meltano's RUNNING guard
        print(f"NOT STARTED  {pipeline.job} (meltano exit {finished.returncode}):\n{finished.log_tail}")
        return finished.returncode or 1
    _print_run(run, selection)
    return 0 if run.status == "success" else 1


def _print_run(run: runs.Run, selection: ParticipantFilter) -> None:
    filters = selection.to_json()
    print(f"{run.status.upper()}  run {run.run_id}  state id {run.state_id}")
    if filters:
        print(f"  participants: {filters}")
    if run.error:
        print(f"  error: {run.error}")
    log = find_run_log(run.run_id)
    summary = parse_summary(log.read_text(encoding="utf-8", errors="replace")) if log else None
    if summary:
        print(f"  result: {describe_summary(summary)}")
    if log:
        print(f"  log: {log}")


# --- participants ------------------------------------------------------------------------------

def cmd_participants(args) -> int:
    selection = _filter_from(args)
    meltano = Meltano.from_env()
    records = meltano.read_records("tap-eventmaker", selection.tap_env("tap-eventmaker"), "guests")
    rows = [participant_row(record) for record in records]
    print(render(rows, TABLE_COLUMNS if args.format == "table" else COLUMNS, args.format))
    if args.format == "table":
        counts = status_counts(rows)
        print("\n" + ", ".join(f"{value} {key}" for key, value in counts.items()))
    return 0


# --- run history -------------------------------------------------------------------------------

RUN_COLUMNS = ("run_id", "state_id", "status", "started_at", "ended_at", "trigger", "error")


def cmd_runs_list(args) -> int:
    meltano = Meltano.from_env()
    listed = _select_runs(meltano, args, statuses=tuple(args.status or ()))
    print(render([run.to_json() for run in listed], RUN_COLUMNS, args.format))
    return 0


def cmd_runs_show(args) -> int:
    meltano = Meltano.from_env()
    run = runs.get_run(_engine(meltano), args.run_id)
    if run is None:
        raise LookupError(f"no run {args.run_id} in the run history")
    _print_run(run, parse_trigger(run.trigger)[1])
    log = find_run_log(run.run_id)
    if args.log and log:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        print("\n".join(lines[-args.tail:] if args.tail else lines))
    elif args.log:
        print("  (no log file: Meltano writes it under `meltano logs dir`; was XDG_STATE_HOME the same?)")
    return 0


def cmd_runs_retry(args) -> int:
    meltano = Meltano.from_env()
    if args.run_id:
        run = runs.get_run(_engine(meltano), args.run_id)
        if run is None:
            raise LookupError(f"no run {args.run_id} in the run history")
        failed = [run]
    elif args.failed:
        failed = _select_runs(meltano, args, statuses=("failed",))
    else:
        raise ValueError("say which runs: a RUN_ID, or --failed with --pipeline/--since/--until")
    if not failed:
        print("no failed run to retry")
        return 0
    codes = [_retry(run) for run in distinct_pipelines(failed)]
    return max(codes)


def _retry(run: runs.Run) -> int:
    """Run the same pipeline (same state id) with the same participant filter."""
    parsed = parse_state_id(run.state_id)
    if parsed is None or parsed.pipeline is None:
        raise ValueError(f"{run.state_id} is not a pipeline of this project")
    environment = Meltano.from_env().environment
    if parsed.environment != environment:
        raise ValueError(f"run {run.run_id} ran in '{parsed.environment}'; retry it with "
                         f"`meltano --environment {parsed.environment} invoke sync-monitor:runs retry ...`")
    selection = parse_trigger(run.trigger)[1]
    print(f"retrying {run.run_id} ({run.state_id})")
    return _run_and_report(parsed.pipeline, selection, suffix=parsed.suffix, retry_of=run.run_id)


def distinct_pipelines(failed: list[runs.Run]) -> list[runs.Run]:
    """One retry per state id and filter: re-running the same thing twice sends nothing new."""
    seen, distinct = set(), []
    for run in failed:
        key = (run.state_id, parse_trigger(run.trigger)[1])
        if key not in seen:
            seen.add(key)
            distinct.append(run)
    return distinct


def _select_runs(meltano: Meltano, args, *, statuses: tuple[str, ...]) -> list[runs.Run]:
    state_id, include_suffixed = runs_of(args.pipeline, meltano.environment) if args.pipeline else (None, False)
    return runs.list_runs(
        _engine(meltano),
        state_id=state_id,
        include_suffixed=include_suffixed,
        statuses=statuses,
        since=parse_time(args.since) if args.since else None,
        until=parse_time(args.until, end_of_day=True) if args.until else None,
        limit=getattr(args, "limit", None),
    )


def parse_time(text: str, *, end_of_day: bool = False) -> datetime:
    """An ISO date or date-time; a bare date as `--until` means up to the end of that day (UTC)."""
    value = datetime.fromisoformat(text)
    if end_of_day and len(text) <= len("2026-01-01"):
        value += timedelta(days=1)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --- error guide -------------------------------------------------------------------------------

def cmd_errors(args) -> int:
    guides = [GUIDES[args.code]] if args.code else list(GUIDES.values())
    rows = [{"code": guide.code, "cause": guide.cause, "fix": guide.fix} for guide in guides]
    print(render(rows, ("code", "cause", "fix"), args.format))
    return 0


# --- wiring ------------------------------------------------------------------------------------

def _engine(meltano: Meltano):
    default = f"sqlite:///{meltano.project_root / '.meltano' / 'meltano.db'}"
    return runs.connect(os.environ.get("MELTANO_DATABASE_URI", default))


def _filter_from(args) -> ParticipantFilter:
    statuses = tuple(args.status or ())
    return ParticipantFilter(
        participant_uids=tuple(args.uid or ()), event_ids=tuple(args.event or ()),
        search=args.search, sync_status=statuses,
    )


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uid", action="append", help="a participant uid (repeatable)")
    parser.add_argument("--event", action="append", help="an event id (repeatable)")
    parser.add_argument("--search", help="an Eventmaker search query")
    parser.add_argument("--status", action="append", choices=SYNC_STATUSES,
                        help="sync status the participants must have (repeat for synced AND error)")


def _add_run_filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pipeline", help=f"a job ({', '.join(PIPELINES)}) or an exact state id")
    parser.add_argument("--since", help="started at or after (ISO date or date-time, UTC)")
    parser.add_argument("--until", help="started before (a bare date includes that day)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sync-monitor", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    commands.add_parser("sync", help="run the sync job").set_defaults(handler=cmd_sync)

    participants = commands.add_parser("participants", help="participants and their sync columns")
    _add_filter_options(participants)
    participants.add_argument("--format", choices=FORMATS, default="table")
    participants.set_defaults(handler=cmd_participants)

    resend = commands.add_parser("resend", help="send participants again, changed or not")
    _add_filter_options(resend)
    resend.add_argument("--all", action="store_true", help="every participant of every event")
    resend.set_defaults(handler=cmd_resend)

    dry_run = commands.add_parser("dry-run", help="what a sync would do, writing nothing")
    _add_filter_options(dry_run)
    dry_run.set_defaults(handler=cmd_dry_run)

    export = commands.add_parser("export", help="every participant's sync information to CSV")
    _add_filter_options(export)
    export.add_argument("--output-dir", help="where target-csv writes the file (default: output/)")
    export.set_defaults(handler=cmd_export)

    history = commands.add_parser("runs", help="run history").add_subparsers(required=True, metavar="ACTION")
    listing = history.add_parser("list", help="list runs")
    _add_run_filter_options(listing)
    listing.add_argument("--status", action="append", choices=tuple(runs.STATUSES))
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(handler=cmd_runs_list)
    show = history.add_parser("show", help="one run: summary and log")
    show.add_argument("run_id")
    show.add_argument("--no-log", dest="log", action="store_false")
    show.add_argument("--tail", type=int, help="only the last N log lines")
    show.set_defaults(handler=cmd_runs_show)
    retry = history.add_parser("retry", help="re-run failed runs with the same pipeline and filter")
    retry.add_argument("run_id", nargs="?")
    retry.add_argument("--failed", action="store_true", help="every failed run matching the filters")
    _add_run_filter_options(retry)
    retry.set_defaults(handler=cmd_runs_retry)

    errors = commands.add_parser("errors", help="the Salesforce API error guide")
    errors.add_argument("code", nargs="?", choices=tuple(GUIDES), metavar="CODE")
    errors.add_argument("--format", choices=FORMATS, default="table")
    errors.set_defaults(handler=cmd_errors)
    return parser


if __name__ == "__main__":
    sys.exit(main())
