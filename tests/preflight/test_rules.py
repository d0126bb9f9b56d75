"""One small bad file per pre-flight rule: the message names the rule, the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_personalize import DatasetSchema, DataValidationError, Field, preflight, validate_data
from constructs_personalize.preflight import fast, report
from tests.constants import SAMPLE_DIR, TEST_DATA
from tests.emulator.samples import HEADER, interactions_csv, with_line

INTERACTIONS = DatasetSchema.interactions()
WITH_METADATA = DatasetSchema.interactions(
    Field.string("DEVICE", categorical=True, nullable=True),
    Field.float("PRICE", nullable=True),
    Field.boolean("PROMOTED", nullable=True),
    Field.int("QUANTITY", nullable=True),
)
GOOD = interactions_csv()
GOOD_WIDE = interactions_csv(header=HEADER + ",DEVICE,PRICE,PROMOTED,QUANTITY").replace(b",click\n", b",click,,,,\n")
ENGINES = ["auto", "python"]


def _fail(
    tmp_path: Path, body: bytes, schema: DatasetSchema = INTERACTIONS, mode: str = "INCREMENTAL", engine: str = "auto"
) -> str:
    (tmp_path / "interactions.csv").write_bytes(body)
    with pytest.raises(DataValidationError) as error:
        validate_data(tmp_path, schema, mode, engine=engine)  # type: ignore[arg-type]
    return str(error.value)


CASES = [
    (
        "unknown column",
        GOOD.replace(HEADER.encode(), HEADER.encode() + b",COLOR", 1),
        INTERACTIONS,
        "column not in the schema",
        "interactions.csv:1 column COLOR",
    ),
    (
        "missing column",
        interactions_csv(header="USER_ID,ITEM_ID,EVENT_TYPE"),
        INTERACTIONS,
        "required column missing from the header",
        "interactions.csv:1 column TIMESTAMP",
    ),
    (
        "duplicate column",
        interactions_csv(header=HEADER + ",ITEM_ID"),
        INTERACTIONS,
        "column appears twice in the header",
        "interactions.csv:1 column ITEM_ID",
    ),
    (
        "column count",
        with_line(GOOD, 5, "user-1,item-1,1700000000"),
        INTERACTIONS,
        "row does not have 4 columns",
        "interactions.csv:5: 'user-1,item-1,1700000000'",
    ),
    (
        "required value",
        with_line(GOOD, 6, "user-1,,1700000000,click"),
        INTERACTIONS,
        "required value is empty",
        "interactions.csv:6 column ITEM_ID: ''",
    ),
    (
        "not a long",
        with_line(GOOD_WIDE, 7, "user-1,item-1,1700000000,click,,,,3.5"),
        WITH_METADATA,
        "value is not a valid int",
        "interactions.csv:7 column QUANTITY: '3.5'",
    ),
    (
        "not a float",
        with_line(GOOD_WIDE, 8, "user-1,item-1,1700000000,click,,12 EUR,,"),
        WITH_METADATA,
        "value is not a valid float",
        "interactions.csv:8 column PRICE: '12 EUR'",
    ),
    (
        "not a boolean",
        with_line(GOOD_WIDE, 9, "user-1,item-1,1700000000,click,,,yes,"),
        WITH_METADATA,
        "value is not a boolean",
        "interactions.csv:9 column PROMOTED: 'yes'",
    ),
    (
        "milliseconds",
        with_line(GOOD, 10, "user-1,item-1,1700000000123,click"),
        INTERACTIONS,
        "timestamp in milliseconds",
        "interactions.csv:10 column TIMESTAMP: '1700000000123'",
    ),
    (
        "ISO timestamp",
        with_line(GOOD, 11, "user-1,item-1,2026-11-29T07:00:00Z,click"),
        INTERACTIONS,
        "timestamp is an ISO 8601 date",
        "interactions.csv:11 column TIMESTAMP: '2026-11-29T07:00:00Z'",
    ),
    (
        "fractional timestamp",
        with_line(GOOD, 12, "user-1,item-1,1700000000.5,click"),
        INTERACTIONS,
        "not a whole number of Unix epoch seconds",
        "interactions.csv:12 column TIMESTAMP",
    ),
    (
        "negative timestamp",
        with_line(GOOD, 13, "user-1,item-1,-5,click"),
        INTERACTIONS,
        "timestamp before 1970",
        "interactions.csv:13 column TIMESTAMP: '-5'",
    ),
    (
        "id length",
        with_line(GOOD, 14, f"{'u' * 257},item-1,1700000000,click"),
        INTERACTIONS,
        "id longer than 256 characters",
        "interactions.csv:14 column USER_ID",
    ),
    (
        "categorical length",
        with_line(GOOD_WIDE, 15, f"user-1,item-1,1700000000,click,{'d' * 1001},,,"),
        WITH_METADATA,
        "categorical value longer than 1,000 characters",
        "interactions.csv:15 column DEVICE",
    ),
    (
        "not UTF-8",
        with_line(GOOD, 16, "user-1,item-1,1700000000,click").replace(
            b"user-1,item-1,1700000000,click", b"user-\xff,item-1,1700000000,click", 1
        ),
        INTERACTIONS,
        "file is not UTF-8 (byte 0xff)",
        "interactions.csv:",
    ),
    ("empty file", b"", INTERACTIONS, "file is empty (a header row is required)", "interactions.csv"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("body", "schema", "rule", "where"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_names_the_file_and_line(
    tmp_path: Path, engine: str, *, body: bytes, schema: DatasetSchema, rule: str, where: str
) -> None:
    message = _fail(tmp_path, body, schema, engine=engine)
    assert rule in message
    assert where in message, message
    assert "Fix the data, or pass validate_data=False" in message


def test_utf8_error_names_its_line(tmp_path: Path) -> None:
    body = GOOD.replace(b"user-3,", b"user-\xe9,", 1)  # line 5 holds the first user-3
    assert "interactions.csv:5" in _fail(tmp_path, body)


def test_a_handful_per_rule_with_the_total(tmp_path: Path) -> None:
    message = _fail(tmp_path, interactions_csv(timestamp_scale=1000))
    assert (
        "timestamp in milliseconds (or finer), not Unix epoch seconds (1,200 occurrence(s); first 5 shown)" in message
    )
    assert message.count("column TIMESTAMP") == report.SHOWN_PER_RULE
    assert "interactions.csv:2 column TIMESTAMP: '1700000000000'" in message


def test_categorical_lists_count_each_value(tmp_path: Path) -> None:
    many = "|".join(["d" * 900] * 3)  # 2,702 characters, each value under 1,000
    (tmp_path / "interactions.csv").write_bytes(with_line(GOOD_WIDE, 3, f"user-1,item-1,1700000000,click,{many},,,"))
    assert validate_data(tmp_path, WITH_METADATA, "INCREMENTAL").records == 1200


@pytest.mark.parametrize("engine", ENGINES)
def test_full_interactions_need_1000_records(tmp_path: Path, engine: str) -> None:
    message = _fail(tmp_path, interactions_csv(rows=999), mode="FULL", engine=engine)
    assert "a FULL import needs at least 1,000 interactions; the files hold 999" in message


@pytest.mark.parametrize("engine", ENGINES)
def test_full_interactions_need_25_users_with_two(tmp_path: Path, engine: str) -> None:
    message = _fail(tmp_path, interactions_csv(rows=1200, users=24), mode="FULL", engine=engine)
    assert "at least 25 users with 2 or more interactions each; the files have 24" in message


@pytest.mark.parametrize("engine", ENGINES)
def test_incremental_interactions_need_1000_records_too(tmp_path: Path, engine: str) -> None:
    message = _fail(tmp_path, interactions_csv(rows=999), mode="INCREMENTAL", engine=engine)
    assert "an INCREMENTAL import needs at least 1,000 interactions; the files hold 999" in message


def test_the_users_minimum_applies_to_full_imports_only(tmp_path: Path) -> None:
    # Training needs 25 users with 2 interactions in the dataset; a batch adds to the users already there.
    (tmp_path / "interactions.csv").write_bytes(interactions_csv(rows=1000, users=2))
    assert validate_data(tmp_path, INTERACTIONS, "INCREMENTAL").records == 1000
    assert "the files have 2" in _fail(tmp_path, interactions_csv(rows=1000, users=2), mode="FULL")


@pytest.mark.parametrize("mode", ["FULL", "INCREMENTAL"])
def test_the_records_minimum_is_for_interactions_only(tmp_path: Path, mode: str) -> None:
    (tmp_path / "items.csv").write_bytes(b"ITEM_ID,CATEGORY\nitem-1,shoes\nitem-2,hats\n")
    items = DatasetSchema.items(Field.string("CATEGORY", categorical=True))
    assert validate_data(tmp_path, items, mode).records == 2


def test_the_size_limits_are_the_quotas() -> None:
    assert preflight.MAX_BYTES == {"FULL": 100 * preflight.GB, "INCREMENTAL": preflight.GB}


@pytest.mark.parametrize("mode", ["FULL", "INCREMENTAL"])
def test_size_limits_per_import_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    # 1 GB and 100 GB files are out of reach here: the limits are scaled down, the rule is the same.
    monkeypatch.setitem(preflight.MAX_BYTES, mode, len(GOOD))
    (tmp_path / "interactions.csv").write_bytes(GOOD)
    assert validate_data(tmp_path, INTERACTIONS, mode).records == 1200  # at the limit: accepted
    message = _fail(tmp_path, GOOD + b"user-1,item-1,1700000000,click\n", mode=mode)
    assert f"{mode} import jobs take at most {len(GOOD):,} bytes each; the files hold {len(GOOD) + 31:,}" in message
    other = "INCREMENTAL" if mode == "FULL" else "FULL"
    assert validate_data(tmp_path, INTERACTIONS, other).records == 1201  # the other mode keeps its own limit


def test_no_csv_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no data here")
    with pytest.raises(DataValidationError, match="no CSV file at the first level of"):
        validate_data(tmp_path, INTERACTIONS)


@pytest.mark.parametrize("engine", ENGINES)
def test_good_data_passes_with_its_counts(tmp_path: Path, engine: str) -> None:
    (tmp_path / "part-1.csv").write_bytes(GOOD)
    (tmp_path / "part-2.CSV").write_bytes(interactions_csv(rows=600, users=30))
    summary = validate_data(tmp_path, INTERACTIONS, "FULL", engine=engine)  # type: ignore[arg-type]
    assert (summary.files, summary.records, summary.users_with_two_or_more) == (2, 1800, 30)
    assert summary.engine == ("polars" if engine == "auto" else "python")


def test_the_sample_data_passes(tmp_path: Path) -> None:
    summary = validate_data(Path(__file__).resolve().parents[2] / "data" / "interactions", INTERACTIONS, "FULL")
    assert (summary.records, summary.users_with_two_or_more) == (1500, 60)


def test_the_incremental_test_data_passes_as_an_incremental_import_after_the_sample() -> None:
    # The compositions import it INCREMENTAL after the sample: it needs 1,000 rows, and rows of its own.
    batch = TEST_DATA / "interactions-incremental"
    assert validate_data(batch, INTERACTIONS, "INCREMENTAL").records == 1200
    assert min(_timestamps(batch)) > max(_timestamps(SAMPLE_DIR))


def _timestamps(folder: Path) -> list[int]:
    lines = (folder / "interactions.csv").read_text().splitlines()[1:]
    return [int(line.split(",")[2]) for line in lines]


def test_quoted_crlf_files_are_judged_by_the_fast_engine_and_pass(tmp_path: Path) -> None:
    body = GOOD.replace(b",click\n", b',"click"\r\n')
    (tmp_path / "interactions.csv").write_bytes(body)
    summary = validate_data(tmp_path, INTERACTIONS, "FULL")
    assert (summary.records, summary.engine) == (1200, "polars")


def test_the_fast_engine_counts_the_same_across_many_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny blocks: block boundaries, the pipeline and the merging of user counts all get exercised.
    monkeypatch.setattr(fast, "BLOCK", 1000)
    monkeypatch.setattr(fast, "MERGE_EVERY", 3)
    body = interactions_csv(rows=5000, users=700)
    (tmp_path / "interactions.csv").write_bytes(body[:-1])  # no final newline either
    quick = validate_data(tmp_path, INTERACTIONS, "FULL")
    reference = validate_data(tmp_path, INTERACTIONS, "FULL", engine="python")
    assert quick.engine == "polars"
    assert (quick.records, quick.users_with_two_or_more) == (reference.records, reference.users_with_two_or_more)
    assert (quick.records, quick.users_with_two_or_more) == (5000, 700)


def test_a_bad_row_deep_in_a_large_file_is_found_by_the_fast_engine_handing_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast, "BLOCK", 1000)
    message = _fail(tmp_path, with_line(interactions_csv(rows=5000), 4321, "user-1,item-1,1700000000123,click"))
    assert "interactions.csv:4321 column TIMESTAMP: '1700000000123'" in message
