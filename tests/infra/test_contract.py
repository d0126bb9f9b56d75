"""The construct <-> handler contract, round trip: what the construct writes is what the handler reads.

A stack with every kind of import is synthesized; each custom resource's properties, as the template
holds them, are read by the handler's own parser. Every key written is one the parser reads (a key it
did not read would be silently ignored at deploy time), and the properties, resolved as CloudFormation
would, parse without error into the request the construct was given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk.assertions import Template

from constructs_personalize import RESOURCE_TYPE, DatasetImport, DataSource, ImportMode, ImportWait
from constructs_personalize.handlers.dataset_import import contract
from constructs_personalize.handlers.dataset_import.errors import ImportFailed
from constructs_personalize.handlers.dataset_import.request import ImportRequest
from tests.constants import ACCOUNT, DATASET_ARN, ITEMS_ARN, REGION, TEST_DATA
from tests.infra.helpers import new_app, sample_source, stack_in

STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Test/1b2c3d4e-0000-4000-8000-000000000001"
# What CloudFormation adds for the Provider framework; the handler never reads them.
FRAMEWORK_KEYS = frozenset({"ServiceToken", "ServiceTimeout"})
PSEUDO = {
    "AWS::StackId": STACK_ID,
    "AWS::StackName": "Test",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
ITEMS_LOCATION = "s3://existing-training-data/items/"


def every_kind_of_import(stack: Stack) -> None:
    DatasetImport(
        stack,
        "Bulk",
        dataset_arn=DATASET_ARN,
        data=sample_source(),
        tags={"team": "recs", "cost": "42"},
        publish_attribution_metrics_to_s3=True,
        wait=ImportWait.up_to(Duration.hours(6)),
    )
    DatasetImport(
        stack,
        "Batch",
        dataset_arn=DATASET_ARN,
        data=DataSource.from_asset(TEST_DATA / "interactions-incremental"),
        import_mode=ImportMode.INCREMENTAL,
    )
    DatasetImport(
        stack,
        "Named",
        dataset_arn=ITEMS_ARN,
        data=DataSource.from_uri(ITEMS_LOCATION),
        job_name="items-2026-11",
        publish_attribution_metrics_to_s3=False,
        wait=ImportWait.do_not_wait(),
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    return stack_in(new_app(tmp_path_factory.mktemp("contract")), every_kind_of_import)


@pytest.fixture(scope="module")
def template(stack: Stack) -> Mapping[str, Any]:
    return Template.from_stack(stack).to_json()


def _imports(stack: Stack) -> dict[str, DatasetImport]:
    return {child.node.id: child for child in stack.node.children if isinstance(child, DatasetImport)}


def _logical_id(stack: Stack, imp: DatasetImport) -> str:
    logical_id, attribute = stack.resolve(imp.job_arn)["Fn::GetAtt"]
    assert attribute == contract.ATTR_JOB_ARN
    assert stack.resolve(imp.job_name) == {"Fn::GetAtt": [logical_id, contract.ATTR_JOB_NAME]}
    return str(logical_id)


def _properties(stack: Stack, template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each import's custom resource properties, as written in the template."""
    found = {}
    for name, imp in _imports(stack).items():
        resource = template["Resources"][_logical_id(stack, imp)]
        assert resource["Type"] == contract.RESOURCE_TYPE
        found[name] = dict(resource["Properties"])
    return found


class _Reading(Mapping[str, Any]):
    """Properties that record every key the parser asks for, whether present or not."""

    def __init__(self, properties: Mapping[str, Any]) -> None:
        self._properties = dict(properties)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self._properties[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self._properties.get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return key in self._properties

    def __iter__(self) -> Iterator[str]:
        return iter(self._properties)

    def __len__(self) -> int:
        return len(self._properties)


def _resolve(value: Any, template: Mapping[str, Any]) -> Any:
    """A property as CloudFormation hands it to the handler: intrinsics replaced by plausible strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_resolve(item, template) for item in value]
    assert isinstance(value, dict), value
    if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
        return {key: _resolve(item, template) for key, item in value.items()}
    ((function, argument),) = value.items()
    if function == "Ref":
        return PSEUDO.get(argument) or _ref(argument, template)
    if function == "Fn::GetAtt":
        logical_id, attribute = argument
        return _get_att(logical_id, attribute, template)
    if function == "Fn::Join":
        delimiter, parts = argument
        return str(delimiter).join(_resolve(part, template) for part in parts)
    if function == "Fn::Select":
        index, items = argument
        return _resolve(items, template)[int(index)]
    if function == "Fn::Split":
        delimiter, source = argument
        return _resolve(source, template).split(delimiter)
    raise AssertionError(f"no resolution for {function} in a custom resource property: {value!r}")


def _ref(logical_id: str, template: Mapping[str, Any]) -> str:
    resource_type = template["Resources"][logical_id]["Type"]
    if resource_type == "AWS::CloudFormation::WaitConditionHandle":
        return f"https://cloudformation-waitcondition-{REGION}.s3.{REGION}.amazonaws.com/{logical_id}?X-Amz-Signature=x"
    if resource_type == "AWS::StepFunctions::StateMachine":
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{logical_id}"
    return logical_id.lower()  # a bucket's, a role's or a function's name


def _get_att(logical_id: str, attribute: str, template: Mapping[str, Any]) -> str:
    resource_type = template["Resources"][logical_id]["Type"]
    if resource_type == contract.RESOURCE_TYPE and attribute == contract.ATTR_JOB_NAME:
        return f"{logical_id}-0123456789abcdef"
    if attribute == "Arn":
        service = resource_type.split("::")[1].lower()
        return f"arn:aws:{service}::{ACCOUNT}:{logical_id.lower()}"
    raise AssertionError(f"no resolution for {logical_id}.{attribute} ({resource_type})")


def _parse(properties: Mapping[str, Any], template: Mapping[str, Any]) -> tuple[ImportRequest, set[str]]:
    reading = _Reading(_resolve(properties, template))
    request = ImportRequest.from_properties(reading, stack_id=STACK_ID, request_id="request-1")
    return request, reading.read


def test_the_template_names_the_contracts_resource_type(stack: Stack, template: Mapping[str, Any]) -> None:
    assert RESOURCE_TYPE == contract.RESOURCE_TYPE
    ours = {_logical_id(stack, imp) for imp in _imports(stack).values()}
    assert len(ours) == 3
    assert {lid for lid, r in template["Resources"].items() if r["Type"] == contract.RESOURCE_TYPE} == ours


def test_every_key_written_is_read_and_the_parser_reads_the_contracts_keys(
    stack: Stack, template: Mapping[str, Any]
) -> None:
    read_by_any: set[str] = set()
    for name, properties in _properties(stack, template).items():
        _, read = _parse(properties, template)
        written = set(properties) - FRAMEWORK_KEYS
        assert written <= read, f"{name} writes keys the handler never reads: {sorted(written - read)}"
        assert written <= contract.PROPERTIES, name
        assert written >= contract.REQUIRED_PROPERTIES, name
        read_by_any |= read
    # Between them, these imports take every path of the parser: it reads exactly the contract's keys.
    assert read_by_any == contract.PROPERTIES


def test_the_written_properties_parse_into_what_each_import_asked_for(
    stack: Stack, template: Mapping[str, Any]
) -> None:
    written = _properties(stack, template)
    requests = {name: _parse(properties, template)[0] for name, properties in written.items()}
    bulk, batch, named = requests["Bulk"], requests["Batch"], requests["Named"]

    assert (bulk.import_mode, batch.import_mode, named.import_mode) == (
        contract.FULL,
        contract.INCREMENTAL,
        contract.FULL,
    )
    assert (bulk.wait.mode, batch.wait.mode, named.wait.mode) == (
        contract.WAIT_SIGNAL,
        contract.WAIT_COMPLETION,
        contract.WAIT_NONE,
    )
    assert (bulk.wait.timeout_seconds, bulk.wait.interval_seconds) == (6 * 3600, 30)
    assert bulk.wait.handle.startswith("https://") and ":stateMachine:" in bulk.wait.state_machine_arn
    assert set(written["Bulk"]) >= contract.SIGNAL_PROPERTIES
    assert not contract.SIGNAL_PROPERTIES & (set(written["Batch"]) | set(written["Named"]))

    assert bulk.tags == (("cost", "42"), ("team", "recs"))
    assert (bulk.publish_attribution_metrics_to_s3, batch.publish_attribution_metrics_to_s3) == (True, None)
    assert named.publish_attribution_metrics_to_s3 is False

    # Derived names: the construct's prefix, cleaned by the contract's rule, then the handler's hash.
    for name, request in (("Bulk", bulk), ("Batch", batch)):
        assert not request.explicit_name
        prefix = contract.clean_job_name_prefix(written[name][contract.JOB_NAME_PREFIX])
        assert re.fullmatch(rf"{re.escape(prefix)}-[0-9a-f]{{{contract.JOB_NAME_HASH_CHARS}}}", request.job_name)
        assert len(request.job_name) <= contract.JOB_NAME_MAX and contract.JOB_NAME_PATTERN.match(request.job_name)
    assert (named.explicit_name, named.job_name) == (True, "items-2026-11")

    # The INCREMENTAL import follows the FULL import before it in its dataset; the others follow nothing.
    bulk_id = _logical_id(stack, _imports(stack)["Bulk"])
    assert written["Batch"][contract.AFTER_JOB] == {"Fn::GetAtt": [bulk_id, contract.ATTR_JOB_NAME]}
    assert batch.after_job == _get_att(bulk_id, contract.ATTR_JOB_NAME, template)
    assert bulk.after_job == named.after_job == ""

    assert (bulk.dataset_arn, batch.dataset_arn, named.dataset_arn) == (DATASET_ARN, DATASET_ARN, ITEMS_ARN)
    assert bulk.data_location.startswith("s3://") and bulk.data_location.endswith("/")
    assert named.data_location == ITEMS_LOCATION
    assert all(request.role_arn.startswith("arn:aws:iam::") for request in requests.values())


def test_the_parser_needs_what_the_contract_calls_required(stack: Stack, template: Mapping[str, Any]) -> None:
    properties = _properties(stack, template)["Named"]
    for key in sorted(contract.REQUIRED_PROPERTIES):
        with pytest.raises(ImportFailed, match=key):
            _parse({k: v for k, v in properties.items() if k != key}, template)
