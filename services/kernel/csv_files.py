"""A CSV file sent as text, read the way every import reads it: within MAX_CSV_BYTES, a header
row naming the columns, and each row that cannot be read refused by its line number (the
header is line 1), so that a service can read a whole file before it applies any of it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode


def csv_rows(
    text: str, required: Sequence[str], max_rows: int
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, cells by column) of each row after the header. INVALID_INPUT on `csv` for
    a file larger than MAX_CSV_BYTES, on `csv.1` for a header without a `required` column, and
    on `csv.<line>` for a row past `max_rows`, one with more or fewer cells than columns, or
    text that is not CSV."""
    if len(text.encode()) > bounds.MAX_CSV_BYTES:
        raise DomainError(ErrorCode.INVALID_INPUT, "a file larger than 1 MiB", "csv")
    reader = csv.DictReader(io.StringIO(text), restkey="", strict=True)
    missing = [c for c in required if c not in (reader.fieldnames or ())]
    if missing:
        raise DomainError(ErrorCode.INVALID_INPUT, f"line 1: no column {missing[0]}", "csv.1")
    count = 0
    try:
        for row in reader:
            count += 1
            if count > max_rows:
                raise csv_refusal(reader.line_num, "", f"more than {max_rows} rows")
            if "" in row or None in row.values():
                raise csv_refusal(reader.line_num, "", "not as many cells as columns")
            yield reader.line_num, row
    except csv.Error as error:
        raise csv_refusal(reader.line_num, "", f"not CSV: {error}") from None


def csv_refusal(line: int, column: str, why: str) -> DomainError:
    """INVALID_INPUT on `csv.<line>.<column>` (`csv.<line>` for the row as a whole)."""
    where = f"line {line}" + (f", {column}" if column else "")
    return DomainError(
        ErrorCode.INVALID_INPUT, f"{where}: {why}", f"csv.{line}.{column}".strip(".")
    )
