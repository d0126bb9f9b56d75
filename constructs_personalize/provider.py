"""The one custom resource provider every ``DatasetImport`` in a stack shares.

One set of Lambda functions, one waiter state machine and their roles per stack, however many
imports the stack has. Imports register the role they pass and the dataset they import into,
so the handler's permissions grow with the imports and never beyond them.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_personalize.nag import acknowledge, flatten_reference

PROVIDER_ID = "ConstructsPersonalizeDatasetImportProvider"
HANDLER_DIR = Path(__file__).parent / "handlers" / "dataset_import"
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14
WAIT_BUDGET_ENV = "WAIT_BUDGET_SECONDS"
LOG_RETENTION = logs.RetentionDays.ONE_YEAR


def wait_budget_seconds(query_interval: Duration, total_timeout: Duration) -> int:
    """How long the handler waits before failing with its own message.

    Two query intervals short of ``total_timeout``: the framework's own timeout then never fires
    first with its bare "Operation timed out", and a Delete stops waiting before it could fail.
    """
    interval = query_interval.to_seconds()
    total = total_timeout.to_seconds()
    return int(max(total - 2 * interval, interval))


class DatasetImportProvider(Construct):
    """Lambda handlers + CDK Provider framework, created once per stack."""

    @classmethod
    def of_stack(
        cls, scope: Construct, *, query_interval: Duration, total_timeout: Duration, requested_by: str
    ) -> DatasetImportProvider:
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, DatasetImportProvider):
            existing._check_same_wait(query_interval, total_timeout, requested_by)
            return existing
        return cls(
            stack, PROVIDER_ID, query_interval=query_interval, total_timeout=total_timeout, requested_by=requested_by
        )

    def __init__(
        self, scope: Construct, id: str, *, query_interval: Duration, total_timeout: Duration, requested_by: str
    ) -> None:
        super().__init__(scope, id)
        self.query_interval = query_interval
        self.total_timeout = total_timeout
        self._first_requester = requested_by
        stack = Stack.of(self)

        handler_logs = _log_group(self, "HandlerLogs")
        framework_logs = _log_group(self, "FrameworkLogs")
        waiter_logs = _log_group(self, "WaiterLogs")

        # Inline log permissions instead of AWSLambdaBasicExecutionRole: scoped to one log group.
        self.handler_role = _lambda_role(self, "HandlerRole", handler_logs)
        job_arns = stack.format_arn(service="personalize", resource="dataset-import-job", resource_name="*")
        self._personalize = iam.PolicyStatement(
            sid="StartAndDescribeImportJobs",
            actions=[
                "personalize:CreateDatasetImportJob",
                "personalize:DescribeDatasetImportJob",
                "personalize:TagResource",
            ],
            resources=[job_arns],
        )
        self._pass_role = iam.PolicyStatement(
            sid="PassImportRolesToPersonalize",
            actions=["iam:PassRole"],
            resources=[],
            conditions={"StringEquals": {"iam:PassedToService": "personalize.amazonaws.com"}},
        )
        self.handler_role.add_to_principal_policy(self._personalize)
        self.handler_role.add_to_principal_policy(self._pass_role)

        budget = str(wait_budget_seconds(query_interval, total_timeout))
        code = lambda_.Code.from_asset(str(HANDLER_DIR), exclude=["__pycache__", "*.pyc"])
        common = dict(
            runtime=HANDLER_RUNTIME,
            code=code,
            role=self.handler_role,
            log_group=handler_logs,
            timeout=Duration.minutes(1),
            memory_size=256,
            environment={WAIT_BUDGET_ENV: budget},
            description="constructs_personalize: Personalize dataset import custom resource",
        )
        self.on_event_function = lambda_.Function(self, "OnEvent", handler="index.on_event", **common)  # type: ignore[arg-type]
        self.is_complete_function = lambda_.Function(self, "IsComplete", handler="index.is_complete", **common)  # type: ignore[arg-type]

        on_event_role = _lambda_role(self, "FrameworkOnEventRole", framework_logs)
        complete_role = _lambda_role(self, "FrameworkCompleteRole", framework_logs)
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.on_event_function,
            is_complete_handler=self.is_complete_function,
            query_interval=query_interval,
            total_timeout=total_timeout,
            log_group=framework_logs,
            framework_on_event_role=on_event_role,
            framework_complete_and_timeout_role=complete_role,
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=waiter_logs, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        self._trace_waiter()
        self._acknowledge(job_arns)

        # One role and log group for every BucketDeployment of the stack's imports: they share
        # aws-cdk-lib's singleton upload function, which takes the role of the first deployment.
        self.deployment_logs = _log_group(self, "UploadLogs")
        self.deployment_role = _lambda_role(self, "UploadRole", self.deployment_logs)

    @property
    def service_token(self) -> str:
        return self.provider.service_token

    def allow_import(self, role: iam.IRole, dataset_arn: str) -> None:
        """Let the handler pass ``role`` to Personalize and import into ``dataset_arn``."""
        self._pass_role.add_resources(role.role_arn)
        self._personalize.add_resources(dataset_arn)

    def acknowledge_deployment_grants(self, bucket: s3.IBucket, deployment: s3_deployment.BucketDeployment) -> None:
        """Acknowledge the wildcards BucketDeployment grants its upload role (it cannot be told otherwise)."""
        policy = self.deployment_role.node.find_child("DefaultPolicy")
        reason = (
            "Granted by aws_s3_deployment.BucketDeployment: it syncs whole prefixes, so it lists, reads, "
            "writes and prunes every object under them, in the CDK asset bucket and the data bucket."
        )
        for finding in (
            "Action::s3:GetObject*",
            "Action::s3:GetBucket*",
            "Action::s3:List*",
            "Action::s3:DeleteObject*",
            "Action::s3:Abort*",
            f"Resource::{flatten_reference(self, bucket.arn_for_objects('*'))}",
        ):
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
        if bucket.encryption_key is not None:
            for finding in ("Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"):
                acknowledge(
                    policy,
                    f"AwsSolutions-IAM5[{finding}]",
                    "Granted by BucketDeployment's grantReadWrite for the data bucket's KMS key; the key "
                    "resource is that one key, the wildcards cover its encrypt/re-encrypt variants.",
                )
        for child in Stack.of(self).node.children:
            # aws-cdk-lib's singleton upload function: its Python runtime is chosen by aws-cdk-lib.
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                acknowledge(
                    child,
                    "AwsSolutions-L1",
                    "The runtime of BucketDeployment's upload function is set by aws-cdk-lib, not by this library.",
                )
        for asset in deployment.node.find_all():
            if isinstance(asset, s3_assets.Asset):
                acknowledge(
                    policy,
                    f"AwsSolutions-IAM5[Resource::{flatten_reference(self, asset.bucket.arn_for_objects('*'))}]",
                    reason,
                )

    def _check_same_wait(self, query_interval: Duration, total_timeout: Duration, requested_by: str) -> None:
        # One waiter state machine per stack means one query interval and one timeout per stack.
        same = (
            query_interval.to_seconds() == self.query_interval.to_seconds()
            and total_timeout.to_seconds() == self.total_timeout.to_seconds()
        )
        if not same:
            raise ValueError(
                f"{requested_by} asks for query_interval {query_interval.to_human_string()} and total_timeout "
                f"{total_timeout.to_human_string()}, but {self._first_requester} in the same stack set "
                f"{self.query_interval.to_human_string()} and {self.total_timeout.to_human_string()}: all "
                "DatasetImports in a stack share one provider, so give them the same values"
            )

    def _trace_waiter(self) -> None:
        # The Provider has no tracing option; X-Ray on the waiter is one property away.
        waiter = self.provider.node.find_child("waiter-state-machine")
        cfn = waiter.node.default_child
        assert isinstance(cfn, sfn.CfnStateMachine)
        cfn.tracing_configuration = sfn.CfnStateMachine.TracingConfigurationProperty(enabled=True)
        role = waiter.node.find_child("Role")
        assert isinstance(role, iam.Role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ],
                resources=["*"],
            )
        )

    def _acknowledge(self, job_arns: str) -> None:
        acknowledge(
            self.handler_role.node.find_child("DefaultPolicy"),
            f"AwsSolutions-IAM5[Resource::{flatten_reference(self, job_arns)}]",
            "Import job names are derived at synth and their ARNs are known only by name; the handler may "
            "create/describe/tag dataset-import-job resources of this account and region only.",
        )
        for role_id in ("FrameworkOnEventRole", "FrameworkCompleteRole"):
            policy = self.node.find_child(role_id).node.find_child("DefaultPolicy")
            for handler in (self.on_event_function, self.is_complete_function):
                acknowledge(
                    policy,
                    _invoke_finding(handler),
                    "Granted by the CDK Provider framework: it invokes any version/alias of its own handler function.",
                )
        waiter_policy = (
            self.provider.node.find_child("waiter-state-machine")
            .node.find_child("Role")
            .node.find_child("DefaultPolicy")
        )
        framework = self.provider.node
        for fn_id in ("framework-isComplete", "framework-onTimeout"):
            framework_fn = framework.find_child(fn_id)
            assert isinstance(framework_fn, lambda_.Function)
            acknowledge(
                waiter_policy,
                _invoke_finding(framework_fn),
                "Granted by the CDK Provider framework: the waiter invokes any version of its own framework function.",
            )
        acknowledge(
            waiter_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray trace segment/sampling actions and CloudWatch Logs delivery actions (used by Step Functions "
            "logging) do not support resource-level permissions.",
        )


def _invoke_finding(fn: lambda_.Function) -> str:
    # lambda:InvokeFunction on "<function arn>:*" (any version or alias), as the framework grants it.
    return f"AwsSolutions-IAM5[Resource::{flatten_reference(fn, fn.function_arn)}:*]"


def _log_group(scope: Construct, id: str) -> logs.LogGroup:
    # Kept on stack deletion: the logs of a failed import are what explains it afterwards.
    return logs.LogGroup(scope, id, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN)


def _lambda_role(scope: Construct, id: str, log_group: logs.ILogGroup) -> iam.Role:
    role = iam.Role(scope, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="WriteOwnLogs",
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )
    )
    return role
