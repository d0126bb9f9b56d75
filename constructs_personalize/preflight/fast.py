"""The fast engine: a byte-level structure check, then polars for the values (optional dependency).

It only ever says "clean, here are the counts" or "not sure". A file it is not sure about (quotes,
CR line endings, blank lines, anything unusual, any rule broken) goes through ``precise.py``,
which finds and words the problems. So the fast engine may be stricter than the rules, never laxer.
Memory stays flat: the file is read in 1 MB blocks that polars checks one at a time (overlapping with
the structure check of the next block); only the distinct users are kept, merged every few blocks.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from constructs_personalize.preflight.rules import (
    FLOAT,
    ID_FIELDS,
    LIST_FIELDS,
    MAX_CATEGORICAL_CHARS,
    MAX_ID_CHARS,
    TIMESTAMP_FIELDS,
    USER_COLUMN,
)
from constructs_personalize.schema import DatasetSchema, Field, FieldType

if TYPE_CHECKING:
    import polars

MERGE_EVERY = 8  # blocks' user counts held before they are merged into one
WORKERS = 1  # blocks polars checks at once; more is faster but makes polars' native heap grow
BLOCK = 1 << 20  # bytes per block: small blocks keep polars' native heap flat whatever the file size
_KEEP = b",\n"
_DELETE = bytes(b for b in range(256) if b not in _KEEP)


def available() -> bool:
    return importlib.util.find_spec("polars") is not None


def check_file(path: Path, header: list[str], schema: DatasetSchema) -> tuple[int, Counter[str]] | None:
    """(records, users) if every row is certainly valid; None if the precise check must look."""
    import polars as pl  # noqa: PLC0415 - optional dependency, imported only when installed

    checks = [c for c in (_rule(pl, schema.field(name), name) for name in header) if c is not None]
    has_users = USER_COLUMN in header
    expected_line = b"," * (len(header) - 1) + b"\n"
    records = 0
    users_so_far: list[Any] = []  # frames of (USER_ID, len) of the blocks checked so far, at most MERGE_EVERY
    # polars works in its own threads without the GIL: while it checks one block, this thread
    # checks the structure of the next. Memory: a few blocks and the distinct users, whatever the file size.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        pending: deque[Future[tuple[Any, ...] | None]] = deque()
        for block in itertools.chain(_blocks(path), [None]):  # None: the end, collect what is left
            if block is not None and not _plain_block(block, expected_line):
                return None
            while pending and (block is None or len(pending) >= WORKERS):
                result = _collect(pending.popleft())
                if result is None:
                    return None
                records += result[0]
                users_so_far = _merge(pl, users_so_far, result[1:])
            if block is not None:
                pending.append(pool.submit(_check_block, pl, header, block, checks, has_users))
    users: Counter[str] = Counter()
    if users_so_far:
        frame = _sum_users(pl, users_so_far)
        users.update(dict(zip(frame[USER_COLUMN].to_list(), frame["len"].to_list(), strict=True)))
    return records, users


def _merge(pl: Any, so_far: list[Any], new: tuple[Any, ...]) -> list[Any]:
    # Merged every few blocks, so memory holds the distinct users a few times at most, not once per block.
    so_far = [*so_far, *new]
    if len(so_far) < MERGE_EVERY:
        return so_far
    return [_sum_users(pl, so_far)]


def _sum_users(pl: Any, frames: list[Any]) -> Any:
    return pl.concat(frames).group_by(USER_COLUMN).agg(pl.col("len").sum())


def _blocks(path: Path) -> Iterator[bytes]:
    """The rows after the header, in blocks of about BLOCK bytes that end at a line end."""
    with path.open("rb") as stream:
        stream.readline()  # the header, already checked
        rest = b""
        while block := stream.read(BLOCK):
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if cut:
                rest = data[cut:]
                yield data[:cut]
            else:
                rest = data
        if rest:
            yield rest + b"\n"


def _check_block(
    pl: Any, header: list[str], block: bytes, checks: list[Any], has_users: bool
) -> tuple[Any, ...] | None:
    frame = pl.read_csv(
        block, has_header=False, new_columns=header, infer_schema=False, quote_char=None, encoding="utf8"
    )
    lazy = frame.lazy()
    queries = [lazy.select(pl.len().alias("__records"), *checks)]
    if has_users:
        queries.append(lazy.group_by(USER_COLUMN).len())
    summary, *users = pl.collect_all(queries)
    row = summary.row(0, named=True)
    if not all(value is True for key, value in row.items() if key != "__records"):
        return None
    return (int(row["__records"]), *users)


def _collect(pending: Future[tuple[Any, ...] | None]) -> tuple[Any, ...] | None:
    try:
        return pending.result()
    except Exception:  # noqa: BLE001 - anything polars dislikes is the precise check's to explain
        return None


def _plain_block(data: bytes, expected_line: bytes) -> bool:
    """No quotes, no CR, no blank lines, UTF-8, and exactly one comma fewer than columns on every line."""
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
