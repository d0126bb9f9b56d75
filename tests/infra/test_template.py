"""What DatasetImport puts in the template: resources, policies, trust, properties, dependencies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk.assertions import Match, Template
from constructs import Construct, IConstruct

from constructs_personalize import RESOURCE_TYPE, DatasetImport, DataSource, DataStore, ImportMode, ImportWait
from constructs_personalize.handlers.dataset_import import contract
from constructs_personalize.provider import DatasetImportProvider
from tests.constants import DATASET_ARN, ITEMS_ARN, SAMPLE_DIR
from tests.infra.helpers import evaluate, iter_policy_statements, new_app, sample_source, stack_in

PERSONALIZE = {"Service": "personalize.amazonaws.com"}
STORE = "ConstructsPersonalizeDataStore"
READ_ROLE = f"{STORE}/ImportRole"
ENCRYPTED_STORE = "EncryptedStore"
PROVIDER = "ConstructsPersonalizeDatasetImportProvider"
UPLOADS = "ConstructsPersonalizeUploads"
STACK_UUID = "1b2c3d4e-0000-4000-8000-000000000001"
STACK_ID = f"arn:aws:cloudformation:eu-west-1:123456789012:stack/Test/{STACK_UUID}"
KMS_ACTIONS = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:ListGrants"]
TLS_ONLY = {"Bool": {"aws:SecureTransport": "false"}}
GIVEN_ROLE_ARN = "arn:aws:iam::123456789012:role/personalize-import"


def one_import(stack: Stack) -> None:
    DatasetImport(
        stack,
        "Interactions",
        dataset_arn=DATASET_ARN,
        data=sample_source(),
        tags={"team": "recs"},
        publish_attribution_metrics_to_s3=True,
    )


def three_imports(stack: Stack) -> None:
    one_import(stack)
    DatasetImport(
        stack,
        "Items",
        dataset_arn=ITEMS_ARN,
        data=DataSource.from_uri("s3://existing-training-data/items/"),
        job_name="items-2026-11",
        import_mode=ImportMode.INCREMENTAL,
    )
    encrypted = DataStore(
        stack,
        ENCRYPTED_STORE,
        encryption_key=kms.Key(stack, "DataKey", enable_key_rotation=True),
        removal_policy=RemovalPolicy.DESTROY,
    )
    DatasetImport(stack, "Encrypted", dataset_arn=DATASET_ARN, data=sample_source(), store=encrypted)


def store_sharing_imports(stack: Stack, other_data: Path) -> None:
    """Imports sharing the default store, sharing an explicit store, in a store of their own, and of one S3 file."""
    DatasetImport(stack, "Clicks", dataset_arn=DATASET_ARN, data=sample_source())
    # The default store, passed explicitly: the same store as Clicks'.
    DatasetImport(stack, "Views", dataset_arn=DATASET_ARN, data=sample_source(), store=DataStore.of(stack))
    scratch = DataStore(stack, "ScratchStore", removal_policy=RemovalPolicy.DESTROY)
    DatasetImport(stack, "Scratch", dataset_arn=DATASET_ARN, data=sample_source(), store=scratch)
    DatasetImport(
        stack,
        "ScratchTagged",
        dataset_arn=DATASET_ARN,
        data=sample_source(),
        store=scratch,
        tags={"team": "recs", "Cost": "42", "env": "dev"},
    )
    logs = s3.Bucket(stack, "CentralLogs", enforce_ssl=True)
    DatasetImport(
        stack,
        "Purchases",
        dataset_arn=DATASET_ARN,
        data=DataSource.from_asset(other_data),
        store=DataStore(stack, "PurchasesStore", server_access_logs_bucket=logs),
    )
    DatasetImport(
        stack,
        "Events",
        dataset_arn=DATASET_ARN,
        data=DataSource.from_uri("s3://existing-training-data/events/events.csv"),
        publish_attribution_metrics_to_s3=False,
    )


@pytest.fixture(scope="module")
def three_stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    return stack_in(new_app(tmp_path_factory.mktemp("three")), three_imports)


@pytest.fixture(scope="module")
def three(three_stack: Stack) -> Template:
    return Template.from_stack(three_stack)


@pytest.fixture(scope="module")
def one_stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    return stack_in(new_app(tmp_path_factory.mktemp("one")), one_import)


@pytest.fixture(scope="module")
def one(one_stack: Stack) -> Template:
    return Template.from_stack(one_stack)


@pytest.fixture(scope="module")
def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    other_data = tmp_path_factory.mktemp("purchases")
    (other_data / "purchases.csv").write_text(
        "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nuser-001,item-0001,1735692400,buy\n"
    )
    app = new_app(tmp_path_factory.mktemp("shared"))
    return stack_in(app, lambda stack: store_sharing_imports(stack, other_data))


@pytest.fixture(scope="module")
def shared(shared_stack: Stack) -> Template:
    return Template.from_stack(shared_stack)


# -- finding resources by construct path ---------------------------------------------------------------
def at(scope: IConstruct, path: str) -> IConstruct:
    """The construct at ``path`` (``a/b/c``) below ``scope``."""
    node = scope
    for part in path.split("/"):
        node = node.node.find_child(part)
    return node


def lid(stack: Stack, target: IConstruct | str) -> str:
    """Logical id of the CloudFormation resource of ``target`` (a path below the stack, or a construct)."""
    construct = at(stack, target) if isinstance(target, str) else target
    element = construct if isinstance(construct, CfnElement) else construct.node.default_child
    assert isinstance(element, CfnElement), f"{construct.node.path} has no CloudFormation resource"
    return stack.get_logical_id(element)


def resource(template: Template, logical_id: str, type_name: str) -> dict[str, Any]:
    found: dict[str, Any] = template.to_json()["Resources"][logical_id]
    assert found["Type"] == type_name, (logical_id, found["Type"])
    return found


def import_named(stack: Stack, name: str) -> DatasetImport:
    found = stack.node.find_child(name)
    assert isinstance(found, DatasetImport)
    return found


def provider_of(stack: Stack) -> DatasetImportProvider:
    found = stack.node.find_child(PROVIDER)
    assert isinstance(found, DatasetImportProvider)
    return found


def prefix_of(imp: DatasetImport) -> str:
    """The key prefix an import uploads to: ``<id>-<8 hex chars of its address>/``."""
    return f"{imp.node.id}-{imp.node.addr[:8]}/"


def upload_of(imp: DatasetImport) -> s3_deployment.BucketDeployment:
    """The import's upload: under the stack-level uploads construct, id = import path + 8 hex of its address."""
    uploads = Stack.of(imp).node.find_child(UPLOADS)
    found = uploads.node.find_child(f"{imp.node.id}{imp.node.addr[:8]}")
    assert isinstance(found, s3_deployment.BucketDeployment)
    return found


def upload_resource_id(stack: Stack, imp: DatasetImport) -> str:
    return lid(stack, upload_of(imp).node.find_child("CustomResource"))


def stores(stack: Stack) -> dict[str, DataStore]:
    """The stack's data stores that live at the stack level, by construct id."""
    return {c.node.id: c for c in stack.node.children if isinstance(c, DataStore)}


def store_of(imp: DatasetImport) -> DataStore:
    """The data store that holds the import's bucket (the bucket is the store's ``DataBucket``)."""
    store = imp.bucket.node.scope
    assert isinstance(store, DataStore), imp.bucket.node.path
    assert imp.bucket.node.id == "DataBucket", imp.bucket.node.path
    return store


def arn_of(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def objects_of(bucket_id: str, pattern: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [arn_of(bucket_id), f"/{pattern}"]]}


def s3_arn(path: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{path}"]]}


def canonical(statements: Iterable[dict[str, Any]]) -> list[str]:
    """Statements as sorted JSON texts: compares policies exactly, whatever the statement order."""
    return sorted(json.dumps(s, sort_keys=True) for s in statements)


def statements_of(template: Template, policy_id: str) -> list[dict[str, Any]]:
    document = resource(template, policy_id, "AWS::IAM::Policy")["Properties"]["PolicyDocument"]
    statements: list[dict[str, Any]] = document["Statement"]
    return statements


def assert_tls_only(template: Template, stack: Stack, bucket_path: str) -> None:
    bucket = lid(stack, bucket_path)
    policy = resource(template, lid(stack, f"{bucket_path}/Policy"), "AWS::S3::BucketPolicy")["Properties"]
    assert policy["Bucket"] == {"Ref": bucket}
    assert {
        "Action": "s3:*",
        "Condition": TLS_ONLY,
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": [arn_of(bucket), objects_of(bucket, "*")],
    } in policy["PolicyDocument"]["Statement"]


def sse_defaults(bucket: dict[str, Any]) -> list[dict[str, Any]]:
    rules = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    return [rule["ServerSideEncryptionByDefault"] for rule in rules]


# -- one provider per stack ------------------------------------------------------------------------
def test_three_imports_share_one_provider(three: Template) -> None:
    three.resource_count_is(RESOURCE_TYPE, 3)
    three.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    three.resource_properties_count_is("AWS::Lambda::Function", {"Handler": contract.ON_EVENT}, 1)
    three.resource_properties_count_is("AWS::Lambda::Function", {"Handler": contract.IS_COMPLETE}, 1)
    tokens = {str(r["Properties"]["ServiceToken"]) for r in three.find_resources(RESOURCE_TYPE).values()}
    assert len(tokens) == 1


def test_a_second_and_third_import_add_no_provider_resources(one: Template, three: Template) -> None:
    def ids(template: Template, type_name: str) -> set[str]:
        return set(template.find_resources(type_name))

    for type_name in ("AWS::StepFunctions::StateMachine", "AWS::Logs::LogGroup", "AWS::Lambda::LayerVersion"):
        assert ids(one, type_name) == ids(three, type_name), type_name
    # The same functions (the provider's and the one upload function of this size), with one exception:
    # the third import's store, with its DESTROY removal policy, brings aws-cdk-lib's auto-delete function.
    added = ids(three, "AWS::Lambda::Function") - ids(one, "AWS::Lambda::Function")
    assert ids(one, "AWS::Lambda::Function") <= ids(three, "AWS::Lambda::Function")
    assert len(added) == 1 and next(iter(added)).startswith("CustomS3AutoDeleteObjectsCustomResourceProviderHandler")


# -- the data store ----------------------------------------------------------------------------------
def test_default_store_is_one_stack_level_bucket_private_encrypted_tls_only_logged_and_retained(
    one_stack: Stack, one: Template
) -> None:
    imp = import_named(one_stack, "Interactions")
    assert imp.node.try_find_child("DataBucket") is None
    assert imp.node.try_find_child("AccessLogsBucket") is None
    assert list(stores(one_stack)) == [STORE]
    assert store_of(imp) is DataStore.of(one_stack) is at(one_stack, STORE)
    assert imp.bucket is at(one_stack, f"{STORE}/DataBucket")
    assert imp.role is at(one_stack, READ_ROLE)
    assert {c.node.id for c in at(one_stack, STORE).node.children} == {"DataBucket", "AccessLogsBucket", "ImportRole"}

    bucket_id = lid(one_stack, f"{STORE}/DataBucket")
    logs_id = lid(one_stack, f"{STORE}/AccessLogsBucket")
    blocked = {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    for logical_id in (bucket_id, logs_id):
        bucket = resource(one, logical_id, "AWS::S3::Bucket")
        assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == blocked
        assert sse_defaults(bucket) == [{"SSEAlgorithm": "AES256"}]
    data = resource(one, bucket_id, "AWS::S3::Bucket")["Properties"]
    assert data["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    assert_tls_only(one, one_stack, f"{STORE}/DataBucket")
    assert_tls_only(one, one_stack, f"{STORE}/AccessLogsBucket")
    # Retained buckets keep their objects.
    one.resource_count_is("Custom::S3AutoDeleteObjects", 0)


def test_imports_given_one_store_share_its_bucket_and_role_and_other_stores_keep_their_own(
    shared_stack: Stack, shared: Template
) -> None:
    clicks, views, scratch, tagged, purchases, events = (
        import_named(shared_stack, name)
        for name in ("Clicks", "Views", "Scratch", "ScratchTagged", "Purchases", "Events")
    )
    default = at(shared_stack, STORE)
    # Passing DataStore.of(stack) is the same as passing nothing.
    assert store_of(clicks) is default and store_of(views) is default
    assert clicks.bucket is views.bucket
    assert store_of(scratch) is at(shared_stack, "ScratchStore") is store_of(tagged)
    assert scratch.bucket is tagged.bucket
    assert store_of(purchases) is at(shared_stack, "PurchasesStore")
    assert set(stores(shared_stack)) == {STORE, "ScratchStore", "PurchasesStore"}
    # Each store has its own read role; data already in S3 is read with the default store's role.
    for imps, store in (
        ((clicks, views, events), STORE),
        ((scratch, tagged), "ScratchStore"),
        ((purchases,), "PurchasesStore"),
    ):
        for imp in imps:
            assert imp.role is at(shared_stack, f"{store}/ImportRole"), imp.node.id

    # A given logs bucket replaces the store's own.
    assert store_of(purchases).node.try_find_child("AccessLogsBucket") is None
    purchases_bucket = resource(shared, lid(shared_stack, purchases.bucket), "AWS::S3::Bucket")
    assert purchases_bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": lid(shared_stack, "CentralLogs")
    }
    # Every upload writes to its own import's store bucket.
    for imp in (clicks, views, scratch, tagged, purchases):
        upload = resource(shared, upload_resource_id(shared_stack, imp), "Custom::CDKBucketDeployment")
        assert upload["Properties"]["DestinationBucketName"] == {"Ref": lid(shared_stack, imp.bucket)}


def test_an_explicit_store_lives_where_it_is_created_and_uses_a_given_bucket_and_role(tmp_path: Path) -> None:
    stack = stack_in(new_app(tmp_path), lambda _: None, "Explicit")
    store = DataStore(Construct(stack, "Platform"), "Store")
    imp = DatasetImport(stack, "Imp", dataset_arn=DATASET_ARN, data=sample_source(), store=store)
    assert imp.bucket is store.bucket is at(stack, "Platform/Store/DataBucket")
    assert imp.role is store.role is at(stack, "Platform/Store/ImportRole")
    assert at(stack, "Platform/Store/AccessLogsBucket") is not None
    # No import asked for the default store: the stack has none.
    assert stack.node.try_find_child(STORE) is None
    assert upload_of(imp).node.scope is at(stack, UPLOADS)

    # A data lake: the user's bucket and role; the store creates neither, nor a logs bucket.
    lake = s3.Bucket(stack, "Lake", enforce_ssl=True)
    given = iam.Role.from_role_arn(stack, "Given", GIVEN_ROLE_ARN)
    lake_store = DataStore(stack, "LakeStore", bucket=lake, role=given)
    on_lake = DatasetImport(stack, "OnLake", dataset_arn=ITEMS_ARN, data=sample_source(), store=lake_store)
    assert on_lake.bucket is lake and on_lake.role is given
    assert lake_store.node.children == []

    template = Template.from_stack(stack)
    assert {
        lid(stack, "Platform/Store/DataBucket"),
        lid(stack, "Platform/Store/AccessLogsBucket"),
        lid(stack, "Lake"),
    } == set(template.find_resources("AWS::S3::Bucket"))
    upload = resource(template, upload_resource_id(stack, on_lake), "Custom::CDKBucketDeployment")
    assert upload["Properties"]["DestinationBucketName"] == {"Ref": lid(stack, "Lake")}
    properties = resource(template, lid(stack, on_lake.resource), RESOURCE_TYPE)["Properties"]
    assert properties["RoleArn"] == GIVEN_ROLE_ARN
    lake_id = lid(stack, "Lake")
    assert properties["DataLocation"] == {"Fn::Join": ["", ["s3://", {"Ref": lake_id}, f"/{prefix_of(on_lake)}"]]}
    policy = resource(template, lid(stack, "Lake/Policy"), "AWS::S3::BucketPolicy")["Properties"]
    granted = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Principal") == PERSONALIZE]
    assert granted == [
        {
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Effect": "Allow",
            "Principal": PERSONALIZE,
            "Resource": [arn_of(lake_id), objects_of(lake_id, f"{prefix_of(on_lake)}*")],
        }
    ]


def test_a_key_prefix_given_to_from_asset_is_the_upload_prefix_and_scopes_the_read_grants(tmp_path: Path) -> None:
    stack = stack_in(new_app(tmp_path), lambda _: None, "Prefixed")
    prefix = "training/interactions/"
    imp = DatasetImport(
        stack, "Imp", dataset_arn=DATASET_ARN, data=DataSource.from_asset(SAMPLE_DIR, key_prefix=prefix)
    )
    template = Template.from_stack(stack)
    bucket_id = lid(stack, f"{STORE}/DataBucket")
    upload = resource(template, upload_resource_id(stack, imp), "Custom::CDKBucketDeployment")["Properties"]
    assert upload["DestinationBucketKeyPrefix"] == prefix
    properties = resource(template, lid(stack, imp.resource), RESOURCE_TYPE)["Properties"]
    assert properties["DataLocation"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket_id}, f"/{prefix}"]]}
    assert canonical(statements_of(template, lid(stack, f"{READ_ROLE}/DefaultPolicy"))) == canonical(
        [
            {"Action": "s3:GetObject", "Effect": "Allow", "Resource": objects_of(bucket_id, f"{prefix}*")},
            {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": arn_of(bucket_id)},
        ]
    )


def test_bucket_policy_lets_personalize_read_each_import_prefix_only_without_condition_keys(
    shared_stack: Stack, shared: Template
) -> None:
    by_store = {
        STORE: ("Clicks", "Views"),
        "ScratchStore": ("Scratch", "ScratchTagged"),
        "PurchasesStore": ("Purchases",),
    }
    for store, names in by_store.items():
        imports = [import_named(shared_stack, name) for name in names]
        bucket_id = lid(shared_stack, f"{store}/DataBucket")
        assert {lid(shared_stack, imp.bucket) for imp in imports} == {bucket_id}
        policy = resource(shared, lid(shared_stack, f"{store}/DataBucket/Policy"), "AWS::S3::BucketPolicy")
        granted = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Principal") == PERSONALIZE]
        # One statement for the store's imports, on the bucket and each import's prefix: never "<bucket>/*",
        # no Condition.
        assert canonical(granted) == canonical(
            [
                {
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Effect": "Allow",
                    "Principal": PERSONALIZE,
                    "Resource": [arn_of(bucket_id)] + [objects_of(bucket_id, f"{prefix_of(imp)}*") for imp in imports],
                }
            ]
        )
        assert_tls_only(shared, shared_stack, f"{store}/DataBucket")

    # No other bucket policy (the access-logs buckets, the user's logs bucket) lets Personalize in.
    template = shared.to_json()
    holders = {
        logical
        for logical, statement in iter_policy_statements(template)
        if template["Resources"][logical]["Type"] == "AWS::S3::BucketPolicy"
        and PERSONALIZE["Service"] in json.dumps(statement.get("Principal"))
    }
    assert holders == {lid(shared_stack, f"{store}/DataBucket/Policy") for store in by_store}


def test_kms_key_policy_has_one_statement_for_personalize_and_the_role(three_stack: Stack, three: Template) -> None:
    encrypted = import_named(three_stack, "Encrypted")
    assert encrypted.bucket is at(three_stack, f"{ENCRYPTED_STORE}/DataBucket")
    key_id = lid(three_stack, "DataKey")
    role_id = lid(three_stack, f"{ENCRYPTED_STORE}/ImportRole")
    bucket = resource(three, lid(three_stack, encrypted.bucket), "AWS::S3::Bucket")
    assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn_of(key_id)},
        }
    ]

    statements = resource(three, key_id, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    ours = [s for s in statements if "personalize" in json.dumps(s) or "ImportRole" in json.dumps(s)]
    assert len(ours) == 1, ours
    statement = {**ours[0], "Action": sorted(ours[0]["Action"])}
    assert statement == {
        "Sid": "PersonalizeDatasetImportUseOfTheKey",
        "Effect": "Allow",
        "Principal": {"Service": "personalize.amazonaws.com", "AWS": arn_of(role_id)},
        "Action": KMS_ACTIONS,
        "Resource": "*",
    }

    # The store's role itself reads with the key; it makes no data keys. The default store's role never uses it.
    role_statements = statements_of(three, lid(three_stack, f"{ENCRYPTED_STORE}/ImportRole/DefaultPolicy"))
    kms_statements = [s for s in role_statements if "kms:" in json.dumps(s["Action"])]
    assert kms_statements == [
        {"Action": ["kms:Decrypt", "kms:DescribeKey"], "Effect": "Allow", "Resource": arn_of(key_id)}
    ]
    default_statements = statements_of(three, lid(three_stack, f"{READ_ROLE}/DefaultPolicy"))
    assert "kms:" not in json.dumps(default_statements)


def test_destroy_removal_policy_empties_and_deletes_only_its_own_store(three_stack: Stack, three: Template) -> None:
    assert store_of(import_named(three_stack, "Encrypted")) is at(three_stack, ENCRYPTED_STORE)
    destroyed = {
        lid(three_stack, f"{ENCRYPTED_STORE}/DataBucket"),
        lid(three_stack, f"{ENCRYPTED_STORE}/AccessLogsBucket"),
    }
    for logical_id in destroyed:
        bucket = resource(three, logical_id, "AWS::S3::Bucket")
        assert bucket["DeletionPolicy"] == "Delete" and bucket["UpdateReplacePolicy"] == "Delete"
    emptied = {
        r["Properties"]["BucketName"]["Ref"] for r in three.find_resources("Custom::S3AutoDeleteObjects").values()
    }
    assert emptied == destroyed
    # The default store of the same stack stays retained.
    for path in (f"{STORE}/DataBucket", f"{STORE}/AccessLogsBucket"):
        assert resource(three, lid(three_stack, path), "AWS::S3::Bucket")["DeletionPolicy"] == "Retain"


# -- the role Personalize assumes ------------------------------------------------------------------
def test_each_store_has_one_role_trusting_personalize_only_for_this_account_and_region(
    three_stack: Stack, three: Template
) -> None:
    default_role = at(three_stack, READ_ROLE)
    encrypted_role = at(three_stack, f"{ENCRYPTED_STORE}/ImportRole")
    assert isinstance(default_role, iam.Role) and isinstance(encrypted_role, iam.Role)
    for name in ("Interactions", "Items"):
        assert import_named(three_stack, name).role is default_role
    assert import_named(three_stack, "Encrypted").role is encrypted_role
    trusting = [
        logical
        for logical, r in three.find_resources("AWS::IAM::Role").items()
        if PERSONALIZE in [s["Principal"] for s in r["Properties"]["AssumeRolePolicyDocument"]["Statement"]]
    ]
    assert sorted(trusting) == sorted([lid(three_stack, default_role), lid(three_stack, encrypted_role)])
    for role in (default_role, encrypted_role):
        trust = resource(three, lid(three_stack, role), "AWS::IAM::Role")["Properties"]["AssumeRolePolicyDocument"]
        assert trust["Statement"] == [
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
        ], role.node.path


def test_role_reads_only_each_import_data_location(three_stack: Stack, three: Template) -> None:
    interactions, encrypted = import_named(three_stack, "Interactions"), import_named(three_stack, "Encrypted")
    default_bucket = lid(three_stack, interactions.bucket)
    encrypted_bucket = lid(three_stack, encrypted.bucket)
    expected = {
        READ_ROLE: [
            {
                "Action": "s3:GetObject",
                "Effect": "Allow",
                "Resource": objects_of(default_bucket, f"{prefix_of(interactions)}*"),
            },
            {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": arn_of(default_bucket)},
            {"Action": "s3:GetObject", "Effect": "Allow", "Resource": s3_arn("existing-training-data/items/*")},
            {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": s3_arn("existing-training-data")},
        ],
        f"{ENCRYPTED_STORE}/ImportRole": [
            {
                "Action": "s3:GetObject",
                "Effect": "Allow",
                "Resource": objects_of(encrypted_bucket, f"{prefix_of(encrypted)}*"),
            },
            {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": arn_of(encrypted_bucket)},
            {
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Effect": "Allow",
                "Resource": arn_of(lid(three_stack, "DataKey")),
            },
        ],
    }
    for role, statements in expected.items():
        policy = resource(three, lid(three_stack, f"{role}/DefaultPolicy"), "AWS::IAM::Policy")["Properties"]
        assert policy["Roles"] == [{"Ref": lid(three_stack, role)}]
        assert canonical(policy["PolicyDocument"]["Statement"]) == canonical(statements), role


def test_role_reads_exactly_the_file_of_a_single_file_data_location(shared_stack: Stack, shared: Template) -> None:
    def reads_of(store: str) -> list[Any]:
        statements = statements_of(shared, lid(shared_stack, f"{store}/ImportRole/DefaultPolicy"))
        # One GetObject statement per bucket the role reads, listing every import's objects there.
        resources = [s["Resource"] for s in statements if s["Action"] == "s3:GetObject"]
        return [item for resource in resources for item in (resource if isinstance(resource, list) else [resource])]

    def uploaded(*names: str) -> list[dict[str, Any]]:
        imports = [import_named(shared_stack, name) for name in names]
        return [objects_of(lid(shared_stack, imp.bucket), f"{prefix_of(imp)}*") for imp in imports]

    reads = reads_of(STORE)
    assert s3_arn("existing-training-data/events/events.csv") in reads
    assert s3_arn("existing-training-data/events/*") not in reads
    assert s3_arn("existing-training-data/*") not in reads
    assert canonical(reads) == canonical(
        [s3_arn("existing-training-data/events/events.csv"), *uploaded("Clicks", "Views")]
    )
    # The other stores' roles read their own imports' prefixes only.
    assert canonical(reads_of("ScratchStore")) == canonical(uploaded("Scratch", "ScratchTagged"))
    assert canonical(reads_of("PurchasesStore")) == canonical(uploaded("Purchases"))


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


def _arn_pattern(service: str, region: str, resource: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":{service}:{region}:123456789012:{resource}"]]}


START_IMPORTS = [
    {
        "Action": "iam:PassRole",
        "Condition": {"StringEquals": {"iam:PassedToService": "personalize.amazonaws.com"}},
        "Effect": "Allow",
        "Resource": _arn_pattern("iam", "", "role/*"),
    },
    # DescribeDataset: the handler checks that a job found under a taken name does not predate the dataset.
    {
        "Action": ["personalize:CreateDatasetImportJob", "personalize:DescribeDataset"],
        "Effect": "Allow",
        "Resource": _arn_pattern("personalize", "eu-west-1", "dataset/*"),
    },
]


def test_the_handler_holds_constant_stack_level_grants_that_name_no_import_role_or_dataset(
    three_stack: Stack, three: Template
) -> None:
    handler_policy = resource(three, lid(three_stack, f"{PROVIDER}/HandlerRole/DefaultPolicy"), "AWS::IAM::Policy")
    assert handler_policy["Properties"]["Roles"] == [{"Ref": lid(three_stack, f"{PROVIDER}/HandlerRole")}]
    statements = [
        {k: v for k, v in s.items() if k != "Sid"} for s in handler_policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    logs = ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert canonical(statements) == canonical(
        [
            {
                "Action": [
                    "personalize:CreateDatasetImportJob",
                    "personalize:DescribeDatasetImportJob",
                    "personalize:TagResource",
                    "personalize:UntagResource",
                ],
                "Effect": "Allow",
                "Resource": _arn_pattern("personalize", "eu-west-1", "dataset-import-job/*"),
            },
            *START_IMPORTS,
            # An INCREMENTAL batch is named after the dataset's latest FULL job.
            {"Action": "personalize:ListDatasetImportJobs", "Effect": "Allow", "Resource": "*"},
            {"Action": logs, "Effect": "Allow", "Resource": arn_of(lid(three_stack, f"{PROVIDER}/OnEventLogs"))},
            {"Action": logs, "Effect": "Allow", "Resource": arn_of(lid(three_stack, f"{PROVIDER}/IsCompleteLogs"))},
        ]
    )
    # Nothing passes a role or names a dataset per import: no policy ties one import to another.
    for logical, statement in iter_policy_statements(three.to_json()):
        text = json.dumps(statement)
        if "iam:PassRole" in text:
            assert logical == handler_policy_id(three_stack), logical
        assert DATASET_ARN not in text and ITEMS_ARN not in text, logical
    assert not [r for r in three.to_json()["Resources"] if "HandlerAccess" in r]
    # Every import reaches these functions through its service token, so it starts after the grants exist.
    for function in ("OnEvent", "IsComplete"):
        found = resource(three, lid(three_stack, f"{PROVIDER}/{function}"), "AWS::Lambda::Function")
        assert handler_policy_id(three_stack) in found["DependsOn"]


def handler_policy_id(stack: Stack) -> str:
    return lid(stack, f"{PROVIDER}/HandlerRole/DefaultPolicy")


def test_the_long_waiter_may_start_jobs_and_the_handler_may_stop_the_waiter(tmp_path: Path) -> None:
    stack = stack_in(new_app(tmp_path), lambda _: None, "LongGrants")
    DatasetImport(stack, "Imp", dataset_arn=DATASET_ARN, data=sample_source(), wait=ImportWait.up_to(Duration.hours(2)))
    template = Template.from_stack(stack)
    jobs = {
        "Action": [
            "personalize:CreateDatasetImportJob",
            "personalize:DescribeDatasetImportJob",
            "personalize:TagResource",
        ],
        "Effect": "Allow",
        "Resource": _arn_pattern("personalize", "eu-west-1", "dataset-import-job/*"),
    }
    step = [
        {k: v for k, v in s.items() if k != "Sid"}
        for s in statements_of(template, lid(stack, f"{PROVIDER}/WaitStepRole/DefaultPolicy"))
    ]
    assert canonical([s for s in step if "logs:PutLogEvents" not in json.dumps(s)]) == canonical([jobs, *START_IMPORTS])
    machine = lid(stack, f"{PROVIDER}/LongWaiter")
    executions = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":states:eu-west-1:123456789012:execution:",
                {"Fn::GetAtt": [machine, "Name"]},
                ":*",
            ],
        ]
    }
    handler = statements_of(template, handler_policy_id(stack))
    assert {"Action": "states:StopExecution", "Effect": "Allow", "Resource": executions} in handler


def test_handler_functions_use_the_latest_python_and_log_to_their_own_named_group(
    one_stack: Stack, one: Template
) -> None:
    handler_role = lid(one_stack, f"{PROVIDER}/HandlerRole")
    groups = set()
    for construct_id, handler, verb in (
        ("OnEvent", contract.ON_EVENT, "start"),
        ("IsComplete", contract.IS_COMPLETE, "check"),
    ):
        function = resource(one, lid(one_stack, f"{PROVIDER}/{construct_id}"), "AWS::Lambda::Function")["Properties"]
        assert function["Handler"] == handler
        assert function["Runtime"] == "python3.14"
        assert function["Environment"] == {"Variables": {"WAIT_BUDGET_SECONDS": "3540"}}
        assert function["Role"] == arn_of(handler_role)
        # The name follows the deployed stack instance (its StackId), not the synth.
        name = evaluate(function["FunctionName"], STACK_ID)
        assert name == f"personalize-import-{verb}-{STACK_UUID}"
        other_uuid = "1b2c3d4e-0000-4000-8000-00000000000b"
        assert evaluate(function["FunctionName"], STACK_ID.replace(STACK_UUID, other_uuid)).endswith(other_uuid)
        group_id = function["LoggingConfig"]["LogGroup"]["Ref"]
        group = resource(one, group_id, "AWS::Logs::LogGroup")
        assert evaluate(group["Properties"]["LogGroupName"], STACK_ID) == f"/aws/lambda/{name}"
        assert group["Properties"]["RetentionInDays"] == 365
        assert group["DeletionPolicy"] == "Retain"
        groups.add(group_id)
    assert len(groups) == 2
    role = resource(one, handler_role, "AWS::IAM::Role")["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role


def test_waiter_state_machine_logs_everything_to_a_vended_group_and_is_traced(one_stack: Stack, one: Template) -> None:
    one.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "LoggingConfiguration": Match.object_like({"Level": "ALL"}),
            "TracingConfiguration": {"Enabled": True},
        },
    )
    (machine,) = one.find_resources("AWS::StepFunctions::StateMachine").values()
    (destination,) = machine["Properties"]["LoggingConfiguration"]["Destinations"]
    group_id = lid(one_stack, f"{PROVIDER}/WaiterLogs")
    assert destination == {"CloudWatchLogsLogGroup": {"LogGroupArn": arn_of(group_id)}}
    group = resource(one, group_id, "AWS::Logs::LogGroup")
    assert evaluate(group["Properties"]["LogGroupName"], STACK_ID) == (
        f"/aws/vendedlogs/states/personalize-import-waiter-{STACK_UUID}"
    )
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"
    # Tracing needs the waiter's role to write to X-Ray (the Provider sets no tracing itself).
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    xray = [
        s
        for logical, s in iter_policy_statements(one.to_json())
        if any(r == {"Ref": role_id} for r in one.to_json()["Resources"][logical]["Properties"].get("Roles", []))
        and "xray:PutTraceSegments" in s["Action"]
    ]
    assert xray and set(xray[0]["Action"]) >= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


# -- the custom resource ---------------------------------------------------------------------------
def test_custom_resource_carries_the_contract_properties(three_stack: Stack, three: Template) -> None:
    interactions, items, encrypted = (import_named(three_stack, n) for n in ("Interactions", "Items", "Encrypted"))
    common = {
        "ServiceToken": three_stack.resolve(provider_of(three_stack).service_token),
        "ServiceTimeout": "3600",
    }
    default_role = arn_of(lid(three_stack, READ_ROLE))

    def properties(imp: DatasetImport) -> dict[str, Any]:
        found: dict[str, Any] = resource(three, lid(three_stack, imp.resource), RESOURCE_TYPE)["Properties"]
        return found

    def location(imp: DatasetImport) -> dict[str, Any]:
        return {"Fn::Join": ["", ["s3://", {"Ref": lid(three_stack, imp.bucket)}, f"/{prefix_of(imp)}"]]}

    version = properties(interactions)["DataVersion"]
    assert re.fullmatch(r"[0-9a-f]{32}", version), version
    assert properties(interactions) == {
        **common,
        "RoleArn": default_role,
        "DatasetArn": DATASET_ARN,
        "DataLocation": location(interactions),
        "ImportMode": "FULL",
        "PublishAttributionMetricsToS3": "true",
        "Tags": [{"Key": "team", "Value": "recs"}],
        "JobNamePrefix": "Interactions",
        "DataVersion": version,
    }
    # An explicit job name: no prefix, no data version.
    assert properties(items) == {
        **common,
        "RoleArn": default_role,
        "DatasetArn": ITEMS_ARN,
        "DataLocation": "s3://existing-training-data/items/",
        "ImportMode": "INCREMENTAL",
        "JobName": "items-2026-11",
    }
    # The same local data: the same data version. Its store's own role reads it.
    assert properties(encrypted) == {
        **common,
        "RoleArn": arn_of(lid(three_stack, f"{ENCRYPTED_STORE}/ImportRole")),
        "DatasetArn": DATASET_ARN,
        "DataLocation": location(encrypted),
        "ImportMode": "FULL",
        "JobNamePrefix": "Encrypted",
        "DataVersion": version,
        # A second FULL import of the dataset runs after the first, and again whenever the first does.
        "AfterJob": {"Fn::GetAtt": [lid(three_stack, interactions.resource), "JobName"]},
    }


def test_custom_resource_sorts_tags_and_versions_data_by_content(shared_stack: Stack, shared: Template) -> None:
    def properties(name: str) -> dict[str, Any]:
        imp = import_named(shared_stack, name)
        found: dict[str, Any] = resource(shared, lid(shared_stack, imp.resource), RESOURCE_TYPE)["Properties"]
        return found

    assert properties("ScratchTagged")["Tags"] == [
        {"Key": "Cost", "Value": "42"},
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "recs"},
    ]
    assert properties("Clicks")["DataVersion"] == properties("Views")["DataVersion"]
    assert properties("Purchases")["DataVersion"] != properties("Clicks")["DataVersion"]
    # Data already in S3 has no local version; the derived name needs only its prefix.
    events = properties("Events")
    assert events["DataLocation"] == "s3://existing-training-data/events/events.csv"
    assert events["PublishAttributionMetricsToS3"] == "false"
    assert events["JobNamePrefix"] == "Events"
    assert "DataVersion" not in events and "JobName" not in events and "Tags" not in events


def test_import_waits_for_its_upload_read_grants_bucket_policy_and_key(three_stack: Stack, three: Template) -> None:
    interactions, items, encrypted = (import_named(three_stack, n) for n in ("Interactions", "Items", "Encrypted"))
    role_policy = lid(three_stack, f"{READ_ROLE}/DefaultPolicy")
    encrypted_role_policy = lid(three_stack, f"{ENCRYPTED_STORE}/ImportRole/DefaultPolicy")

    def depends_on(imp: DatasetImport) -> set[str]:
        return set(resource(three, lid(three_stack, imp.resource), RESOURCE_TYPE).get("DependsOn", []))

    def under_upload(imp: DatasetImport) -> set[str]:
        """Logical ids of everything the import's BucketDeployment creates (its custom resource, layer...)."""
        return {three_stack.get_logical_id(c) for c in upload_of(imp).node.find_all() if isinstance(c, CfnElement)}

    expected = {
        interactions: {
            upload_resource_id(three_stack, interactions),
            role_policy,
            lid(three_stack, f"{STORE}/DataBucket/Policy"),
        },
        items: {role_policy},
        encrypted: {
            upload_resource_id(three_stack, encrypted),
            encrypted_role_policy,
            lid(three_stack, f"{ENCRYPTED_STORE}/DataBucket/Policy"),
            lid(three_stack, "DataKey"),
            # The second FULL import of the same dataset runs after the first.
            lid(three_stack, interactions.resource),
        },
    }
    for imp, wanted in expected.items():
        found = depends_on(imp)
        assert wanted <= found, (imp.node.id, wanted - found)
        extra = found - wanted
        own_upload = under_upload(imp) if imp is not items else set()
        assert extra <= own_upload, (imp.node.id, extra - own_upload)


def test_imports_of_one_dataset_run_full_first_then_in_declaration_order(tmp_path: Path) -> None:
    stack = stack_in(new_app(tmp_path), lambda _: None, "Ordered")
    first_incremental = DatasetImport(
        stack,
        "FirstIncremental",
        dataset_arn=DATASET_ARN,
        data=DataSource.from_uri("s3://existing-training-data/first/"),
        import_mode=ImportMode.INCREMENTAL,
    )
    full = DatasetImport(
        stack, "Full", dataset_arn=DATASET_ARN, data=DataSource.from_uri("s3://existing-training-data/full/")
    )
    second_incremental = DatasetImport(
        stack,
        "SecondIncremental",
        dataset_arn=DATASET_ARN,
        data=DataSource.from_uri("s3://existing-training-data/second/"),
        import_mode=ImportMode.INCREMENTAL,
    )
    other = DatasetImport(
        stack, "Items", dataset_arn=ITEMS_ARN, data=DataSource.from_uri("s3://existing-training-data/items/")
    )
    imports = {lid(stack, imp.resource): imp.node.id for imp in (first_incremental, full, second_incremental, other)}
    resources = Template.from_stack(stack).find_resources(RESOURCE_TYPE)
    assert set(resources) == set(imports)
    waits_for = {
        imports[logical]: sorted(imports[d] for d in r.get("DependsOn", []) if d in imports)
        for logical, r in resources.items()
    }
    assert waits_for == {
        "Full": [],
        "FirstIncremental": ["Full"],
        "SecondIncremental": ["FirstIncremental"],
        "Items": [],
    }


def test_upload_goes_to_the_import_prefix_in_its_store_and_prunes_stale_files(
    three_stack: Stack, three: Template
) -> None:
    for name in ("Interactions", "Encrypted"):
        imp = import_named(three_stack, name)
        upload = upload_of(imp)
        assert upload.node.scope is at(three_stack, UPLOADS)
        properties = resource(three, upload_resource_id(three_stack, imp), "Custom::CDKBucketDeployment")["Properties"]
        assert re.fullmatch(rf"{name}-[0-9a-f]{{8}}/", properties["DestinationBucketKeyPrefix"])
        assert properties["DestinationBucketKeyPrefix"] == prefix_of(imp)
        assert properties["DestinationBucketName"] == {"Ref": lid(three_stack, imp.bucket)}
        assert properties["Prune"] is True
    # Data already in S3 is not uploaded.
    assert not [c for c in at(three_stack, UPLOADS).node.children if c.node.id.startswith("Items")]


def _upload_function(template: Template) -> dict[str, Any]:
    """BucketDeployment's singleton upload function: the one function with layers."""
    functions = template.find_resources("AWS::Lambda::Function", {"Properties": {"Layers": Match.any_value()}})
    assert len(functions) == 1, list(functions)
    (function,) = functions.values()
    return dict(function)


def test_uploads_of_one_size_keep_one_cli_layer_the_upload_function_uses(
    three_stack: Stack, three: Template, shared_stack: Stack, shared: Template
) -> None:
    # aws-cdk issue 32907: every BucketDeployment makes an AwsCliLayer, but the shared function takes the first's.
    for stack, template, first, others in (
        (three_stack, three, "Interactions", ("Encrypted",)),
        (shared_stack, shared, "Clicks", ("Views", "Scratch", "ScratchTagged", "Purchases")),
    ):
        layer = upload_of(import_named(stack, first)).node.find_child("AwsCliLayer")
        layers = template.find_resources("AWS::Lambda::LayerVersion")
        assert list(layers) == [lid(stack, layer)], stack.stack_name
        for name in others:
            assert upload_of(import_named(stack, name)).node.try_find_child("AwsCliLayer") is None, name
        function = _upload_function(template)
        assert function["Properties"]["Layers"] == [{"Ref": lid(stack, layer)}]


def test_each_upload_size_keeps_the_layer_of_its_first_upload(tmp_path: Path) -> None:
    stack = stack_in(new_app(tmp_path), lambda _: None, "Sizes")
    small = [DatasetImport(stack, name, dataset_arn=DATASET_ARN, data=sample_source()) for name in ("First", "Second")]
    large = [
        DatasetImport(stack, name, dataset_arn=DATASET_ARN, data=sample_source(), upload_memory_limit=2048)
        for name in ("Third", "Fourth")
    ]
    template = Template.from_stack(stack)
    kept = {imps[0]: upload_of(imps[0]).node.find_child("AwsCliLayer") for imps in (small, large)}
    assert upload_of(small[1]).node.try_find_child("AwsCliLayer") is None
    assert upload_of(large[1]).node.try_find_child("AwsCliLayer") is None
    assert set(template.find_resources("AWS::Lambda::LayerVersion")) == {lid(stack, layer) for layer in kept.values()}
    functions = template.find_resources("AWS::Lambda::Function", {"Properties": {"Layers": Match.any_value()}})
    uses = {
        function["Properties"].get("MemorySize"): function["Properties"]["Layers"] for function in functions.values()
    }
    assert uses == {
        1024: [{"Ref": lid(stack, kept[small[0]])}],
        2048: [{"Ref": lid(stack, kept[large[0]])}],
    }


def test_upload_role_and_log_group_exist_only_with_an_upload(one_stack: Stack, tmp_path: Path) -> None:
    provider = provider_of(one_stack)
    assert upload_of(import_named(one_stack, "Interactions")).handler_role is at(provider, "UploadRole")
    assert provider.node.try_find_child("UploadLogs") is not None

    stack = stack_in(new_app(tmp_path), lambda _: None, "NoUpload")
    imp = DatasetImport(
        stack, "Items", dataset_arn=ITEMS_ARN, data=DataSource.from_uri("s3://existing-training-data/items/")
    )
    template = Template.from_stack(stack)
    provider = provider_of(stack)
    assert provider.node.try_find_child("UploadRole") is None
    assert provider.node.try_find_child("UploadLogs") is None
    assert stack.node.try_find_child(UPLOADS) is None
    template.resource_count_is("Custom::CDKBucketDeployment", 0)
    template.resource_count_is("AWS::Lambda::LayerVersion", 0)
    # The default store makes its buckets on the first upload only; its role on first use.
    assert {c.node.id for c in at(stack, STORE).node.children} == {"ImportRole"}
    assert imp.role is at(stack, READ_ROLE)
    template.resource_count_is("AWS::S3::Bucket", 0)


def test_composers_get_bucket_role_job_arn_and_name(tmp_path: Path) -> None:
    stack = stack_in(new_app(tmp_path), lambda _: None, "Attrs")
    imp = DatasetImport(stack, "Imp", dataset_arn=DATASET_ARN, data=sample_source())
    resolved: dict[str, Any] = stack.resolve({"arn": imp.job_arn, "name": imp.job_name})
    cr = lid(stack, imp.resource)
    assert resolved == {"arn": {"Fn::GetAtt": [cr, "DatasetImportJobArn"]}, "name": {"Fn::GetAtt": [cr, "JobName"]}}
    assert isinstance(imp.bucket, s3.Bucket)
    assert imp.bucket is at(stack, f"{STORE}/DataBucket")
    assert imp.role is at(stack, READ_ROLE)

    given = iam.Role.from_role_arn(stack, "Given", GIVEN_ROLE_ARN)
    own_role = DatasetImport(stack, "OwnRole", dataset_arn=ITEMS_ARN, data=sample_source(), role=given)
    assert own_role.role is given
    assert own_role.bucket is imp.bucket
    template = Template.from_stack(stack)
    properties = resource(template, lid(stack, own_role.resource), RESOURCE_TYPE)["Properties"]
    assert properties["RoleArn"] == GIVEN_ROLE_ARN
    assert resource(template, lid(stack, imp.resource), RESOURCE_TYPE)["Properties"]["RoleArn"] == arn_of(
        lid(stack, READ_ROLE)
    )
