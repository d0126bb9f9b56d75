"""The compositions platform teams write: every stack synthesizes cfn-lint-clean and cdk-nag-clean.

No acknowledgement of the user's own: what the library cannot avoid it acknowledges itself, also
for a bucket from another stack (whose ARNs reach this stack as Fn::ImportValue).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App
from aws_cdk.assertions import Annotations, Match, Template

from tests.compositions import COMPOSITIONS, LAKE_BUCKET, LAKE_PREFIX, Composition
from tests.infra.helpers import cfn_lint_errors, nag_findings, new_app


@pytest.fixture(scope="module", params=list(COMPOSITIONS))
def synthesized(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Composition, list[tuple[str, str]]]:
    app = new_app(tmp_path_factory.mktemp("composition"), nag=True)
    composition = COMPOSITIONS[request.param](app)
    return request.param, composition, nag_findings(app)


def test_cdk_nag_finds_nothing_without_user_acknowledgements(
    synthesized: tuple[str, Composition, list[tuple[str, str]]],
) -> None:
    _, _, findings = synthesized
    assert findings == []


def test_cfn_lint_finds_no_errors_in_any_stack(synthesized: tuple[str, Composition, list[tuple[str, str]]]) -> None:
    _, composition, _ = synthesized
    for stack in composition.stacks:
        assert cfn_lint_errors(Template.from_stack(stack).to_json()) == [], stack.stack_name


def test_an_unmanaged_bucket_gets_a_warning_with_the_exact_statement_to_add(tmp_path: Path) -> None:
    composition = COMPOSITIONS["existing-bucket"](App(outdir=str(tmp_path)))
    (stack,) = composition.stacks
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("bucket policy"))
    assert len(warnings) == 1
    text = str(warnings[0].entry.data)
    assert f"arn:aws:s3:::{LAKE_BUCKET}/{LAKE_PREFIX}*" in text and "personalize.amazonaws.com" in text


def test_no_warning_asks_the_user_for_a_statement_with_unresolved_tokens(
    synthesized: tuple[str, Composition, list[tuple[str, str]]],
) -> None:
    """A warning is read by a person who edits a policy elsewhere: no ``${...}`` nor token left in it."""
    _, composition, _ = synthesized
    for stack in composition.stacks:
        for warning in Annotations.from_stack(stack).find_warning("*", Match.any_value()):
            text = str(warning.entry.data)
            assert "${" not in text and "Token[" not in text, (stack.stack_name, text)
