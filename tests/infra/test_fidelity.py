"""Deploy fidelity: what a real account needs from the template, checked at synth.

Each test here names a way a real ``cdk deploy`` broke although the earlier offline suite passed
(README, "How a real deploy differs"). The deploy-side twins of these facts live in the emulated
world and run in ``tests/lifecycle/test_compositions.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, AssetHashType, CfnElement, Size, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk.assertions import Annotations, Match, Template
from constructs import Construct

from constructs_personalize import RESOURCE_TYPE, DatasetImport, DataSource, DataStore, ImportMode
from constructs_personalize.handlers.dataset_import import contract
from constructs_personalize.handlers.dataset_import.request import ImportRequest
from tests.constants import DATASET_ARN, ITEMS_ARN, SAMPLE_DIR
from tests.infra.helpers import ENV, cfn_lint_errors, evaluate, iter_policy_statements, sample_source

PERSONALIZE = {"Service": "personalize.amazonaws.com"}
STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/{}/{}"


def _import_properties(stack: Stack) -> dict[str, Any]:
    (resource,) = Template.from_stack(stack).find_resources(RESOURCE_TYPE).values()
    properties: dict[str, Any] = resource["Properties"]
    return properties


def _job_name(stack: Stack, stack_uuid: str = "1b2c3d4e-0000-4000-8000-000000000001") -> str:
    """The job name the handler derives in the deployed stack instance ``stack_uuid``."""
    properties = _import_properties(stack)
    request = ImportRequest.from_properties(
        {**properties, "DataLocation": "s3://data/prefix/", "RoleArn": "arn:aws:iam::123456789012:role/r"},
        stack_id=STACK_ID.format(stack.stack_name, stack_uuid),
    )
    return request.job_name


def _recs(name: str, **props: Any) -> Stack:
    stack = Stack(App(), name, env=ENV)
    DatasetImport(stack, "Interactions", dataset_arn=DATASET_ARN, data=sample_source(), **props)
    return stack


# -- 1. derived job names ------------------------------------------------------------------------------
def test_two_copies_of_a_stack_in_one_account_derive_different_job_names() -> None:
    assert _job_name(_recs("RecsDev")) != _job_name(_recs("RecsPr123"))


def test_a_stack_destroyed_and_deployed_again_derives_a_new_job_name() -> None:
    stack = _recs("RecsDev")
    assert _job_name(stack, "1b2c3d4e-0000-4000-8000-00000000000a") != _job_name(
        stack, "1b2c3d4e-0000-4000-8000-00000000000b"
    )


def test_job_name_ignores_assets_that_are_not_the_data() -> None:
    # What a CDK upgrade does: BucketDeployment's own assets (the AwsCliLayer code) change.
    plain = _recs("RecsDev")
    upgraded = _recs("RecsDev")
    upload = next(c for c in upgraded.node.find_all() if isinstance(c, s3_deployment.BucketDeployment))
    layer = upload.node.find_child("AwsCliLayer")
    assert isinstance(layer, Construct)
    s3_assets.Asset(layer, "NewerCliCode", path=str(Path(__file__)))
    assert _job_name(plain) == _job_name(upgraded)


def test_job_name_ignores_tags_and_follows_the_data() -> None:
    assert _job_name(_recs("RecsDev", tags={"team": "a"})) == _job_name(_recs("RecsDev", tags={"team": "b"}))
    assert _job_name(_recs("RecsDev")) != _job_name(_recs("RecsDev", import_mode=ImportMode.INCREMENTAL))


# -- 2. data location built from a token ----------------------------------------------------------------
@pytest.mark.parametrize("factory", ["from_uri", "from_bucket"])
def test_token_bucket_in_data_location_keeps_the_literal_prefix(factory: str) -> None:
    stack = Stack(App(), "Lake", env=ENV)
    lake = s3.Bucket(stack, "Lake")
    data = (
        DataSource.from_uri(f"s3://{lake.bucket_name}/personalize/events/")
        if factory == "from_uri"
        else DataSource.from_bucket(lake, "personalize/events/")
    )
    imp = DatasetImport(stack, "Interactions", dataset_arn=DATASET_ARN, data=data)
    location = stack.resolve(imp.data_location)
    assert location == {"Fn::Join": ["", ["s3://", {"Ref": Match.any_value()}, "/personalize/events/"]]} or (
        json.dumps(location).endswith('"/personalize/events/"]]}')
    )
    template = Template.from_stack(stack)
    statements = [s for _, s in iter_policy_statements(template.to_json()) if "s3:GetObject" in str(s["Action"])]
    resources = json.dumps([s["Resource"] for s in statements])
    assert "personalize/events/*" in resources
    assert '"/*"' not in resources


# -- 3. ordering imports ---------------------------------------------------------------------------------
@pytest.mark.parametrize("first_waits", [False, True])
def test_ordering_one_import_after_another_gives_no_circular_template(first_waits: bool) -> None:
    # Both uploads run on one function that takes the first upload's AwsCliLayer: either order must hold.
    stack = Stack(App(), "Ordered", env=ENV)
    full = DatasetImport(stack, "Full", dataset_arn=DATASET_ARN, data=sample_source())
    later = DatasetImport(
        stack, "Later", dataset_arn=ITEMS_ARN, data=sample_source(), import_mode=ImportMode.INCREMENTAL
    )
    if first_waits:
        full.node.add_dependency(later)
    else:
        later.node.add_dependency(full)
    assert cfn_lint_errors(Template.from_stack(stack).to_json()) == []


# -- 4. the folder rule --------------------------------------------------------------------------------------
def test_fails_when_csv_files_lie_in_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "2026" / "11").mkdir(parents=True)
    (tmp_path / "interactions.csv").write_bytes((SAMPLE_DIR / "interactions.csv").read_bytes())
    (tmp_path / "2026" / "11" / "more.csv").write_text("USER_ID,ITEM_ID,TIMESTAMP\n")
    stack = Stack(App(), "Nested", env=ENV)
    with pytest.raises(ValueError, match=r"2026/11/more\.csv"):
        DatasetImport(stack, "Interactions", dataset_arn=DATASET_ARN, data=DataSource.from_asset(tmp_path))


# -- 5. the waiter's log group -------------------------------------------------------------------------------
def test_waiter_logs_go_to_a_vended_log_group_unique_per_stack_instance() -> None:
    template = Template.from_stack(_recs("RecsDev")).to_json()
    machine = next(r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    destination = machine["Properties"]["LoggingConfiguration"]["Destinations"][0]
    group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    stack_id = STACK_ID.format("RecsDev", "1b2c3d4e-0000-4000-8000-000000000001")
    name = evaluate(template["Resources"][group_id]["Properties"]["LogGroupName"], stack_id)
    assert name == "/aws/vendedlogs/states/personalize-import-waiter-1b2c3d4e-0000-4000-8000-000000000001"


# -- 7. KMS ----------------------------------------------------------------------------------------------------
KMS_ACTIONS = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:ListGrants"]


def test_key_policy_follows_the_documented_statement_for_both_principals() -> None:
    stack = Stack(App(), "Kms", env=ENV)
    key = kms.Key(stack, "DataKey", enable_key_rotation=True)
    store = DataStore(stack, "Store", encryption_key=key)
    DatasetImport(stack, "Interactions", dataset_arn=DATASET_ARN, data=sample_source(), store=store)
    template = Template.from_stack(stack).to_json()
    policy = next(r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key")["Properties"]
    granted: dict[str, set[str]] = {}
    for statement in policy["KeyPolicy"]["Statement"]:
        principals = statement["Principal"]
        for principal in [principals.get("Service"), *_as_list(principals.get("AWS"))]:
            if principal is not None:
                granted.setdefault(json.dumps(principal), set()).update(_as_list(statement["Action"]))
    # The role is the store's own (Store/ImportRole).
    role = store.node.find_child("ImportRole").node.default_child
    assert isinstance(role, CfnElement)
    role_arn = json.dumps({"Fn::GetAtt": [stack.get_logical_id(role), "Arn"]})
    assert set(KMS_ACTIONS) <= granted['"personalize.amazonaws.com"']
    assert set(KMS_ACTIONS) <= granted[role_arn]


def test_warns_with_the_statement_to_add_when_the_key_cannot_be_changed() -> None:
    stack = Stack(App(), "ImportedKey", env=ENV)
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    bucket = s3.Bucket.from_bucket_attributes(stack, "Lake", bucket_name="lake", encryption_key=key)
    store = DataStore(stack, "LakeStore", bucket=bucket)
    DatasetImport(stack, "Interactions", dataset_arn=DATASET_ARN, data=sample_source(), store=store)
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("key policy"))
    assert warnings
    text = json.dumps([w.entry.data for w in warnings])
    assert "kms:ListGrants" in text and "personalize.amazonaws.com" in text


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# -- 8. the service-principal grant on a shared bucket -------------------------------------------------------
def test_personalize_grant_on_a_shared_bucket_covers_only_the_import_prefix() -> None:
    stack = Stack(App(), "Lake", env=ENV)
    lake = s3.Bucket(stack, "Lake", enforce_ssl=True)
    store = DataStore(stack, "LakeStore", bucket=lake)
    DatasetImport(stack, "Interactions", dataset_arn=DATASET_ARN, data=sample_source(), store=store)
    template = Template.from_stack(stack).to_json()
    grants = [
        s
        for _, s in iter_policy_statements(template)
        if s.get("Principal") == PERSONALIZE and "s3:GetObject" in _as_list(s["Action"])
    ]
    assert grants
    for grant in grants:
        for resource in _as_list(grant["Resource"]):
            text = json.dumps(resource)
            assert not text.endswith('"/*"]]}'), f"whole-bucket grant to Personalize: {text}"


# -- 9. margins and leftovers ----------------------------------------------------------------------------------
def test_custom_resource_sets_its_service_timeout() -> None:
    assert _import_properties(_recs("RecsDev"))["ServiceTimeout"] == "3600"


def test_a_stack_that_uploads_nothing_has_no_upload_role_or_log_group() -> None:
    stack = Stack(App(), "NoUpload", env=ENV)
    DatasetImport(stack, "Items", dataset_arn=ITEMS_ARN, data=DataSource.from_uri("s3://existing-training-data/items/"))
    template = Template.from_stack(stack).to_json()
    assert not [k for k in template["Resources"] if "UploadRole" in k or "UploadLogs" in k]


def test_handler_failures_point_at_the_log_group_the_handler_writes_to() -> None:
    # The Provider framework appends "Logs: /aws/lambda/<function name>" to a handler's failure.
    template = Template.from_stack(_recs("RecsDev")).to_json()
    resources = template["Resources"]
    stack_id = STACK_ID.format("RecsDev", "1b2c3d4e-0000-4000-8000-000000000001")
    names = set()
    for handler in (contract.ON_EVENT, contract.IS_COMPLETE):
        function = next(r for r in resources.values() if r["Properties"].get("Handler") == handler)
        group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        group_name = evaluate(resources[group_id]["Properties"]["LogGroupName"], stack_id)
        function_name = evaluate(function["Properties"]["FunctionName"], stack_id)
        assert group_name == f"/aws/lambda/{function_name}"
        assert len(function_name) <= 64 and stack_id.rsplit("/", 1)[1] in function_name
        names.add(function_name)
    assert len(names) == 2


# -- 6. local data larger than the upload function's disk -----------------------------------------------------
SOURCE_ASSET = s3_deployment.Source.asset


def _sized_upload(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_bytes: int, **props: Any) -> dict[str, Any]:
    """The upload function a stack gets for ``data_bytes`` of local data (a sparse file: nothing is written)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "interactions.csv").write_bytes(b"")
    with (tmp_path / "interactions.csv").open("r+b") as handle:
        handle.truncate(data_bytes)

    # No staging copy and a fixed asset hash: the size is what matters, not the (empty) bytes. DataSource.from_asset
    # takes no asset hash, so the library's Source.asset call gets one here (hashing gigabytes takes 5-10 s).
    def fixed_hash(path: str, **options: Any) -> s3_deployment.ISource:
        return SOURCE_ASSET(path, **options, asset_hash=f"big{data_bytes}", asset_hash_type=AssetHashType.CUSTOM)

    monkeypatch.setattr(s3_deployment.Source, "asset", fixed_hash)
    app = App(context={"aws:cdk:disable-asset-staging": True})
    stack = Stack(app, "Big", env=ENV)
    DatasetImport(stack, "Interactions", dataset_arn=DATASET_ARN, data=DataSource.from_asset(tmp_path), **props)
    functions = Template.from_stack(stack).find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "index.handler", "Layers": Match.any_value()}}
    )
    (function,) = functions.values()
    properties: dict[str, Any] = function["Properties"]
    return properties


def test_upload_storage_and_memory_follow_the_local_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    small = _sized_upload(monkeypatch, tmp_path / "small", 1_000_000)
    assert "EphemeralStorage" not in small and small["MemorySize"] == 1024  # aws-cdk-lib's defaults fit
    big = _sized_upload(monkeypatch, tmp_path / "big", 3 * 1024**3)
    assert big["EphemeralStorage"] == {"Size": 8192}
    assert big["MemorySize"] == 2048


def test_upload_size_overrides_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    function = _sized_upload(
        monkeypatch, tmp_path, 1_000_000, upload_memory_limit=3008, upload_ephemeral_storage_size=Size.gibibytes(2)
    )
    assert function["EphemeralStorage"] == {"Size": 2048} and function["MemorySize"] == 3008


def test_fails_when_local_data_is_larger_than_one_upload_can_carry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=r"more than the 10,240 MiB Lambda allows; upload the data to S3 beforehand"):
        _sized_upload(monkeypatch, tmp_path, 6 * 1024**3)
