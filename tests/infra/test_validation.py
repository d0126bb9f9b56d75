"""Synth-time validation: a ValueError naming the bad value, for every rule (README, "Errors caught at synth")."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from constructs_personalize import RESOURCE_TYPE, DatasetImport, DataSource, DataStore
from tests.constants import DATASET_ARN, SAMPLE_DIR
from tests.infra.helpers import ENV


@pytest.fixture
def stack() -> Iterator[Stack]:
    yield Stack(App(), "Validation", env=ENV)


def make(stack: Stack, **props: Any) -> DatasetImport:
    props.setdefault("dataset_arn", DATASET_ARN)
    props.setdefault("data", DataSource.from_uri("s3://training-data/interactions.csv"))
    return DatasetImport(stack, "Import", **props)


# -- job_name ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["", "my job", "-leading-dash", "x" * 64, "naïve", "job.name"])
def test_fails_when_job_name_breaks_length_or_pattern(stack: Stack, name: str) -> None:
    with pytest.raises(
        ValueError, match=rf"job_name must be 1-63 characters matching .*got '{name}' \({len(name)} chars\)"
    ):
        make(stack, job_name=name)


def test_accepts_a_63_character_job_name(stack: Stack) -> None:
    make(stack, job_name="a" + "b-_9" * 15 + "zz")


# -- ARNs ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:s3:::bucket",
        "dataset/shop",
        "arn:AWS:personalize:eu-west-1:1:dataset/x",
        "arn:aws:personalize:eu-west-1:123456789012:dataset/" + "x" * 250,
    ],
)
def test_fails_when_dataset_arn_is_malformed_or_too_long(stack: Stack, arn: str) -> None:
    with pytest.raises(ValueError, match=rf"dataset_arn must be at most 256 characters matching .*got '{arn[:40]}"):
        make(stack, dataset_arn=arn)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::12345:role/x",
        "arn:aws:iam::123456789012:user/x",
        "arn:aws:iam::123456789012:role/has space",
        "arn:aws:iam::123456789012:role/" + "r" * 240,
    ],
)
def test_fails_when_role_arn_is_malformed_or_too_long(stack: Stack, arn: str) -> None:
    role = iam.Role.from_role_arn(stack, "Existing", arn, mutable=False)
    with pytest.raises(ValueError, match=rf"role_arn must be at most 256 characters matching .*got '{arn[:40]}"):
        make(stack, role=role)


# -- data location ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "location",
    [
        "https://example.com/data.csv",
        "training-data/x.csv",
        "s3://training-data/" + "k" * 240,
    ],
)
def test_fails_when_data_location_is_not_an_s3_uri_of_at_most_256_chars(location: str) -> None:
    with pytest.raises(
        ValueError,
        match=rf"the data location must be an s3://<bucket>/<key or prefix/> URI of at most 256 "
        rf"characters, got '{location[:30]}",
    ):
        DataSource.from_uri(location)


@pytest.mark.parametrize("prefix", ["no-trailing-slash", "/leading/", "p" * 104 + "/"])
def test_fails_when_key_prefix_is_not_a_folder(prefix: str) -> None:
    with pytest.raises(ValueError, match=rf"key_prefix must end with '/'.*got '{prefix[:20]}"):
        DataSource.from_asset(SAMPLE_DIR, key_prefix=prefix)


def test_accepts_a_102_character_key_prefix(stack: Stack) -> None:
    make(stack, data=DataSource.from_asset(SAMPLE_DIR, key_prefix="p" * 101 + "/"))


@pytest.mark.parametrize("length", [103, 104])
def test_fails_in_the_factory_when_key_prefix_is_too_long_for_the_upload_tag(stack: Stack, length: int) -> None:
    prefix = "p" * (length - 1) + "/"
    with pytest.raises(ValueError, match=rf"key_prefix.*got '{prefix[:20]}"):
        make(stack, data=DataSource.from_asset(SAMPLE_DIR, key_prefix=prefix))


@pytest.mark.parametrize(
    ("path", "problem"),
    [(SAMPLE_DIR / "interactions.csv", "is not a folder"), (SAMPLE_DIR / "missing", "does not exist")],
)
def test_fails_when_from_asset_is_not_given_a_folder(path: Path, problem: str) -> None:
    with pytest.raises(
        ValueError, match=rf"needs a local folder of CSV files: '{re.escape(str(path))}' is .*{problem}"
    ):
        DataSource.from_asset(path)


def test_a_relative_path_names_the_absolute_path_tried_and_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as raised:
        DataSource.from_asset("data/interactions")
    message = str(raised.value)
    assert f"'data/interactions' is {tmp_path / 'data' / 'interactions'}, which does not exist" in message
    assert f"the working directory, {tmp_path}" in message and "Path(__file__).parent" in message


def test_a_relative_path_is_resolved_once_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    source = DataSource.from_asset("data")
    monkeypatch.chdir(SAMPLE_DIR)  # a later change of directory no longer matters
    assert source.local_path == tmp_path / "data" and source.local_path.is_absolute()


def test_fails_when_a_bucket_key_starts_with_a_slash(stack: Stack) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "Named", "bucket-one")
    with pytest.raises(ValueError, match=r"DataSource\.from_bucket key must not start with '/', got '/x\.csv'"):
        DataSource.from_bucket(bucket, "/x.csv")


def test_a_bucket_and_key_give_the_data_location_in_that_bucket(stack: Stack) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "Named", "bucket-one")
    assert make(stack, data=DataSource.from_bucket(bucket, "x.csv")).data_location == "s3://bucket-one/x.csv"


def test_fails_when_the_whole_uri_is_a_token() -> None:
    with pytest.raises(
        ValueError,
        match=r"DataSource.from_uri cannot tell the bucket of '\$\{Token\[.*\]\}' before deploy time: use "
        r"DataSource.from_bucket\(bucket, key\)",
    ):
        DataSource.from_uri(Token.as_string({"Ref": "DataLocationParam"}))


# -- tags ------------------------------------------------------------------------------------------------
def test_fails_when_there_are_more_than_200_tags(stack: Stack) -> None:
    with pytest.raises(ValueError, match="tags may hold at most 200 tags, got 201"):
        make(stack, tags={f"k{n}": "v" for n in range(201)})


@pytest.mark.parametrize("key", ["", "k" * 129, "bad#key", "aws:reserved"])
def test_fails_when_a_tag_key_breaks_the_rules(stack: Stack, key: str) -> None:
    with pytest.raises(ValueError, match=rf"tag key must .*got '{key[:20]}"):
        make(stack, tags={key: "v"})


@pytest.mark.parametrize("value", ["v" * 257, "semi;colon", "new\nline"])
def test_fails_when_a_tag_value_breaks_the_rules(stack: Stack, value: str) -> None:
    with pytest.raises(ValueError, match=r"tag value for 'team' must be 0-256"):
        make(stack, tags={"team": value})


def test_accepts_unicode_letters_spaces_and_the_allowed_symbols_in_tags(stack: Stack) -> None:
    make(stack, tags={"Équipe de données": "recs_v2.1:/=+-@", "empty": ""})


# -- waiting: one value per stack, set once before its first import ------------------------------------------
def configure(stack: Stack, **settings: Duration) -> None:
    DatasetImport.configure(stack, **settings)


def test_fails_when_total_timeout_exceeds_one_hour(stack: Stack) -> None:
    with pytest.raises(ValueError, match=r"total_timeout must be at most 1 hour .*got 1 hour 1 minute"):
        configure(stack, total_timeout=Duration.minutes(61))


@pytest.mark.parametrize(
    ("interval", "total"), [(Duration.seconds(45), Duration.minutes(50)), (Duration.minutes(10), Duration.minutes(5))]
)
def test_fails_when_total_timeout_is_not_a_multiple_of_query_interval(
    stack: Stack, interval: Duration, total: Duration
) -> None:
    with pytest.raises(ValueError, match="total_timeout must be a whole multiple of query_interval"):
        configure(stack, query_interval=interval, total_timeout=total)


def test_fails_when_a_wait_is_not_whole_seconds(stack: Stack) -> None:
    with pytest.raises(ValueError, match="must be whole seconds, got 1 second 500 millis and 30 minutes"):
        configure(stack, query_interval=Duration.millis(1500), total_timeout=Duration.minutes(30))


def test_fails_when_query_interval_is_zero(stack: Stack) -> None:
    with pytest.raises(ValueError, match="query_interval must be positive"):
        configure(stack, query_interval=Duration.seconds(0))


def test_fails_when_the_stack_is_configured_after_its_first_import(stack: Stack) -> None:
    make(stack)
    with pytest.raises(
        ValueError,
        match=r"configure\(Validation, query_interval 1 minute, total_timeout 1 hour\) comes after Validation/Import, "
        r"which already built the stack's provider with query_interval 30 seconds",
    ):
        configure(stack, query_interval=Duration.minutes(1))


def test_fails_when_a_stack_is_configured_twice_with_different_values(stack: Stack) -> None:
    configure(stack, query_interval=Duration.minutes(1))
    configure(stack, query_interval=Duration.minutes(1))  # the same again is fine
    with pytest.raises(ValueError, match=r"already called with query_interval 1 minute.*now query_interval 20 seconds"):
        configure(stack, query_interval=Duration.seconds(20))


def test_a_configured_stack_builds_its_provider_with_its_values(stack: Stack) -> None:
    configure(stack, query_interval=Duration.seconds(20), total_timeout=Duration.minutes(40))
    make(stack)
    template = Template.from_stack(stack).to_json()
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE]
    assert resource["Properties"]["ServiceTimeout"] == "2400"


# -- props that do not fit together ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("encryption_key", lambda s: kms.Key(s, "Key")),
        ("removal_policy", lambda s: RemovalPolicy.DESTROY),
        ("server_access_logs_bucket", lambda s: s3.Bucket(s, "Logs")),
    ],
)
def test_fails_when_bucket_settings_come_with_a_store_bucket_of_ones_own(stack: Stack, prop: str, value: Any) -> None:
    bucket = s3.Bucket(stack, "Mine")
    with pytest.raises(
        ValueError,
        match=rf"DataStore 'Validation/Store': {prop} configures the bucket the store creates, but bucket= "
        r"gives one of your own",
    ):
        DataStore(stack, "Store", bucket=bucket, **{prop: value(stack)})


@pytest.mark.parametrize(
    "prop", ["sources", "data_location", "bucket", "destination_key_prefix", "encryption_key", "removal_policy"]
)
def test_fails_with_a_type_error_on_an_unknown_option(stack: Stack, prop: str) -> None:
    # The props of the old API name no option any more: they fail loudly, never silently.
    with pytest.raises(TypeError, match=rf"unexpected keyword argument '{prop}'"):
        make(stack, **{prop: None})


def test_a_store_with_a_kms_key_applies_it_to_uploads_only(stack: Stack) -> None:
    # Data already in S3 uses the store's role only: the key is the store bucket's, not the data's.
    key = kms.Key(stack, "Key")
    store = DataStore(stack, "Store", encryption_key=key)
    imp = make(stack, store=store)
    assert imp.role is store.node.find_child("ImportRole")
    assert store.node.try_find_child("DataBucket") is None
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::S3::Bucket", 0)
    (key_resource,) = template.find_resources("AWS::KMS::Key").values()
    assert "personalize" not in json.dumps(key_resource)


# -- uploads into one store --------------------------------------------------------------------------------
def test_fails_when_a_store_would_take_more_than_40_uploads(stack: Stack, tmp_path: Path) -> None:
    (tmp_path / "tiny.csv").write_text("USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1735689600\n")
    store = DataStore(stack, "Store")

    def upload(n: int, into: DataStore) -> DatasetImport:
        data = DataSource.from_asset(tmp_path, key_prefix=f"p{n}/")
        return DatasetImport(stack, f"Import{n}", dataset_arn=DATASET_ARN, data=data, store=into)

    for n in range(40):
        upload(n, store)
    with pytest.raises(
        ValueError,
        match=r"Validation/Import40 would be upload number 41 into the bucket of DataStore 'Validation/Store': "
        r"every upload tags the bucket and S3 allows 50 tags, so a store takes at most 40 uploads",
    ):
        upload(40, store)
    # Another store takes the next upload.
    assert upload(41, DataStore(stack, "Another")).bucket is not store.bucket


# -- tokens skip the checks -------------------------------------------------------------------------------
def test_tokens_skip_the_checks(stack: Stack) -> None:
    bucket = s3.Bucket(stack, "Mine")
    make(
        stack,
        dataset_arn=Token.as_string({"Ref": "DatasetArnParam"}),
        job_name=Token.as_string({"Ref": "JobNameParam"}),
        data=DataSource.from_bucket(bucket, Token.as_string({"Ref": "KeyParam"})),
        tags={"team": Token.as_string({"Ref": "TeamParam"})},
    )
    DataSource.from_asset(SAMPLE_DIR, key_prefix=Token.as_string({"Ref": "PrefixParam"}))


def test_accepts_an_existing_immutable_role_and_grants_it_nothing(stack: Stack) -> None:
    role = iam.Role.from_role_arn(stack, "Fixed", "arn:aws:iam::123456789012:role/personalize-import", mutable=False)
    imp = make(stack, role=role)
    assert imp.role is role
    # The default store makes no role of its own that nothing uses.
    assert stack.node.find_child("ConstructsPersonalizeDataStore").node.try_find_child("ImportRole") is None
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    assert not [p for p in policies.values() if "personalize-import" in json.dumps(p["Properties"].get("Roles"))]


def test_fails_when_two_uploads_to_one_bucket_use_nested_prefixes(stack: Stack) -> None:
    make(stack, data=DataSource.from_asset(SAMPLE_DIR, key_prefix="training/"))
    with pytest.raises(ValueError, match=r"Validation/Second uploads to prefix 'training/items/', which nests with"):
        DatasetImport(
            stack,
            "Second",
            dataset_arn=DATASET_ARN,
            data=DataSource.from_asset(SAMPLE_DIR, key_prefix="training/items/"),
        )


def test_a_deploy_time_key_warns_without_tokens_in_the_text(stack: Stack) -> None:
    bucket = s3.Bucket(stack, "Lake")
    key = Token.as_string({"Ref": "KeyParameter"})
    make(stack, data=DataSource.from_bucket(bucket, key))
    (warning,) = [
        m
        for m in Annotations.from_stack(stack).find_warning("*", Match.any_value())
        if "deploy time" in str(m.entry.data)
    ]
    text = str(warning.entry.data)
    assert "<deploy-time value>" in text and "${" not in text, text


@pytest.mark.parametrize("prefix", ["raw/v1(2024)/", "raw/*/", "a?b/"])
def test_fails_when_key_prefix_cannot_be_a_bucket_tag_key(prefix: str) -> None:
    with pytest.raises(ValueError, match=r"key_prefix may hold letters, digits, spaces and _\.:/=\+-@ only"):
        DataSource.from_asset(SAMPLE_DIR, key_prefix=prefix)


def test_a_default_prefix_is_cleaned_to_what_a_bucket_tag_key_takes(stack: Stack) -> None:
    imp = DatasetImport(stack, "Clicks (2024)!", dataset_arn=DATASET_ARN, data=DataSource.from_asset(SAMPLE_DIR))
    location = json.dumps(stack.resolve(imp.data_location))
    assert re.search(r'"/Clicks-2024-?-[0-9a-f]{8}/"', location), location


def test_configure_takes_a_stack(stack: Stack) -> None:
    with pytest.raises(TypeError, match="takes the Stack whose imports it sets"):
        DatasetImport.configure(stack.node.scope, query_interval=Duration.minutes(1))  # type: ignore[arg-type]
