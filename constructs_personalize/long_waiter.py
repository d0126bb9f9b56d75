"""The long waiter: the state machine that watches imports waiting beyond the custom resource's hour.

One per stack, created with the first import that waits with ``ImportWait.up_to``. It polls the job
through the wait step (which starts the job itself when Personalize's 5-jobs quota was busy when the
handler tried) and signals the import's wait condition when the job ends. Its constructs live under
the provider's scope, with the ids they always had, so deployed stacks keep their logical ids.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from constructs import Construct

from constructs_personalize import cdk_internals
from constructs_personalize.handlers.dataset_import import contract
from constructs_personalize.lambda_parts import HandlerFunctions, log_group, stack_instance_id
from constructs_personalize.nag import acknowledge, flatten_reference
from constructs_personalize.provider_nag import STEP_FUNCTIONS_WILDCARDS, invoke_finding
from constructs_personalize.start_grants import StartWildcards, acknowledge_start_imports, grant_start_imports


def build_long_waiter(scope: Construct, functions: HandlerFunctions, handler_role: iam.Role) -> sfn.StateMachine:
    """The long waiter under ``scope``; ``handler_role`` (the provider's handler) may start and stop it."""
    role = iam.Role(scope, "WaitStepRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    # The wait step starts the job itself when the 5-jobs quota was busy when the handler tried.
    wildcards = grant_start_imports(role, untag=False)
    step = functions.function("WaitStep", contract.WAIT_STEP, "wait", role=role)
    check = sfn_tasks.LambdaInvoke(scope, "Check the job", lambda_function=step, payload_response_only=True)
    # The step raises only when it cannot signal the wait condition: try that again before giving up.
    check.add_retry(errors=["States.ALL"], interval=Duration.seconds(10), max_attempts=4, backoff_rate=2)
    pause = sfn.Wait(scope, "Wait an interval", time=sfn.WaitTime.seconds_path(f"$.{contract.WAITER_WAIT_SECONDS}"))
    done = sfn.Choice(scope, "Signalled?")
    done.when(sfn.Condition.boolean_equals(f"$.{contract.WAITER_DONE}", True), sfn.Succeed(scope, "Signalled"))
    done.otherwise(pause)
    # It waits first: the job was created a moment ago, so one Describe per interval, not one more.
    loop = pause.next(check).next(done)
    waiter_logs = log_group(
        scope,
        "LongWaiterLogs",
        Fn.join("", ["/aws/vendedlogs/states/personalize-import-long-", stack_instance_id()]),
    )
    machine = sfn.StateMachine(
        scope,
        "LongWaiter",
        definition_body=sfn.DefinitionBody.from_chainable(loop),
        state_machine_type=sfn.StateMachineType.STANDARD,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=waiter_logs, level=sfn.LogLevel.ALL, include_execution_data=False),
        comment="constructs_personalize: polls long dataset import jobs and signals their wait conditions",
    )
    handler_role.add_to_principal_policy(
        iam.PolicyStatement(actions=["states:StartExecution"], resources=[machine.state_machine_arn])
    )
    # The handler stops the waiter of an import that was deleted before its job ended.
    executions = Stack.of(scope).format_arn(
        service="states",
        resource="execution",
        resource_name=f"{machine.state_machine_name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    handler_role.add_to_principal_policy(iam.PolicyStatement(actions=["states:StopExecution"], resources=[executions]))
    acknowledge(
        cdk_internals.default_policy(handler_role),
        f"AwsSolutions-IAM5[Resource::{flatten_reference(scope, executions)}]",
        "Execution names of the long waiter are chosen when the handler starts them; the handler may stop "
        "executions of this stack's own long waiter state machine only.",
    )
    _acknowledge(machine, step, wildcards)
    return machine


def _acknowledge(machine: sfn.StateMachine, step: lambda_.Function, wildcards: StartWildcards) -> None:
    role_policy = cdk_internals.default_policy(machine.role)
    acknowledge(
        role_policy,
        invoke_finding(step),
        "Granted by Step Functions' LambdaInvoke task: the waiter invokes any version of its own wait function.",
    )
    acknowledge(role_policy, "AwsSolutions-IAM5[Resource::*]", STEP_FUNCTIONS_WILDCARDS)
    step_role = step.role
    assert step_role is not None
    acknowledge_start_imports(cdk_internals.default_policy(step_role), wildcards)
