"""Log groups, roles and handler functions of the library's stack-level Lambda functions.

The provider's handlers, the long waiter's wait step and the uploads all build theirs the same way:
one definition here keeps their names, retention and log permissions alike.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_personalize.handlers.dataset_import import contract

# The asset is the handlers folder: the handler package imports itself the same way in Lambda and installed.
HANDLER_ROOT = Path(__file__).parent / "handlers"
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14
LOG_RETENTION = logs.RetentionDays.ONE_YEAR


def stack_instance_id() -> str:
    """The unique part of the deployed stack's StackId (arn:...:stack/<name>/<uuid>).

    Names built on it differ between copies of a stack and between a stack and the same stack
    deployed again after a delete, so retained resources with names (log groups) never collide.
    """
    return Fn.select(2, Fn.split("/", Aws.STACK_ID))


def log_group(scope: Construct, id: str, name: str | None = None) -> logs.LogGroup:
    # Kept on stack deletion: the logs of a failed import are what explains it afterwards. A named
    # group carries the stack instance id, so a stack deployed again does not collide with it.
    return logs.LogGroup(scope, id, log_group_name=name, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN)


def lambda_role(scope: Construct, id: str, group: logs.ILogGroup) -> iam.Role:
    """A role for a Lambda function that writes to ``group`` only."""
    role = iam.Role(scope, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="WriteOwnLogs",
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[group.log_group_arn],
        )
    )
    return role


class HandlerFunctions:
    """Builds the functions that run the library's handler package, all from one code asset."""

    def __init__(self, scope: Construct, *, role: iam.Role, wait_budget_seconds: int) -> None:
        self._scope = scope
        self._role = role
        self._budget = str(wait_budget_seconds)
        # One Code object: it binds one asset (under the first function) that every function shares.
        self._code = lambda_.Code.from_asset(str(HANDLER_ROOT), exclude=["__pycache__", "*.pyc"])

    def function(self, id: str, handler: str, verb: str, *, role: iam.Role | None = None) -> lambda_.Function:
        """The function ``id`` running ``handler``, named ``personalize-import-<verb>-<stack instance>``."""
        # The Provider framework points a handler's failure at "/aws/lambda/<function name>": the
        # function gets a name (unique per stack instance) and writes to exactly that log group.
        role = role or self._role
        name = Fn.join("", [f"personalize-import-{verb}-", stack_instance_id()])
        group = log_group(self._scope, f"{id}Logs", Fn.join("", ["/aws/lambda/", name]))
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[group.log_group_arn])
        )
        return lambda_.Function(
            self._scope,
            id,
            function_name=name,
            handler=handler,
            runtime=HANDLER_RUNTIME,
            code=self._code,
            role=role,
            log_group=group,
            timeout=Duration.minutes(1),
            memory_size=256,
            environment={contract.WAIT_BUDGET_ENV: self._budget},
            description="constructs_personalize: Personalize dataset import custom resource",
        )
