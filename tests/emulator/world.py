"""One emulated AWS region for a test: moto S3 in-process + the Personalize emulator on loopback.

    with personalize_world() as world:
        dataset_arn = world.interactions_dataset()
        world.put_object("training-data", "interactions/data.csv", b"USER_ID,...")
        client = world.personalize()  # plain boto3.client("personalize"), via AWS_ENDPOINT_URL_PERSONALIZE

Inside the block boto3's retry back-off sleeps on the virtual clock, so no test waits for real.

Access (``access.py``): ``world.bucket(name)`` and ``ROLE_ARN`` come with permissive policies (the
bucket lets Personalize read everything in it, the role may read every bucket), so tests about data
need no IAM; ``world.bucket(name, permissive=False)`` makes a bucket with no policy, and
``world.access`` takes exact policies (``put_bucket_policy``, ``put_role_policy``, ``set_bucket_key``,
``put_key_policy``; ``world.role`` and ``world.kms_key`` make a role or a key to use them on).

Beyond Personalize and S3, the region runs what a long import waits with: ``world.lambdas`` and
``world.states`` (Lambda functions and Step Functions STANDARD executions on the virtual clock,
``step_functions.py``) and ``world.wait_handles`` (wait condition handle URLs and the signals PUT to
them, ``wait_signals.py``). ``start_waiter``, ``stop_waiter`` and ``signal`` are the callables a handler gets
for them; executions run while a stack operation runs (the deployment engine steps them) or when a
test runs them on with ``world.states.run_until``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import boto3
import botocore.endpoint
from botocore.config import Config
from moto import mock_aws

from tests.constants import REGION, ROLE_ARN
from tests.emulator.access import AccessModel, read_policy
from tests.emulator.clock import VirtualClock
from tests.emulator.server import EmulatorServer
from tests.emulator.service import ACCOUNT, PersonalizeEmulator
from tests.emulator.step_functions import LambdaFunctions, StepFunctions
from tests.emulator.wait_signals import WaitHandles

if TYPE_CHECKING:
    from mypy_boto3_personalize import PersonalizeClient
    from mypy_boto3_s3 import S3Client


INTERACTIONS_SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Interactions",
        "namespace": "com.amazonaws.personalize.schema",
        "fields": [
            {"name": "USER_ID", "type": "string"},
            {"name": "ITEM_ID", "type": "string"},
            {"name": "TIMESTAMP", "type": "long"},
            {"name": "EVENT_TYPE", "type": "string"},
        ],
        "version": "1.0",
    }
)


# What ROLE_ARN may do: read any bucket (the permissive default of tests that are not about IAM).
ROLE_READS_EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}],
}


@dataclass(frozen=True)
class Export:
    """A stack output exported under a name (Fn::ImportValue reads it), and the stack that owns it."""

    value: str
    stack_id: str


@dataclass
class World:
    clock: VirtualClock
    emulator: PersonalizeEmulator
    s3: S3Client
    endpoint_url: str
    _client: PersonalizeClient | None = None
    # Export names are unique per account and region, across stacks (CloudFormation's rule).
    exports: dict[str, Export] = field(default_factory=dict)
    # Per deployed stack instance (StackId), the export names it imports: an export in use by
    # another stack cannot be deleted with its stack.
    imports: dict[str, set[str]] = field(default_factory=dict)
    lambdas: LambdaFunctions = field(init=False)
    states: StepFunctions = field(init=False)
    wait_handles: WaitHandles = field(init=False)

    def __post_init__(self) -> None:
        self.lambdas = LambdaFunctions(self.clock)
        self.states = StepFunctions(self.clock, self.lambdas, region=self.region, account=self.account)
        self.wait_handles = WaitHandles(self.clock, self.region)

    # -- what a handler gets for long imports ------------------------------------------------------------
    def start_waiter(self, state_machine_arn: str, execution_name: str, input_json: str) -> None:
        """StartExecution of a STANDARD state machine of the region (ClientError as Step Functions answers)."""
        self.states.start_execution(state_machine_arn, execution_name, input_json)

    def stop_waiter(self, execution_arn: str) -> None:
        """StopExecution (ClientError ExecutionDoesNotExist for an execution never started)."""
        self.states.stop_execution(execution_arn, error="ImportRemoved")

    def signal(self, url: str, body: Mapping[str, str]) -> None:
        """PUT a wait condition signal to a handle's URL (``wait_signals.SignalRejected`` if refused)."""
        self.wait_handles.signal(url, body)

    def signals(self, url: str) -> list[dict[str, str]]:
        """The signal bodies a handle's URL received, in order."""
        return self.wait_handles.signals(url)

    @property
    def access(self) -> AccessModel:
        return self.emulator.access

    @property
    def account(self) -> str:
        return ACCOUNT

    @property
    def region(self) -> str:
        return self.emulator.region

    def personalize(self) -> PersonalizeClient:
        """A boto3 client built the ordinary way: only the environment points it at the emulator."""
        if self._client is None:
            self._client = boto3.client("personalize")
        return self._client

    def personalize_single_attempt(self) -> PersonalizeClient:
        """The client the Lambda entry points use to start jobs: no boto3 retries."""
        return boto3.client("personalize", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))

    def interactions_dataset(self, group: str = "shop", schema: str = INTERACTIONS_SCHEMA) -> str:
        """Create a dataset group, schema and interactions dataset; return the dataset ARN."""
        client = self.personalize()
        group_arn = client.create_dataset_group(name=group)["datasetGroupArn"]
        schema_arn = client.create_schema(name=f"{group}-interactions", schema=schema)["schemaArn"]
        self.clock.advance(self.emulator.dataset_group_seconds)
        return client.create_dataset(
            name=f"{group}-interactions", schemaArn=schema_arn, datasetGroupArn=group_arn, datasetType="Interactions"
        )["datasetArn"]

    def bucket(self, name: str, *, permissive: bool = True) -> str:
        """Create a bucket; ``permissive``: with a policy that lets Personalize read all of it."""
        self.s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})  # type: ignore[typeddict-item]
        if permissive:
            self.access.put_bucket_policy(name, read_policy(name, service=True))
        return name

    def role(self, name: str, *policies: Mapping[str, object]) -> str:
        """A role (its ARN) with these inline identity policies."""
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        self.access.register_role(arn)
        for index, document in enumerate(policies):
            self.access.put_role_policy(arn, f"policy-{index}", document)
        return arn

    def kms_key(self, policy: Mapping[str, object] | None = None) -> str:
        """A KMS key (its ARN) with this key policy (none: a policy that names nobody Personalize needs)."""
        arn = f"arn:aws:kms:{self.region}:{ACCOUNT}:key/{uuid.uuid4()}"
        self.access.put_key_policy(arn, policy or default_key_policy())
        return arn

    def bulk_import(self, dataset_arn: str, location: str, name: str | None = None) -> str:
        """Run a FULL import of ``location`` to its end (ACTIVE or not), as INCREMENTAL imports need one first."""
        timing = self.emulator.job_timing
        arn = self.personalize().create_dataset_import_job(
            jobName=name or f"bulk-{uuid.uuid4().hex[:12]}",
            datasetArn=dataset_arn,
            dataSource={"dataLocation": location},
            roleArn=ROLE_ARN,
            importMode="FULL",
        )["datasetImportJobArn"]
        self.clock.advance(timing.pending + timing.running)
        return arn

    def put_object(self, bucket: str, key: str, body: bytes) -> str:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        return f"s3://{bucket}/{key}"


def default_key_policy() -> dict[str, object]:
    """The key policy KMS gives a key created without one: the account root may do everything.

    The root principal delegates to IAM policies, which do not count for a dataset import's key
    access: under this policy neither the role nor Personalize may use the key.
    """
    root = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": root, "Action": "kms:*", "Resource": "*"}],
    }


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextmanager
def _virtual_backoff(clock: VirtualClock) -> Iterator[None]:
    # botocore's endpoint sleeps between retries with time.sleep; hand it a time module whose
    # sleep moves the virtual clock instead.
    shim: Any = SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("__")})
    shim.sleep = clock.sleep
    original = botocore.endpoint.time  # type: ignore[attr-defined]
    botocore.endpoint.time = shim  # type: ignore[attr-defined]
    try:
        yield
    finally:
        botocore.endpoint.time = original  # type: ignore[attr-defined]


@contextmanager
def personalize_world(clock: VirtualClock | None = None) -> Iterator[World]:
    clock = clock or VirtualClock()
    fake_credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    with _environment(fake_credentials), mock_aws():
        s3 = boto3.client("s3")
        access = AccessModel(ACCOUNT, REGION)
        access.register_role(ROLE_ARN)
        access.put_role_policy(ROLE_ARN, "reads-everything", ROLE_READS_EVERYTHING)
        emulator = PersonalizeEmulator(clock, s3, region=REGION, access=access)
        with (
            EmulatorServer(emulator) as server,
            _environment({"AWS_ENDPOINT_URL_PERSONALIZE": server.url}),
            _virtual_backoff(clock),
        ):
            yield World(clock=clock, emulator=emulator, s3=s3, endpoint_url=server.url)
