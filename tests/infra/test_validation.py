"""Synth-time validation: a ValueError naming the bad value, for every rule (§5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_personalize import DatasetImport
from tests.infra.helpers import DATASET_ARN, ENV, sample_source


@pytest.fixture
def stack() -> Iterator[Stack]:
    yield Stack(App(), "Validation", env=ENV)


def make(stack: Stack, **props: Any) -> DatasetImport:
    props.setdefault("dataset_arn", DATASET_ARN)
    if "data_location" not in props and "sources" not in props:
        props["data_location"] = "s3://training-data/interactions.csv"
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
        "s3://Bad_Bucket/x.csv",
        "s3://ab/x.csv",
        "s3://training-data/" + "k" * 240,
    ],
)
def test_fails_when_data_location_is_not_an_s3_uri_of_at_most_256_chars(stack: Stack, location: str) -> None:
    with pytest.raises(
        ValueError,
        match=rf"data_location must be an s3://<bucket>/<key or prefix/> URI of at most 256 "
        rf"characters, got '{location[:30]}",
    ):
        make(stack, data_location=location)


@pytest.mark.parametrize("prefix", ["no-trailing-slash", "/leading/", "p" * 104 + "/"])
def test_fails_when_destination_key_prefix_is_not_a_folder(stack: Stack, prefix: str) -> None:
    with pytest.raises(ValueError, match=rf"destination_key_prefix must end with '/'.*got '{prefix[:20]}"):
        make(stack, sources=[sample_source()], destination_key_prefix=prefix)


def test_fails_when_data_location_names_another_bucket_than_bucket(stack: Stack) -> None:
    bucket = s3.Bucket.from_bucket_name(stack, "Named", "bucket-one")
    with pytest.raises(ValueError, match="names bucket 'bucket-two' but bucket= is 'bucket-one'"):
        make(stack, bucket=bucket, data_location="s3://bucket-two/x.csv")


def test_fails_when_a_token_data_location_comes_without_its_bucket(stack: Stack) -> None:
    with pytest.raises(ValueError, match="is only known at deploy time: pass bucket= as well"):
        make(stack, data_location=Token.as_string({"Ref": "DataLocationParam"}))


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


# -- waiting ------------------------------------------------------------------------------------------
def test_fails_when_total_timeout_exceeds_one_hour(stack: Stack) -> None:
    with pytest.raises(ValueError, match=r"total_timeout must be at most 1 hour .*got 1 hour 1 minute"):
        make(stack, total_timeout=Duration.minutes(61))


@pytest.mark.parametrize(
    ("interval", "total"), [(Duration.seconds(45), Duration.minutes(50)), (Duration.minutes(10), Duration.minutes(5))]
)
def test_fails_when_total_timeout_is_not_a_multiple_of_query_interval(
    stack: Stack, interval: Duration, total: Duration
) -> None:
    with pytest.raises(ValueError, match="total_timeout must be a whole multiple of query_interval"):
        make(stack, query_interval=interval, total_timeout=total)


def test_fails_when_a_wait_is_not_whole_seconds(stack: Stack) -> None:
    with pytest.raises(ValueError, match="must be whole seconds, got 1 second 500 millis and 30 minutes"):
        make(stack, query_interval=Duration.millis(1500), total_timeout=Duration.minutes(30))


def test_fails_when_query_interval_is_zero(stack: Stack) -> None:
    with pytest.raises(ValueError, match="query_interval must be positive"):
        make(stack, query_interval=Duration.seconds(0))


def test_fails_when_imports_in_one_stack_ask_for_different_waits(stack: Stack) -> None:
    make(stack)
    with pytest.raises(
        ValueError,
        match=r"Validation/Second asks for query_interval 1 minute.*but Validation/Import "
        r"in the same stack set 30 seconds",
    ):
        DatasetImport(
            stack,
            "Second",
            dataset_arn=DATASET_ARN,
            data_location="s3://training-data/b.csv",
            query_interval=Duration.minutes(1),
        )


# -- contradictory props ----------------------------------------------------------------------------------
def test_fails_when_the_data_location_is_given_twice(stack: Stack) -> None:
    with pytest.raises(
        ValueError,
        match=r"give either sources .* or data_location .*, not both; got data_location "
        r"'s3://training-data/a.csv' and 1 source",
    ):
        make(stack, sources=[sample_source()], data_location="s3://training-data/a.csv")


def test_fails_when_no_data_is_given(stack: Stack) -> None:
    with pytest.raises(ValueError, match=r"give sources .* or data_location"):
        DatasetImport(stack, "Import", dataset_arn=DATASET_ARN)


def test_fails_when_sources_is_empty(stack: Stack) -> None:
    with pytest.raises(ValueError, match="sources must hold at least one source"):
        make(stack, sources=[])


def test_fails_when_destination_key_prefix_comes_with_data_location(stack: Stack) -> None:
    with pytest.raises(ValueError, match="destination_key_prefix 'x/' applies to uploaded sources"):
        make(stack, destination_key_prefix="x/")


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("encryption_key", lambda s: kms.Key(s, "Key")),
        ("removal_policy", lambda s: RemovalPolicy.DESTROY),
        ("server_access_logs_bucket", lambda s: s3.Bucket(s, "Logs")),
    ],
)
def test_fails_when_bucket_settings_come_with_an_existing_bucket(stack: Stack, prop: str, value: Any) -> None:
    bucket = s3.Bucket(stack, "Mine")
    with pytest.raises(
        ValueError,
        match=rf"{prop} configures the bucket this construct creates, but the data is in an "
        r"existing bucket \(bucket=\)",
    ):
        make(stack, bucket=bucket, sources=[sample_source()], **{prop: value(stack)})


def test_fails_when_a_kms_key_comes_with_an_existing_data_location(stack: Stack) -> None:
    with pytest.raises(ValueError, match=r"encryption_key .* existing bucket \(data_location\)"):
        make(stack, encryption_key=kms.Key(stack, "Key"))


# -- tokens skip the checks -------------------------------------------------------------------------------
def test_tokens_skip_the_checks(stack: Stack) -> None:
    bucket = s3.Bucket(stack, "Mine")
    make(
        stack,
        dataset_arn=Token.as_string({"Ref": "DatasetArnParam"}),
        job_name=Token.as_string({"Ref": "JobNameParam"}),
        bucket=bucket,
        data_location=Token.as_string({"Ref": "LocationParam"}),
        tags={"team": Token.as_string({"Ref": "TeamParam"})},
    )


def test_accepts_an_existing_immutable_role_and_grants_it_nothing(stack: Stack) -> None:
    role = iam.Role.from_role_arn(stack, "Fixed", "arn:aws:iam::123456789012:role/personalize-import", mutable=False)
    imp = make(stack, role=role)
    assert imp.role is role
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    assert not [p for p in policies.values() if "personalize-import" in json.dumps(p["Properties"].get("Roles"))]


def test_fails_when_two_uploads_to_one_bucket_use_nested_prefixes(stack: Stack) -> None:
    make(stack, sources=[sample_source()], destination_key_prefix="training/")
    with pytest.raises(ValueError, match=r"Validation/Second uploads to prefix 'training/items/', which nests with"):
        DatasetImport(
            stack,
            "Second",
            dataset_arn=DATASET_ARN,
            sources=[sample_source()],
            destination_key_prefix="training/items/",
        )
