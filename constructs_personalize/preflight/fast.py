"""The fast engine: a byte-level structure check, then polars for the values (optional dependency).

It only ever says "clean, here are the counts" or "not sure". A file it is not sure about (a bare CR
line end, blank lines, a quote where Python's csv module would take it literally, anything unusual,
any rule broken) goes through ``precise.py``, which finds and words the problems. So the fast engine
may be stricter than the rules, never laxer. It takes what ``csv.writer`` writes in its stride: LF
or CRLF line ends, and RFC 4180 quoting (``"a,b"``, ``""`` for a quote, line ends inside quotes).
Memory stays flat: the file is read in 1 MB blocks that polars checks one at a time (overlapping with
the structure check of the next block); only the distinct users are kept, with the user column of the
last few blocks, which is counted into them every few blocks.
"""

from __future__ import annotations

import csv
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
# A row longer than this (quotes included) goes to the precise check: it is not held in memory to be
# cut into a block, nor is the rest of a file after an unclosed quote.
LONGEST_ROW = 16 << 20
_KEEP = b",\r\n"
_DELETE = bytes(b for b in range(256) if b not in _KEEP)
_BOM = "\ufeff".encode()


class _Unsure(Exception):
    """The file has something the fast engine does not judge: the precise check must look."""


def available() -> bool:
    return importlib.util.find_spec("polars") is not None


def check_file(path: Path, header: list[str], schema: DatasetSchema) -> tuple[int, Counter[str]] | None:
    """(records, users) if every row is certainly valid; None if the precise check must look.

    ``header`` is the file's first row as the csv module reads it, already found to hold only the
    schema's fields (once each).
    """
    import polars as pl  # noqa: PLC0415 - optional dependency, imported only when installed

    # csv.Error past this many characters in a field: the precise check reports it, so it is a rule here too.
    limit = csv.field_size_limit()
    checks = [_rule(pl, schema.field(name), name, limit) for name in header]
    commas = b"," * (len(header) - 1)
    records = 0
    # Frames of (USER_ID, len), at most MERGE_EVERY: a block's users (len 1 a row), or the sums of earlier blocks.
    users_so_far: list[Any] = []
    # polars works in its own threads without the GIL: while it checks one block, this thread
    # checks the structure of the next, then counts the users of the one before into the sums.
    # Memory: a few blocks and the distinct users, whatever the file size.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        pending: deque[Future[tuple[Any, ...] | None]] = deque()
        try:
            for block in itertools.chain(_blocks(path), [None]):  # None: the end, collect what is left
                shape = None if block is None else _structure(block, commas)
                checked: list[tuple[Any, ...]] = []
                while pending and (block is None or len(pending) >= WORKERS):
                    result = _collect(pending.popleft())
                    if result is None:
                        return None
                    checked.append(result)
                if block is not None and shape is not None:
                    pending.append(pool.submit(_check_block, pl, header, block, shape, checks))
                for result in checked:
                    records += result[0]
                    users_so_far = _merge(pl, users_so_far, result[1:])
        except _Unsure:
            return None
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
    """The rows after the header, in blocks of about BLOCK bytes that end at a line end outside quotes.

    Raises _Unsure when the header's line end is not plain or a row (quotes included) is too long.
    """
    with path.open("rb") as stream:
        # The header row holds only field names, none with a CR or LF in it (one inside quotes would be
        # part of a name), so it ends at the file's first CR or LF: where this line ends only if that is
        # an LF or a CRLF.
        header = stream.readline(LONGEST_ROW)
        if len(header) == LONGEST_ROW or b"\r" in header.removesuffix(b"\n").removesuffix(b"\r"):
            raise _Unsure
        rest = b""
        while block := stream.read(BLOCK):
            data = rest + block
            cut = _cut(data)
            if cut:
                rest = data[cut:]
                yield data[:cut]
            else:
                rest = data
            if len(rest) > LONGEST_ROW:
                raise _Unsure
        if rest:
            yield rest + b"\n"


def _cut(data: bytes) -> int:
    """Where the last whole row of ``data`` ends: after its last LF with an even number of quotes before it.

    Counting quotes tells inside from outside only when every quote is where RFC 4180 puts it;
    ``_structure`` makes sure of that in each block, starting at the first, so a block cut at an LF
    that is in fact inside quotes (after a quote the csv module would take literally) is never judged.
    """
    cut = data.rfind(b"\n") + 1
    if not cut or b'"' not in data:
        return cut
    quotes = data.count(b'"', 0, cut)
    while quotes % 2:  # that LF is inside quotes: try the one before
        end = cut - 1
        cut = data.rfind(b"\n", 0, end) + 1
        if not cut:
            return 0
        quotes -= data.count(b'"', cut, end)
    return cut


def _check_block(
    pl: Any, header: list[str], block: bytes, shape: tuple[int, bool], checks: list[Any]
) -> tuple[Any, ...] | None:
    rows, quoted = shape
    frame = pl.read_csv(
        block,
        has_header=False,
        new_columns=header,
        infer_schema=False,
        quote_char='"' if quoted else None,
        encoding="utf8",
        empty_string_is_null=False,  # "" as the csv module reads it, quoted or not
    )
    lazy = frame.lazy()
    queries = [lazy.select(pl.len().alias("__records"), *checks)]
    if USER_COLUMN in header:  # counted when merged: once every few blocks, not in each
        queries.append(lazy.select(USER_COLUMN, pl.lit(1, pl.UInt32).alias("len")))
    summary, *users = pl.collect_all(queries)
    row = summary.row(0, named=True)
    if row["__records"] != rows or not all(value is True for key, value in row.items() if key != "__records"):
        return None
    return (rows, *users)


def _collect(pending: Future[tuple[Any, ...] | None]) -> tuple[Any, ...] | None:
    try:
        return pending.result()
    except Exception:  # noqa: BLE001 - anything polars dislikes is the precise check's to explain
        return None


def _structure(data: bytes, commas: bytes) -> tuple[int, bool]:
    """(rows, whether any field is quoted) of a block the csv module and polars read alike.

    That is: UTF-8, no BOM at its start (polars would drop it, the csv module keeps it), LF line ends
    or CRLF ones (either, all through the block), no blank line, ``commas`` on every line, and quotes only
    where RFC 4180 puts them: a quoted field starts at the start of a field and its closing quote
    ends the field (``""`` inside is a quote; commas, CRs and LFs inside are data). Raises _Unsure.
    """
    if data.startswith(_BOM):
        raise _Unsure
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise _Unsure from None
    outside = data
    quoted = b'"' in data
    if quoted:
        # Between the odd and the even quotes is inside a quoted field; each quoted field (with its
        # doubled quotes) becomes one quote in ``outside``, which must start and end a field.
        parts = data.split(b'"')
        if len(parts) % 2 == 0:
            raise _Unsure  # a quote left open
        outside = b'"'.join(parts[::2])
        while b'""' in outside:
            outside = outside.replace(b'""', b'"')
        fields = outside.count(b'"')
        starts = outside.count(b',"') + outside.count(b'\n"') + outside.startswith(b'"')
        ends = outside.count(b'",') + outside.count(b'"\n') + outside.count(b'"\r\n')
        if starts != fields or ends != fields:
            raise _Unsure
    if not commas and (outside.startswith((b"\n", b"\r\n")) or b"\n\n" in outside or b"\n\r\n" in outside):
        raise _Unsure  # a blank line, which the csv module skips (with more columns, the commas catch it)
    # Outside quotes, a CR is a line end: with LF line ends there is none; with CRLF, each is right before
    # an LF (as many CRs and LFs as CRLFs: none is elsewhere on its line, in the last value).
    line_end = b"\r\n" if b"\r" in outside else b"\n"
    rows = outside.count(line_end)
    if outside.translate(None, _DELETE) != (commas + line_end) * rows:
        raise _Unsure
    return rows, quoted


def _rule(pl: Any, field: Field | None, name: str, limit: int) -> polars.Expr:
    column = pl.col(name)
    conditions = [column.str.len_bytes() <= limit]  # bytes, not characters: stricter, and quicker
    if field is not None:
        conditions.extend(_value_rules(column, field, name))
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined & condition
    return cast("polars.Expr", combined.all().alias(name))


def _value_rules(column: Any, field: Field, name: str) -> list[Any]:
    # Values are strings exactly as the csv module reads them: "" for an empty value, never null.
    conditions = []
    pattern = _pattern(field)
    if pattern is not None:
        optional = "?" if field.nullable else ""
        conditions.append(column.str.contains(f"^(?:{pattern}){optional}$"))
    elif field.type is FieldType.BOOLEAN:
        allowed = ["true", "false", ""] if field.nullable else ["true", "false"]
        conditions.append(column.str.to_lowercase().is_in(allowed))
    elif not field.nullable:
        conditions.append(column != "")
    if name in ID_FIELDS:
        conditions.append(column.str.len_chars() <= MAX_ID_CHARS)
    if field.categorical or name in LIST_FIELDS:
        # Stricter than the rule (whole value, not each "|" part): a long list goes to the precise check.
        conditions.append(column.str.len_chars() <= MAX_CATEGORICAL_CHARS)
    return conditions


def _pattern(field: Field) -> str | None:
    if field.name in TIMESTAMP_FIELDS and field.type in (FieldType.LONG, FieldType.INT):
        return r"[0-9]{1,10}"  # epoch seconds up to 9,999,999,999; the rest is for the precise check
    if field.type is FieldType.LONG:
        return r"[+-]?[0-9]{1,18}"  # 18 digits always fit a long
    if field.type is FieldType.INT:
        return r"[+-]?[0-9]{1,9}"  # 9 digits always fit an int
    if field.type in (FieldType.FLOAT, FieldType.DOUBLE):
        return FLOAT.pattern
    return None
