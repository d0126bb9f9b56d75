"""A stack's life, not one deploy: property-based sequences of deploys of one stack and its copies.

Hypothesis draws sequences of deploys to two copies of ``history_app``'s stack in one emulated account
(as stages or pull-request stacks are): data edited and reverted, tag-only changes, the main import
switched between FULL and INCREMENTAL, a batch added, changed and removed, updates that fail and roll
back, redeploys of what is deployed. After every deploy the dataset must hold what the template
declares (docs/stack-life.md): the FULL data, plus each INCREMENTAL batch declared since that FULL
data was imported, once. And no deploy fails that a real account would complete.

The expected content is the test's own reading of Personalize's rules (``Expected``), and the
emulator's dataset (``bulk_data.py``) is what the jobs really left there; the library's job naming is
never consulted. CI runs a fixed set; HISTORY_EXAMPLES=200 HISTORY_RANDOM=1 searches wider.
"""

from __future__ import annotations

import csv
import functools
import io
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.service import JobTiming
from tests.emulator.world import World, personalize_world
from tests.lifecycle.history_app import TEMPLATE, Config, csv_body, data_dirs, synth

pytestmark = pytest.mark.lifecycle
EXAMPLES = int(os.environ.get("HISTORY_EXAMPLES", "25"))
DERANDOMIZE = not os.environ.get("HISTORY_RANDOM")
COPIES = ("RecsDev", "RecsPr7")


class Synths:
    """One synth per config, made the first time a sequence needs it."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self.data = data_dirs(root / "data")
        self._made: dict[Config, Path] = {}

    def __call__(self, config: Config) -> Path:
        if config not in self._made:
            self._made[config] = synth(config, self.data, self._root / config.key())
        return self._made[config]


@pytest.fixture(scope="module")
def synths(tmp_path_factory: pytest.TempPathFactory) -> Synths:
    return Synths(tmp_path_factory.mktemp("history"))


@functools.cache
def _records(version: str) -> Counter[tuple[str, ...]]:
    rows = csv.DictReader(io.StringIO(csv_body(version).decode("utf-8")))
    return Counter(tuple(f"{k}={row[k]}" for k in sorted(row)) for row in rows)


@dataclass
class Expected:
    """What one copy's dataset must hold, from what its templates declared and Personalize's import rules."""

    declared: Config | None = None
    full: str | None = None  # the data of the last FULL import
    added: list[str] = field(default_factory=list)  # INCREMENTAL batches added since, each once

    def declare(self, config: Config) -> None:
        """``config`` is now deployed: its imports ran (or, unchanged, did not need to)."""
        previous, self.declared = self.declared, config
        if config.main_mode == "FULL":
            if previous is None or (previous.main, previous.main_mode) != (config.main, config.main_mode):
                # A FULL import replaces the bulk data, and whatever was added to it.
                self.full, self.added = config.main, []
        else:
            self._add(config.main)
        if config.batch is not None:
            self._add(config.batch)

    def _add(self, batch: str) -> None:
        if batch not in self.added:
            self.added.append(batch)

    def records(self) -> Counter[tuple[str, ...]]:
        assert self.full is not None
        total = Counter(_records(self.full))  # a copy: the cached counts are shared
        for batch in self.added:
            total += _records(batch)
        return total


def _dataset_arn(stack: EmulatedStack) -> str:
    (logical_id,) = [
        lid
        for lid in stack.spec.of_type("AWS::Personalize::Dataset")
        if stack.spec.resources[lid]["Metadata"]["aws:cdk:path"] == f"{TEMPLATE}/Interactions"
    ]
    return str(stack.deployed(logical_id).physical_id)


def _job_count(world: World, dataset_arn: str) -> int:
    pages = world.personalize().get_paginator("list_dataset_import_jobs").paginate(datasetArn=dataset_arn)
    return sum(len(page["datasetImportJobs"]) for page in pages)


def _failures(deployment: object) -> str:
    failures = getattr(deployment, "failures", [])
    return "; ".join(f"{r.logical_id}: {r.reason}" for r in failures)


configs = st.builds(
    Config,
    main=st.sampled_from(["a", "b", "m"]),
    batch=st.sampled_from([None, "x", "y"]),
    tags=st.sampled_from(["recs", "ml"]),
    broken=st.booleans(),
)
histories = st.lists(st.tuples(st.sampled_from(COPIES), configs), min_size=2, max_size=7)


def _first(config: Config) -> Config:
    # A stack is created with bulk data and without a failing part: a failed create leaves no stack to update,
    # and an INCREMENTAL import into an empty dataset fails in a real account too.
    return Config("a" if config.main == "m" else config.main, config.batch, config.tags, long=config.long)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE, suppress_health_check=list(HealthCheck))
@given(history=histories)
def test_the_dataset_holds_what_the_template_declares_after_every_deploy(
    synths: Synths, history: list[tuple[str, Config]]
) -> None:
    _live(synths, history)


def test_a_rollback_with_long_waits_adds_the_batch_to_the_full_data_it_restores(synths: Synths) -> None:
    """With ImportWait.up_to, a rollback does not wait for the FULL import's new job: the batch after it
    must wait for that job itself, or the job would replace the batch once it ends."""
    _live(
        synths,
        [
            ("RecsDev", Config("a", "x", "recs", long=True)),
            ("RecsDev", Config("b", "x", "recs", long=True)),
            ("RecsDev", Config("a", "x", "recs", broken=True, long=True)),
            ("RecsDev", Config("a", "y", "recs", long=True)),
        ],
    )


# Long imports go on after a rollback: the invariant holds once they have ended.
SETTLE_SECONDS = 3 * 3600


def _live(synths: Synths, history: list[tuple[str, Config]]) -> None:
    with personalize_world() as world:
        world.emulator.job_timing = JobTiming(pending=30, running=240)
        stacks: dict[str, EmulatedStack] = {}
        expected = {name: Expected() for name in COPIES}
        for name, drawn in history:
            model = expected[name]
            config = _first(drawn) if name not in stacks else drawn
            if name not in stacks:
                stack = stacks[name] = EmulatedStack(synths(config), name, world, template_name=TEMPLATE)
                deployment = stack.deploy(stack.framework())
                assert deployment.succeeded, f"{name} create failed: {_failures(deployment)}"
                model.declare(config)
            else:
                stack = stacks[name]
                previous = model.declared
                assert previous is not None
                jobs_before = _job_count(world, _dataset_arn(stack))
                deployment = stack.update(synths(config), stack.framework(), roll_back=True)
                if config.broken:
                    # The failing import ran last, after the imports of this update: they happened, and the
                    # rollback put every resource back as the previous template had it.
                    assert deployment.stack_status == "UPDATE_ROLLBACK_COMPLETE", _failures(deployment.rollback)
                    assert [r.logical_id for r in deployment.failures if "Breaker" not in r.logical_id] == []
                    model.declare(config)
                    model.declare(previous)
                else:
                    assert deployment.succeeded, f"{name} update to {config} failed: {_failures(deployment)}"
                    model.declare(config)
                    if config.main == previous.main and config.batch in (previous.batch, None):
                        # Tags only, or nothing at all, or a batch removed: no new job.
                        assert _job_count(world, _dataset_arn(stack)) == jobs_before, f"{previous} -> {config}"
            if config.long:
                world.states.run_until(world.clock() + SETTLE_SECONDS)
            for copy, deployed in stacks.items():
                held = world.emulator.bulk_data(_dataset_arn(deployed))
                assert held == expected[copy].records(), (
                    f"{copy} holds {sorted({r[1] for r in held})[:3]}... after {history}; expected "
                    f"FULL {expected[copy].full} + {expected[copy].added}"
                )
