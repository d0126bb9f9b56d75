"""The integ test app (integ/integ_dataset_import.py) synthesizes offline to its stored snapshot.

Asset hashes and per-synth values are normalized away (a CDK-internal asset change does not fail this
test); any other change to a stack's template does. After an intended change refresh the snapshot
with ``.venv/bin/python integ/integ_dataset_import.py --update-snapshot`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integ import integ_dataset_import as integ_app

REFRESH = "refresh with: .venv/bin/python integ/integ_dataset_import.py --update-snapshot"


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return integ_app.synth_templates(tmp_path_factory.mktemp("integ-cdk-out"))


def test_every_stack_has_a_snapshot(templates: dict[str, Any]) -> None:
    assert sorted(templates) == sorted(integ_app.read_snapshot()), REFRESH
    assert {integ_app.IMPORT_STACK, integ_app.BAD_TIMESTAMPS_STACK} <= set(templates)


@pytest.mark.parametrize("path", sorted(integ_app.SNAPSHOT_DIR.glob("*.template.json")), ids=lambda p: p.name)
def test_template_matches_snapshot(templates: dict[str, Any], path: Path) -> None:
    artifact_id = path.name.removesuffix(".template.json")
    assert artifact_id in templates, f"{path.name}: the app has no such stack any more; {REFRESH}"
    # Compare the text: pytest's diff of two JSON texts names the changed lines.
    assert integ_app.snapshot_text(templates[artifact_id]) == path.read_text(), REFRESH


def test_normalize_hides_asset_hashes_only() -> None:
    digest = "a" * 64
    template = {
        "Code": {"S3Key": f"{digest}.zip"},
        "Properties": {"salt": "1767225600000", "DataVersion": "5d49384577ce3d87ef8f449f6aa42bf2", "Name": "x"},
    }
    assert integ_app.normalize(template) == {
        "Code": {"S3Key": "<asset-hash>.zip"},
        "Properties": {"salt": "<volatile>", "DataVersion": "<volatile>", "Name": "x"},
    }


def test_a_changed_resource_fails_the_comparison(templates: dict[str, Any]) -> None:
    stored = integ_app.read_snapshot()[integ_app.IMPORT_STACK]
    changed = dict(stored, Resources=dict(stored["Resources"]))
    group = next(
        key for key, value in changed["Resources"].items() if value["Type"] == "AWS::Personalize::DatasetGroup"
    )
    changed["Resources"][group] = {**changed["Resources"][group], "Properties": {"Name": "renamed"}}
    assert integ_app.snapshot_text(changed) != integ_app.snapshot_text(templates[integ_app.IMPORT_STACK])


def test_the_failing_case_is_wired_as_documented(templates: dict[str, Any]) -> None:
    """The bad data reaches the template (validate_data=False) and the job is not waited for in the deploy."""
    bad = templates[integ_app.BAD_TIMESTAMPS_STACK]["Resources"]
    imports = [value for value in bad.values() if value["Type"] == "Custom::PersonalizeDatasetImport"]
    assert len(imports) == 1
    assert imports[0]["Properties"]["WaitMode"] == "NONE"  # ImportWait.do_not_wait(): the assertion waits
    first_row = (integ_app.MILLISECOND_DATA / "interactions.csv").read_text().splitlines()[1]
    assert int(first_row.split(",")[2]) > 9_999_999_999  # milliseconds
