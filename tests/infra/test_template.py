"""What DatasetImport puts in the template: resources, policies, trust, properties, dependencies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from constructs_personalize import RESOURCE_TYPE, DatasetImport, ImportMode
from tests.infra.helpers import (
    DATASET_ARN,
    ITEMS_ARN,
    iter_policy_statements,
    new_app,
    sample_source,
    stack_in,
)

PERSONALIZE = {"Service": "personalize.amazonaws.com"}


def one_import(stack: Stack) -> None:
    DatasetImport(
        stack,
        "Interactions",
        dataset_arn=DATASET_ARN,
        sources=[sample_source()],
        tags={"team": "recs"},
        publish_attribution_metrics_to_s3=True,
    )


def three_imports(stack: Stack) -> None:
    one_import(stack)
    DatasetImport(
        stack,
        "Items",
        dataset_arn=ITEMS_ARN,
        data_location="s3://existing-training-data/items/",
        job_name="items-2026-11",
        import_mode=ImportMode.INCREMENTAL,
    )
    DatasetImport(
        stack,
        "Encrypted",
        dataset_arn=DATASET_ARN,
        sources=[sample_source()],
        encryption_key=kms.Key(stack, "DataKey", enable_key_rotation=True),
        removal_policy=RemovalPolicy.DESTROY,
    )


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Template:
    app = new_app(tmp_path_factory.mktemp("three"))
    return Template.from_stack(stack_in(app, three_imports))


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Template:
    app = new_app(tmp_path_factory.mktemp("one"))
    return Template.from_stack(stack_in(app, one_import))


def logical_id(template: Template, type_name: str, prefix: str) -> str:
    matches = [k for k in template.find_resources(type_name) if k.startswith(prefix)]
    assert len(matches) == 1, matches
    return matches[0]


# -- one provider per stack ------------------------------------------------------------------------
def test_three_imports_share_one_provider(three: Template) -> None:
    three.resource_count_is(RESOURCE_TYPE, 3)
    three.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    three.resource_properties_count_is("AWS::Lambda::Function", {"Handler": "index.on_event"}, 1)
    three.resource_properties_count_is("AWS::Lambda::Function", {"Handler": "index.is_complete"}, 1)
    tokens = {str(r["Properties"]["ServiceToken"]) for r in three.find_resources(RESOURCE_TYPE).values()}
    assert len(tokens) == 1


def test_a_second_and_third_import_add_no_provider_resources(one: Template, three: Template) -> None:
    def count(template: Template, type_name: str) -> int:
        return len(template.find_resources(type_name))

    for type_name in ("AWS::StepFunctions::StateMachine", "AWS::Logs::LogGroup"):
        assert count(one, type_name) == count(three, type_name)
    # on_event + is_complete + 3 framework functions + BucketDeployment's singleton, once per stack;
    # the third import's DESTROY removal policy adds S3's auto-delete function.
    assert count(one, "AWS::Lambda::Function") == 6
    assert count(three, "AWS::Lambda::Function") == 7
    three.resource_count_is("Custom::S3AutoDeleteObjects", 2)


# -- the bucket ------------------------------------------------------------------------------------
def test_created_bucket_is_private_encrypted_logged_and_retained(one: Template) -> None:
    data_bucket = logical_id(one, "AWS::S3::Bucket", "InteractionsDataBucket")
    one.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "LoggingConfiguration": {
                    "DestinationBucketName": {"Ref": Match.string_like_regexp("InteractionsAccessLogsBucket")}
                },
            },
            "DeletionPolicy": "Retain",
        },
    )
    assert data_bucket


def test_bucket_policy_lets_personalize_read_without_condition_keys_and_denies_plain_http(one: Template) -> None:
    data_bucket = logical_id(one, "AWS::S3::Bucket", "InteractionsDataBucket")
    statements = [
        s
        for _, s in iter_policy_statements(one.to_json())
        if s.get("Principal") == PERSONALIZE and s.get("Effect") == "Allow" and "s3:GetObject" in s["Action"]
    ]
    assert len(statements) == 1
    statement = statements[0]
    assert sorted(statement["Action"]) == ["s3:GetObject", "s3:ListBucket"]
    assert "Condition" not in statement
    assert statement["Resource"] == [
        {"Fn::GetAtt": [data_bucket, "Arn"]},
        {"Fn::Join": ["", [{"Fn::GetAtt": [data_bucket, "Arn"]}, "/*"]]},
    ]
    one.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": data_bucket},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            },
        },
    )


def test_kms_key_policy_lets_personalize_and_the_role_use_the_key(three: Template) -> None:
    three.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": {"Fn::GetAtt": [Match.string_like_regexp("DataKey"), "Arn"]},
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        },
    )
    three.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": PERSONALIZE,
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                            }
                        )
                    ]
                )
            }
        },
    )
    encrypted_role = logical_id(three, "AWS::IAM::Role", "EncryptedRole")
    three.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": encrypted_role}],
            "PolicyDocument": {
                "Statement": Match.array_with([Match.object_like({"Action": ["kms:Decrypt", "kms:DescribeKey"]})])
            },
        },
    )


def test_destroy_removal_policy_empties_and_deletes_the_bucket(three: Template) -> None:
    bucket = logical_id(three, "AWS::S3::Bucket", "EncryptedDataBucket")
    assert three.to_json()["Resources"][bucket]["DeletionPolicy"] == "Delete"
    three.has_resource_properties("Custom::S3AutoDeleteObjects", {"BucketName": {"Ref": bucket}})


# -- the role Personalize assumes ------------------------------------------------------------------
def test_role_trusts_personalize_only_for_this_account_and_region(one: Template) -> None:
    one.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": PERSONALIZE,
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": "123456789012"},
                            "ArnLike": {
                                "aws:SourceArn": {
                                    "Fn::Join": [
                                        "",
                                        ["arn:", {"Ref": "AWS::Partition"}, ":personalize:eu-west-1:123456789012:*"],
                                    ]
                                }
                            },
                        },
                    }
                ]
            }
        },
    )


def test_role_reads_only_the_data_location(one: Template, three: Template) -> None:
    bucket = logical_id(one, "AWS::S3::Bucket", "InteractionsDataBucket")
    role = logical_id(one, "AWS::IAM::Role", "InteractionsRole")
    policy = next(
        p for p in one.find_resources("AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role}]
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    prefix = one.find_resources(RESOURCE_TYPE)[logical_id(one, RESOURCE_TYPE, "Interactions")]["Properties"][
        "DataLocation"
    ]["Fn::Join"][1][2]
    assert prefix.startswith("/Interactions-") and prefix.endswith("/")
    assert {
        "Action": "s3:GetObject",
        "Effect": "Allow",
        "Sid": "ReadTrainingData",
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"{prefix}*"]]},
    } in statements
    assert {
        "Action": "s3:ListBucket",
        "Effect": "Allow",
        "Sid": "ListTrainingData",
        "Resource": {"Fn::GetAtt": [bucket, "Arn"]},
    } in statements
    items_role = logical_id(three, "AWS::IAM::Role", "ItemsRole")
    three.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": items_role}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "s3:GetObject",
                                "Resource": {
                                    "Fn::Join": [
                                        "",
                                        ["arn:", {"Ref": "AWS::Partition"}, ":s3:::existing-training-data/items/*"],
                                    ]
                                },
                            }
                        )
                    ]
                )
            },
        },
    )


# -- the handler's permissions ---------------------------------------------------------------------
def test_no_policy_grants_a_bare_wildcard_action(three: Template) -> None:
    template = three.to_json()
    for logical, statement in iter_policy_statements(template):
        # Denies (TLS-only) may be broad; the test's own KMS key keeps CDK's default admin statement.
        if statement["Effect"] == "Deny" or template["Resources"][logical]["Type"] == "AWS::KMS::Key":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        assert "*" not in actions, logical
        assert not any(a.endswith(":*") for a in actions), (logical, actions)


def test_handler_may_pass_only_the_import_roles_and_only_to_personalize(three: Template) -> None:
    roles = sorted(
        logical_id(three, "AWS::IAM::Role", f"{name}Role") for name in ("Interactions", "Items", "Encrypted")
    )
    statement = next(s for _, s in iter_policy_statements(three.to_json()) if s.get("Action") == "iam:PassRole")
    assert sorted(r["Fn::GetAtt"][0] for r in statement["Resource"]) == roles
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "personalize.amazonaws.com"}}
    personalize = next(
        s for _, s in iter_policy_statements(three.to_json()) if s.get("Sid") == "StartAndDescribeImportJobs"
    )
    assert sorted(personalize["Action"]) == [
        "personalize:CreateDatasetImportJob",
        "personalize:DescribeDatasetImportJob",
        "personalize:TagResource",
    ]
    assert DATASET_ARN in personalize["Resource"] and ITEMS_ARN in personalize["Resource"]


def test_handler_functions_use_the_latest_python_and_log_to_their_own_group(one: Template) -> None:
    one.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "index.on_event",
            "Runtime": "python3.14",
            "Environment": {"Variables": {"WAIT_BUDGET_SECONDS": "3540"}},
            "LoggingConfig": {"LogGroup": {"Ref": Match.string_like_regexp("HandlerLogs")}},
        },
    )
    one.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "lambda.amazonaws.com"}})]
            },
            "ManagedPolicyArns": Match.absent(),
        },
    )


def test_waiter_state_machine_logs_everything_and_is_traced(one: Template) -> None:
    one.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "LoggingConfiguration": Match.object_like({"Level": "ALL"}),
            "TracingConfiguration": {"Enabled": True},
        },
    )


# -- the custom resource ---------------------------------------------------------------------------
def test_custom_resource_carries_the_contract_properties(three: Template) -> None:
    interactions = three.find_resources(RESOURCE_TYPE)[logical_id(three, RESOURCE_TYPE, "Interactions")]["Properties"]
    assert interactions["DatasetArn"] == DATASET_ARN
    assert interactions["ImportMode"] == "FULL"
    assert interactions["PublishAttributionMetricsToS3"] == "true"
    assert interactions["Tags"] == [{"Key": "team", "Value": "recs"}]
    assert interactions["RoleArn"] == {"Fn::GetAtt": [logical_id(three, "AWS::IAM::Role", "InteractionsRole"), "Arn"]}
    three.has_resource_properties(
        RESOURCE_TYPE,
        {
            "DatasetArn": ITEMS_ARN,
            "JobName": "items-2026-11",
            "ImportMode": "INCREMENTAL",
            "DataLocation": "s3://existing-training-data/items/",
            "PublishAttributionMetricsToS3": Match.absent(),
            "Tags": Match.absent(),
        },
    )


def test_import_waits_for_the_upload_the_role_policy_and_the_bucket_policy(three: Template) -> None:
    resource = three.find_resources(RESOURCE_TYPE)[logical_id(three, RESOURCE_TYPE, "Interactions")]
    depends_on: list[str] = resource["DependsOn"]
    assert logical_id(three, "Custom::CDKBucketDeployment", "InteractionsUploadCustomResource") in depends_on
    assert logical_id(three, "AWS::IAM::Policy", "InteractionsRoleDefaultPolicy") in depends_on
    assert logical_id(three, "AWS::S3::BucketPolicy", "InteractionsDataBucketPolicy") in depends_on
    encrypted = three.find_resources(RESOURCE_TYPE)[logical_id(three, RESOURCE_TYPE, "Encrypted")]
    assert logical_id(three, "AWS::KMS::Key", "DataKey") in encrypted["DependsOn"]


def test_upload_goes_to_the_import_prefix_and_prunes_stale_files(three: Template) -> None:
    three.has_resource_properties(
        "Custom::CDKBucketDeployment",
        {
            "DestinationBucketKeyPrefix": Match.string_like_regexp(r"^Interactions-[0-9a-f]{8}/$"),
            "Prune": True,
        },
    )


def test_composers_get_job_arn_and_name_from_the_custom_resource(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    stack = Stack(app, "Attrs")
    imp = DatasetImport(stack, "Imp", dataset_arn=DATASET_ARN, sources=[sample_source()])
    resolved: dict[str, Any] = stack.resolve({"arn": imp.job_arn, "name": imp.job_name})
    cr = stack.get_logical_id(imp.resource.node.default_child)  # type: ignore[arg-type]
    assert resolved == {"arn": {"Fn::GetAtt": [cr, "DatasetImportJobArn"]}, "name": {"Fn::GetAtt": [cr, "JobName"]}}
    assert imp.bucket is imp.node.find_child("DataBucket")
    assert imp.role is imp.node.find_child("Role")
