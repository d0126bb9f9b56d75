"""Names Personalize keeps unique per account and region are derived per stack instance.

One synth of a stack deployed twice in one emulated account (a stage and a pull-request copy, or
the same stack name in another pipeline) and a stack deleted and deployed again while its old
resources are still being deleted: nothing collides.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_personalize as personalize

from constructs_personalize import DatasetSchema, DataSource, TrainingDataset, instance_name
from tests.constants import SAMPLE_DIR
from tests.emulator.cloudformation import EmulatedStack
from tests.emulator.world import World
from tests.infra.helpers import ENV

pytestmark = pytest.mark.lifecycle
TEMPLATE = "Recs"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("names")
    app = App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    stack = Stack(app, TEMPLATE, env=ENV)
    group = personalize.CfnDatasetGroup(stack, "Group", name=instance_name("recs"))
    # A fixed dataset name is fine (datasets are unique within their group); the schema is not in a group.
    TrainingDataset(
        stack,
        "Interactions",
        name="interactions",
        dataset_group_arn=group.attr_dataset_group_arn,
        schema=DatasetSchema.interactions(),
        data=DataSource.from_asset(SAMPLE_DIR),
    )
    app.synth()
    return outdir


def _name(stack: EmulatedStack, resource_type: str) -> str:
    (logical_id,) = stack.spec.of_type(resource_type)
    return str(stack.deployed(logical_id).physical_id).rsplit("/", 1)[1]  # arn:...:schema/<name>


def test_two_copies_of_a_stack_in_one_account_get_their_own_schema_and_dataset_group(
    world: World, assembly: Path
) -> None:
    copies = [EmulatedStack(assembly, name, world, template_name=TEMPLATE) for name in ("RecsDev", "RecsPr7")]
    for copy in copies:
        deployment = copy.deploy()
        assert deployment.succeeded, [(r.logical_id, r.reason) for r in deployment.failures]
    schemas = {_name(copy, "AWS::Personalize::Schema") for copy in copies}
    groups = {_name(copy, "AWS::Personalize::DatasetGroup") for copy in copies}
    assert len(schemas) == 2 and all(s.startswith("interactions-schema-") for s in schemas)
    assert len(groups) == 2 and all(g.startswith("recs-") for g in groups)
