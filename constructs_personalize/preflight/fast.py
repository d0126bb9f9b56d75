"""The fast engine: a byte-level structure check, then polars for the values (optional dependency).

It only ever says "clean, here are the counts" or "not sure". A file it is not sure about (quotes,
CR line endings, blank lines, anything unusual, any rule broken) goes through ``precise.py``,
which finds and words the problems. So the fast engine may be stricter than the rules, never laxer.
Memory stays flat: bytes are read in blocks, and polars streams; only the distinct users are kept.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from constructs_personalize.preflight.rules import (
    FLOAT,
    ID_FIELDS,
    LIST_FIELDS,
    MAX_CATEGORICAL_CHARS,
    MAX_ID_CHARS,
    TIMESTAMP_FIELDS,
)
from constructs_personalize.schema import DatasetSchema, Field, FieldType

if TYPE_CHECKING:
    import polars

BLOCK = 8 << 20
_KEEP = b",\n"
_DELETE = bytes(b for b in range(256) if b not in _KEEP)


def available() -> bool:
    return importlib.util.find_spec("polars") is not None


def check_file(path: Path, header: list[str], schema: DatasetSchema) -> tuple[int, Counter[str]] | None:
    """(records, users) if every row is certainly valid; None if the precise check must look."""
    import polars as pl  # noqa: PLC0415 - optional dependency, imported only when installed

    frame = pl.scan_csv(path, has_header=True, infer_schema=False, quote_char=None, encoding="utf8")
    checks = [_rule(pl, schema.field(name), name) for name in header]
    queries = [frame.select(pl.len().alias("__records"), *(c for c in checks if c is not None))]
    if "USER_ID" in header:
        queries.append(frame.group_by("USER_ID").len())
    # polars works in its own threads without the GIL: the byte-level structure check runs meanwhile.
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(pl.collect_all, queries, engine="streaming")
        plain = _plain_structure(path, len(header))
        try:
            results = running.result()
        except Exception:  # noqa: BLE001 - anything polars dislikes is the precise check's to explain
            return None
    if not plain:
        return None
    row = results[0].row(0, named=True)
    if not all(value is True for key, value in row.items() if key != "__records"):
        return None
    users: Counter[str] = Counter()
    if len(results) > 1:
        counts = results[1]
        users.update(dict(zip(counts["USER_ID"].to_list(), counts["len"].to_list(), strict=True)))
    return int(row["__records"]), users


def _plain_structure(path: Path, width: int) -> bool:
    """No quotes, no CR, no blank lines, UTF-8, and exactly ``width - 1`` commas on every line."""
    expected_line = b"," * (width - 1) + b"\n"
    with path.open("rb") as stream:
        stream.readline()  # the header, already checked
        rest = b""
        while True:
            block = stream.read(BLOCK)
            data = rest + block
            if not block:
                if not data:
                    return True
                if not data.endswith(b"\n"):
                    data += b"\n"
                rest = b""
            else:
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
            if data and not _plain_block(data, expected_line):
                return False
            if not block:
                return True


def _plain_block(data: bytes, expected_line: bytes) -> bool:
    if b'"' in data or b"\r" in data:
        return False
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    skeleton = data.translate(None, _DELETE)
    return skeleton == expected_line * data.count(b"\n")


def _rule(pl: Any, field: Field | None, name: str) -> polars.Expr | None:
    if field is None:
        return None
    column = pl.col(name)
    conditions = []
    if not field.nullable:
        conditions.append(column.is_not_null())
    pattern = _pattern(field)
    if pattern is not None:
        conditions.append(column.str.contains(pattern).fill_null(True))
    if field.type is FieldType.BOOLEAN:
        conditions.append(column.str.to_lowercase().is_in(["true", "false"]).fill_null(True))
    if name in ID_FIELDS:
        conditions.append(column.str.len_chars().fill_null(0) <= MAX_ID_CHARS)
    if field.categorical or name in LIST_FIELDS:
        # Stricter than the rule (whole value, not each "|" part): a long list goes to the precise check.
        conditions.append(column.str.len_chars().fill_null(0) <= MAX_CATEGORICAL_CHARS)
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined & condition
    return cast("polars.Expr", combined.all().alias(name))


def _pattern(field: Field) -> str | None:
    if field.name in TIMESTAMP_FIELDS and field.type in (FieldType.LONG, FieldType.INT):
        return r"^[0-9]{1,10}$"  # epoch seconds up to 9,999,999,999; the rest is for the precise check
    if field.type is FieldType.LONG:
        return r"^[+-]?[0-9]{1,18}$"  # 18 digits always fit a long
    if field.type is FieldType.INT:
        return r"^[+-]?[0-9]{1,9}$"  # 9 digits always fit an int
    if field.type in (FieldType.FLOAT, FieldType.DOUBLE):
        return f"^{FLOAT.pattern}$"
    return None
