"""Pre-flight validation: find at synth what would make the import job fail 10-40 minutes into the deploy.

    summary = validate_data(Path("data/interactions"), DatasetSchema.interactions(), "FULL")

checks every CSV at the first level of the folder (Personalize imports only the first level of a
folder data location: it never reads a CSV in a subfolder) against the schema and the import's
rules, and raises ``DataValidationError`` naming each problem's file, line, column and value (a
handful per rule, with the total count). ``DatasetImport`` runs it for local ``sources`` when it is
given a ``schema``, cached by content (``cache.py``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from constructs_personalize.preflight import fast, precise
from constructs_personalize.preflight.report import DataValidationError, Finding, Report
from constructs_personalize.schema import DatasetSchema, DatasetType

__all__ = ["DataSummary", "DataValidationError", "csv_files", "validate_data"]

GB = 1024**3
# Per import job. The quotas state 100 GB (FULL) and 1 GB (INCREMENTAL) for interactions and users; the
# same limits are applied to every dataset type, as an over-large batch is cheaper split than failed.
MAX_BYTES = {"FULL": 100 * GB, "INCREMENTAL": 1 * GB}
MIN_RECORDS = 1000  # per import job, FULL or INCREMENTAL
MIN_USERS = 25  # ... each with at least 2 interactions: a training minimum, checked on FULL imports
MIN_RECORDS_TYPES = (DatasetType.INTERACTIONS, DatasetType.ACTION_INTERACTIONS)
Engine = Literal["auto", "python"]


@dataclass(frozen=True)
class DataSummary:
    files: int
    records: int
    users_with_two_or_more: int
    bytes: int
    engine: str


def csv_files(directory: Path) -> list[Path]:
    """The CSVs at the first level of ``directory``, sorted: the files Personalize imports from the folder.

    A CSV in a subfolder is never imported, so it is not returned (``local_data.inspect_folder``
    rejects a folder that holds one). ``directory`` may also be one CSV file, returned as the only file.
    """
    if directory.is_file():
        return [directory] if directory.suffix.lower() == ".csv" else []
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


def validate_data(
    sources: Path | Sequence[Path],
    schema: DatasetSchema,
    import_mode: str = "FULL",
    *,
    engine: Engine = "auto",
    subject: str = "training data",
) -> DataSummary:
    """Check the first-level CSVs of each of ``sources`` (``csv_files``), the files the import reads."""
    directories = [sources] if isinstance(sources, Path) else list(sources)
    files = [path for directory in directories for path in csv_files(directory)]
    where = ", ".join(_display(directory) for directory in directories)
    if not files:
        raise DataValidationError(
            f"{subject}: no CSV file at the first level of {where} (Personalize imports no others); "
            "the import would find no data"
        )
    report = Report()
    total_bytes = sum(p.stat().st_size for p in files)
    mode = import_mode.upper()
    limit = MAX_BYTES.get(mode, MAX_BYTES["INCREMENTAL"])
    if total_bytes > limit:
        report.add(
            Finding(f"{mode} import jobs take at most {_size(limit)} each; the files hold {total_bytes:,} bytes", where)
        )
    use_fast = engine == "auto" and fast.available()
    used_fast = False
    records = 0
    users: Counter[str] = Counter()
    for path in files:
        display = _display(path)
        try:
            header = precise.read_header(path)
        except UnicodeDecodeError:
            header = []  # the precise check reports the encoding with its line
        result = None
        if use_fast and header and not precise.header_findings(schema, header, display):
            result = fast.check_file(path, header, schema)
        if result is not None:
            used_fast = True
            records += result[0]
            users.update(result[1])
        else:
            records += precise.check_file(path, display, schema, report, users)
    with_two = sum(1 for count in users.values() if count >= 2)
    if not report:
        _check_minimums(report, schema=schema, import_mode=import_mode, records=records, with_two=with_two, where=where)
    if report:
        raise DataValidationError(
            report.format(subject) + "\nFix the data, or pass validate_data=False if you know Personalize accepts it."
        )
    return DataSummary(len(files), records, with_two, total_bytes, "polars" if used_fast else "python")


def _check_minimums(
    report: Report, *, schema: DatasetSchema, import_mode: str, records: int, with_two: int, where: str
) -> None:
    if schema.dataset_type not in MIN_RECORDS_TYPES:
        return
    mode = import_mode.upper()
    # A quota of every import job, FULL or INCREMENTAL: a small batch fails as surely as a small bulk import.
    if records < MIN_RECORDS:
        report.add(
            Finding(
                f"{_article(mode)} {mode} import needs at least {MIN_RECORDS:,} interactions; "
                f"the files hold {records:,}",
                where,
            )
        )
    # Training needs these users in the whole dataset. A FULL import replaces the dataset, so its data must
    # hold them; an INCREMENTAL import adds to the data already there, which may hold them already.
    if mode == "FULL" and schema.dataset_type is DatasetType.INTERACTIONS and with_two < MIN_USERS:
        report.add(
            Finding(
                f"training needs at least {MIN_USERS} users with 2 or more interactions each; "
                f"the files have {with_two}",
                where,
            )
        )


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" else "a"


def _size(limit: int) -> str:
    return f"{limit // GB} GB" if limit % GB == 0 else f"{limit:,} bytes"


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
