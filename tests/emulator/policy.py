"""A small IAM policy evaluator: enough of the policy language to decide what Personalize may read.

What it understands, and why that is enough here:
- ``Effect`` Allow and Deny; an explicit Deny wins over any Allow, no matching Allow means "not
  allowed" (AWS's implicit deny);
- ``Action`` and ``Resource`` as a string or a list, with ``*`` and ``?`` wildcards (actions match
  case-insensitively, as IAM does; ARNs case-sensitively);
- ``Principal`` in resource policies: ``"*"``, ``{"AWS": ...}`` (``"*"`` or an exact role ARN) and
  ``{"Service": ...}``. An account principal (``arn:aws:iam::<account>:root`` or the bare account
  id) delegates to IAM policies; the callers decide what IAM counts for (for a key policy nothing:
  Personalize's dataset import needs the key policy itself to name the role), so it names nobody here;
- ``Condition`` with the String*, Arn* and Bool operators (and their ``...IfExists`` forms) against
  the request's context keys. A key absent from the context makes a positive operator false and a
  negated one (``StringNotEquals`` ...) true, as in IAM; so a Deny of non-TLS requests
  (``Bool aws:SecureTransport false``) does not apply to Personalize, whose context says
  ``aws:SecureTransport = true``, while a Deny "unless from VPC endpoint X" does.
  An operator this module does not know (Numeric*, Date*, IpAddress, ForAnyValue: ...) is judged
  pessimistically: it never satisfies an Allow and always satisfies a Deny. The model thus never
  grants access it cannot prove, so a surprising template fails a test instead of passing it.

``NotAction``, ``NotResource`` and ``NotPrincipal`` are not emulated: ``check_document`` rejects them
loudly (NotImplementedError) when a policy is registered, rather than mis-evaluating them later.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ALLOWED, DENIED, NOT_ALLOWED = "Allow", "Deny", "NotAllowed"
STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "Resource", "Principal", "Condition"})
UNSUPPORTED_KEYS = frozenset({"NotAction", "NotResource", "NotPrincipal"})


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an IAM role (``arn``) or an AWS service (``service``)."""

    arn: str | None = None
    service: str | None = None

    def __str__(self) -> str:
        return self.arn or self.service or "anonymous"


@dataclass(frozen=True)
class Request:
    action: str  # e.g. "s3:GetObject"
    resource: str  # an ARN
    principal: Principal = Principal()
    context: Mapping[str, str] = field(default_factory=dict)  # condition keys, e.g. aws:SecureTransport


def check_document(document: Any) -> None:
    """Raise ValueError for a malformed policy, NotImplementedError for elements not emulated."""
    if not isinstance(document, Mapping) or "Statement" not in document:
        raise ValueError(f"not a policy document (no Statement): {document!r}")
    for statement in _statements(document):
        if not isinstance(statement, Mapping):
            raise ValueError(f"policy statement is not an object: {statement!r}")
        unsupported = UNSUPPORTED_KEYS & set(statement)
        if unsupported:
            raise NotImplementedError(f"{sorted(unsupported)} in a policy statement are not emulated: {statement!r}")
        unknown = set(statement) - STATEMENT_KEYS
        if unknown:
            raise ValueError(f"unknown policy statement elements {sorted(unknown)}: {statement!r}")
        if statement.get("Effect") not in (ALLOWED, DENIED):
            raise ValueError(f"policy statement Effect must be Allow or Deny: {statement!r}")
        if "Action" not in statement or "Resource" not in statement:
            raise ValueError(f"policy statement needs Action and Resource: {statement!r}")


def evaluate(documents: Iterable[Mapping[str, Any]], request: Request, *, resource_policy: bool = False) -> str:
    """ALLOWED, DENIED (an explicit Deny matched) or NOT_ALLOWED (no Allow matched).

    ``resource_policy``: the documents are resource policies (bucket or key policies), whose
    statements apply only to the principals they name; identity policies have no Principal.
    """
    allowed = False
    for document in documents:
        for statement in _statements(document):
            effect = statement["Effect"]
            if not _matches(statement, request, resource_policy):
                continue
            if not _conditions_hold(statement.get("Condition") or {}, request.context, effect):
                continue
            if effect == DENIED:
                return DENIED
            allowed = True
    return ALLOWED if allowed else NOT_ALLOWED


def _statements(document: Mapping[str, Any]) -> list[Any]:
    statements = document["Statement"]
    return list(statements) if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _matches(statement: Mapping[str, Any], request: Request, resource_policy: bool) -> bool:
    if not any(_wildcard(pattern, True).fullmatch(request.action) for pattern in _listed(statement["Action"])):
        return False
    if not any(_wildcard(pattern, False).fullmatch(request.resource) for pattern in _listed(statement["Resource"])):
        return False
    if resource_policy:
        return _names(statement.get("Principal"), request.principal)
    return True


def _names(principal: Any, who: Principal) -> bool:
    if principal is None:
        return False  # a resource policy statement without Principal grants nobody
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise ValueError(f"policy Principal must be '*' or an object: {principal!r}")
    aws = _listed(principal.get("AWS", []))
    services = _listed(principal.get("Service", []))
    if "*" in aws:
        return True  # {"AWS": "*"} is everyone, services included, as "*" is
    if who.arn is not None and who.arn in aws:
        return True
    return who.service is not None and who.service in services


@functools.cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, str], effect: str) -> bool:
    keys = {key.lower(): value for key, value in context.items()}
    for operator, tests in conditions.items():
        for key, expected in dict(tests).items():
            verdict = _condition(operator, keys.get(key.lower()), _listed(expected))
            if verdict is None:  # an operator not emulated: pessimistic, see the module docstring
                verdict = effect == DENIED
            if not verdict:
                return False
    return True


def _condition(operator: str, actual: str | None, expected: list[str]) -> bool | None:
    """The operator's verdict, or None for an operator this module does not emulate."""
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base not in _OPERATORS:
        return None
    negated, compare = _OPERATORS[base]
    if actual is None:
        return True if if_exists else negated
    matched = any(compare(actual, value) for value in expected)
    return not matched if negated else matched


def _equals(actual: str, expected: str) -> bool:
    return actual == expected


def _equals_ignore_case(actual: str, expected: str) -> bool:
    return actual.lower() == expected.lower()


def _like(actual: str, expected: str) -> bool:
    return _wildcard(expected, False).fullmatch(actual) is not None


def _bool(actual: str, expected: str) -> bool:
    return actual.lower() == expected.lower()


_OPERATORS = {
    "StringEquals": (False, _equals),
    "StringNotEquals": (True, _equals),
    "StringEqualsIgnoreCase": (False, _equals_ignore_case),
    "StringNotEqualsIgnoreCase": (True, _equals_ignore_case),
    "StringLike": (False, _like),
    "StringNotLike": (True, _like),
    "ArnEquals": (False, _like),  # IAM matches ArnEquals with wildcards too
    "ArnLike": (False, _like),
    "ArnNotEquals": (True, _like),
    "ArnNotLike": (True, _like),
    "Bool": (False, _bool),
}
