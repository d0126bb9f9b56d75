#!/usr/bin/env python3
"""Speed and memory of the synth-time data check on a 1,000,000-row interactions CSV.

Prints, measured in the same run on the same file:
- the time Python's bare ``csv.reader`` takes merely to parse the file (best of 3);
- the time the full check takes (every rule, both engines; best of 3, polars already imported);
  target: ratio check / csv.reader <= 1.0;
- the extra time an unchanged re-synth pays: a DatasetImport with the check (cache warm) against
  one with validate_data=False (median of 7 constructions); target <= 50 ms;
- peak resident memory above the baseline (Python and polars' native memory; a fresh process each)
  at 500,000, 1,000,000 and 4,000,000 rows with the same users: it should not grow with the file
  beyond what the user count needs. (Informational: not part of "targets met".)

    .venv/bin/python bench/preflight_speed.py
"""

from __future__ import annotations

import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Environment, Stack
from aws_cdk import aws_s3_deployment as s3_deployment

from constructs_personalize import DatasetImport, DatasetSchema, validate_data
from constructs_personalize.preflight import fast
from constructs_personalize.preflight.assets import check_sources

ROWS = 1_000_000
USERS = 50_000
SCHEMA = DatasetSchema.interactions()
DATASET_ARN = "arn:aws:personalize:eu-west-1:123456789012:dataset/shop/INTERACTIONS"


def write_interactions(path: Path, rows: int) -> None:
    """USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE like a shop's export (~31 bytes a row)."""
    rng = random.Random(7)
    events = ("click", "view", "purchase")
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n")
        for index in range(rows):
            out.write(f"u{rng.randrange(USERS)},i{rng.randrange(20_000)},{1_700_000_000 + index},{events[index % 3]}\n")


def best_of(runs: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def bare_parse(path: Path) -> None:
    with path.open(encoding="utf-8", newline="") as stream:
        for _ in csv.reader(stream):
            pass


MEMORY_PROBE = """
import os, sys, threading, time
from pathlib import Path
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, sys.argv[3])
from constructs_personalize import DatasetSchema, validate_data
import polars  # loaded before the baseline, as in a synth that already used it
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * page
schema = DatasetSchema.interactions()
baseline, peak, done = rss(), [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.0005)
sampler = threading.Thread(target=sample)
sampler.start()
try:
    validate_data(Path(sys.argv[1]), schema, "FULL", engine=sys.argv[2])
finally:
    done.set()
    sampler.join()
print(max(peak[0], rss()) - baseline)
"""


def peak_memory(folder: Path, engine: str) -> int:
    """Peak resident memory above the process's baseline while checking (Python and native alike)."""
    repo = str(Path(__file__).resolve().parents[1])
    output = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(folder), engine, repo], check=True, capture_output=True, text=True
    ).stdout
    return int(output.strip().splitlines()[-1])


def resynth_extra(folder: Path) -> tuple[float, float]:
    """(extra time of a DatasetImport with the check, cache warm; the cached check alone), in seconds."""

    def construct(check: bool) -> float:
        stack = Stack(App(), "Bench", env=Environment(account="123456789012", region="eu-west-1"))
        start = time.perf_counter()
        imp = DatasetImport(
            stack,
            "Interactions",
            dataset_arn=DATASET_ARN,
            sources=[s3_deployment.Source.asset(str(folder))],
            schema=SCHEMA,
            validate_data=check,
        )
        elapsed = time.perf_counter() - start
        if check:
            deployment = imp.node.find_child("Upload")
            start = time.perf_counter()
            check_sources(imp, deployment, 1, SCHEMA, "FULL")  # type: ignore[arg-type]
            alone.append(time.perf_counter() - start)
        return elapsed

    alone: list[float] = []
    construct(True)  # fills the cache, as the first synth does
    with_check, without = [], []
    for _ in range(15):  # interleaved, so drift in the jsii process hits both alike
        with_check.append(construct(True))
        without.append(construct(False))
    return statistics.median(with_check) - statistics.median(without), statistics.median(alone)


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["CONSTRUCTS_PERSONALIZE_CACHE_DIR"] = str(Path(scratch) / "cache")
        big, half, quadruple = Path(scratch) / "big", Path(scratch) / "half", Path(scratch) / "quadruple"
        for folder, rows in ((big, ROWS), (half, ROWS // 2), (quadruple, ROWS * 4)):
            folder.mkdir()
            write_interactions(folder / "interactions.csv", rows)
        size = (big / "interactions.csv").stat().st_size
        print(f"file: {ROWS:,} rows, {size / 1e6:.1f} MB, {USERS:,} users; fast engine installed: {fast.available()}")
        validate_data(big, SCHEMA, "FULL")  # warm-up: imports polars, fills the OS page cache
        bare = best_of(3, lambda: bare_parse(big / "interactions.csv"))
        print(f"csv.reader parse only           {bare:7.3f} s")
        targets_met = True
        for engine in ("auto", "python"):
            checked = best_of(3, lambda engine=engine: validate_data(big, SCHEMA, "FULL", engine=engine))  # type: ignore[misc]
            summary = validate_data(big, SCHEMA, "FULL", engine=engine)
            ratio = checked / bare
            label = f"full check, {summary.engine} engine"
            print(f"{label:31s} {checked:7.3f} s   ratio {ratio:.2f} (target <= 1.0)")
            if engine == "auto":
                targets_met &= ratio <= 1.0
        extra, alone = resynth_extra(big)
        targets_met &= extra * 1000 <= 50
        print(
            f"unchanged re-synth, extra       {extra * 1000:7.1f} ms (target <= 50 ms; "
            f"the cached check alone: {alone * 1000:.2f} ms)"
        )
        sizes = {ROWS // 2: half, ROWS: big, ROWS * 4: quadruple}
        for engine in ("auto", "python"):
            peaks = {rows: peak_memory(folder, engine) for rows, folder in sizes.items()}
            growth = peaks[ROWS * 4] / peaks[ROWS // 2] - 1
            shown = ", ".join(f"{peak / 1e6:.1f} MB at {rows:,} rows" for rows, peak in peaks.items())
            print(f"peak memory ({engine:6s})           {shown}; {growth:+.0%} for 8x the file")
        print("targets met" if targets_met else "TARGETS MISSED")
        return 0 if targets_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
