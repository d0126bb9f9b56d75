"""Long imports in the emulated CloudFormation: wait conditions signalled by a polling Step Functions execution.

Hand-written templates (``templates.long_import_stack``) and the stand-in handler of
``fake_long_import.py``: the custom resource starts the job and the waiter execution, the
execution's Task signals the handle, the WaitCondition completes, fails or times out.
"""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from constructs_personalize.handlers.dataset_import import contract, lifecycle
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import CANCELLED, COMPLETE, FAILED, Deployment
from tests.emulator.fake_long_import import FakeLongImport
from tests.emulator.samples import interactions_csv
from tests.emulator.service import MAX_JOBS_IN_FLIGHT, JobTiming
from tests.emulator.step_functions import FAILED as EXECUTION_FAILED
from tests.emulator.step_functions import RUNNING, SUCCEEDED, Execution
from tests.emulator.templates import WAIT_MACHINE, Assembly, ImportSpec, arn_of, long_import_stack
from tests.emulator.wait_signals import SIGNAL_BODY_LIMIT, SignalRejected
from tests.emulator.world import World

HOUR = 3600
JOB = "shop-interactions-1"
INTERACTIONS = ImportSpec(JOB, {"data.csv": interactions_csv()}, "interactions/")


def _synth(directory: Path, imports: dict[str, ImportSpec] | None = None, **long_mode: Any) -> Path:
    """A synth in long mode; with the Interactions import, a solution after its wait condition."""
    assembly = Assembly(directory)
    resources = long_import_stack(assembly, "shop", imports or {"Interactions": INTERACTIONS}, **long_mode)
    _, condition = (long_mode.get("wait_ids") or {}).get("Interactions", ("", "InteractionsWait"))
    if condition in resources:
        resources["Solution"] = {
            "Type": "AWS::Personalize::Solution",
            "Properties": {"Name": "shop", "DatasetGroupArn": arn_of("Group", "DatasetGroupArn")},
            "DependsOn": [condition],
        }
    return assembly.write("Shop", resources)


def _deploy(world: World, directory: Path, fake: FakeLongImport) -> tuple[EmulatedStack, Deployment]:
    stack = EmulatedStack(directory, "Shop", world)
    return stack, stack.deploy(fake.framework())


def _execution(world: World, stack: EmulatedStack, name: str = JOB) -> Execution:
    (execution,) = [e for e in world.states.executions(stack.ref(WAIT_MACHINE)) if e.name == name]
    return execution


def test_a_twelve_hour_import_is_signalled_at_its_end(world: World, tmp_path: Path) -> None:
    world.emulator.set_job_timing(JOB, JobTiming(pending=60, running=11.5 * HOUR))
    fake = FakeLongImport(world)
    stack, deployment = _deploy(world, _synth(tmp_path, timeout=43200, interval=600), fake)
    assert deployment.succeeded, deployment.failures
    job_arn, started = deployment.physical_id("Interactions"), deployment.records["Interactions"].started_at
    assert started is not None
    # The custom resource only started the job and the waiter: it held nothing for hours.
    assert deployment.completed_at("Interactions") == started
    finished = world.emulator.job_finished_at(job_arn)
    assert finished == started + 60 + 11.5 * HOUR
    # The execution polled every 600 s from the start; the first poll after the job's end signalled.
    execution = _execution(world, stack)
    assert [when - started for when, _ in fake.steps] == [600.0 * k for k in range(71)]
    assert execution.status == SUCCEEDED and execution.stopped_at == started + 42000
    assert deployment.completed_at("InteractionsWait") == started + 42000 == deployment.completed_at("Solution")
    url = stack.ref("InteractionsWaitHandle")
    assert url.startswith("https://cloudformation-waitcondition-eu-west-1.s3.amazonaws.com/arn%3Aaws%3Acloudformation")
    assert "/InteractionsWaitHandle/" in url and "X-Amz-Signature=" in url
    assert world.signals(url) == [
        {"Status": "SUCCESS", "UniqueId": JOB, "Reason": "import job ACTIVE", "Data": job_arn}
    ]
    assert json.loads(stack.get_att("InteractionsWait", "Data")) == {JOB: job_arn}
    # 71 rounds of Task, Choice, Wait: well inside Step Functions' history and the 12-hour Timeout.
    assert execution.task_invocations == 71 and len(execution.history) == 1 + 70 * 9 + 7 + 3


def test_a_failed_job_fails_the_wait_condition_with_its_reason(world: World, tmp_path: Path) -> None:
    too_few = ImportSpec(JOB, {"data.csv": interactions_csv(rows=10)}, "interactions/")
    world.emulator.set_job_timing(JOB, JobTiming(pending=30, running=2 * HOUR))
    stack, deployment = _deploy(world, _synth(tmp_path, {"Interactions": too_few}, interval=300), FakeLongImport(world))
    job = world.personalize().describe_dataset_import_job(datasetImportJobArn=deployment.physical_id("Interactions"))
    reason = job["datasetImportJob"]["failureReason"]
    wait = deployment.records["InteractionsWait"]
    assert (wait.status, deployment.stack_status) == (FAILED, "CREATE_FAILED")
    assert wait.reason == f"WaitCondition received failed message: '{reason}' for uniqueId: {JOB}"
    assert deployment.records["Interactions"].status == COMPLETE  # the import resource only started the job
    assert deployment.records["Solution"].status == "NOT_STARTED"
    assert wait.completed_at == _execution(world, stack).stopped_at


def test_without_a_signal_the_wait_condition_times_out(world: World, tmp_path: Path) -> None:
    # The handler is told 2 hours, the wait condition waits 1: the job (90 minutes) outlives the wait.
    world.emulator.set_job_timing(JOB, JobTiming(pending=30, running=1.5 * HOUR))
    directory = _synth(tmp_path, timeout=HOUR, wait_timeout=2 * HOUR, interval=600)
    stack, deployment = _deploy(world, directory, FakeLongImport(world))
    wait = deployment.records["InteractionsWait"]
    assert wait.status == FAILED and wait.reason == "WaitCondition timed out. Received 0 conditions when expecting 1"
    assert wait.started_at is not None and wait.completed_at == wait.started_at + HOUR == deployment.finished_at
    # CloudFormation gave up; the execution polls on in the region and signals a handle nobody waits on.
    execution = _execution(world, stack)
    assert execution.status == RUNNING
    world.run_background(HOUR)
    assert execution.status == SUCCEEDED and len(world.signals(stack.ref("InteractionsWaitHandle"))) == 1


def test_a_timed_out_wait_is_waited_on_again_by_the_next_update(world: World, tmp_path: Path) -> None:
    # No rollback is emulated: the failed wait condition is not deployed, the next update creates it again,
    # and meanwhile the execution signalled its handle (signals before a wait starts count).
    world.emulator.set_job_timing(JOB, JobTiming(pending=30, running=1.5 * HOUR))
    stack, first = _deploy(world, _synth(tmp_path / "v1", timeout=HOUR, wait_timeout=2 * HOUR), FakeLongImport(world))
    assert first.records["InteractionsWait"].status == FAILED
    world.run_background(HOUR)
    deployment = stack.update(
        _synth(tmp_path / "v2", timeout=HOUR, wait_timeout=2 * HOUR), FakeLongImport(world).framework()
    )
    assert deployment.succeeded, deployment.failures
    assert deployment.records["InteractionsWait"].action == "Create" and deployment.records["Interactions"].action == (
        "NoChange"
    )
    assert deployment.finished_at == deployment.started_at


def test_an_unchanged_redeploy_does_not_wait_again(world: World, tmp_path: Path) -> None:
    world.emulator.set_job_timing(JOB, JobTiming(pending=30, running=3 * HOUR))
    stack, first = _deploy(world, _synth(tmp_path / "v1"), FakeLongImport(world))
    assert first.succeeded, first.failures
    deployment = stack.update(_synth(tmp_path / "v2"), FakeLongImport(world).framework())
    assert deployment.succeeded and deployment.events == [] and deployment.cleanup == {}
    unchanged = ("Interactions", "InteractionsWait", "InteractionsWaitHandle", WAIT_MACHINE)
    assert {deployment.records[lid].action for lid in unchanged} == {"NoChange"}
    assert deployment.finished_at == deployment.started_at  # nothing waited
    assert len(world.states.executions()) == 1 and world.emulator.count("CreateDatasetImportJob") == 1


def test_a_new_import_with_new_wait_ids_waits_again_and_the_old_wait_goes(world: World, tmp_path: Path) -> None:
    stack, _ = _deploy(world, _synth(tmp_path / "v1", interval=60), FakeLongImport(world))
    old_url = stack.ref("InteractionsWaitHandle")
    second_job = ImportSpec("shop-interactions-2", {"data.csv": interactions_csv(rows=1300)}, "interactions/")
    world.emulator.set_job_timing("shop-interactions-2", JobTiming(pending=30, running=2 * HOUR))
    renamed = {"Interactions": ("InteractionsWaitHandle2", "InteractionsWait2")}
    directory = _synth(tmp_path / "v2", {"Interactions": second_job}, interval=60, wait_ids=renamed)
    deployment = stack.update(directory, FakeLongImport(world).framework())
    assert deployment.succeeded, deployment.failures
    new_url = stack.ref("InteractionsWaitHandle2")
    assert new_url != old_url
    assert (deployment.records["InteractionsWait2"].action, deployment.records["InteractionsWaitHandle2"].action) == (
        "Create",
        "Create",
    )
    started = deployment.records["InteractionsWait2"].started_at
    assert started is not None and deployment.completed_at("InteractionsWait2") >= started + 2 * HOUR
    assert [body["UniqueId"] for body in world.signals(new_url)] == ["shop-interactions-2"]
    assert [body["UniqueId"] for body in world.signals(old_url)] == [JOB]
    # The old wait condition and handle are removed resources, the old job's resource a replaced one.
    assert set(deployment.cleanup) == {"Interactions", "InteractionsWait", "InteractionsWaitHandle"}
    assert {record.status for record in deployment.cleanup.values()} == {COMPLETE}
    assert [e.name for e in world.states.executions()] == [JOB, "shop-interactions-2"]


def test_a_changed_wait_condition_cannot_be_updated(world: World, tmp_path: Path) -> None:
    stack, first = _deploy(world, _synth(tmp_path / "v1", timeout=43200), FakeLongImport(world))
    assert first.succeeded
    # Only the wait condition's Timeout changes (the import is told the same).
    deployment = stack.update(
        _synth(tmp_path / "v2", timeout=21600, wait_timeout=43200), FakeLongImport(world).framework()
    )
    wait = deployment.records["InteractionsWait"]
    assert (wait.status, deployment.stack_status) == (FAILED, "UPDATE_FAILED")
    assert "AWS::CloudFormation::WaitCondition cannot be updated (changed: Timeout)" in wait.reason
    assert stack.deployed("InteractionsWait").properties["Timeout"] == "43200"  # the deployed one stays


def test_a_new_wait_for_the_same_job_needs_a_new_execution_name(world: World, tmp_path: Path) -> None:
    # Renaming the wait changes the import's WaitHandle: an Update event for the same job. An execution
    # named after the job alone exists already (with another input): StartExecution refuses.
    stack, first = _deploy(world, _synth(tmp_path / "v1"), FakeLongImport(world))
    assert first.succeeded
    renamed = {"Interactions": ("InteractionsWaitHandle2", "InteractionsWait2")}
    deployment = stack.update(_synth(tmp_path / "v2", wait_ids=renamed), FakeLongImport(world).framework())
    update = deployment.records["Interactions"]
    assert (update.action, update.status) == ("Update", FAILED)
    assert (
        "ExecutionAlreadyExists" in update.reason
        and f"execution:{stack.ref(WAIT_MACHINE).rsplit(':', 1)[-1]}:{JOB}'" in (update.reason)
    )
    assert deployment.records["InteractionsWait2"].status == "NOT_STARTED"


def test_a_reused_handle_passes_a_new_wait_condition_on_its_old_signal(world: World, tmp_path: Path) -> None:
    # CloudFormation's documented pitfall: a new WaitCondition on an old handle evaluates old signals.
    stack, _ = _deploy(world, _synth(tmp_path / "v1"), FakeLongImport(world))
    second_job = ImportSpec("shop-interactions-2", {"data.csv": interactions_csv(rows=1300)}, "interactions/")
    world.emulator.set_job_timing("shop-interactions-2", JobTiming(pending=30, running=2 * HOUR))
    reused = {"Interactions": ("InteractionsWaitHandle", "InteractionsWait2")}
    deployment = stack.update(
        _synth(tmp_path / "v2", {"Interactions": second_job}, wait_ids=reused), FakeLongImport(world).framework()
    )
    assert deployment.succeeded, deployment.failures
    wait = deployment.records["InteractionsWait2"]
    assert wait.completed_at == wait.started_at  # passed at once, on the first job's SUCCESS
    new_job = world.personalize().describe_dataset_import_job(
        datasetImportJobArn=deployment.physical_id("Interactions")
    )
    assert new_job["datasetImportJob"]["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")


def test_a_signal_body_over_the_limit_is_rejected(world: World, tmp_path: Path) -> None:
    url = world.wait_handles.issue("arn:aws:cloudformation:eu-west-1:123456789012:stack/Shop/x", "Handle")
    base = {"Status": "SUCCESS", "UniqueId": "job", "Reason": "done"}
    filler = SIGNAL_BODY_LIMIT - len(json.dumps({**base, "Data": ""}).encode())
    world.signal(url, {**base, "Data": "x" * filler})  # exactly at the limit: taken
    with pytest.raises(SignalRejected) as too_large:
        world.signal(url, {**base, "Data": "x" * (filler + 1)})
    assert isinstance(too_large.value, urllib.error.HTTPError) and too_large.value.code == 400
    assert f"{SIGNAL_BODY_LIMIT + 1} bytes" in str(too_large.value)
    for body, problem in [
        ({**base, "Status": "success"}, "Status must be one of SUCCESS, FAILURE"),
        ({"Status": "FAILURE", "Reason": "no id"}, "UniqueId is required"),
        ({**base, "Data": {"nested": "json"}}, "Data must be a string"),
    ]:
        with pytest.raises(SignalRejected, match=problem):
            world.signal(url, body)  # type: ignore[arg-type]
    with pytest.raises(SignalRejected) as unknown:
        world.signal(url.replace("Handle", "Other"), base)
    assert unknown.value.code == 403
    assert len(world.signals(url)) == 1

    # A wait step that puts too much into its signal: its Task fails (no Lambda.* error: not retried),
    # the execution fails, and the wait condition hears nothing until it times out.
    fake = FakeLongImport(world, data=lambda job: "x" * SIGNAL_BODY_LIMIT)
    stack, deployment = _deploy(world, _synth(tmp_path, timeout=HOUR, interval=60), fake)
    execution = _execution(world, stack)
    assert (execution.status, execution.error) == (EXECUTION_FAILED, "SignalRejected")
    assert "emulator takes at most 4096" in json.loads(execution.cause)["errorMessage"]
    assert deployment.records["InteractionsWait"].reason.startswith("WaitCondition timed out")
    assert world.signals(stack.ref("InteractionsWaitHandle")) == []


@pytest.mark.parametrize(("interval", "survives"), [(15, False), (16, True)])
def test_the_history_quota_bounds_the_poll_interval_of_a_twelve_hour_wait(
    world: World, tmp_path: Path, interval: int, survives: bool
) -> None:
    # 9 history events a round: 12 hours of 15-second rounds need 25,921 events, of 16-second ones 24,301.
    world.emulator.set_job_timing(JOB, JobTiming(pending=0, running=43200 - 2 * interval))
    stack, deployment = _deploy(world, _synth(tmp_path, timeout=43200, interval=interval), FakeLongImport(world))
    execution = _execution(world, stack)
    if survives:
        assert deployment.succeeded and execution.status == SUCCEEDED
        assert len(execution.history) == 1 + (43200 // interval - 2) * 9 + 7 + 3
        return
    assert (execution.status, len(execution.history)) == (EXECUTION_FAILED, 25_000)
    assert execution.stopped_at == deployment.records["Interactions"].started_at + 2777 * interval  # type: ignore[operator]
    assert deployment.records["InteractionsWait"].reason.startswith("WaitCondition timed out")


def _imports(count: int) -> dict[str, ImportSpec]:
    return {
        f"Import{n}": ImportSpec(f"shop-import-{n}", {"data.csv": interactions_csv()}, f"part{n}/")
        for n in range(count)
    }


def _wait_resources(imports: dict[str, ImportSpec]) -> dict[str, tuple[str, str]]:
    return {lid: (f"{lid}Handle", f"{lid}Wait") for lid in imports}


def test_executions_interleave_with_starts_the_job_quota_defers(world: World, tmp_path: Path) -> None:
    imports = _imports(MAX_JOBS_IN_FLIGHT + 2)
    world.emulator.job_timing = JobTiming(pending=30, running=2400)
    fake = FakeLongImport(world)
    _, deployment = _deploy(world, _synth(tmp_path, imports, interval=300, wait_ids=_wait_resources(imports)), fake)
    assert deployment.succeeded, deployment.failures
    t0 = deployment.started_at
    first, late = list(imports)[:MAX_JOBS_IN_FLIGHT], list(imports)[MAX_JOBS_IN_FLIGHT:]
    # The quota deferred two starts; their resources retried every 30 s until the first jobs ended (2430 s),
    # started theirs then, and found them (and started their executions) on the next poll.
    assert {when - t0 for when, name in fake.deferred} == {30.0 * k for k in range(81)}
    assert {deployment.completed_at(lid) - t0 for lid in first} == {0.0}
    assert {deployment.completed_at(lid) - t0 for lid in late} == {2460.0}
    # Five executions polled (every 300 s) while the deferred resources retried their starts (every 30 s).
    steps = sorted(when - t0 for when, _ in fake.steps)
    assert steps[:10] == [0.0] * 5 + [300.0] * 5 and max(when for when, _ in fake.deferred) - t0 > 300
    assert {deployment.completed_at(f"{lid}Wait") - t0 for lid in first} == {2700.0}
    assert {deployment.completed_at(f"{lid}Wait") - t0 for lid in late} == {2460.0 + 2400.0}
    assert len(world.states.executions()) == len(imports)
    assert all(execution.status == SUCCEEDED for execution in world.states.executions())


def test_a_start_deferred_past_the_providers_hour_fails_the_import(world: World, tmp_path: Path) -> None:
    # Jobs of 2 hours hold all five slots past the Provider framework's total timeout (1 hour): the
    # sixth import's custom resource never gets its job started, however long its wait condition may wait.
    imports = _imports(MAX_JOBS_IN_FLIGHT + 1)
    world.emulator.job_timing = JobTiming(pending=30, running=2 * HOUR)
    directory = _synth(tmp_path, imports, interval=300, wait_ids=_wait_resources(imports))
    _, deployment = _deploy(world, directory, FakeLongImport(world))
    late = deployment.records[f"Import{MAX_JOBS_IN_FLIGHT}"]
    assert (late.status, late.reason) == (FAILED, "Operation timed out")
    assert late.completed_at == deployment.started_at + HOUR
    assert {deployment.records[f"Import{n}Wait"].status for n in range(MAX_JOBS_IN_FLIGHT)} == {CANCELLED}
    assert {e.status for e in world.states.executions()} == {RUNNING}  # they poll on in the region


class _Recording(lifecycle.DatasetImportHandler):
    """The real handler, keeping the settings it was built with."""

    def __init__(self, client: Any, **settings: Any) -> None:
        super().__init__(client, **settings)
        self.settings = settings


class _WithoutLongImports:
    """A handler from before long imports: its constructor takes neither callable, it has no wait_step."""

    def __init__(self, client: Any, *, start_client: Any, clock: Any, wait_budget_seconds: float, emit: Any) -> None:
        pass

    def on_event(self, event: dict[str, Any]) -> dict[str, Any]:
        return {}

    def is_complete(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"IsComplete": True}


def test_the_framework_wires_the_handler_to_the_region(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = EmulatedStack(_synth(tmp_path), "Shop", world)
    monkeypatch.setattr(lifecycle, "DatasetImportHandler", _Recording)
    framework = stack.framework(query_interval=30.0, total_timeout=3600.0, wait_budget=3300.0)
    handler = framework.on_event.__self__  # type: ignore[attr-defined]
    assert isinstance(handler, _Recording)
    assert (handler.settings["start_waiter"], handler.settings["signal"]) == (world.start_waiter, world.signal)
    assert framework.functions == {contract.WAIT_STEP: handler.wait_step}
    assert stack.function_code(contract.WAIT_STEP) == handler.wait_step
    # A handler that takes neither gets neither (the wiring ran before the library had long imports).
    monkeypatch.setattr(lifecycle, "DatasetImportHandler", _WithoutLongImports)
    assert stack.framework(query_interval=30.0, total_timeout=3600.0, wait_budget=3300.0).functions == {}
