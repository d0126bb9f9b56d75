"""What an emulated import job does with its data: read the CSV files from S3 and check them.

The checks are the ones Personalize applies to bulk CSV imports (the developer guide's data
format rules); the first problem found becomes the job's ``failureReason``. A folder location
(``s3://bucket/prefix/``) means the CSV files at its first level only: objects in subfolders are
not imported, as Personalize does. Every read is first put to a ``Gate`` (the job's access,
``access.py``): a denial fails the job with "Insufficient privileges ...". The wording follows
the service's style (what is wrong, where, the bad value) but is this emulator's own.
This is an independent implementation: it imports nothing from ``constructs_personalize``, so
tests can compare the library's synth-time validator against it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_ID_CHARS = 256
MAX_CATEGORICAL_CHARS = 1000
MIN_INTERACTIONS = 1000
# Epoch seconds after this (year 2286) can only be milliseconds (or nonsense).
MAX_EPOCH_SECONDS = 9_999_999_999
ID_FIELDS = frozenset({"USER_ID", "ITEM_ID", "ACTION_ID"})
TIMESTAMP_FIELDS = frozenset({"TIMESTAMP", "CREATION_TIMESTAMP"})
INTERACTION_TYPES = frozenset({"INTERACTIONS", "ACTION_INTERACTIONS"})


class ImportError_(Exception):
    """The job fails with this message as its failureReason."""


class Gate(Protocol):
    """May the job read this? Each method returns the denial (the failureReason) or None."""

    def list_denied(self, bucket: str, prefix: str, location: str) -> str | None: ...

    def get_denied(self, bucket: str, key: str, location: str) -> str | None: ...

    def key_denied(self, bucket: str, location: str) -> str | None: ...


class OpenGate:
    """Everything may be read: for callers that check data, not access."""

    def list_denied(self, bucket: str, prefix: str, location: str) -> str | None:
        return None

    def get_denied(self, bucket: str, key: str, location: str) -> str | None:
        return None

    def key_denied(self, bucket: str, location: str) -> str | None:
        return None


@dataclass(frozen=True)
class Field:
    name: str
    avro_type: str
    nullable: bool
    categorical: bool


def parse_schema(text: str) -> list[Field]:
    """The fields of an Avro record schema; ValueError for anything Personalize would reject."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"schema is not valid JSON: {error}") from error
    if not isinstance(document, dict) or document.get("type") != "record":
        raise ValueError("schema must be an Avro record")
    raw_fields = document.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise ValueError("schema must have a non-empty 'fields' list")
    fields = []
    for raw in raw_fields:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ValueError(f"schema field {raw!r} has no name")
        fields.append(_field(raw))
    return fields


def _field(raw: dict[str, Any]) -> Field:
    declared = raw.get("type")
    types = declared if isinstance(declared, list) else [declared]
    concrete = [t for t in types if t != "null"]
    if len(concrete) != 1 or concrete[0] not in ("string", "long", "int", "float", "double", "boolean"):
        raise ValueError(f"schema field {raw['name']!r} has an unsupported type {declared!r}")
    return Field(
        name=raw["name"],
        avro_type=str(concrete[0]),
        nullable="null" in types,
        categorical=bool(raw.get("categorical", False)),
    )


@dataclass(frozen=True)
class ImportResult:
    records: int
    users: int


def run_import(
    s3: S3Client,
    data_location: str,
    fields: list[Field],
    dataset_type: str,
    import_mode: str,
    *,
    gate: Gate | None = None,
) -> ImportResult:
    """Read and check every file at ``data_location``; raise ImportError_ with the failureReason."""
    gate = gate or OpenGate()
    bucket, key = _split(data_location)
    _bucket_exists(s3, bucket, data_location)
    keys = _keys(s3, bucket, key, data_location, gate)
    checker = _Checker(fields, dataset_type)
    for object_key in keys:
        location = f"s3://{bucket}/{object_key}"
        _allowed(gate.get_denied(bucket, object_key, location))
        _allowed(gate.key_denied(bucket, location))
        body = _read(s3, bucket, object_key)
        checker.check_file(location, body)
    # A quota of every import job, FULL or INCREMENTAL: a small batch fails as a small bulk import does.
    if dataset_type in INTERACTION_TYPES and checker.records < MIN_INTERACTIONS:
        raise ImportError_(
            f"Number of interactions imported ({checker.records}) is less than the minimum required "
            f"({MIN_INTERACTIONS}) for a dataset import job ({import_mode}) at {data_location}"
        )
    return ImportResult(records=checker.records, users=len(checker.users))


def _allowed(denial: str | None) -> None:
    if denial is not None:
        raise ImportError_(denial)


def _split(location: str) -> tuple[str, str]:
    if not location.startswith("s3://"):
        raise ImportError_(f"Invalid S3 path {location}: Amazon Personalize imports only from s3:// locations")
    bucket, _, key = location[len("s3://") :].partition("/")
    if not bucket:
        raise ImportError_(f"Invalid S3 path {location}: no bucket name")
    return bucket, key


def _bucket_exists(s3: S3Client, bucket: str, location: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise ImportError_(_s3_problem(error, location, "NoSuchBucket" if code == "404" else code)) from error


def _keys(s3: S3Client, bucket: str, key: str, location: str, gate: Gate) -> list[str]:
    if key and not key.endswith("/"):
        if not _exists(s3, bucket, key):
            # S3 answers a missing object with 404 only to callers allowed to GetObject it and to
            # list the bucket; to others it is 403 (AccessDenied), and so is the job's failure.
            _allowed(gate.get_denied(bucket, key, location))
            _allowed(gate.list_denied(bucket, key, location))
            raise ImportError_(
                f"Input path {location} does not exist. Check the data location and that the file exists."
            )
        return [key]
    _allowed(gate.list_denied(bucket, key, location))
    try:
        # Delimiter "/": the folder's own objects, not those of its subfolders (which Personalize ignores).
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key, Delimiter="/")
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    except ClientError as error:
        raise ImportError_(_s3_problem(error, location)) from error
    csv_keys = sorted(k for k in keys if k.lower().endswith(".csv"))
    if not csv_keys:
        raise ImportError_(f"No CSV files found at {location}. Check the data location and that the files exist.")
    return csv_keys


def _exists(s3: S3Client, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code", "") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def _read(s3: S3Client, bucket: str, key: str) -> bytes:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        raise ImportError_(_s3_problem(error, f"s3://{bucket}/{key}")) from error


def _s3_problem(error: ClientError, location: str, code: str | None = None) -> str:
    code = code if code is not None else error.response.get("Error", {}).get("Code", "")
    if code in ("NoSuchKey", "404", "NotFound"):
        return f"Input path {location} does not exist. Check the data location and that the file exists."
    if code == "NoSuchBucket":
        return f"Input bucket for {location} does not exist."
    if code in ("AccessDenied", "403"):
        return f"Insufficient privileges for accessing data in Amazon S3 at {location}."
    return f"Failed to read {location} from Amazon S3 ({code})."


class _Checker:
    def __init__(self, fields: list[Field], dataset_type: str) -> None:
        self._fields = {f.name: f for f in fields}
        self._dataset_type = dataset_type.upper()
        self.records = 0
        self.users: set[str] = set()

    def check_file(self, location: str, body: bytes) -> None:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ImportError_(f"{location} is not UTF-8 encoded (byte offset {error.start})") from error
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        if not header:
            raise ImportError_(f"{location} is empty: expected a header row with the schema's field names")
        columns = [self._column(name) for name in header]
        self._check_header(location, header)
        for line, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise ImportError_(
                    f"Failed to parse {location} line {line}: expected {len(header)} columns, found {len(row)}"
                )
            for field, value in zip(columns, row, strict=True):
                self._check_value(location, line, field, value)
            self.records += 1
            if "USER_ID" in header:
                self.users.add(row[header.index("USER_ID")])

    def _column(self, name: str) -> Field:
        return self._fields.get(name) or Field(name, "string", True, False)

    def _check_header(self, location: str, header: list[str]) -> None:
        unknown = [name for name in header if name not in self._fields]
        if unknown:
            raise ImportError_(f"Input CSV {location} has columns that are not in the schema: {unknown}")
        missing = [f.name for f in self._fields.values() if not f.nullable and f.name not in header]
        if missing:
            raise ImportError_(f"Input CSV {location} is missing the following columns: {missing}")
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise ImportError_(f"Input CSV {location} has duplicate columns: {duplicates}")

    def _check_value(self, location: str, line: int, field: Field, value: str) -> None:
        where = f"{location} line {line} column {field.name}"
        if value == "":
            if not field.nullable:
                raise ImportError_(f"Required value missing in {where}")
            return
        if field.avro_type in ("long", "int"):
            if not _is_integer(value):
                raise ImportError_(f"Value '{value[:100]}' in {where} is not a valid {field.avro_type}")
            if field.name in TIMESTAMP_FIELDS and int(value) > MAX_EPOCH_SECONDS:
                raise ImportError_(
                    f"Timestamp '{value}' in {where} is out of range: timestamps must be Unix epoch time in "
                    "seconds (this value looks like milliseconds)"
                )
        elif field.avro_type in ("float", "double"):
            try:
                float(value)
            except ValueError:
                raise ImportError_(f"Value '{value[:100]}' in {where} is not a valid {field.avro_type}") from None
        elif field.avro_type == "boolean" and value.lower() not in ("true", "false"):
            raise ImportError_(f"Value '{value[:100]}' in {where} is not a valid boolean")
        if field.name in ID_FIELDS and len(value) > MAX_ID_CHARS:
            raise ImportError_(f"Value in {where} is {len(value)} characters; ids may have at most {MAX_ID_CHARS}")
        if field.categorical and any(len(part) > MAX_CATEGORICAL_CHARS for part in value.split("|")):
            raise ImportError_(f"Categorical value in {where} is longer than {MAX_CATEGORICAL_CHARS} characters")


def _is_integer(value: str) -> bool:
    digits = value[1:] if value[:1] in "+-" else value
    return digits.isascii() and digits.isdigit()
