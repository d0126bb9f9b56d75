#!/usr/bin/env python3
"""How fast does the deployment notice that an import job ended, and what does polling cost?

Runs imports of several simulated durations through the real handler, driven like the CDK
Provider framework, against the emulated Personalize (tests/emulator) on a virtual clock, and
prints per configuration:
- latency: virtual seconds from the job turning ACTIVE to is_complete reporting it (max over imports);
- Describe calls per import, and per query interval of waiting (max over imports).
Targets: latency <= one query interval; <= 1 Describe call per interval per import. Then long mode
(``ImportWait.up_to``): the synthesized stack deployed whole, the waiter state machine polling every
interval, latency from the job's end to the wait condition's signal.

    .venv/bin/python bench/detection_latency.py
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # the library imports aws-cdk-lib

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_personalize as personalize

from constructs_personalize import DatasetImport, DatasetSchema, DataSource, ImportWait
from constructs_personalize.handlers.dataset_import import lifecycle
from tests.cloudformation_events import custom_resource_event, service_token
from tests.constants import ROLE_ARN
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.provider_framework import ProviderFramework
from tests.emulator.samples import interactions_csv
from tests.emulator.service import JobTiming
from tests.emulator.world import World, personalize_world

PENDING = 30.0
# Job durations (pending + running) that do not line up with the poll grid, from 1 minute to 58.
DURATIONS = (65.0, 307.0, 1033.0, 2711.0, 3481.0)
INTERVALS = (30.0, 10.0)  # 30 s is DatasetImport's default query_interval
# Long mode: jobs of 2 to 11.5 hours, waited for up to 12 hours (at least 18 s between polls there).
LONG_DURATIONS = (7_207.0, 19_811.0, 41_417.0)
LONG_INTERVALS = (30.0, 60.0)
LONG_STACK = "BenchLong"
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "interactions"
TOTAL_TIMEOUT = 3600.0


@dataclass
class Row:
    interval: float
    duration: float
    imports: int
    latency: float
    describes: int
    per_interval: float
    creates: int


def run(interval: float, duration: float, imports: int) -> Row:
    with personalize_world() as world:
        dataset_arn = world.interactions_dataset()
        world.bucket("training-data")
        location = world.put_object("training-data", "interactions/data.csv", interactions_csv())
        world.emulator.job_timing = JobTiming(pending=PENDING, running=duration - PENDING)
        framework = _framework(world, interval)
        events = [_event(f"bench-{index}", dataset_arn, location) for index in range(imports)]
        started = world.clock()
        outcomes = framework.run_all(events)
        latencies, describes, per_interval, creates = [], [], [], []
        for outcome in outcomes:
            if outcome.status != "SUCCESS":
                raise SystemExit(f"import failed: {outcome.reason}")
            finished = world.emulator.job_finished_at(outcome.physical_id)
            assert finished is not None
            latencies.append(outcome.finished_at - finished)
            calls = world.emulator.calls_for("DescribeDatasetImportJob", outcome.physical_id)
            describes.append(calls)
            per_interval.append(calls / max(1, math.ceil((outcome.finished_at - started) / interval)))
            creates.append(world.emulator.calls_for("CreateDatasetImportJob", outcome.physical_id))
        return Row(interval, duration, imports, max(latencies), max(describes), max(per_interval), max(creates))


def _framework(world: World, interval: float) -> ProviderFramework:
    budget = TOTAL_TIMEOUT - 2 * interval  # as DatasetImport sets WAIT_BUDGET_SECONDS
    handler = lifecycle.DatasetImportHandler(
        world.personalize(),
        start_client=world.personalize_single_attempt(),  # as the Lambda entry points build it
        clock=world.clock,
        wait_budget_seconds=budget,
        emit=lambda _line: None,
    )
    return ProviderFramework(
        handler.on_event, handler.is_complete, world.clock, query_interval=interval, total_timeout=TOTAL_TIMEOUT
    )


def _event(job_name: str, dataset_arn: str, location: str) -> dict[str, object]:
    properties = {
        "ServiceToken": service_token(),
        "JobName": job_name,
        "DatasetArn": dataset_arn,
        "RoleArn": ROLE_ARN,
        "DataLocation": location,
        "ImportMode": "FULL",
    }
    return custom_resource_event("Create", properties, logical_id=job_name)


def run_long(interval: float, duration: float, assembly: Path) -> Row:
    """A long import (ImportWait.up_to 12 h) deployed whole: the waiter's poll grid and Describe calls."""
    with personalize_world() as world:
        world.emulator.job_timing = JobTiming(pending=PENDING, running=duration - PENDING)
        stack = EmulatedStack(assembly, LONG_STACK, world)
        deployment = stack.deploy()
        (import_id,) = stack.import_ids()
        (condition,) = stack.spec.of_type("AWS::CloudFormation::WaitCondition")
        job_arn = deployment.physical_id(import_id)
        finished = world.emulator.job_finished_at(job_arn)
        assert deployment.succeeded and finished is not None, deployment.failures
        latency = deployment.completed_at(condition) - finished
        describes = world.emulator.calls_for("DescribeDatasetImportJob", job_arn)
        waited = max(finished - deployment.started_at, interval)
        creates = world.emulator.calls_for("CreateDatasetImportJob", job_arn)
        return Row(interval, duration, 1, latency, describes, describes / math.ceil(waited / interval), creates)


def _long_assembly(interval: float, outdir: Path) -> Path:
    app = App(outdir=str(outdir))
    stack = Stack(app, LONG_STACK)
    DatasetImport.configure(
        stack, query_interval=Duration.seconds(interval), total_timeout=Duration.seconds(interval * (3600 // interval))
    )
    group = personalize.CfnDatasetGroup(stack, "Group", name="bench-long").attr_dataset_group_arn
    schema = personalize.CfnSchema(stack, "Schema", name="bench-long", schema=DatasetSchema.interactions().to_json())
    dataset = personalize.CfnDataset(
        stack,
        "Dataset",
        name="bench-long",
        dataset_group_arn=group,
        dataset_type="Interactions",
        schema_arn=schema.attr_schema_arn,
    )
    DatasetImport(
        stack,
        "Bulk",
        dataset_arn=dataset.attr_dataset_arn,
        data=DataSource.from_asset(SAMPLE_DIR),
        wait=ImportWait.up_to(Duration.hours(12)),
    )
    app.synth()
    return outdir


def main() -> int:
    rows = [run(interval, duration, 1) for interval in INTERVALS for duration in DURATIONS]
    rows += [run(interval, 307.0, 6) for interval in INTERVALS]  # one over the 5-jobs-in-flight quota
    print("interval_s  job_s  imports  latency_s  describes/import  describes/interval  creates/import")
    for r in rows:
        print(
            f"{r.interval:10.0f} {r.duration:6.0f} {r.imports:8d} {r.latency:10.1f} {r.describes:17d} "
            f"{r.per_interval:19.2f} {r.creates:15d}"
        )
    with tempfile.TemporaryDirectory() as scratch:
        long_rows = [
            run_long(interval, duration, _long_assembly(interval, Path(scratch) / f"long-{interval:.0f}"))
            for interval in LONG_INTERVALS
            for duration in LONG_DURATIONS
        ]
    print("long mode (ImportWait.up_to 12 h: the waiter state machine signals the wait condition)")
    print("interval_s  job_s  imports  latency_s  describes/import  describes/interval  creates/import")
    for r in long_rows:
        print(
            f"{r.interval:10.0f} {r.duration:6.0f} {r.imports:8d} {r.latency:10.1f} {r.describes:17d} "
            f"{r.per_interval:19.2f} {r.creates:15d}"
        )
    rows += long_rows
    worst_latency = max(r.latency / r.interval for r in rows)
    worst_rate = max(r.per_interval for r in rows)
    ok = worst_latency <= 1.0 and worst_rate <= 1.0
    print(
        f"worst latency = {worst_latency:.2f} query intervals (target <= 1); "
        f"worst Describe rate = {worst_rate:.2f} per interval per import (target <= 1): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
