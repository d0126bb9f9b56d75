"""The reference check: every row of every file through Python's csv module, each problem located.

Slower than the fast engine, but it is the one that words errors (file, line, column, value), and
the fallback whenever the fast engine is unavailable or in doubt.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from constructs_personalize.preflight.report import Finding, Report
from constructs_personalize.preflight.rules import USER_COLUMN, checkers
from constructs_personalize.schema import DatasetSchema


def header_findings(schema: DatasetSchema, header: list[str], display: str) -> list[Finding]:
    """Problems with a file's header row; values are not checked when there are any."""
    found = []
    for name in header:
        if schema.field(name) is None:
            found.append(Finding("column not in the schema", display, 1, name))
    for name in sorted({n for n in header if header.count(n) > 1}):
        found.append(Finding("column appears twice in the header", display, 1, name))
    for f in schema.fields:
        if not f.nullable and f.name not in header:
            found.append(Finding("required column missing from the header", display, 1, f.name))
    return found


def read_header(path: Path) -> list[str] | None:
    """The first row, or None for an empty file. Raises UnicodeDecodeError."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return next(csv.reader(stream), None)


def check_file(path: Path, display: str, schema: DatasetSchema, report: Report, users: Counter[str]) -> int:
    """Check one file into ``report``; count its users into ``users``; return its record count."""
    records = 0
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader, None)
            if not header:
                report.add(Finding("file is empty (a header row is required)", display))
                return 0
            header_problems = header_findings(schema, header, display)
            for finding in header_problems:
                report.add(finding)
            if header_problems:
                return 0
            columns = checkers(schema, header)
            width = len(header)
            user_index = header.index(USER_COLUMN) if USER_COLUMN in header else None
            for row in reader:
                if not row:
                    continue  # blank line: the import skips it too
                records += 1
                if len(row) != width:
                    report.add(
                        Finding(f"row does not have {width} columns", display, reader.line_num, None, ",".join(row))
                    )
                    continue
                for name, check, value in zip(header, columns, row, strict=True):
                    problem = check(value)
                    if problem is not None:
                        report.add(Finding(problem, display, reader.line_num, name, value))
                if user_index is not None:
                    users[row[user_index]] += 1
        except UnicodeDecodeError:
            # The text layer decodes ahead in blocks, so its position says little: find the lines.
            _utf8_findings(path, display, report)
        except csv.Error as error:
            report.add(Finding(f"malformed CSV ({error})", display, reader.line_num))
    return records


def _utf8_findings(path: Path, display: str, report: Report) -> None:
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                bad = line[error.start : error.start + 1].hex()
                report.add(
                    Finding(
                        f"file is not UTF-8 (byte 0x{bad})",
                        display,
                        number,
                        None,
                        line.decode("utf-8", "replace").rstrip(),
                    )
                )
