"""``python -m constructs_personalize wait <job-arn>`` against the emulated Personalize, on its virtual clock."""

from __future__ import annotations

import io

from constructs_personalize.cli import main, wait_for_job
from tests.constants import ROLE_ARN
from tests.emulator.samples import interactions_csv
from tests.emulator.service import JobTiming
from tests.emulator.world import World


def _job(world: World, body: bytes, timing: JobTiming) -> str:
    world.bucket("cli-data")
    dataset = world.interactions_dataset()
    world.emulator.set_job_timing("cli-job", timing)
    return world.personalize().create_dataset_import_job(
        jobName="cli-job",
        datasetArn=dataset,
        dataSource={"dataLocation": world.put_object("cli-data", "in/data.csv", body)},
        roleArn=ROLE_ARN,
    )["datasetImportJobArn"]


def _wait(world: World, arn: str, **settings: float) -> tuple[int, str]:
    out = io.StringIO()
    code = wait_for_job(world.personalize(), arn, clock=world.clock, sleep=world.clock.advance, out=out, **settings)
    return code, out.getvalue()


def test_waits_for_an_active_job_showing_status_and_elapsed_time(world: World) -> None:
    arn = _job(world, interactions_csv(), JobTiming(pending=90, running=7200))
    code, output = _wait(world, arn, interval=30, progress=1800)
    assert code == 0
    lines = output.splitlines()
    assert lines[0] == "0:00:00  CREATE PENDING"
    assert "0:01:30  CREATE IN_PROGRESS" in lines
    assert "0:31:30  CREATE IN_PROGRESS" in lines  # progress while nothing changes
    assert lines[-1] == f"2:01:30  {arn} is ACTIVE"


def test_exits_1_with_personalizes_reason_when_the_job_fails(world: World) -> None:
    arn = _job(world, interactions_csv(timestamp_scale=1000), JobTiming(pending=30, running=300))
    code, output = _wait(world, arn, interval=30)
    assert code == 1
    assert f"{arn} ended CREATE FAILED: " in output and "milliseconds" in output


def test_exits_2_when_its_own_timeout_is_spent(world: World) -> None:
    arn = _job(world, interactions_csv(), JobTiming(pending=30, running=50_000))
    code, output = _wait(world, arn, interval=60, timeout=3600)
    assert code == 2 and "gave up after 1:00:00: the job is still CREATE IN_PROGRESS" in output


def test_exits_3_for_a_job_that_does_not_exist(world: World) -> None:
    code, output = _wait(world, "arn:aws:personalize:eu-west-1:123456789012:dataset-import-job/nope", interval=30)
    assert code == 3 and "ResourceNotFoundException" in output


def test_the_command_line_parses_its_arguments(world: World) -> None:
    arn = _job(world, interactions_csv(), JobTiming(pending=0, running=0))
    world.clock.advance(1)
    assert main(["wait", arn, "--interval", "5", "--timeout", "60"], client=world.personalize()) == 0
