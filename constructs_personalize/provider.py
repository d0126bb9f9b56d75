"""The one custom resource provider every ``DatasetImport`` in a stack shares.

One set of Lambda functions, one waiter state machine and their roles per stack, however many
imports the stack has. Nothing shared here names a resource of one import, and nothing here grows
with the imports: the functions that start jobs hold constant, stack-level grants (``start_grants.py``).
"""

from __future__ import annotations

import functools
import weakref
from pathlib import Path

from aws_cdk import ArnFormat, Aws, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_personalize.data_store import ReadGrants
from constructs_personalize.handlers.dataset_import import contract
from constructs_personalize.job_name import Place
from constructs_personalize.nag import acknowledge, acknowledge_at_synth, acknowledge_later, flatten_reference
from constructs_personalize.ordering import ImportOrder
from constructs_personalize.start_grants import StartWildcards, acknowledge_start_imports, grant_start_imports
from constructs_personalize.validators import MIN_MARGIN_SECONDS

PROVIDER_ID = "ConstructsPersonalizeDatasetImportProvider"
# The provider of each stack, found without a walk of the construct tree (each lookup is a jsii call).
_PROVIDERS: weakref.WeakKeyDictionary[Stack, DatasetImportProvider] = weakref.WeakKeyDictionary()
# The asset is the handlers folder: the handler package imports itself the same way in Lambda and installed.
HANDLER_ROOT = Path(__file__).parent / "handlers"
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14
LOG_RETENTION = logs.RetentionDays.ONE_YEAR
UPLOAD_REASON = (
    "Granted by aws_s3_deployment.BucketDeployment: it syncs whole prefixes, so it lists, reads, "
    "writes and prunes every object under them, in the CDK asset bucket and the data bucket."
)


def wait_budget_seconds(query_interval: Duration, total_timeout: Duration) -> int:
    """How long the handler waits before failing with its own message.

    Two query intervals, and at least a minute, short of ``total_timeout`` (which is also the custom
    resource's ServiceTimeout): neither the framework's bare "Operation timed out" nor CloudFormation's
    own timeout fires first, and a Delete stops waiting before it could fail.
    """
    interval = query_interval.to_seconds()
    total = total_timeout.to_seconds()
    return int(total - max(2 * interval, MIN_MARGIN_SECONDS))


def stack_instance_id() -> str:
    """The unique part of the deployed stack's StackId (arn:...:stack/<name>/<uuid>).

    Names built on it differ between copies of a stack and between a stack and the same stack
    deployed again after a delete, so retained resources with names (log groups) never collide.
    """
    return Fn.select(2, Fn.split("/", Aws.STACK_ID))


class DatasetImportProvider(Construct):
    """Lambda handlers + CDK Provider framework, created once per stack."""

    @classmethod
    def of_stack(cls, place: Place, *, query_interval: Duration, total_timeout: Duration) -> DatasetImportProvider:
        existing = _PROVIDERS.get(place.stack)
        if existing is None:
            found = place.stack.node.try_find_child(PROVIDER_ID)
            existing = found if isinstance(found, DatasetImportProvider) else None
        if existing is not None:
            existing._check_same_wait(query_interval, total_timeout, place.path)
            return existing
        provider = cls(
            place.stack,
            PROVIDER_ID,
            query_interval=query_interval,
            total_timeout=total_timeout,
            requested_by=place.path,
        )
        _PROVIDERS[place.stack] = provider
        return provider

    def __init__(
        self, scope: Construct, id: str, *, query_interval: Duration, total_timeout: Duration, requested_by: str
    ) -> None:
        super().__init__(scope, id)
        self.query_interval = query_interval
        self.total_timeout = total_timeout
        self._wait_seconds = (query_interval.to_seconds(), total_timeout.to_seconds())
        self._first_requester = requested_by
        self.read_grants = ReadGrants()
        """The read grants of the stack's imports (one set of statements per role and bucket)."""

        framework_logs = _log_group(self, "FrameworkLogs")
        # Step Functions log groups go under /aws/vendedlogs/: CloudWatch Logs then needs no resource
        # policy entry per group (a busy account runs out of its 5,120 characters and fails the deploy).
        waiter_logs = _log_group(
            self, "WaiterLogs", Fn.join("", ["/aws/vendedlogs/states/personalize-import-waiter-", stack_instance_id()])
        )

        # One role for both handlers; its log permissions are added per function below.
        self.handler_role = iam.Role(self, "HandlerRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        # The handler also re-tags jobs whose tags changed; the waiter only tags the jobs it starts.
        wildcards = grant_start_imports(self.handler_role, untag=True)

        self._budget = str(wait_budget_seconds(query_interval, total_timeout))
        self._code = lambda_.Code.from_asset(str(HANDLER_ROOT), exclude=["__pycache__", "*.pyc"])
        self.on_event_function = self._handler_function("OnEvent", contract.ON_EVENT, "start")
        self.is_complete_function = self._handler_function("IsComplete", contract.IS_COMPLETE, "check")

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
        self._acknowledge(wildcards)
        self.import_order = ImportOrder(self)
        """The order the stack's imports of each dataset run in (``ordering.py``)."""
        self._upload_buckets: list[s3.IBucket] = []
        self._upload_bucket_paths: set[str] = set()
        self._prefixes: dict[str, list[tuple[str, str]]] = {}
        self._upload_sizes: set[tuple[int, int]] = set()
        self._upload_kms_acknowledged = False

    def _handler_function(self, id: str, handler: str, verb: str, *, role: iam.Role | None = None) -> lambda_.Function:
        # The Provider framework points a handler's failure at "/aws/lambda/<function name>": the
        # function gets a name (unique per stack instance) and writes to exactly that log group.
        role = role or self.handler_role
        name = Fn.join("", [f"personalize-import-{verb}-", stack_instance_id()])
        log_group = _log_group(self, f"{id}Logs", Fn.join("", ["/aws/lambda/", name]))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        return lambda_.Function(
            self,
            id,
            function_name=name,
            handler=handler,
            runtime=HANDLER_RUNTIME,
            code=self._code,
            role=role,
            log_group=log_group,
            timeout=Duration.minutes(1),
            memory_size=256,
            environment={contract.WAIT_BUDGET_ENV: self._budget},
            description="constructs_personalize: Personalize dataset import custom resource",
        )

    @property
    def service_token(self) -> str:
        return self.provider.service_token

    @property
    def service_timeout(self) -> Duration:
        """CloudFormation's wait for the custom resource: the provider's total_timeout (at most 1 hour)."""
        return self.total_timeout

    @functools.cached_property
    def long_waiter(self) -> sfn.StateMachine:
        """The state machine that watches long imports and signals their wait conditions (one per stack)."""
        role = iam.Role(self, "WaitStepRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        # The wait step starts the job itself when the 5-jobs quota was busy when the handler tried.
        wildcards = grant_start_imports(role, untag=False)
        step = self._handler_function("WaitStep", contract.WAIT_STEP, "wait", role=role)
        check = sfn_tasks.LambdaInvoke(self, "Check the job", lambda_function=step, payload_response_only=True)
        # The step raises only when it cannot signal the wait condition: try that again before giving up.
        check.add_retry(errors=["States.ALL"], interval=Duration.seconds(10), max_attempts=4, backoff_rate=2)
        pause = sfn.Wait(self, "Wait an interval", time=sfn.WaitTime.seconds_path("$.WaitIntervalSeconds"))
        done = sfn.Choice(self, "Signalled?")
        done.when(sfn.Condition.boolean_equals("$.Done", True), sfn.Succeed(self, "Signalled"))
        done.otherwise(pause)
        # It waits first: the job was created a moment ago, so one Describe per interval, not one more.
        loop = pause.next(check).next(done)
        waiter_logs = _log_group(
            self,
            "LongWaiterLogs",
            Fn.join("", ["/aws/vendedlogs/states/personalize-import-long-", stack_instance_id()]),
        )
        machine = sfn.StateMachine(
            self,
            "LongWaiter",
            definition_body=sfn.DefinitionBody.from_chainable(loop),
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=waiter_logs, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment="constructs_personalize: polls long dataset import jobs and signals their wait conditions",
        )
        self.handler_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[machine.state_machine_arn])
        )
        # The handler stops the waiter of an import that was deleted before its job ended.
        executions = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.handler_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:StopExecution"], resources=[executions])
        )
        acknowledge(
            self.handler_role.node.find_child("DefaultPolicy"),
            f"AwsSolutions-IAM5[Resource::{flatten_reference(self, executions)}]",
            "Execution names of the long waiter are chosen when the handler starts them; the handler may stop "
            "executions of this stack's own long waiter state machine only.",
        )
        self._acknowledge_long_waiter(machine, step, wildcards)
        return machine

    @functools.cached_property
    def deployment_logs(self) -> logs.LogGroup:
        """The log group of the stack's uploads; created with the first import that uploads local data."""
        return _log_group(self, "UploadLogs")

    @functools.cached_property
    def deployment_role(self) -> iam.Role:
        """One role for every BucketDeployment of the stack's imports: they share aws-cdk-lib's singleton
        upload function, which takes the role of the first deployment."""
        return _lambda_role(self, "UploadRole", self.deployment_logs)

    def first_upload_of_size(self, memory_mib: int, storage_mib: int) -> bool:
        """True for the first of this stack's uploads with this function size (the one whose layer is used)."""
        first = (memory_mib, storage_mib) not in self._upload_sizes
        self._upload_sizes.add((memory_mib, storage_mib))
        return first

    def claim_prefix(self, bucket: s3.IBucket, prefix: str, requested_by: str) -> None:
        """Refuse an upload prefix that nests with another upload's in the same bucket.

        Each upload prunes its prefix: ``a/`` would delete what ``a/b/`` uploaded, and the import of
        ``a/`` would be granted ``b``'s objects.
        """
        claimed = self._prefixes.setdefault(bucket.node.path, [])
        for other, owner in claimed:
            if prefix.startswith(other) or other.startswith(prefix):
                raise ValueError(
                    f"{requested_by} uploads to prefix {prefix!r}, which nests with {other!r} of {owner} in the same "
                    "bucket: each upload prunes its prefix, so give them prefixes that do not contain each other"
                )
        claimed.append((prefix, requested_by))

    def acknowledge_upload(self, bucket: s3.IBucket, source_buckets: list[s3.IBucket]) -> None:
        """Acknowledge, once per finding, the wildcards BucketDeployment grants the shared upload role."""
        first = not self._upload_buckets
        for candidate in (bucket, *source_buckets):
            if candidate.node.path not in self._upload_bucket_paths:
                self._upload_bucket_paths.add(candidate.node.path)
                self._upload_buckets.append(candidate)
        if not first:
            if bucket.encryption_key is not None:
                self._acknowledge_upload_kms()
            return
        policy = self.deployment_role.node.find_child("DefaultPolicy")
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*"):
            acknowledge(policy, f"AwsSolutions-IAM5[Action::{action}]", UPLOAD_REASON)
        acknowledge_at_synth(
            policy, "AwsSolutions-IAM5", lambda: [b.arn_for_objects("*") for b in self._upload_buckets], UPLOAD_REASON
        )
        # aws-cdk-lib's singleton upload functions (one per memory/storage size) exist only once every
        # import is declared, so they are looked up at synth, once.
        acknowledge_later(Stack.of(self), self._acknowledge_upload_functions)
        if bucket.encryption_key is not None:
            self._acknowledge_upload_kms()

    def _acknowledge_long_waiter(
        self, machine: sfn.StateMachine, step: lambda_.Function, wildcards: StartWildcards
    ) -> None:
        role_policy = machine.role.node.find_child("DefaultPolicy")
        acknowledge(
            role_policy,
            _invoke_finding(step),
            "Granted by Step Functions' LambdaInvoke task: the waiter invokes any version of its own wait function.",
        )
        acknowledge(
            role_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray trace segment/sampling actions and CloudWatch Logs delivery actions (used by Step Functions "
            "logging) do not support resource-level permissions.",
        )
        step_role = step.role
        assert step_role is not None
        acknowledge_start_imports(step_role.node.find_child("DefaultPolicy"), wildcards)

    def _acknowledge_upload_kms(self) -> None:
        if self._upload_kms_acknowledged:
            return
        self._upload_kms_acknowledged = True
        policy = self.deployment_role.node.find_child("DefaultPolicy")
        for finding in ("Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[{finding}]",
                "Granted by BucketDeployment's grantReadWrite for the data bucket's KMS key; the key "
                "resource is that one key, the wildcards cover its encrypt/re-encrypt variants.",
            )

    def _acknowledge_upload_functions(self) -> None:
        for child in Stack.of(self).node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                acknowledge(
                    child,
                    "AwsSolutions-L1",
                    "The runtime of BucketDeployment's upload function is set by aws-cdk-lib, not by this library.",
                )

    def _check_same_wait(self, query_interval: Duration, total_timeout: Duration, requested_by: str) -> None:
        # One waiter state machine per stack means one query interval and one timeout per stack.
        if query_interval is self.query_interval and total_timeout is self.total_timeout:
            return
        same = (query_interval.to_seconds(), total_timeout.to_seconds()) == self._wait_seconds
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

    def _acknowledge(self, wildcards: StartWildcards) -> None:
        acknowledge_start_imports(self.handler_role.node.find_child("DefaultPolicy"), wildcards, lists=True)
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


def _log_group(scope: Construct, id: str, name: str | None = None) -> logs.LogGroup:
    # Kept on stack deletion: the logs of a failed import are what explains it afterwards. A named
    # group carries the stack instance id, so a stack deployed again does not collide with it.
    return logs.LogGroup(scope, id, log_group_name=name, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN)


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
