"""The one custom resource provider every ``DatasetImport`` in a stack shares.

One set of Lambda functions, one waiter state machine and their roles per stack, however many
imports the stack has. Nothing shared here names a resource of one import, and nothing here grows
with the imports: the functions that start jobs hold constant, stack-level grants (``start_grants.py``).

Beside it, under its construct (so their logical ids never changed): the long waiter
(``long_waiter.py``) and the uploads' role and log group (``uploads.py``).
"""

from __future__ import annotations

import functools
import weakref

from aws_cdk import Duration, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_personalize import cdk_internals
from constructs_personalize.handlers.dataset_import import contract
from constructs_personalize.job_name import Place
from constructs_personalize.lambda_parts import HandlerFunctions, lambda_role, log_group, stack_instance_id
from constructs_personalize.long_waiter import build_long_waiter
from constructs_personalize.ordering import ImportOrder
from constructs_personalize.provider_nag import acknowledge_provider
from constructs_personalize.read_grants import ReadGrants
from constructs_personalize.start_grants import grant_start_imports
from constructs_personalize.validators import MIN_MARGIN_SECONDS

__all__ = ["PROVIDER_ID", "DatasetImportProvider", "stack_instance_id", "wait_budget_seconds"]

PROVIDER_ID = "ConstructsPersonalizeDatasetImportProvider"
# The provider of each stack, found without a walk of the construct tree (each lookup is a jsii call).
_PROVIDERS: weakref.WeakKeyDictionary[Stack, DatasetImportProvider] = weakref.WeakKeyDictionary()


def wait_budget_seconds(query_interval: Duration, total_timeout: Duration) -> int:
    """How long the handler waits before failing with its own message.

    Two query intervals, and at least a minute, short of ``total_timeout`` (which is also the custom
    resource's ServiceTimeout): neither the framework's bare "Operation timed out" nor CloudFormation's
    own timeout fires first, and a Delete stops waiting before it could fail.
    """
    interval = query_interval.to_seconds()
    total = total_timeout.to_seconds()
    return int(total - max(2 * interval, MIN_MARGIN_SECONDS))


class DatasetImportProvider(Construct):
    """Lambda handlers + CDK Provider framework, created once per stack."""

    @classmethod
    def of_stack(cls, place: Place, *, query_interval: Duration, total_timeout: Duration) -> DatasetImportProvider:
        existing = cls.find(place.stack)
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

    @classmethod
    def find(cls, stack: Stack) -> DatasetImportProvider | None:
        """The stack's provider, or None before its first import."""
        existing = _PROVIDERS.get(stack)
        if existing is None:
            found = stack.node.try_find_child(PROVIDER_ID)
            existing = found if isinstance(found, DatasetImportProvider) else None
        return existing

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

        framework_logs = log_group(self, "FrameworkLogs")
        # Step Functions log groups go under /aws/vendedlogs/: CloudWatch Logs then needs no resource
        # policy entry per group (a busy account runs out of its 5,120 characters and fails the deploy).
        waiter_logs = log_group(
            self, "WaiterLogs", Fn.join("", ["/aws/vendedlogs/states/personalize-import-waiter-", stack_instance_id()])
        )

        # One role for both handlers; its log permissions are added per function below.
        self.handler_role = iam.Role(self, "HandlerRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        # The handler also re-tags jobs whose tags changed; the waiter only tags the jobs it starts.
        wildcards = grant_start_imports(self.handler_role, untag=True)

        self.handler_functions = HandlerFunctions(
            self, role=self.handler_role, wait_budget_seconds=wait_budget_seconds(query_interval, total_timeout)
        )
        """Builds the functions that run the handler package (the long waiter's wait step too)."""
        self.on_event_function = self.handler_functions.function("OnEvent", contract.ON_EVENT, "start")
        self.is_complete_function = self.handler_functions.function("IsComplete", contract.IS_COMPLETE, "check")

        on_event_role = lambda_role(self, "FrameworkOnEventRole", framework_logs)
        complete_role = lambda_role(self, "FrameworkCompleteRole", framework_logs)
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
        acknowledge_provider(
            self.provider,
            handler_role=self.handler_role,
            framework_roles=(on_event_role, complete_role),
            handlers=(self.on_event_function, self.is_complete_function),
            wildcards=wildcards,
        )
        self.import_order = ImportOrder(self)
        """The order the stack's imports of each dataset run in (``ordering.py``)."""

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
        return build_long_waiter(self, self.handler_functions, self.handler_role)

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
        cdk_internals.provider_waiter_resource(
            self.provider
        ).tracing_configuration = sfn.CfnStateMachine.TracingConfigurationProperty(enabled=True)
        cdk_internals.provider_waiter_role(self.provider).add_to_principal_policy(
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
