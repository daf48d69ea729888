"""What a person sees while a pipeline runs: Meltano's own lines, and the target's progress.

On a terminal a `rich` progress bar follows the target's progress records (contracts §6) under the
pipeline's log lines; elsewhere (CI, pipes) the lines pass through to stderr unchanged, the target's
own `Progress: ...` sentences included. Nothing of the pipeline's stderr is dropped. `meltano invoke`
pipes a utility's stderr (and re-logs each line), so the terminal is looked for on stdout, which it
leaves attached.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from .logs import PROGRESS_METRIC, metric_record


def progress_text(value: dict) -> str:
    """read / sent / failed, Salesforce calls and budget, rate and ETA, in one line."""
    usage = value.get("api_usage")
    budget = f"budget {usage['percent']:.1f}% used" if usage else "budget ?"
    eta = value.get("eta_seconds")
    return (f"read {value.get('received', 0)}  sent {value.get('sent', 0)}  failed {value.get('failed', 0)}  "
            f"SF calls {value.get('salesforce_calls', 0)} ({budget})  {value.get('rate_per_second', 0):.1f}/s  "
            f"ETA {'unknown' if eta is None else f'{eta}s'}")


class PipelineDisplay:
    """Receives the pipeline's stderr lines one by one (`Meltano.run(on_line=...)`)."""

    def __init__(self, console: Console, progress: Progress | None) -> None:
        self.console = console
        self.progress = progress
        self.task = progress.add_task("sync", total=None, detail="starting") if progress else None
        self.last_progress: dict | None = None

    def __call__(self, line: str) -> None:
        value = metric_record(line, PROGRESS_METRIC)
        if value is not None:
            self.last_progress = value
            if self.progress is not None:
                self.progress.update(self.task, completed=value.get("processed", 0),
                                     total=value.get("expected_total"), detail=progress_text(value))
        if self.progress is not None:
            self.progress.console.print(escape(line), style="dim", highlight=False, soft_wrap=True)
        else:
            print(line, file=sys.stderr, flush=True)


@contextmanager
def pipeline_display(console: Console | None = None):
    """A `PipelineDisplay`, with a live progress bar when stdout is a terminal."""
    console = console or Console()
    if not console.is_terminal:
        yield PipelineDisplay(console, None)
        return
    columns = (TextColumn("[bold]participants"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[detail]}"))
    with Progress(*columns, console=console, refresh_per_second=4) as progress:
        yield PipelineDisplay(console, progress)
