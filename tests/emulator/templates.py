"""Hand-written templates for the emulated CloudFormation's own tests (no CDK, no library synth).

``Assembly`` writes ``<stack>.template.json`` and ``<stack>.assets.json`` into a directory the way a
cloud assembly holds them, with staged data directories for BucketDeployments. The builders return
resource dicts shaped like what CDK synthesizes for the same thing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs_personalize.handlers.dataset_import import contract
from tests.emulator.access import KEY_ACTIONS, SERVICE_PRINCIPAL
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.provider_framework import ProviderFramework
from tests.emulator.world import INTERACTIONS_SCHEMA

IMPORT_TYPE = "Custom::PersonalizeDatasetImport"
PROVIDER = "ProviderOnEvent"  # the logical id of the provider's (generic) Lambda function


@dataclass
class Assembly:
    directory: Path
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def stage(self, files: dict[str, bytes]) -> str:
        """Stage a data directory as an asset; the BucketDeployment object key (``<hash>.zip``)."""
        digest = hashlib.sha256(json.dumps({k: v.hex() for k, v in sorted(files.items())}).encode()).hexdigest()
        folder = self.directory / f"asset.{digest}"
        for relative, body in files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(body)
        self.assets[digest] = {"source": {"path": folder.name, "packaging": "zip"}}
        return f"{digest}.zip"

    def write(self, stack_name: str, resources: dict[str, Any], **sections: Any) -> Path:
        """Write one stack's template (``sections``: Outputs, Parameters, Conditions) and assets."""
        self.directory.mkdir(parents=True, exist_ok=True)
        template = {"Resources": resources, **sections}
        (self.directory / f"{stack_name}.template.json").write_text(json.dumps(template, indent=1))
        (self.directory / f"{stack_name}.assets.json").write_text(json.dumps({"files": self.assets}))
        return self.directory


def ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def arn_of(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def bucket(key: str | None = None) -> dict[str, Any]:
    """A bucket; with ``key`` (a logical id) its default encryption is that KMS key."""
    if key is None:
        return {"Type": "AWS::S3::Bucket", "Properties": {}}
    default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn_of(key)}
    encryption = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": default}]}
    return {"Type": "AWS::S3::Bucket", "Properties": {"BucketEncryption": encryption}}


def objects(bucket_id: str, prefix: str = "") -> dict[str, Any]:
    return {"Fn::Join": ["", [arn_of(bucket_id), f"/{prefix}*"]]}


def bucket_policy(bucket_id: str, *, actions: tuple[str, ...] = ("s3:GetObject", "s3:ListBucket")) -> dict[str, Any]:
    """The bucket policy CDK's DatasetImport writes: Personalize may read; non-TLS requests are denied."""
    resources = [arn_of(bucket_id), objects(bucket_id)]
    statements = [
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": SERVICE_PRINCIPAL},
            "Action": list(actions),
            "Resource": resources,
        },
    ]
    document = {"Version": "2012-10-17", "Statement": statements}
    return {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": ref(bucket_id), "PolicyDocument": document}}


def role() -> dict[str, Any]:
    trust = {"Effect": "Allow", "Principal": {"Service": SERVICE_PRINCIPAL}, "Action": "sts:AssumeRole"}
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]}},
    }


def read_grant(role_id: str, bucket_id: str, prefix: str = "", *, list_bucket: bool = True) -> dict[str, Any]:
    """An AWS::IAM::Policy letting the role read ``prefix`` of the bucket (and list it)."""
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": objects(bucket_id, prefix)}
    ]
    if list_bucket:
        statements.append({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn_of(bucket_id)})
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": f"{role_id}Read",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            "Roles": [ref(role_id)],
        },
    }


def kms_key(*, role_id: str | None = None, service: bool = True) -> dict[str, Any]:
    """A KMS key whose key policy gives the import actions to the role (if any) and the service (if ``service``)."""
    root = {"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}}
    statements: list[dict[str, Any]] = [{**root, "Action": "kms:*", "Resource": "*"}]
    principal: dict[str, Any] = {}
    if role_id is not None:
        principal["AWS"] = arn_of(role_id)
    if service:
        principal["Service"] = SERVICE_PRINCIPAL
    if principal:
        statements.append({"Effect": "Allow", "Principal": principal, "Action": list(KEY_ACTIONS), "Resource": "*"})
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": statements}}}


def _schema(name: str, fields: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": "com.amazonaws.personalize.schema",
            "fields": fields,
            "version": "1.0",
        }
    )


SCHEMAS = {
    "Interactions": INTERACTIONS_SCHEMA,
    "Items": _schema(
        "Items", [{"name": "ITEM_ID", "type": "string"}, {"name": "GENRE", "type": "string", "categorical": True}]
    ),
    "Users": _schema("Users", [{"name": "USER_ID", "type": "string"}, {"name": "AGE", "type": "int"}]),
}


def items_csv(rows: int = 50) -> bytes:
    return ("ITEM_ID,GENRE\n" + "".join(f"item-{i},genre-{i % 4}\n" for i in range(rows))).encode()


def users_csv(rows: int = 50) -> bytes:
    return ("USER_ID,AGE\n" + "".join(f"user-{i},{20 + i % 50}\n" for i in range(rows))).encode()


def personalize(group: str, dataset_types: tuple[str, ...] = ("Interactions",)) -> dict[str, Any]:
    """A DatasetGroup (logical id Group) with, per type, ``<Type>Schema`` and ``<Type>Dataset``."""
    resources: dict[str, Any] = {"Group": {"Type": "AWS::Personalize::DatasetGroup", "Properties": {"Name": group}}}
    for kind in dataset_types:
        name = f"{group}-{kind.lower()}"
        resources[f"{kind}Schema"] = {
            "Type": "AWS::Personalize::Schema",
            "Properties": {"Name": name, "Schema": SCHEMAS[kind]},
        }
        resources[f"{kind}Dataset"] = {
            "Type": "AWS::Personalize::Dataset",
            "Properties": {
                "Name": name,
                "DatasetType": kind,
                "DatasetGroupArn": arn_of("Group", "DatasetGroupArn"),
                "SchemaArn": arn_of(f"{kind}Schema", "SchemaArn"),
            },
        }
    return resources


def provider() -> dict[str, Any]:
    return {PROVIDER: {"Type": "AWS::Lambda::Function", "Properties": {"Handler": contract.ON_EVENT}}}


def upload(bucket_id: str, prefix: str, object_key: str) -> dict[str, Any]:
    return {
        "Type": "Custom::CDKBucketDeployment",
        "Properties": {
            "ServiceToken": arn_of(PROVIDER),
            "SourceObjectKeys": [object_key],
            "DestinationBucketName": ref(bucket_id),
            "DestinationBucketKeyPrefix": prefix,
            "Prune": True,
        },
    }


def auto_delete_objects(bucket_id: str) -> dict[str, Any]:
    """CDK's ``autoDeleteObjects``: a custom resource that empties the bucket when it is deleted.

    CDK makes it depend on the bucket policy too, so the policy outlives the emptying.
    """
    return {
        "Type": "Custom::S3AutoDeleteObjects",
        "Properties": {"ServiceToken": arn_of(PROVIDER), "BucketName": ref(bucket_id)},
        "DependsOn": [f"{bucket_id}Policy"],
    }


def dataset_import(
    job_name: str,
    bucket_id: str,
    prefix: str,
    role_id: str,
    *,
    dataset_id: str = "InteractionsDataset",
    depends_on: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The import's custom resource, reading ``s3://<bucket>/<prefix>`` into ``dataset_id``."""
    properties = {
        "ServiceToken": arn_of(PROVIDER),
        "JobName": job_name,
        "DatasetArn": arn_of(dataset_id, "DatasetArn"),
        "RoleArn": arn_of(role_id),
        "DataLocation": {"Fn::Join": ["", ["s3://", ref(bucket_id), f"/{prefix}"]]},
        "ImportMode": "FULL",
        **extra,
    }
    resource: dict[str, Any] = {"Type": IMPORT_TYPE, "Properties": properties}
    if depends_on:
        resource["DependsOn"] = depends_on
    return resource


@dataclass(frozen=True)
class ImportSpec:
    """One import of ``import_stack``: data staged under ``prefix`` of the stack's bucket."""

    job_name: str
    files: dict[str, bytes]
    prefix: str
    dataset_type: str = "Interactions"


def import_stack(
    assembly: Assembly, group: str, imports: dict[str, ImportSpec], *, key: bool = False
) -> dict[str, Any]:
    """Resources of a typical import stack, each import after its upload and the read grants.

    Data bucket (KMS-encrypted with ``key``, the key policy naming the role and the service),
    its bucket policy for Personalize, one role allowed to read the bucket, the dataset group
    with the datasets the imports need, the provider function, and per import (logical id) its
    ``<id>Upload`` BucketDeployment and the custom resource.
    """
    types = tuple(dict.fromkeys(spec.dataset_type for spec in imports.values()))
    resources: dict[str, Any] = {
        "Data": bucket(key="Key" if key else None),
        "DataPolicy": bucket_policy("Data"),
        "ImportRole": role(),
        "ImportRoleRead": read_grant("ImportRole", "Data"),
        **personalize(group, types),
        **provider(),
    }
    if key:
        resources["Key"] = kms_key(role_id="ImportRole")
    for logical_id, spec in imports.items():
        resources[f"{logical_id}Upload"] = upload("Data", spec.prefix, assembly.stage(spec.files))
        resources[logical_id] = dataset_import(
            spec.job_name,
            "Data",
            spec.prefix,
            "ImportRole",
            dataset_id=f"{spec.dataset_type}Dataset",
            depends_on=[f"{logical_id}Upload", "DataPolicy", "ImportRoleRead"],
        )
    return resources


def framework(stack: EmulatedStack) -> ProviderFramework:
    """The real handler behind the Provider framework (a hand-written template has no waiter to read it from)."""
    return stack.framework(query_interval=30.0, total_timeout=3600.0, wait_budget=3300.0)


# -- long imports: a wait condition per import, signalled by a polling state machine -----------------------
WAIT_FUNCTION = "WaitFunction"  # the Lambda function the waiter's Task invokes (Handler contract.WAIT_STEP)
WAIT_MACHINE = "WaitMachine"  # the stack's one waiter state machine
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
]


def wait_loop(*, retry: bool = True, interval_path: str = "$.WaitIntervalSeconds") -> dict[str, Any]:
    """The waiter's definition (``"Resource": "<FUNCTION_ARN>"`` stands for the function's ARN).

    As CDK renders a LambdaInvoke with payloadResponseOnly (and its default Retry on Lambda's
    service errors), a Choice on ``$.Done``, a Wait of ``SecondsPath`` and a Succeed.
    """
    check: dict[str, Any] = {"Next": "ImportDone", "Type": "Task", "Resource": "<FUNCTION_ARN>"}
    if retry:
        check["Retry"] = [
            {"ErrorEquals": LAMBDA_SERVICE_ERRORS, "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2}
        ]
    return {
        "StartAt": "CheckImport",
        "States": {
            "CheckImport": check,
            "ImportDone": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.Done", "BooleanEquals": True, "Next": "Signalled"}],
                "Default": "Pause",
            },
            "Pause": {"Type": "Wait", "SecondsPath": interval_path, "Next": "CheckImport"},
            "Signalled": {"Type": "Succeed"},
        },
    }


def waiter(definition: dict[str, Any] | None = None, *, function_id: str = WAIT_FUNCTION) -> dict[str, Any]:
    """The wait function and the STANDARD state machine, its DefinitionString an Fn::Join as CDK renders it."""
    text = json.dumps(definition or wait_loop(), separators=(",", ":"))
    parts: list[Any] = []
    for index, piece in enumerate(text.split("<FUNCTION_ARN>")):
        if index:
            parts.append(arn_of(function_id))
        parts.append(piece)
    return {
        function_id: {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Handler": contract.WAIT_STEP, "Runtime": "python3.12", "Timeout": 60},
        },
        WAIT_MACHINE: {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"DefinitionString": {"Fn::Join": ["", parts]}, "StateMachineType": "STANDARD"},
        },
    }


def long_wait(
    import_id: str, *, handle_id: str, condition_id: str, timeout: int, interval: int, wait_timeout: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the handle and the wait condition, the custom resource's extra properties) for one import in "long" mode."""
    resources = {
        handle_id: {"Type": "AWS::CloudFormation::WaitConditionHandle"},
        condition_id: {
            "Type": "AWS::CloudFormation::WaitCondition",
            "Properties": {"Handle": ref(handle_id), "Timeout": str(timeout), "Count": 1},
            "DependsOn": [import_id],
        },
    }
    properties = {
        "WaitMode": "SIGNAL",
        "WaitHandle": ref(handle_id),
        "WaiterStateMachineArn": ref(WAIT_MACHINE),
        "WaitTimeoutSeconds": str(timeout if wait_timeout is None else wait_timeout),
        "WaitIntervalSeconds": str(interval),
    }
    return resources, properties


def long_import_stack(
    assembly: Assembly,
    group: str,
    imports: dict[str, ImportSpec],
    *,
    timeout: int = 43200,
    interval: int = 300,
    wait_ids: dict[str, tuple[str, str]] | None = None,
    wait_timeout: int | None = None,
    definition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``import_stack`` in long mode: the waiter, and per import ``<id>WaitHandle`` and ``<id>Wait``.

    ``wait_ids``: other (handle, condition) logical ids per import; ``wait_timeout``: what the custom
    resource is told (default: the wait condition's Timeout).
    """
    resources = {**import_stack(assembly, group, imports), **waiter(definition)}
    for import_id in imports:
        handle_id, condition_id = (wait_ids or {}).get(import_id, (f"{import_id}WaitHandle", f"{import_id}Wait"))
        extra, properties = long_wait(
            import_id,
            handle_id=handle_id,
            condition_id=condition_id,
            timeout=timeout,
            interval=interval,
            wait_timeout=wait_timeout,
        )
        resources.update(extra)
        resources[import_id]["Properties"].update(properties)
    return resources
