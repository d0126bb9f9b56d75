"""Step Functions STANDARD executions on the virtual clock: the waiter loop, names, Retry, limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from constructs_personalize.handlers.dataset_import import contract
from tests.emulator.clock import VirtualClock
from tests.emulator.step_functions import (
    ABORTED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    TIMED_OUT,
    LambdaFunctions,
    StepFunctions,
    TaskFn,
)

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:waiter"
FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:wait-step"
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
]


def wait_loop() -> dict[str, Any]:
    """A polling loop: a Task (retried on Lambda's service errors), a Choice on ``$.Done``, a Wait, a Succeed.

    The library's own waiter runs as synthesized in ``tests/lifecycle/test_synthesized_stacks.py``;
    this one is the test's.
    """
    retry = [{"ErrorEquals": LAMBDA_SERVICE_ERRORS, "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2}]
    return {
        "StartAt": "CheckImport",
        "States": {
            "CheckImport": {"Type": "Task", "Resource": FUNCTION, "Retry": retry, "Next": "ImportDone"},
            "ImportDone": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.Done", "BooleanEquals": True, "Next": "Signalled"}],
                "Default": "Pause",
            },
            "Pause": {"Type": "Wait", "SecondsPath": "$.WaitIntervalSeconds", "Next": "CheckImport"},
            "Signalled": {"Type": "Succeed"},
        },
    }


def _region(
    code: TaskFn, definition: dict[str, Any] | None = None, *, clock: VirtualClock | None = None, timeout: float = 60
) -> StepFunctions:
    """A region with one wait function running ``code`` and one state machine (the waiter loop by default)."""
    clock = clock or VirtualClock()
    lambdas = LambdaFunctions(clock)
    lambdas.create(FUNCTION, contract.WAIT_STEP, {contract.WAIT_STEP: code}.get, timeout=timeout)
    states = StepFunctions(clock, lambdas, region="eu-west-1", account="123456789012")
    states.create_state_machine(MACHINE, json.dumps(definition or wait_loop()))
    return states


def _done_after(clock: VirtualClock, calls: list[float], count: int) -> TaskFn:
    def step(event: dict[str, Any]) -> dict[str, Any]:
        calls.append(clock())
        return {**event, "Done": len(calls) >= count}

    return step


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code"))


def test_the_waiter_loop_polls_every_interval_until_done() -> None:
    calls: list[float] = []
    clock = VirtualClock()
    states = _region(_done_after(clock, calls, 4), clock=clock)
    t0 = clock()
    arn = states.start_execution(MACHINE, "job-1", json.dumps({"WaitIntervalSeconds": 600}))
    assert states.execution(arn).status == RUNNING and calls == []  # StartExecution returns before anything runs
    states.run_until(t0 + 10 * 3600)
    execution = states.execution(arn)
    assert [when - t0 for when in calls] == [0, 600, 1200, 1800]
    assert (execution.status, execution.stopped_at) == (SUCCEEDED, t0 + 1800)
    assert json.loads(execution.output or "") == {"WaitIntervalSeconds": 600, "Done": True}
    # One round: Task (5 events), Choice (2), Wait (2); the last: Task, Choice, Succeed (2), ExecutionSucceeded.
    kinds = [event.type for event in execution.history]
    assert kinds[:10] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "WaitStateEntered",
        "WaitStateExited",
    ]
    assert len(kinds) == 1 + 3 * 9 + 7 + 3 and kinds[-1] == "ExecutionSucceeded"
    assert (execution.task_invocations, execution.transitions) == (4, 4 * 2 + 3 + 1)


def test_execution_names_are_unique_per_state_machine() -> None:
    states = _region(lambda event: {**event, "Done": False})
    body = json.dumps({"WaitIntervalSeconds": 60})
    arn = states.start_execution(MACHINE, "job-1", body)
    # STANDARD: the same name and input while it runs is the same execution; another input is not.
    assert states.start_execution(MACHINE, "job-1", body) == arn and len(states.executions(MACHINE)) == 1
    with pytest.raises(ClientError) as other_input:
        states.start_execution(MACHINE, "job-1", json.dumps({"WaitIntervalSeconds": 30}))
    assert _code(other_input.value) == "ExecutionAlreadyExists" and arn in str(other_input.value)
    states.stop_execution(arn, "Stopped", "by the test")
    assert states.execution(arn).status == ABORTED
    with pytest.raises(ClientError) as closed:
        states.start_execution(MACHINE, "job-1", body)  # a closed execution's name is taken (for 90 days)
    assert _code(closed.value) == "ExecutionAlreadyExists"
    for name, code in [("has space", "InvalidName"), ("a" * 81, "InvalidName"), ("x:y", "InvalidName")]:
        with pytest.raises(ClientError) as bad:
            states.start_execution(MACHINE, name, body)
        assert _code(bad.value) == code
    with pytest.raises(ClientError) as not_json:
        states.start_execution(MACHINE, "job-2", "{not json")
    assert _code(not_json.value) == "InvalidExecutionInput"
    with pytest.raises(ClientError) as unknown:
        states.start_execution(MACHINE + "-other", "job-3", body)
    assert _code(unknown.value) == "StateMachineDoesNotExist"


def test_lambda_service_errors_are_retried_with_backoff_and_function_errors_are_not() -> None:
    calls: list[float] = []
    clock = VirtualClock()
    states = _region(_done_after(clock, calls, 1), clock=clock)
    t0 = clock()
    states.lambdas.fail_next("Lambda.ServiceException", count=3)
    arn = states.start_execution(MACHINE, "job-1", json.dumps({"WaitIntervalSeconds": 60}))
    states.run_until(t0 + 600)
    execution = states.execution(arn)
    # IntervalSeconds 2, BackoffRate 2: retried after 2, 4 and 8 seconds; the fourth attempt ran the code.
    assert [when - t0 for when, _ in states.lambdas.invocations] == [0, 2, 6, 14] and calls == [t0 + 14]
    assert execution.status == SUCCEEDED and execution.task_invocations == 4
    assert (
        len(execution.events("LambdaFunctionFailed")) == 3 and execution.transitions == 3 + 3
    )  # 3 states entered, 3 retries

    def broken(event: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("describe failed")

    states = _region(broken)
    arn = states.start_execution(MACHINE, "job-1", json.dumps({"WaitIntervalSeconds": 60}))
    states.run_until(states.clock() + 600)
    execution = states.execution(arn)
    assert (execution.status, execution.error, execution.task_invocations) == (FAILED, "ValueError", 1)
    assert json.loads(execution.cause)["errorMessage"] == "describe failed"


def test_states_all_retries_function_errors_but_not_runtime_errors() -> None:
    definition = wait_loop()
    definition["States"]["CheckImport"]["Retry"] = [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 30, "MaxAttempts": 2, "BackoffRate": 1}
    ]
    definition["States"]["CheckImport"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Signalled"}]
    attempts: list[int] = []

    def flaky(event: dict[str, Any]) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("reset")
        return {"Done": False}  # the input's WaitIntervalSeconds dropped: Pause's SecondsPath finds nothing

    states = _region(flaky, definition)
    t0 = states.clock()
    arn = states.start_execution(MACHINE, "job-1", json.dumps({"WaitIntervalSeconds": 60}))
    states.run_until(t0 + 600)
    execution = states.execution(arn)
    assert [when - t0 for when, _ in states.lambdas.invocations] == [0, 30, 60]
    # The Wait state's runtime error is not the Task's: nothing catches it (and States.ALL never would).
    assert (execution.status, execution.error) == (FAILED, "States.Runtime") and "SecondsPath" in execution.cause


def test_pass_choice_and_fail_states() -> None:
    definition = {
        "StartAt": "Mark",
        "States": {
            "Mark": {"Type": "Pass", "Result": {"kind": "import"}, "ResultPath": "$.meta", "Next": "Route"},
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.meta.kind", "StringEquals": "import"},
                            {"Variable": "$.size", "NumericGreaterThan": 100},
                        ],
                        "Next": "TooBig",
                    }
                ],
                "Default": "Fine",
            },
            "TooBig": {"Type": "Fail", "Error": "TooBig", "Cause": "more than 100"},
            "Fine": {"Type": "Succeed", "OutputPath": "$.meta"},
        },
    }
    states = _region(lambda event: event, definition)
    big = states.start_execution(MACHINE, "big", json.dumps({"size": 500}))
    small = states.start_execution(MACHINE, "small", json.dumps({"size": 5}))
    states.step_due()
    assert (states.execution(big).status, states.execution(big).error) == (FAILED, "TooBig")
    assert states.execution(big).history[-2].type == "FailStateEntered"
    assert json.loads(states.execution(small).output or "") == {"kind": "import"}
    assert states.execution(small).transitions == 3


def test_an_invalid_definition_is_refused() -> None:
    states = _region(lambda event: event)
    broken = wait_loop()
    broken["States"]["Pause"]["Next"] = "Nowhere"
    with pytest.raises(ClientError) as refused:
        states.create_state_machine(MACHINE + "-2", json.dumps(broken))
    assert _code(refused.value) == "InvalidDefinition"
    assert "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/Pause" in str(refused.value)


def test_the_history_limit_fails_a_long_tight_loop() -> None:
    # Polling every second for hours: 9 events a round; the 25,000th event would be a ChoiceStateEntered.
    states = _region(lambda event: {**event, "Done": False})
    t0 = states.clock()
    arn = states.start_execution(MACHINE, "job-1", json.dumps({"WaitIntervalSeconds": 1}))
    states.run_until(t0 + 86400)
    execution = states.execution(arn)
    assert (execution.status, execution.error) == (FAILED, "States.Runtime")
    assert len(execution.history) == 25_000 and execution.history[-1].type == "ExecutionFailed"
    assert execution.history[-2].type == "TaskStateExited"
    assert execution.task_invocations == 2778 and execution.stopped_at == t0 + 2777
    # At 60 seconds a round the same 12 hours stay far below: 720 rounds, 6,480 events.
    assert 1 + 720 * 9 < 25_000


def test_deleting_the_state_machine_aborts_its_executions_at_the_next_transition() -> None:
    states = _region(lambda event: {**event, "Done": False})
    t0 = states.clock()
    arn = states.start_execution(MACHINE, "job-1", json.dumps({"WaitIntervalSeconds": 300}))
    states.run_until(t0 + 100)  # in the Wait state
    states.delete_state_machine(MACHINE)
    assert states.execution(arn).status == RUNNING
    with pytest.raises(ClientError) as deleting:
        states.start_execution(MACHINE, "job-2", "{}")
    assert _code(deleting.value) == "StateMachineDeleting"
    states.run_until(t0 + 1000)
    execution = states.execution(arn)
    assert (execution.status, execution.stopped_at) == (ABORTED, t0 + 300)
    assert execution.task_invocations == 1


def test_timeouts_of_the_execution_and_of_the_function() -> None:
    definition = wait_loop()
    definition["TimeoutSeconds"] = 3600
    states = _region(lambda event: {**event, "Done": False}, definition)
    t0 = states.clock()
    arn = states.start_execution(MACHINE, "job-1", json.dumps({"WaitIntervalSeconds": 600}))
    states.run_until(t0 + 7200)
    execution = states.execution(arn)
    assert (execution.status, execution.stopped_at, execution.history[-1].type) == (
        TIMED_OUT,
        t0 + 3600,
        "ExecutionTimedOut",
    )

    def slow(clock: VirtualClock) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def step(event: dict[str, Any]) -> dict[str, Any]:
            clock.advance(5)  # e.g. boto3 back-off: virtual seconds the invocation takes
            return {**event, "Done": True}

        return step

    clock = VirtualClock()
    states = _region(slow(clock), clock=clock, timeout=3)
    arn = states.start_execution(MACHINE, "job-1", json.dumps({"WaitIntervalSeconds": 60}))
    states.run_until(clock() + 60)
    execution = states.execution(arn)
    assert (execution.status, execution.error) == (FAILED, "Sandbox.Timedout")
