"""Pure synth-time checks of a local data folder before ``BucketDeployment`` uploads it.

Personalize imports only the files at the first level of a folder data location
(``s3://bucket/prefix/``): a CSV in a subfolder is uploaded but never imported, and anything that is not
a CSV (a README, ``.DS_Store``) lands in the data location where the import's handling of it is not
documented. ``inspect_folder`` therefore accepts a folder only when it holds first-level CSVs and
nothing else, so the upload carries exactly the files the pre-flight check reads.

The upload runs in ``BucketDeployment``'s Lambda function, which downloads each source's zip into
``/tmp`` and extracts it beside it (512 MiB of ephemeral storage and 1,024 MiB of memory by default).
``size_upload`` picks the storage and memory that fit the data, or fails at synth when no Lambda
function can carry it.

Neither function imports aws-cdk-lib; every failure is a ``ValueError`` that names the construct
(``subject``) and the files or numbers at fault.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MIB = 1024**2
GIB = 1024**3
# Offending files listed per problem in the message; the total count is always given.
SHOWN_FILES = 10

# Lambda's limits for memory and ephemeral storage (/tmp), in MiB.
LAMBDA_MEMORY_MIN_MIB = 128
LAMBDA_STORAGE_MIN_MIB = 512
LAMBDA_MAX_MIB = 10240
# aws-cdk-lib creates one upload function per distinct (memory, ephemeral storage) pair in a stack,
# so storage is rounded up to these few sizes: many imports of slightly different sizes share a few
# functions instead of adding one each.
STORAGE_TIERS_MIB = (512, 1024, 2048, 4096, 8192, 10240)
# Up to this storage tier the default memory is enough; above it, memory is doubled, because Lambda
# gives CPU and network bandwidth in proportion to memory and the function unzips and syncs the
# whole data set within its 15 minutes.
SMALL_UPLOAD_MAX_MIB = 2048
SMALL_UPLOAD_MEMORY_MIB = 1024
LARGE_UPLOAD_MEMORY_MIB = 2048
# Storage need = 2 x data (the zip, which for incompressible data is as large as the data, plus the
# extracted files) + 5 % of that (zip headers and ZIP64 records per file, file system blocks) +
# 64 MiB (what the function itself writes to /tmp: the AWS CLI's configuration and temporary files).
HEADROOM_PERCENT = 5
HEADROOM_FIXED_MIB = 64


@dataclass(frozen=True)
class LocalFolder:
    """A checked local data source: its first-level CSVs, sorted, and their total size in bytes."""

    path: Path
    csv_files: tuple[Path, ...]
    total_bytes: int


@dataclass(frozen=True)
class UploadSize:
    """Memory and ephemeral storage, in MiB, for the ``BucketDeployment`` that uploads the data."""

    memory_limit_mib: int
    ephemeral_storage_mib: int


def inspect_folder(path: Path, *, subject: str) -> LocalFolder:
    """Check that ``path`` holds only first-level CSVs, as Personalize imports them; return them.

    ``path`` is a folder, or a single CSV file (returned as the one file). The folder fails, in one
    message listing every problem, when a CSV lies in a subfolder (never imported), when any file is
    not a CSV or is hidden (the upload would carry it into the data location), or when no CSV lies
    at its first level. Empty subfolders are harmless: the upload carries no object for them.
    ``.csv`` is matched case-insensitively. Zip files and other sources are not for this function.
    """
    shown = _display(path)
    if path.is_file():
        if not _is_csv(path.name):
            raise ValueError(f"{subject}: {shown} is neither a folder nor a CSV file")
        return LocalFolder(path, (path,), path.stat().st_size)
    if not path.is_dir():
        raise ValueError(f"{subject}: the data source {shown} does not exist")
    first_level: list[Path] = []
    nested_csv: list[str] = []
    not_csv: list[str] = []
    for folder, subfolders, names in os.walk(path):
        subfolders.sort()
        here = Path(folder)
        relative_folder = here.relative_to(path)
        for name in sorted(names):
            relative = relative_folder / name
            if not _is_csv(name) or any(part.startswith(".") for part in relative.parts):
                not_csv.append(relative.as_posix())
            elif here == path:
                first_level.append(here / name)
            else:
                nested_csv.append(relative.as_posix())
    nested_csv.sort()
    not_csv.sort()
    problems = []
    if nested_csv:
        problems.append(
            f"Personalize imports only the first level of the folder: flatten or move the "
            f"{len(nested_csv):,} CSV file(s) in subfolders:" + _listing(nested_csv)
        )
    if not_csv:
        problems.append(
            f"{len(not_csv):,} file(s) are not CSV files (or are hidden) and the upload would carry them into "
            f"the data location: move them out of the data folder:" + _listing(not_csv)
        )
    if not first_level:
        problems.append("no CSV file at the first level of the folder: the import would find no data")
    if problems:
        raise ValueError(
            f"{subject}: the data folder {shown} does not hold only first-level CSV files:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    files = tuple(sorted(first_level))
    return LocalFolder(path, files, sum(file.stat().st_size for file in files))


def storage_need_mib(total_bytes: int) -> int:
    """MiB of ephemeral storage the upload of ``total_bytes`` of data needs: 2 x data + headroom."""
    if total_bytes < 0:
        raise ValueError(f"total_bytes must not be negative, got {total_bytes}")
    doubled = 2 * total_bytes
    need = doubled + _ceil_div(doubled * HEADROOM_PERCENT, 100)
    return _ceil_div(need, MIB) + HEADROOM_FIXED_MIB


def size_upload(
    total_bytes: int, *, memory_limit_mib: int | None, ephemeral_storage_mib: int | None, subject: str
) -> UploadSize:
    """Memory and ephemeral storage for uploading ``total_bytes`` of data (all sources of one upload).

    The storage need (``storage_need_mib``) is rounded up to the first of ``STORAGE_TIERS_MIB`` that
    holds it; memory is 1,024 MiB up to the 2,048 MiB tier and 2,048 MiB above it. An explicit
    ``memory_limit_mib`` (128-10,240) or ``ephemeral_storage_mib`` (512-10,240) wins, but storage
    smaller than the need fails. A need beyond Lambda's 10,240 MiB fails: such data belongs in S3
    before the deploy, imported with ``DataSource.from_uri`` / ``from_bucket``.
    """
    _check_mib("memory_limit_mib", memory_limit_mib, LAMBDA_MEMORY_MIN_MIB, subject)
    _check_mib("ephemeral_storage_mib", ephemeral_storage_mib, LAMBDA_STORAGE_MIN_MIB, subject)
    need = storage_need_mib(total_bytes)
    if need > LAMBDA_MAX_MIB:
        raise ValueError(
            f"{subject}: uploading {_size(total_bytes)} of local data needs {need:,} MiB of Lambda ephemeral "
            f"storage (the zip and the extracted files side by side, plus headroom), more than the "
            f"{LAMBDA_MAX_MIB:,} MiB Lambda allows; upload the data to S3 beforehand (e.g. aws s3 sync) and pass "
            f'data=DataSource.from_uri("s3://bucket/prefix/") instead of local data'
        )
    tier = next(tier for tier in STORAGE_TIERS_MIB if tier >= need)
    if ephemeral_storage_mib is not None and ephemeral_storage_mib < need:
        raise ValueError(
            f"{subject}: ephemeral_storage_mib={ephemeral_storage_mib:,} is too small: uploading "
            f"{_size(total_bytes)} of local data needs {need:,} MiB (the zip and the extracted files side by "
            f"side, plus headroom); pass at least {need:,} or leave it unset"
        )
    if memory_limit_mib is None:
        memory_limit_mib = SMALL_UPLOAD_MEMORY_MIB if tier <= SMALL_UPLOAD_MAX_MIB else LARGE_UPLOAD_MEMORY_MIB
    return UploadSize(memory_limit_mib, tier if ephemeral_storage_mib is None else ephemeral_storage_mib)


def _check_mib(label: str, value: int | None, minimum: int, subject: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= LAMBDA_MAX_MIB:
        raise ValueError(
            f"{subject}: {label} must be a whole number of MiB from {minimum:,} to {LAMBDA_MAX_MIB:,} "
            f"(Lambda's limits), got {value!r}"
        )


def _is_csv(name: str) -> bool:
    return name.lower().endswith(".csv") and len(name) > len(".csv")


def _listing(files: list[str]) -> str:
    lines = "".join(f"\n      {file}" for file in files[:SHOWN_FILES])
    if len(files) > SHOWN_FILES:
        lines += f"\n      ... and {len(files) - SHOWN_FILES:,} more ({len(files):,} in all)"
    return lines


def _size(total_bytes: int) -> str:
    return f"{total_bytes:,} bytes ({total_bytes / GIB:.2f} GiB)"


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
