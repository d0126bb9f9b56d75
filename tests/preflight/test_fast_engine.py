"""The fast engine judges what Python's csv.writer writes by itself: CRLF line ends and RFC 4180 quoting.

Block boundaries are put at awkward places (inside quoted fields, between a CR and its LF) with tiny
blocks; the counts must be the precise check's, and the summary must say the polars engine did it.
Anything still unusual goes to the precise check, with the precise check's verdict.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from constructs_personalize import DatasetSchema, DataSummary, DataValidationError, preflight, validate_data
from constructs_personalize.preflight import fast, precise
from constructs_personalize.preflight.report import Report
from tests.emulator.samples import interactions_csv

INTERACTIONS = DatasetSchema.interactions()
HEADER = ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"]
# Values csv.writer quotes: a comma, a quote (doubled when written), line ends inside the quotes.
ITEMS = ['item "one"', "item, two", "item\r\nthree", "item\nfour", "item\rfive", '""', ",", "six"]
EVENTS = ["click", 'said "buy", then left', "view\r\n"]
BLOCKS = [1, 3, 8, 64, 1000, fast.BLOCK]
LAYOUTS = [("\r\n", False), ("\r\n", True), ("\n", False), ("\n", True)]  # (line end, quote every field)


def written(rows: list[list[str]], line_end: str = "\r\n", *, quote_all: bool = False) -> bytes:
    """What csv.writer writes: the header, then ``rows``; fields quoted when they need it, or all of them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def shop_rows(count: int = 120, users: int = 30, *, lone_cr: bool = True) -> list[list[str]]:
    """Interactions whose ids and events need quoting; every user has at least 2."""
    items = ITEMS if lone_cr else [item for item in ITEMS if "\r" not in item.replace("\r\n", "")]
    return [
        [f'user "{index % users}", é', items[index % len(items)], str(1_700_000_000 + index), EVENTS[index % 3]]
        for index in range(count)
    ]


def checked(folder: Path, engine: str, block: int, monkeypatch: pytest.MonkeyPatch) -> DataSummary:
    monkeypatch.setattr(fast, "BLOCK", block)
    monkeypatch.setattr(fast, "MERGE_EVERY", 3)
    # Small files keep 1-byte blocks quick; the 1,000-records minimum of every job is test_rules.py's.
    monkeypatch.setattr(preflight, "MIN_RECORDS", 0)
    return validate_data(folder, INTERACTIONS, "INCREMENTAL", engine=engine)  # type: ignore[arg-type]


def reference_counts(path: Path) -> tuple[int, Counter[str]]:
    report, users = Report(), Counter[str]()
    records = precise.check_file(path, "data.csv", INTERACTIONS, report, users)
    assert not report, report.format("the test file")
    return records, users


@pytest.mark.parametrize("block", BLOCKS)
def test_crlf_files_are_judged_by_the_fast_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    (tmp_path / "interactions.csv").write_bytes(interactions_csv(rows=120).replace(b"\n", b"\r\n"))
    summary = checked(tmp_path, "auto", block, monkeypatch)
    assert (summary.records, summary.users_with_two_or_more, summary.engine) == (120, 30, "polars")


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize(("line_end", "quote_all"), LAYOUTS, ids=["CRLF", "CRLF-all", "LF", "LF-all"])
def test_quoted_fields_are_judged_by_the_fast_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line_end: str, quote_all: bool, block: int
) -> None:
    # csv.writer leaves a lone CR unquoted when the line end has none (Python 3.11): not that file here.
    lone_cr = line_end == "\r\n" or quote_all
    (tmp_path / "interactions.csv").write_bytes(written(shop_rows(lone_cr=lone_cr), line_end, quote_all=quote_all))
    quick = checked(tmp_path, "auto", block, monkeypatch)
    reference = checked(tmp_path, "python", block, monkeypatch)
    assert quick.engine == "polars"
    assert (quick.records, quick.users_with_two_or_more) == (reference.records, reference.users_with_two_or_more)
    assert (quick.records, quick.users_with_two_or_more) == (120, 30)


def test_every_block_boundary_of_a_quoted_crlf_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every block size up to the file's, so the blocks' boundaries fall everywhere: inside quoted fields,
    # between a CR and its LF (inside quotes and out), next to opening, closing and doubled quotes.
    path = tmp_path / "data.csv"
    path.write_bytes(written(shop_rows(len(ITEMS), users=3)))  # every item once, every event
    expected = reference_counts(path)
    for block in range(1, path.stat().st_size + 1):
        monkeypatch.setattr(fast, "BLOCK", block)
        assert fast.check_file(path, HEADER, INTERACTIONS) == expected, f"block of {block} bytes"


def test_the_values_are_the_csv_modules(tmp_path: Path) -> None:
    # Users are counted by their value as the csv module reads it: quotes undone, CRLF inside kept.
    rows = [[user, "item", "1700000000", "click"] for user in ['a "b"', 'a "b"', "a\r\nb", "a\r\nb", "a\nb", "a,b"]]
    path = tmp_path / "data.csv"
    path.write_bytes(written(rows))
    assert fast.check_file(path, HEADER, INTERACTIONS) == (6, Counter({'a "b"': 2, "a\r\nb": 2, "a\nb": 1, "a,b": 1}))


@pytest.mark.parametrize("block", [3, fast.BLOCK])
def test_a_bad_value_in_a_quoted_crlf_file_is_found_and_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    rows = shop_rows(lone_cr=False)
    rows[99][1] = ""  # a quoted "" is an empty value like any other
    body = written(rows, quote_all=True)
    (tmp_path / "interactions.csv").write_bytes(body)
    # The csv module counts lines, not rows: the line ends inside quotes before the row count too.
    line = body[: body.index(b'"","1700000099"')].count(b"\n") + 1
    assert line > 101
    for engine in ("auto", "python"):
        with pytest.raises(DataValidationError) as error:
            checked(tmp_path, engine, block, monkeypatch)
        assert f"interactions.csv:{line} column ITEM_ID: ''" in str(error.value)


UNUSUAL = {
    "bare CR line end": interactions_csv().replace(b",click\n", b",click\r", 1),
    "CR inside the last value of every line": interactions_csv().replace(b",click\n", b",cli\rck\n"),
    "LF and CRLF in one block": interactions_csv().replace(b",click\n", b",click\r\n", 7),
    "blank line": interactions_csv().replace(b",click\n", b",click\n\n", 1),
    "quote inside an unquoted value": interactions_csv().replace(b",item-3,", b',item"3,', 1),
    "text after a closing quote": interactions_csv().replace(b",item-3,", b',"item"3,', 1),
    "space before an opening quote": interactions_csv().replace(b",item-3,", b', "item-3",', 1),
    "quote left open": interactions_csv().replace(b",item-3,", b',"item-3,', 1),
    "BOM at the start of a block": interactions_csv().replace(b"\nuser-0,", "\n\ufeffuser-0,".encode(), 1),
    "header ended by a bare CR": interactions_csv().replace(b"\n", b"\r", 1),
    "quoted empty required value": interactions_csv().replace(b",item-3,", b',"",', 1),
    "value over the csv field size limit": interactions_csv().replace(
        b",click\n", b"," + b"c" * (csv.field_size_limit() + 1) + b"\n", 1
    ),
}


@pytest.mark.parametrize("body", UNUSUAL.values(), ids=UNUSUAL.keys())
def test_unusual_files_go_to_the_precise_check(tmp_path: Path, body: bytes) -> None:
    # The fast engine once passed the BOM, the bare CR after the header and the field over the limit
    # while the precise check failed them; a quoted "" must be as empty as an unquoted one.
    path = tmp_path / "interactions.csv"
    path.write_bytes(body)
    assert fast.check_file(path, HEADER, INTERACTIONS) is None
    verdicts: list[DataSummary | str] = []
    for engine in ("auto", "python"):
        try:
            verdicts.append(validate_data(tmp_path, INTERACTIONS, "FULL", engine=engine))
        except DataValidationError as error:
            verdicts.append(str(error))
    assert verdicts[0] == verdicts[1]


def test_a_quote_left_open_does_not_pull_the_file_into_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast, "BLOCK", 64)
    monkeypatch.setattr(fast, "LONGEST_ROW", 1000)
    body = interactions_csv(rows=10_000)
    path = tmp_path / "data.csv"
    path.write_bytes(body.replace(b",item-3,", b',"item-3,', 1))
    given: list[bytes] = []
    with pytest.raises(fast._Unsure):
        given.extend(fast._blocks(path))
    assert sum(map(len, given)) < 200  # the rows before the open quote, not the rest of the file
    assert fast.check_file(path, HEADER, INTERACTIONS) is None
