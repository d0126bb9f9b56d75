"""The policy evaluator the access model decides with (``policy.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.policy import ALLOWED, DENIED, NOT_ALLOWED, Principal, Request, check_document, evaluate

ROLE = Principal(arn="arn:aws:iam::123456789012:role/reader")
SERVICE = Principal(service="personalize.amazonaws.com")
TLS = {"aws:SecureTransport": "true"}


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("action", "resource", "decision"),
    [
        ("s3:GetObject", "arn:aws:s3:::data/in/a.csv", ALLOWED),
        ("S3:getobject", "arn:aws:s3:::data/in/a.csv", ALLOWED),  # actions are case-insensitive
        ("s3:GetObject", "arn:aws:s3:::data/out/a.csv", NOT_ALLOWED),
        ("s3:GetObject", "arn:aws:s3:::DATA/in/a.csv", NOT_ALLOWED),  # ARNs are not
        ("s3:GetObjectAcl", "arn:aws:s3:::data/in/a.csv", NOT_ALLOWED),
        ("s3:ListBucket", "arn:aws:s3:::data", ALLOWED),
        ("s3:ListBuckets", "arn:aws:s3:::data", NOT_ALLOWED),
        ("s3:ListBucket", "arn:aws:s3:::data2", NOT_ALLOWED),
        ("s3:ListBucket", "arn:aws:s3:::dat", NOT_ALLOWED),
    ],
)
def test_actions_and_resources_with_wildcards(action: str, resource: str, decision: str) -> None:
    policy = _policy(_allow("s3:GetObject", ["arn:aws:s3:::data/in/*"]), _allow(["s3:List?ucket"], "arn:aws:s3:::dat?"))
    assert evaluate([policy], Request(action, resource, ROLE, TLS)) == decision


def test_an_explicit_deny_wins_whatever_the_order() -> None:
    allow = _policy(_allow("s3:*", "*"))
    deny = _policy({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/secret/*"})
    request = Request("s3:GetObject", "arn:aws:s3:::data/secret/a.csv", ROLE, TLS)
    assert evaluate([deny, allow], request) == evaluate([allow, deny], request) == DENIED
    assert evaluate([allow, deny], Request("s3:GetObject", "arn:aws:s3:::data/a.csv", ROLE, TLS)) == ALLOWED


def test_resource_policies_apply_to_the_principals_they_name() -> None:
    policy = _policy(
        _allow("s3:GetObject", "*", Principal={"Service": ["personalize.amazonaws.com"]}),
        _allow("s3:ListBucket", "*", Principal={"AWS": ROLE.arn}),
        _allow("s3:PutObject", "*", Principal="*"),
        _allow("s3:DeleteObject", "*", Principal={"AWS": "arn:aws:iam::123456789012:root"}),
    )

    def decide(action: str, who: Principal) -> str:
        return evaluate([policy], Request(action, "arn:aws:s3:::b/k", who, TLS), resource_policy=True)

    assert (decide("s3:GetObject", SERVICE), decide("s3:GetObject", ROLE)) == (ALLOWED, NOT_ALLOWED)
    assert (decide("s3:ListBucket", ROLE), decide("s3:ListBucket", SERVICE)) == (ALLOWED, NOT_ALLOWED)
    assert (decide("s3:PutObject", ROLE), decide("s3:PutObject", SERVICE)) == (ALLOWED, ALLOWED)
    # The account principal delegates to IAM policies: it names neither the role nor the service.
    assert (decide("s3:DeleteObject", ROLE), decide("s3:DeleteObject", SERVICE)) == (NOT_ALLOWED, NOT_ALLOWED)


def test_the_deny_of_plain_http_does_not_apply_to_tls_requests() -> None:
    policy = _policy(
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        _allow("s3:GetObject", "*", Principal={"Service": "personalize.amazonaws.com"}),
    )
    request = Request("s3:GetObject", "arn:aws:s3:::b/k", SERVICE, TLS)
    assert evaluate([policy], request, resource_policy=True) == ALLOWED
    plain = Request("s3:GetObject", "arn:aws:s3:::b/k", SERVICE, {"aws:SecureTransport": "false"})
    assert evaluate([policy], plain, resource_policy=True) == DENIED


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"StringEquals": {"aws:PrincipalAccount": "123456789012"}}, True),
        ({"StringEquals": {"aws:principalaccount": ["1", "123456789012"]}}, True),  # keys are case-insensitive
        ({"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}}, False),
        ({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/read*"}}, True),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/*"}}, False),
        ({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, False),  # key absent: a positive test fails
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, True),  # ... and a negated one holds
        ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, True),
        ({"NumericLessThan": {"s3:max-keys": "10"}}, False),  # not emulated: never proves an Allow
    ],
)
def test_conditions_on_an_allow(condition: dict[str, Any], holds: bool) -> None:
    policy = _policy(_allow("s3:GetObject", "*", Condition=condition))
    context = {**TLS, "aws:PrincipalArn": str(ROLE.arn), "aws:PrincipalAccount": "123456789012"}
    decision = evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::b/k", ROLE, context))
    assert decision == (ALLOWED if holds else NOT_ALLOWED)


def test_a_deny_with_a_condition_not_emulated_applies() -> None:
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "1/8"}}}
    policy = _policy(_allow("s3:*", "*"), deny)
    assert evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::b/k", ROLE, TLS)) == DENIED


@pytest.mark.parametrize(
    ("document", "error"),
    [
        (_policy({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}), NotImplementedError),
        (_policy({"Effect": "Allow", "Action": "s3:*", "NotResource": "*"}), NotImplementedError),
        (
            _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotPrincipal": {"AWS": "x"}}),
            NotImplementedError,
        ),
        (_policy({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}), ValueError),
        (_policy({"Effect": "Allow", "Action": "s3:*"}), ValueError),
        ({"Version": "2012-10-17"}, ValueError),
    ],
)
def test_documents_not_emulated_are_refused_when_registered(document: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_document(document)
