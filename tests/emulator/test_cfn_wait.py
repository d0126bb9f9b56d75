"""Wait condition handles and wait conditions: signals, timeouts, no updates (``cfn_wait.py``, ``wait_signals.py``).

CloudFormation-only templates, signalled by the test. The library's long imports (its waiter state
machine signalling these) are deployed in ``tests/lifecycle/test_synthesized_stacks.py`` and ``tests/lifecycle/``.
"""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import pytest

from tests.emulator.cfn_wait import HANDLE, WAIT_CONDITION
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.deployment import FAILED
from tests.emulator.templates import ref, write
from tests.emulator.wait_signals import SIGNAL_BODY_LIMIT, SignalRejected
from tests.emulator.world import World


def _wait(timeout: int) -> dict[str, object]:
    return {"Type": WAIT_CONDITION, "Properties": {"Handle": ref("Handle"), "Timeout": str(timeout)}}


def test_without_a_signal_a_wait_condition_times_out(world: World, tmp_path: Path) -> None:
    stack = EmulatedStack(write(tmp_path, "Shop", {"Handle": {"Type": HANDLE}, "Wait": _wait(600)}), "Shop", world)
    deployment = stack.deploy()
    wait = deployment.records["Wait"]
    assert wait.status == FAILED and wait.reason == "WaitCondition timed out. Received 0 conditions when expecting 1"
    assert wait.started_at is not None and wait.completed_at == wait.started_at + 600 == deployment.finished_at


def test_a_new_wait_condition_counts_the_old_signals_of_its_handle_and_cannot_be_updated(
    world: World, tmp_path: Path
) -> None:
    stack = EmulatedStack(write(tmp_path / "v1", "Shop", {"Handle": {"Type": HANDLE}}), "Shop", world)
    assert stack.deploy().succeeded
    url = stack.ref("Handle")
    assert url.startswith("https://cloudformation-waitcondition-eu-west-1.s3.amazonaws.com/")
    world.signal(url, {"Status": "SUCCESS", "UniqueId": "job-1", "Reason": "done", "Data": "first"})
    # CloudFormation's documented pitfall: a wait condition on a handle that was signalled before passes at once.
    added = stack.update(write(tmp_path / "v2", "Shop", {"Handle": {"Type": HANDLE}, "Wait": _wait(600)}))
    wait = added.records["Wait"]
    assert added.succeeded and wait.action == "Create" and wait.completed_at == wait.started_at
    assert json.loads(stack.get_att("Wait", "Data")) == {"job-1": "first"}
    # Updates are not supported: a changed wait condition fails the update, the deployed one stays.
    changed = stack.update(write(tmp_path / "v3", "Shop", {"Handle": {"Type": HANDLE}, "Wait": _wait(300)}))
    assert (changed.records["Wait"].status, changed.stack_status) == (FAILED, "UPDATE_FAILED")
    assert "AWS::CloudFormation::WaitCondition cannot be updated (changed: Timeout)" in changed.records["Wait"].reason
    assert stack.deployed("Wait").properties["Timeout"] == "600"


def test_a_signal_is_checked_as_cloudformation_reads_it(world: World) -> None:
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
