"""Local data folders: first-level CSVs only, nothing else uploaded, and an upload Lambda that fits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from constructs_personalize import DatasetSchema, DataValidationError, validate_data
from constructs_personalize.local_data import (
    GIB,
    MIB,
    STORAGE_TIERS_MIB,
    LocalFolder,
    UploadSize,
    inspect_folder,
    size_upload,
    storage_need_mib,
)
from constructs_personalize.preflight import csv_files
from tests.emulator.samples import interactions_csv

SUBJECT = "DatasetImport 'Shop/Interactions'"
INTERACTIONS = DatasetSchema.interactions()
GOOD = interactions_csv()
BAD = interactions_csv(timestamp_scale=1000)  # milliseconds: every row breaks a rule


def _write(path: Path, body: bytes = b"USER_ID,ITEM_ID,TIMESTAMP\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def _inspect_fails(folder: Path) -> str:
    with pytest.raises(ValueError, match=re.escape(SUBJECT)) as error:
        inspect_folder(folder, subject=SUBJECT)
    return str(error.value)


def _size(total_bytes: int, memory: int | None = None, storage: int | None = None) -> UploadSize:
    return size_upload(total_bytes, memory_limit_mib=memory, ephemeral_storage_mib=storage, subject=SUBJECT)


# --- inspect_folder ---------------------------------------------------------------------------------


def test_a_folder_of_first_level_csvs_passes_with_its_files_and_size(tmp_path: Path) -> None:
    b = _write(tmp_path / "b.csv", b"12345")
    a = _write(tmp_path / "a.CSV", b"123")
    (tmp_path / "empty" / "emptier").mkdir(parents=True)  # empty subfolders upload nothing
    assert inspect_folder(tmp_path, subject=SUBJECT) == LocalFolder(tmp_path, (a, b), 8)


def test_a_single_csv_file_is_its_one_file(tmp_path: Path) -> None:
    file = _write(tmp_path / "interactions.csv", b"1234")
    assert inspect_folder(file, subject=SUBJECT) == LocalFolder(file, (file,), 4)


def test_fails_when_a_csv_lies_in_a_subfolder(tmp_path: Path) -> None:
    _write(tmp_path / "part-1.csv")
    _write(tmp_path / "2024" / "part-2.csv")
    _write(tmp_path / "2024" / "deeper" / "part-3.Csv")
    with pytest.raises(ValueError, match=r"only the first level of the folder: flatten or move the 2 CSV") as error:
        inspect_folder(tmp_path, subject=SUBJECT)
    message = str(error.value)
    assert message.startswith(f"{SUBJECT}: the data folder ")
    assert "2024/part-2.csv" in message and "2024/deeper/part-3.Csv" in message
    assert "part-1.csv" not in message


def test_fails_when_a_file_is_not_a_csv(tmp_path: Path) -> None:
    _write(tmp_path / "interactions.csv")
    _write(tmp_path / "README.md")
    _write(tmp_path / "interactions.csv.gz")
    with pytest.raises(ValueError, match=r"2 file\(s\) are not CSV files .* move them out of the data folder") as error:
        inspect_folder(tmp_path, subject=SUBJECT)
    assert "README.md" in str(error.value) and "interactions.csv.gz" in str(error.value)


def test_fails_when_a_file_is_hidden(tmp_path: Path) -> None:
    _write(tmp_path / "interactions.csv")
    _write(tmp_path / ".DS_Store")
    _write(tmp_path / ".old.csv")  # a hidden CSV too: the upload would carry it all the same
    _write(tmp_path / ".git" / "config")
    message = _inspect_fails(tmp_path)
    assert "3 file(s) are not CSV files (or are hidden)" in message
    assert all(name in message for name in (".DS_Store", ".old.csv", ".git/config"))


def test_fails_when_a_subfolder_holds_a_file_that_is_not_a_csv(tmp_path: Path) -> None:
    _write(tmp_path / "interactions.csv")
    _write(tmp_path / "docs" / "notes.txt")
    assert "docs/notes.txt" in _inspect_fails(tmp_path)


def test_fails_when_no_csv_lies_at_the_first_level(tmp_path: Path) -> None:
    _write(tmp_path / "sub" / "interactions.csv")
    message = _inspect_fails(tmp_path)
    assert "no CSV file at the first level of the folder: the import would find no data" in message
    assert "sub/interactions.csv" in message


def test_fails_when_the_folder_is_empty(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no CSV file at the first level of the folder"):
        inspect_folder(tmp_path / "empty", subject=SUBJECT)


def test_fails_when_the_source_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"the data source .*missing does not exist"):
        inspect_folder(tmp_path / "missing", subject=SUBJECT)


def test_fails_when_a_single_file_is_not_a_csv(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"data\.zip is neither a folder nor a CSV file"):
        inspect_folder(_write(tmp_path / "data.zip"), subject=SUBJECT)


def test_every_problem_is_in_one_message_with_at_most_ten_files_listed(tmp_path: Path) -> None:
    for index in range(12):
        _write(tmp_path / f"notes-{index:02}.txt")
    _write(tmp_path / "sub" / "part.csv")
    message = _inspect_fails(tmp_path)
    assert message.count("\n  - ") == 3  # subfolder CSVs, files that are not CSVs, no first-level CSV
    assert "notes-09.txt" in message and "notes-10.txt" not in message
    assert "... and 2 more (12 in all)" in message
    assert "sub/part.csv" in message


# --- csv_files / validate_data read the first level only ---------------------------------------------


def test_csv_files_are_the_first_level_ones(tmp_path: Path) -> None:
    top = _write(tmp_path / "top.CSV")
    _write(tmp_path / "sub" / "nested.csv")
    _write(tmp_path / "notes.txt")
    assert csv_files(tmp_path) == [top]
    assert csv_files(top) == [top]


def test_validate_data_does_not_read_a_csv_in_a_subfolder_but_inspect_folder_rejects_it(tmp_path: Path) -> None:
    _write(tmp_path / "interactions.csv", GOOD)
    _write(tmp_path / "old" / "broken.csv", BAD)
    summary = validate_data(tmp_path, INTERACTIONS, "FULL")  # the bad file is not what Personalize reads
    assert (summary.files, summary.records, summary.bytes) == (1, 1200, len(GOOD))
    assert "old/broken.csv" in _inspect_fails(tmp_path)


def test_validate_data_with_only_subfolder_csvs_finds_no_data(tmp_path: Path) -> None:
    _write(tmp_path / "sub" / "interactions.csv", GOOD)
    with pytest.raises(DataValidationError, match="no CSV file at the first level of"):
        validate_data(tmp_path, INTERACTIONS, "FULL")


# --- size_upload ------------------------------------------------------------------------------------


def _largest_fitting(tier_mib: int) -> int:
    """The largest data size, in bytes, whose storage need fits ``tier_mib`` (bisection)."""
    low, high = 0, tier_mib * MIB
    while low < high:
        middle = (low + high + 1) // 2
        if storage_need_mib(middle) <= tier_mib:
            low = middle
        else:
            high = middle - 1
    return low


def test_storage_need_is_twice_the_data_plus_headroom() -> None:
    assert storage_need_mib(0) == 64
    assert storage_need_mib(1) == 65  # any byte rounds up to a whole MiB
    assert storage_need_mib(100 * MIB) == 2 * 100 + 10 + 64  # 2 x data, 5 % of that, 64 MiB


def test_small_data_keeps_the_default_upload() -> None:
    assert _size(0) == UploadSize(1024, 512)
    assert _size(200 * MIB) == UploadSize(1024, 512)


def test_the_512_tier_ends_exactly_where_the_need_passes_512_mib() -> None:
    # 2 x 223,696,213 + 5 % rounded up = 469,762,048 bytes = 448 MiB; + 64 MiB = 512 MiB.
    assert _size(223_696_213) == UploadSize(1024, 512)
    assert _size(223_696_214) == UploadSize(1024, 1024)


@pytest.mark.parametrize(
    ("tier", "next_tier", "memory_above"),
    [(512, 1024, 1024), (1024, 2048, 1024), (2048, 4096, 2048), (4096, 8192, 2048), (8192, 10240, 2048)],
)
def test_sizes_round_up_to_the_next_tier_at_each_boundary(tier: int, next_tier: int, memory_above: int) -> None:
    largest = _largest_fitting(tier)
    assert storage_need_mib(largest) == tier
    assert _size(largest).ephemeral_storage_mib == tier
    assert _size(largest + 1) == UploadSize(memory_above, next_tier)


def test_memory_doubles_above_the_2048_tier() -> None:
    assert _size(_largest_fitting(2048)).memory_limit_mib == 1024
    assert _size(_largest_fitting(2048) + 1).memory_limit_mib == 2048


def test_every_size_is_one_of_the_tiers() -> None:
    sizes = {_size(n * 50 * MIB).ephemeral_storage_mib for n in range(97)}
    assert sizes == set(STORAGE_TIERS_MIB)


def test_the_largest_upload_fits_10240_mib() -> None:
    largest = _largest_fitting(10240)
    assert 4.7 * GIB < largest < 4.8 * GIB
    assert _size(largest) == UploadSize(2048, 10240)


def test_fails_when_the_data_needs_more_than_lambda_allows() -> None:
    too_big = _largest_fitting(10240) + 1
    with pytest.raises(ValueError, match=re.escape(SUBJECT)) as error:
        _size(too_big)
    message = str(error.value)
    assert f"uploading {too_big:,} bytes (4.73 GiB) of local data needs 10,241 MiB" in message
    assert "more than the 10,240 MiB Lambda allows" in message
    assert 'upload the data to S3 beforehand (e.g. aws s3 sync) and pass data=DataSource.from_uri("s3://' in message


def test_fails_when_the_data_is_too_big_even_with_explicit_sizes() -> None:
    with pytest.raises(ValueError, match="more than the 10,240 MiB Lambda allows"):
        _size(100 * GIB, memory=10240, storage=10240)


def test_explicit_values_win() -> None:
    assert _size(0, memory=3008) == UploadSize(3008, 512)
    assert _size(0, storage=600) == UploadSize(1024, 600)
    assert _size(3 * GIB, memory=512, storage=10240) == UploadSize(512, 10240)
    assert _size(_largest_fitting(1024) - 1, storage=1024) == UploadSize(1024, 1024)


def test_fails_when_explicit_storage_is_smaller_than_the_need() -> None:
    need = storage_need_mib(300 * MIB)
    with pytest.raises(
        ValueError, match=rf"ephemeral_storage_mib=512 is too small: uploading .* needs {need:,} MiB"
    ) as error:
        _size(300 * MIB, storage=512)
    assert f"pass at least {need:,} or leave it unset" in str(error.value)


@pytest.mark.parametrize("memory", [127, 10241, 0, -1, 1024.0, True, "1024"])
def test_fails_when_explicit_memory_is_out_of_range(memory: object) -> None:
    with pytest.raises(ValueError, match=r"memory_limit_mib must be a whole number of MiB from 128 to 10,240"):
        _size(0, memory=memory)  # type: ignore[arg-type]


@pytest.mark.parametrize("storage", [511, 10241, 0, 2048.5, False])
def test_fails_when_explicit_storage_is_out_of_range(storage: object) -> None:
    with pytest.raises(ValueError, match=r"ephemeral_storage_mib must be a whole number of MiB from 512 to 10,240"):
        _size(0, storage=storage)  # type: ignore[arg-type]


def test_sparse_files_size_the_upload_without_writing_gigabytes(tmp_path: Path) -> None:
    with (tmp_path / "interactions.csv").open("wb") as file:
        file.truncate(3 * GIB)  # a hole: no disk blocks written
    folder = inspect_folder(tmp_path, subject=SUBJECT)
    assert folder.total_bytes == 3 * GIB
    assert _size(folder.total_bytes) == UploadSize(2048, 8192)
