"""Output for people (a rich table) and for machines (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

FORMATS = ("table", "json", "csv")
UNBOUNDED = 100_000  # console width off a terminal: a pipe or a file gets whole lines, never wrapped or cut


def render(rows: Sequence[dict], columns: Sequence[str], output_format: str) -> str:
    """Rows as a table, a JSON array or CSV with a header line."""
    if output_format == "json":
        return json.dumps(list(rows), indent=2, default=str)
    if output_format == "csv":
        return _csv(rows, columns)
    buffer = io.StringIO()
    Console(file=buffer, width=UNBOUNDED, no_color=True).print(table(rows, columns), crop=False)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def print_table(rows: Sequence[dict], columns: Sequence[str]) -> None:
    """The table on stdout: fitted and coloured on a terminal, as `render` gives it elsewhere."""
    console = Console()
    if console.is_terminal:
        console.print(table(rows, columns))
    else:
        print(render(rows, columns, "table"))


def table(rows: Sequence[dict], columns: Sequence[str]) -> Table:
    """A borderless rich table with a bold header."""
    grid = Table(*columns, box=None, header_style="bold", pad_edge=False)
    for row in rows:
        grid.add_row(*(cell_text(row.get(column)) for column in columns))
    return grid


def _csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({column: cell_text(row.get(column)) for column in columns} for row in rows)
    return buffer.getvalue()


def cell_text(value) -> str:
    """One value as table or CSV text (lists comma-joined, objects as JSON)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)
