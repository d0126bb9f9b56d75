#!/usr/bin/env python3
"""Makespan of a deploy with more imports than Personalize's 5 import jobs in flight.

For N imports (default 1, 5, 12, 30), each into a dataset of its own (N dataset groups with one
``TrainingDataset`` of interactions each, local data ``data/interactions/`` checked at synth), one
stack is synthesized and deployed once through the emulated CloudFormation (tests/emulator) with
the real handler, on a virtual clock. Every import job lasts T minutes (default 30: ``--pending``
seconds CREATE PENDING, the rest CREATE IN_PROGRESS). Up to 5 imports wait within the deployment
(``ImportWait.within_deployment()``, if a job fits in its hour); beyond 5 they use
``ImportWait.up_to(Duration.hours(12))``, as the library recommends: the long waiter state machine
waits for a free slot, starts the job and signals the wait condition when it is ACTIVE.

Per N: the deploy's wall time (virtual) against the quota's bound ceil(N/5) x T + one query
interval (no schedule can do better than ceil(N/5) rounds of T; one interval to notice the last
end), and whether the deploy succeeded with every dataset's one job ACTIVE (read back from the
emulated Personalize). Target: makespan <= 1.1 x bound. The exit status is non-zero only when a
deploy failed; a ratio over the target is reported, not an error.

    .venv/bin/python bench/makespan.py [--sizes 1,5,12,30] [--job-minutes 30] [--pending 60]
                                       [--query-interval 30] [--wait-hours 12]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # the library imports aws-cdk-lib

from aws_cdk import App, Duration, Stack

from constructs_personalize import DatasetImport, ImportWait
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import Deployment
from tests.emulator.service import ACTIVE, MAX_JOBS_IN_FLIGHT, JobTiming
from tests.emulator.world import World, personalize_world
from tests.infra.helpers import ENV
from tests.lifecycle.stacks import independent_imports

STACK = "BenchMakespan"
TARGET_RATIO = 1.1
TOTAL_TIMEOUT = 3600.0  # DatasetImport's default total_timeout: the hour of a within_deployment wait


@dataclass(frozen=True)
class Settings:
    job_seconds: float
    pending_seconds: float
    interval: float
    wait_hours: float

    @property
    def total_timeout(self) -> float:
        return self.interval * (TOTAL_TIMEOUT // self.interval)

    def within_fits(self) -> bool:
        """Whether one job fits in a within_deployment wait (its budget: total_timeout minus two intervals)."""
        return self.job_seconds + self.interval <= self.total_timeout - 2 * self.interval

    def wait_for(self, imports: int) -> str:
        return "within" if imports <= MAX_JOBS_IN_FLIGHT and self.within_fits() else "up_to"


@dataclass
class Row:
    imports: int
    wait: str
    makespan: float
    bound: float
    succeeded: bool
    problems: list[str]
    synth_seconds: float
    deploy_seconds: float


def synth(outdir: Path, imports: int, settings: Settings) -> Path:
    app = App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    stack = Stack(app, STACK, env=ENV)
    DatasetImport.configure(
        stack,
        query_interval=Duration.seconds(settings.interval),
        total_timeout=Duration.seconds(settings.total_timeout),
    )
    wait = (
        ImportWait.within_deployment()
        if settings.wait_for(imports) == "within"
        else ImportWait.up_to(Duration.minutes(settings.wait_hours * 60))
    )
    independent_imports(stack, "makespan", imports, wait)
    app.synth()
    return outdir


def check_jobs(world: World, stack: EmulatedStack, deployment: Deployment) -> list[str]:
    """What is wrong with the datasets' jobs: each dataset must hold exactly its import's job, ACTIVE."""
    problems = []
    client = world.personalize()
    datasets = set()
    for logical_id in stack.import_ids():
        dataset_arn = str(stack.import_properties(logical_id)["DatasetArn"])
        datasets.add(dataset_arn)
        jobs = client.list_dataset_import_jobs(datasetArn=dataset_arn)["datasetImportJobs"]
        statuses = sorted(f"{job['jobName']}={job.get('status')}" for job in jobs)
        expected = deployment.records[logical_id].physical_id
        if len(jobs) != 1 or jobs[0].get("status") != ACTIVE or jobs[0]["datasetImportJobArn"] != expected:
            problems.append(f"{logical_id}: dataset {dataset_arn} holds {statuses or 'no job'}")
    if len(datasets) != len(stack.import_ids()):
        problems.append(f"{len(stack.import_ids())} imports into {len(datasets)} datasets")
    return problems


def run(imports: int, settings: Settings, scratch: Path) -> Row:
    began = time.perf_counter()
    assembly = synth(scratch / f"n{imports}", imports, settings)
    synthesized = time.perf_counter()
    with personalize_world() as world:
        world.emulator.job_timing = JobTiming(
            pending=settings.pending_seconds, running=settings.job_seconds - settings.pending_seconds
        )
        stack = EmulatedStack(assembly, STACK, world)
        deployment = stack.deploy()
        problems = [f"{record.logical_id} ({record.resource_type}): {record.reason}" for record in deployment.failures]
        if deployment.stack_reason:
            problems.append(deployment.stack_reason)
        problems += check_jobs(world, stack, deployment)
        makespan = deployment.finished_at - deployment.started_at
    bound = math.ceil(imports / MAX_JOBS_IN_FLIGHT) * settings.job_seconds + settings.interval
    return Row(
        imports,
        settings.wait_for(imports),
        makespan,
        bound,
        deployment.succeeded and not problems,
        problems,
        synthesized - began,
        time.perf_counter() - synthesized,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Makespan of N imports under Personalize's 5-jobs quota.")
    parser.add_argument("--sizes", default="1,5,12,30", help="numbers of imports, comma-separated (default 1,5,12,30)")
    parser.add_argument("--job-minutes", type=float, default=30.0, help="T: how long each job lasts (default 30)")
    parser.add_argument("--pending", type=float, default=60.0, help="seconds of T in CREATE PENDING (default 60)")
    parser.add_argument(
        "--query-interval", type=float, default=30.0, help="DatasetImport's query_interval (default 30)"
    )
    parser.add_argument("--wait-hours", type=float, default=12.0, help="ImportWait.up_to beyond 5 imports (default 12)")
    args = parser.parse_args(argv)
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    settings = Settings(args.job_minutes * 60, args.pending, args.query_interval, args.wait_hours)
    if not 0 <= settings.pending_seconds < settings.job_seconds:
        parser.error("--pending must be shorter than the job")
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["CONSTRUCTS_PERSONALIZE_CACHE_DIR"] = str(Path(scratch) / "cache")
        rows = []
        for imports in sizes:
            rows.append(run(imports, settings, Path(scratch)))
            row = rows[-1]
            print(
                f"N={imports}: synth {row.synth_seconds:.1f} s, deploy {row.deploy_seconds:.1f} s (real)",
                file=sys.stderr,
            )
    print(
        f"makespan of one deploy, jobs of T={args.job_minutes:g} min ({settings.pending_seconds:g} s pending), "
        f"bound = ceil(N/{MAX_JOBS_IN_FLIGHT}) x T + one query interval"
    )
    print("   N  T_min  interval_s  wait     makespan_min  bound_min  ratio  all_active")
    for r in rows:
        ratio = f"{r.makespan / r.bound:6.3f}" if r.succeeded else f"{'-':>6s}"  # a failed deploy ends early
        print(
            f"{r.imports:4d} {args.job_minutes:6g} {settings.interval:11g}  {r.wait:7s} {r.makespan / 60:13.1f} "
            f"{r.bound / 60:10.1f} {ratio}  {'yes' if r.succeeded else 'NO'}"
        )
    for r in rows:
        for problem in r.problems:
            print(f"N={r.imports}: {problem}")
    ratios = [r.makespan / r.bound for r in rows if r.succeeded]
    failed = [r.imports for r in rows if not r.succeeded]
    verdict = f"{max(ratios):.3f}: {'PASS' if max(ratios) <= TARGET_RATIO else 'MISS'}" if ratios else "none measured"
    print(f"target: makespan <= {TARGET_RATIO} x bound; worst ratio {verdict}; deploys failed: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
