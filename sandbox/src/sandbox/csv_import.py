"""Import participants from a CSV file, like Eventmaker's own import.

Columns (header names, any order, case-insensitive): the guest fields of ``GUEST_COLUMNS`` and the
optional ``salesforce_contact_id`` / ``salesforce_lead_id`` / ``salesforce_campaign_member_id``
(any subset), which fill the participant's Salesforce sync state exactly as written — the refs entry,
or with ``into="guest_metadata"`` the custom fields of the same names (contracts §1's two homes) — like
Eventmaker's import, which knows nothing of Salesforce, it neither checks nor converts them (the
target normalises 15/18-character forms and reports a malformed Id per participant). Bad rows are
reported with their line number and skipped; the others are created.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

GUEST_COLUMNS = (
    "uid", "email", "first_name", "last_name", "company_name", "position", "phone_number", "status",
    "guest_category_id",
)
ID_COLUMNS = {  # CSV column -> key in the salesforce refs
    "salesforce_contact_id": "contact_id",
    "salesforce_lead_id": "lead_id",
    "salesforce_campaign_member_id": "campaign_member_id",
}
IDENTITY_COLUMNS = ("email", "last_name", "company_name", "uid")
REFS, METADATA = "third_party_applications_refs", "guest_metadata"  # where the Ids go (contracts §1)


class CsvFileError(ValueError):
    """The file as a whole cannot be imported (not UTF-8, no header, no identity column)."""


@dataclass(frozen=True)
class RowError:
    line: int  # line number in the file, the header being line 1
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)  # guest _ids
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def guest_from_row(row: dict[str, str], default_category_id: str | None, into: str = REFS) -> dict:
    """The guest body for one CSV row (blank cells left out); ValueError naming what is wrong."""
    guest = {name: row[name] for name in GUEST_COLUMNS if row.get(name)}
    guest.setdefault("guest_category_id", default_category_id)
    if not guest["guest_category_id"]:
        raise ValueError("no guest_category_id (give the column or --category)")
    if not any(guest.get(name) for name in IDENTITY_COLUMNS):
        raise ValueError(f"needs at least one of {', '.join(IDENTITY_COLUMNS)}")
    ids = {column: row[column] for column in ID_COLUMNS if row.get(column)}
    if ids and into == METADATA:
        guest[METADATA] = [{"name": column, "value": value} for column, value in ids.items()]
    elif ids:
        guest[REFS] = {"salesforce": {ID_COLUMNS[column]: value for column, value in ids.items()}}
    return guest


def read_csv_text(path: Path) -> str:
    """The file's text; ``CsvFileError`` if it is not UTF-8 (e.g. a spreadsheet's Windows-1252 export)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CsvFileError(f"not UTF-8 text (byte {exc.start}): save the CSV as UTF-8") from None


def read_rows(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """``[(line, {column: stripped value})]`` and the columns this import does not know."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise CsvFileError("the file is empty: expected a header line")
    columns = [name.strip().lower() for name in reader.fieldnames]
    known = set(GUEST_COLUMNS) | set(ID_COLUMNS)
    if not set(columns) & set(IDENTITY_COLUMNS):
        raise CsvFileError(f"the header has none of the identity columns {', '.join(IDENTITY_COLUMNS)}")
    rows = []
    for raw in reader:
        values = dict(zip(columns, raw.values()))
        cleaned = {name: (value or "").strip() for name, value in values.items() if isinstance(value, str)}
        rows.append((reader.line_num, cleaned))
    return rows, [name for name in columns if name not in known]


def import_participants(text: str, create_guest: Callable[[dict], dict], *,
                        default_category_id: str | None = None, into: str = REFS) -> ImportResult:
    """Create a guest per valid row through ``create_guest`` (which raises ``ValueError`` with the
    API's reason for a refused guest, and returns the created guest)."""
    rows, ignored = read_rows(text)
    result = ImportResult(ignored_columns=ignored)
    for line, row in rows:
        if not any(row.values()):
            continue
        try:
            result.created.append(create_guest(guest_from_row(row, default_category_id, into))["_id"])
        except ValueError as exc:
            result.errors.append(RowError(line, str(exc)))
    return result
