"""Write the example app's interactions CSV: small, deterministic, and above Personalize's minimums.

Personalize needs at least 1,000 interactions and at least 25 users with 2 or more interactions
each; timestamps are Unix epoch seconds. The same seed always writes the same bytes, so the
example's data asset (and the import job name derived from it) only changes when this script does.

    python scripts/generate_sample_data.py [output.csv]
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "data" / "interactions" / "interactions.csv"
SEED = 20261129
USERS = 60
ITEMS = 150
INTERACTIONS = 1_500
START = 1_735_689_600  # 2025-01-01T00:00:00Z, in epoch seconds
SPAN_SECONDS = 90 * 24 * 3600
EVENT_TYPES = ("click", "click", "click", "purchase")
HEADER = ("USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE")


def rows(seed: int = SEED) -> list[tuple[str, str, int, str]]:
    rng = random.Random(seed)
    users = [f"user-{n:03d}" for n in range(USERS)]
    # Every user gets two interactions first, so the 2-per-user minimum holds by construction.
    chosen = users * 2 + [rng.choice(users) for _ in range(INTERACTIONS - 2 * USERS)]
    result = [
        (user, f"item-{rng.randrange(ITEMS):04d}", START + rng.randrange(SPAN_SECONDS), rng.choice(EVENT_TYPES))
        for user in chosen
    ]
    result.sort(key=lambda row: (row[2], row[0]))
    return result


def write(path: Path, seed: int = SEED) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = rows(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(data)
    return len(data)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    count = write(target)
    print(f"wrote {count} interactions to {target}")
