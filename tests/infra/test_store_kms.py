"""A KMS-encrypted DataStore: the store grants its own key to its own role, whichever stack imports with it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template
from constructs import IConstruct

from constructs_personalize import RESOURCE_TYPE, DatasetImport, DataStore
from tests.compositions import COMPOSITIONS, Composition
from tests.constants import DATASET_ARN
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.world import World
from tests.infra.helpers import ENV, cfn_lint_errors, iter_policy_statements, nag_findings, new_app, sample_source

NAME = "kms-key-in-storage-stack"
KMS_ACTIONS = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:ListGrants"]
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PERSONALIZE = "personalize.amazonaws.com"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Composition, list[tuple[str, str]]]:
    app = new_app(tmp_path_factory.mktemp("kms"), nag=True)
    composition = COMPOSITIONS[NAME](app)
    return composition, nag_findings(app)


def _logical_id(stack: Stack, path: str) -> str:
    element: IConstruct = stack
    for part in path.split("/"):
        element = element.node.find_child(part)
    default = element.node.default_child or element
    return stack.get_logical_id(default)  # type: ignore[arg-type]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(template: Mapping[str, Any], policy_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = template["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_the_storage_stacks_key_policy_names_the_stores_role_and_personalize(
    shared: tuple[Composition, list[tuple[str, str]]],
) -> None:
    storage = shared[0].stacks[0]
    template = Template.from_stack(storage).to_json()
    key = template["Resources"][_logical_id(storage, "DataKey")]["Properties"]["KeyPolicy"]
    role_arn = {"Fn::GetAtt": [_logical_id(storage, "Encrypted/ImportRole"), "Arn"]}
    (statement,) = [s for s in key["Statement"] if s.get("Sid") == "PersonalizeDatasetImportUseOfTheKey"]
    assert sorted(statement["Action"]) == KMS_ACTIONS and statement["Resource"] == "*"
    assert statement["Principal"] == {"AWS": role_arn, "Service": PERSONALIZE}


def test_the_stores_role_may_decrypt_with_the_key_in_its_own_stack(
    shared: tuple[Composition, list[tuple[str, str]]],
) -> None:
    storage, recs = shared[0].stacks
    template = Template.from_stack(storage).to_json()
    statements = _role_statements(template, _logical_id(storage, "Encrypted/ImportRole/DefaultPolicy"))
    key_arn = {"Fn::GetAtt": [_logical_id(storage, "DataKey"), "Arn"]}
    assert {"Action": ["kms:Decrypt", "kms:DescribeKey"], "Effect": "Allow", "Resource": key_arn} in statements
    # The importing stack adds no key grant of its own: only its upload role uses the key (to write the data).
    kms_users = {
        logical
        for logical, statement in iter_policy_statements(Template.from_stack(recs).to_json())
        if "kms:" in json.dumps(statement)
    }
    assert kms_users and all("UploadRole" in logical for logical in kms_users), kms_users


def test_neither_stack_warns_about_the_key_and_both_are_nag_and_lint_clean(
    shared: tuple[Composition, list[tuple[str, str]]],
) -> None:
    composition, findings = shared
    assert findings == []
    for stack in composition.stacks:
        assert Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("key policy")) == []
        assert cfn_lint_errors(Template.from_stack(stack).to_json()) == [], stack.stack_name


def _imported_key_store(role: iam.IRole | None = None, stack: Stack | None = None) -> tuple[Stack, DataStore]:
    stack = stack or Stack(App(), "ImportedKey", env=ENV)
    store = DataStore(stack, "Store", encryption_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN), role=role)
    DatasetImport(stack, "Interactions", dataset_arn=DATASET_ARN, data=sample_source(), store=store)
    return stack, store


def _key_warning(stack: Stack) -> str:
    (warning,) = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("key policy"))
    return str(warning.entry.data)


def _printed_statement(warning: str) -> dict[str, Any]:
    statement: dict[str, Any] = json.loads(
        warning[warning.index("{") :].removesuffix(" [ack: constructs_personalize:key-policy]")
    )
    return statement


def test_an_imported_key_gets_the_roles_grant_and_a_warning_without_tokens() -> None:
    stack, _ = _imported_key_store()
    template = Template.from_stack(stack).to_json()
    statements = _role_statements(template, _logical_id(stack, "Store/ImportRole/DefaultPolicy"))
    assert {"Action": ["kms:Decrypt", "kms:DescribeKey"], "Effect": "Allow", "Resource": KEY_ARN} in statements
    warning = _key_warning(stack)
    assert "${" not in warning and KEY_ARN in warning
    # The role's name is generated at deploy time: the warning says which role, and how to know its ARN.
    assert "ImportedKey/Store/ImportRole" in warning and "fixed role_name" in warning
    statement = _printed_statement(warning)
    assert sorted(statement["Action"]) == KMS_ACTIONS and statement["Principal"]["Service"] == PERSONALIZE


def test_a_role_with_a_fixed_name_is_printed_by_its_real_arn() -> None:
    probe = Stack(App(), "Probe", env=ENV)
    role = iam.Role(probe, "Reader", role_name="recs-import-reader", assumed_by=iam.ServicePrincipal(PERSONALIZE))
    stack, _ = _imported_key_store(role, stack=probe)
    warning = _key_warning(stack)
    assert "${" not in warning and "fixed role_name" not in warning
    principal = _printed_statement(warning)["Principal"]
    assert principal == {"AWS": "arn:aws:iam::123456789012:role/recs-import-reader", "Service": PERSONALIZE}


def test_a_key_of_a_third_stack_is_not_changed_and_makes_no_cycle(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    keys = Stack(app, "Keys", env=ENV)
    key = kms.Key(keys, "DataKey", enable_key_rotation=True)
    storage = Stack(app, "Storage", env=ENV)
    store = DataStore(storage, "Encrypted", encryption_key=key)
    recs = Stack(app, "Recs", env=ENV)
    DatasetImport(recs, "Interactions", dataset_arn=DATASET_ARN, data=sample_source(), store=store)
    app.synth()  # a key policy naming the role from Keys would make Keys and Storage depend on each other
    assert PERSONALIZE not in json.dumps(Template.from_stack(keys).to_json())
    warning = _key_warning(recs)
    assert "${" not in warning and "Storage/Encrypted/ImportRole" in warning


@pytest.mark.lifecycle
def test_the_import_reads_the_encrypted_store_of_the_storage_stack_in_an_emulated_deploy(
    world: World, tmp_path: Path
) -> None:
    app = App(outdir=str(tmp_path), context={"aws:cdk:enable-path-metadata": True})
    composition = COMPOSITIONS[NAME](app)
    app.synth()
    for stack in composition.stacks:  # in deployment order: the storage stack first
        emulated = EmulatedStack(tmp_path, stack.stack_name, world)
        deployment = emulated.deploy()
        assert deployment.succeeded, [(r.logical_id, r.reason) for r in deployment.failures]
    imports = [k for k, v in emulated.template["Resources"].items() if v["Type"] == RESOURCE_TYPE]
    assert len(imports) == 1
    job = world.personalize().describe_dataset_import_job(datasetImportJobArn=deployment.physical_id(imports[0]))
    assert job["datasetImportJob"]["status"] == "ACTIVE"
