"""The example's sample CSV meets Personalize's training minimums and is reproducible."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from scripts import generate_sample_data as sample

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "interactions" / "interactions.csv"


def test_shipped_sample_meets_the_training_minimums() -> None:
    with SHIPPED.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert next(reader) == list(sample.HEADER)
        rows = list(reader)
    assert len(rows) >= 1_000
    per_user = Counter(row[0] for row in rows)
    assert sum(1 for count in per_user.values() if count >= 2) >= 25
    # Epoch seconds: ten digits in this era, never milliseconds.
    assert all(row[2].isdigit() and len(row[2]) == 10 for row in rows)


def test_the_generator_reproduces_the_shipped_file_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "interactions.csv"
    sample.write(out)
    assert out.read_bytes() == SHIPPED.read_bytes()
