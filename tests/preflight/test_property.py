"""Property: whatever the pre-flight check accepts, the emulated import accepts too; both engines agree.

The files are what Python's csv.writer writes (LF or CRLF line ends, minimal or full quoting, values
with commas, quotes, CRs and LFs), now and then mangled by a stray quote, CR, LF or comma; the fast engine
reads them in blocks of a few bytes, so block boundaries fall inside quoted fields and between CR and LF.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_personalize import DatasetSchema, DataSummary, DataValidationError, Field, preflight, validate_data
from constructs_personalize.preflight import fast
from tests.constants import ROLE_ARN
from tests.emulator import importer
from tests.emulator.samples import interactions_csv
from tests.emulator.service import JobTiming
from tests.emulator.world import personalize_world

SCHEMA = DatasetSchema.interactions(
    Field.string("DEVICE", categorical=True, nullable=True), Field.float("PRICE", nullable=True)
)
COLUMNS = list(SCHEMA.field_names)
# CI runs a fixed, reproducible set; PROPERTY_EXAMPLES=5000 PROPERTY_RANDOM=1 searches wider.
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "200"))
DERANDOMIZE = not os.environ.get("PROPERTY_RANDOM")
MIN_RECORDS = 3

texts = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.text(alphabet=st.sampled_from(',"\r\n xé'), max_size=8),  # what quoting is about, often
)
QUOTY = st.sampled_from(["a,b", 'say ""hi""', '"', ",", "line\nbreak", "cr\r\nlf", "\r", "\n", "", '"quoted"'])
# Per column: values Personalize takes, and values it may not (edges included on both sides).
VALID: dict[str, st.SearchStrategy[str]] = {
    "USER_ID": st.one_of(
        st.from_regex(r"[a-z]{1,8}-[0-9]{1,4}", fullmatch=True),
        st.integers(250, 256).map("u".__mul__),
        st.sampled_from(['user,"1"', "user\r\n2"]),  # quoted ids are counted as users too
    ),
    "ITEM_ID": st.one_of(texts.filter(bool), st.just('item "quoted", with comma'), QUOTY.filter(bool)),
    "TIMESTAMP": st.integers(0, 9_999_999_999).map(str),
    "EVENT_TYPE": st.one_of(st.sampled_from(["click", "buy", "é"]), texts.filter(bool), QUOTY.filter(bool)),
    "DEVICE": st.one_of(st.just(""), st.lists(st.sampled_from(["phone", "tv", "x" * 1000]), max_size=3).map("|".join)),
    "PRICE": st.one_of(st.just(""), st.floats(allow_nan=False, allow_infinity=False).map(str), st.integers().map(str)),
}
INVALID: dict[str, st.SearchStrategy[str]] = {
    "USER_ID": st.one_of(st.just(""), st.integers(257, 262).map("u".__mul__)),
    "ITEM_ID": st.just(""),
    "TIMESTAMP": st.one_of(
        st.integers(10_000_000_000, 2_000_000_000_000).map(str),  # milliseconds
        st.integers(-100, -1).map(str),
        st.just("2026-11-29T07:00:00Z"),
        st.floats(0, 2e9, allow_nan=False).map(str),
        st.just(""),
        texts,
    ),
    "EVENT_TYPE": st.just(""),
    "DEVICE": st.just("y" * 1001),
    "PRICE": st.one_of(st.sampled_from(["nan", "inf", "1,5", "12 EUR"]), texts),
}


def _value(draw: st.DrawFn, name: str, noisy: bool) -> str:
    if name not in VALID:
        return draw(texts)
    if noisy and draw(st.integers(0, 9)) == 0:
        return draw(INVALID[name])
    return draw(VALID[name])


@st.composite
def csv_bodies(draw: st.DrawFn) -> bytes:
    noisy = draw(st.booleans())  # half the examples are clean, so acceptance is exercised too
    header = draw(st.permutations(COLUMNS))
    if noisy and draw(st.integers(0, 4)) == 0:
        header = header[: draw(st.integers(2, len(header) - 1))]  # a column left out
    if noisy and draw(st.integers(0, 9)) == 0:
        header = [*header, "COLOR"]
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        row = [_value(draw, name, noisy) for name in header]
        if noisy and draw(st.integers(0, 19)) == 0:
            row = row[:-1]  # a short row now and then
        rows.append(row)
    line_end = draw(st.sampled_from(["\n", "\r\n"]))
    quote_all = draw(st.booleans())
    if not noisy and line_end == "\n" and any("\r" in value for row in rows for value in row):
        quote_all = True  # csv.writer may leave a CR unquoted when the line end has none
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    body = buffer.getvalue().encode("utf-8")
    if noisy and draw(st.integers(0, 4)) == 0:  # a stray quote, CR, LF or comma: quoting gone wrong
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.sampled_from([b'"', b"\r", b"\n", b"\r\n", b",", b'""'])) + body[at:]
    return body + b"\xff\n" if noisy and draw(st.integers(0, 19)) == 0 else body


def _judge(folder: Path, engine: str, block: int) -> DataSummary | None:
    """The summary if the check accepts the folder, else None; the fast engine reads ``block`` bytes at a time."""
    saved = fast.BLOCK, fast.MERGE_EVERY
    fast.BLOCK, fast.MERGE_EVERY = block, 2
    try:
        return validate_data(folder, SCHEMA, "INCREMENTAL", engine=engine)  # type: ignore[arg-type]
    except DataValidationError:
        return None
    finally:
        fast.BLOCK, fast.MERGE_EVERY = saved


def test_what_the_check_accepts_the_import_accepts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every import job needs 1,000 interactions; the generated files hold a few rows, so both sides count
    # against a minimum of 3 instead: the files on either side of it are judged alike.
    monkeypatch.setattr(preflight, "MIN_RECORDS", MIN_RECORDS)
    monkeypatch.setattr(importer, "MIN_INTERACTIONS", MIN_RECORDS)
    with personalize_world() as world:
        dataset_arn = world.interactions_dataset(schema=SCHEMA.to_json())
        bucket = world.bucket("property-data")
        world.emulator.job_timing = JobTiming(pending=1, running=1)
        client = world.personalize()
        numbers = itertools.count()
        judged_fast = {"CRLF": 0, "quoted": 0}  # accepted files the fast engine judged itself
        # Personalize takes INCREMENTAL imports only into a dataset that has bulk data.
        bulk = world.put_object(bucket, "bulk/data.csv", interactions_csv())
        client.create_dataset_import_job(
            jobName="property-bulk", datasetArn=dataset_arn, dataSource={"dataLocation": bulk}, roleArn=ROLE_ARN
        )
        world.clock.advance(2)

        @settings(
            max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE, suppress_health_check=[HealthCheck.too_slow]
        )
        @given(csv_bodies(), st.sampled_from([1, 2, 3, 5, 8, 64, fast.BLOCK]))
        def check(body: bytes, block: int) -> None:
            folder = Path(tempfile.mkdtemp(dir=tmp_path))
            (folder / "data.csv").write_bytes(body)
            quick, reference = _judge(folder, "auto", block), _judge(folder, "python", block)
            assert (quick is None) == (reference is None), "the fast engine and the precise check disagree"
            if quick is None or reference is None:
                return
            assert replace(quick, engine="") == replace(reference, engine=""), "the counts differ"
            if quick.engine == "polars":
                judged_fast["CRLF"] += body.split(b"\n", 1)[0].endswith(b"\r")  # the header's line end
                judged_fast["quoted"] += b'"' in body
            number = next(numbers)
            location = world.put_object(bucket, f"case-{number}/data.csv", body)
            arn = client.create_dataset_import_job(
                jobName=f"property-{number}",
                datasetArn=dataset_arn,
                dataSource={"dataLocation": location},
                roleArn=ROLE_ARN,
                importMode="INCREMENTAL",
            )["datasetImportJobArn"]
            world.clock.advance(2)
            job = client.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"]
            assert job["status"] == "ACTIVE", job.get("failureReason")

        check()
        assert next(numbers) > EXAMPLES // 4  # the property was exercised on accepted data, not only rejections
        # ... and the fast engine judged CRLF and quoted files itself, not only handed them over.
        assert min(judged_fast.values()) > EXAMPLES // 20, judged_fast
