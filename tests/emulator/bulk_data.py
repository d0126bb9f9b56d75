"""What a dataset holds after its import jobs: the bulk data FULL and INCREMENTAL imports leave behind.

The developer guide: a FULL import "replaces any existing data in the dataset that you imported in
bulk"; an INCREMENTAL import adds its records, and for items and users a record replaces the one
with the same id. Interactions have no id: an interactions batch imported twice is there twice.
That last rule is what makes "add each INCREMENTAL batch once" observable.

A record is its CSV line (header dropped, values as written), read from the CSV files at the first
level of the job's data location, as the importer reads them.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ID_COLUMN = {"ITEMS": "ITEM_ID", "USERS": "USER_ID", "ACTIONS": "ACTION_ID"}


@dataclass
class BulkData:
    """One dataset's bulk records: a multiset for interactions, the latest record per id otherwise."""

    dataset_type: str
    records: Counter[tuple[str, ...]] = field(default_factory=Counter)
    by_id: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def apply(self, import_mode: str, rows: list[dict[str, str]]) -> None:
        id_column = ID_COLUMN.get(self.dataset_type.upper())
        if import_mode == "FULL":
            self.records, self.by_id = Counter(), {}
        for row in rows:
            record = tuple(f"{k}={row[k]}" for k in sorted(row))
            if id_column is None:
                self.records[record] += 1
            else:
                self.by_id[row.get(id_column, "")] = record

    def snapshot(self) -> Counter[tuple[str, ...]]:
        """The records as a multiset, whatever the dataset type."""
        if ID_COLUMN.get(self.dataset_type.upper()) is None:
            return Counter(self.records)
        return Counter(self.by_id.values())


def rows_at(s3: S3Client, location: str) -> list[dict[str, str]]:
    """The records of the CSV files a job at ``location`` imported (first level of a folder, or one file)."""
    bucket, _, key = location.removeprefix("s3://").partition("/")
    if key and not key.endswith("/"):
        keys = [key]
    else:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key, Delimiter="/")
        keys = sorted(i["Key"] for p in pages for i in p.get("Contents", []) if i["Key"].lower().endswith(".csv"))
    rows: list[dict[str, str]] = []
    for object_key in keys:
        text = s3.get_object(Bucket=bucket, Key=object_key)["Body"].read().decode("utf-8-sig")
        rows += list(csv.DictReader(io.StringIO(text)))
    return rows
