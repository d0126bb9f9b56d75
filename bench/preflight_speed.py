#!/usr/bin/env python3
"""Speed and memory of the synth-time data check on a 1,000,000-row interactions CSV.

Prints, measured in the same run on the same content, once with LF line ends and once with CRLF
(what Python's ``csv.writer`` writes):
- the time Python's bare ``csv.reader`` takes merely to parse the file, and the time the full check
  takes with the polars engine (every rule; polars already imported): best of 5, the two taking
  turns so that other load on the machine hits both alike; target, for both line ends: ratio
  check / csv.reader <= 1.0, the polars engine judging the file itself (not handing it over);
- the time the full check takes with the Python engine (best of 3; informational);
- the extra time an unchanged re-synth pays: a DatasetImport with the check (cache warm) against
  one with validate_data=False (median of 15 constructions); target <= 50 ms;
- peak resident memory above the baseline (Python and polars' native memory; a fresh process each)
  at 500,000, 1,000,000 and 4,000,000 rows with the same users (LF line ends): it should not grow
  with the file beyond what the user count needs. (Informational: not part of "targets met".)

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
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Environment, Stack

from constructs_personalize import DatasetImport, DatasetSchema, DataSource, DataSummary, validate_data
from constructs_personalize import dataset_import as dataset_import_module
from constructs_personalize.preflight import fast
from constructs_personalize.preflight.assets import check_sources

ROWS = 1_000_000
USERS = 50_000
SCHEMA = DatasetSchema.interactions()
DATASET_ARN = "arn:aws:personalize:eu-west-1:123456789012:dataset/shop/INTERACTIONS"


def write_interactions(path: Path, rows: int, line_end: str = "\n") -> None:
    """USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE like a shop's export (~31 bytes a row); same rows for any line end."""
    rng = random.Random(7)
    events = ("click", "view", "purchase")
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(f"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE{line_end}")
        for index in range(rows):
            user, item = rng.randrange(USERS), rng.randrange(20_000)
            out.write(f"u{user},i{item},{1_700_000_000 + index},{events[index % 3]}{line_end}")


def best_of(runs: int, *actions: Callable[[], object]) -> list[float]:
    """The best time of each action over ``runs`` rounds in which the actions take turns."""
    timings: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, times in zip(actions, timings, strict=True):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
    return [min(times) for times in timings]


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
    alone: list[float] = []

    def timed_check(*args: Any, **kwargs: Any) -> DataSummary | None:
        start = time.perf_counter()
        try:
            return check_sources(*args, **kwargs)
        finally:
            alone.append(time.perf_counter() - start)

    def construct(check: bool) -> float:
        stack = Stack(App(), "Bench", env=Environment(account="123456789012", region="eu-west-1"))
        start = time.perf_counter()
        imp = DatasetImport(
            stack,
            "Interactions",
            dataset_arn=DATASET_ARN,
            schema=SCHEMA,
            data=DataSource.from_asset(folder),
            validate_data=check,
        )
        assert imp.data_summary is not None or not check
        return time.perf_counter() - start

    with mock.patch.object(dataset_import_module, "check_sources", timed_check):  # the check the construct runs
        construct(True)  # fills the cache, as the first synth does
        alone.clear()
        with_check, without = [], []
        for _ in range(15):  # interleaved, so drift in the jsii process hits both alike
            with_check.append(construct(True))
            without.append(construct(False))
    return statistics.median(with_check) - statistics.median(without), statistics.median(alone)


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["CONSTRUCTS_PERSONALIZE_CACHE_DIR"] = str(Path(scratch) / "cache")
        big, crlf = Path(scratch) / "big", Path(scratch) / "crlf"
        half, quadruple = Path(scratch) / "half", Path(scratch) / "quadruple"
        for folder, rows, line_end in (
            (big, ROWS, "\n"),
            (crlf, ROWS, "\r\n"),
            (half, ROWS // 2, "\n"),
            (quadruple, ROWS * 4, "\n"),
        ):
            folder.mkdir()
            write_interactions(folder / "interactions.csv", rows, line_end)
        sizes_mb = [(folder / "interactions.csv").stat().st_size / 1e6 for folder in (big, crlf)]
        print(
            f"file: {ROWS:,} rows, {sizes_mb[0]:.1f} MB with LF line ends, {sizes_mb[1]:.1f} MB with CRLF, "
            f"{USERS:,} users; fast engine installed: {fast.available()}"
        )
        targets_met = True
        for name, folder in (("LF", big), ("CRLF", crlf)):
            validate_data(folder, SCHEMA, "FULL")  # warm-up: imports polars, fills the OS page cache
            bare, fast_check = best_of(
                5,
                lambda f=folder: bare_parse(f / "interactions.csv"),  # type: ignore[misc]
                lambda f=folder: validate_data(f, SCHEMA, "FULL"),  # type: ignore[misc]
            )
            [python_check] = best_of(3, lambda f=folder: validate_data(f, SCHEMA, "FULL", engine="python"))  # type: ignore[misc]
            print(f"{name + ' csv.reader parse only':34s} {bare:7.3f} s")
            fast_summary = validate_data(folder, SCHEMA, "FULL")
            python_summary = validate_data(folder, SCHEMA, "FULL", engine="python")
            for summary, checked, target in (
                (fast_summary, fast_check, " (target <= 1.0)"),
                (python_summary, python_check, ""),
            ):
                label = f"{name} full check, {summary.engine} engine"
                print(f"{label:34s} {checked:7.3f} s   ratio {checked / bare:.2f}{target}")
            targets_met &= fast_summary.engine == "polars" and fast_check / bare <= 1.0
        extra, alone = resynth_extra(big)
        targets_met &= extra * 1000 <= 50
        print(
            f"unchanged re-synth, extra          {extra * 1000:7.1f} ms (target <= 50 ms; "
            f"the cached check alone: {alone * 1000:.2f} ms)"
        )
        sizes = {ROWS // 2: half, ROWS: big, ROWS * 4: quadruple}
        for engine in ("auto", "python"):
            peaks = {rows: peak_memory(folder, engine) for rows, folder in sizes.items()}
            growth = peaks[ROWS * 4] / peaks[ROWS // 2] - 1
            shown = ", ".join(f"{peak / 1e6:.1f} MB at {rows:,} rows" for rows, peak in peaks.items())
            print(f"peak memory ({engine:6s}), LF          {shown}; {growth:+.0%} for 8x the file")
        print("targets met" if targets_met else "TARGETS MISSED")
        return 0 if targets_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
