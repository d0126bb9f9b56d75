"""scripts/integ_run.py, offline: the dry run synthesizes and prints its commands without any AWS call.

The dry run runs once, in a subprocess whose environment has no AWS configuration at all (any AWS
variable removed, the config and credentials files pointed at nothing, the endpoint at a closed port),
and which fails if boto3 or botocore were ever imported. The real run's sequence (account, question,
deploy, destroy whatever happens) is checked in-process against that assembly, with the CDK CLI and
AWS replaced by fakes: nothing here deploys anything.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from integ import integ_dataset_import as integ_app
from scripts import integ_run
from tests.constants import ACCOUNT, REGION, REPO

# Runs the dry run, then fails (exit 3) if the AWS SDK was loaded at any point.
DRY_RUN = """
import sys
from scripts import integ_run
status = integ_run.main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"boto3", "botocore"})
if loaded:
    sys.exit(f"the dry run loaded the AWS SDK: {loaded[:5]}")
sys.exit(status)
"""


@dataclass(frozen=True)
class DryRun:
    output: Path
    result: subprocess.CompletedProcess[str]

    @property
    def lines(self) -> list[str]:
        return self.result.stdout.splitlines()

    def command(self, verb: str) -> list[str]:
        """The printed CDK CLI command line of ``verb`` (synth, deploy, destroy), split like a shell would."""
        found = [shlex.split(line.split("#")[0]) for line in self.lines if f"/.bin/cdk {verb} " in line]
        assert len(found) == 1, f"one `cdk {verb}` line expected in:\n{self.result.stdout}"
        return found[0]


def _no_aws_environment(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        HOME=str(home),  # no ~/.aws
        AWS_CONFIG_FILE=str(home / "no-such-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-such-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",  # should anything call AWS after all, it fails at once
    )
    return env


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> DryRun:
    assert integ_run.CLI.exists(), "run `make test` (it installs the CLI pinned in package.json)"
    home = tmp_path_factory.mktemp("home")
    output = tmp_path_factory.mktemp("integ-run") / "cdk.out"
    result = subprocess.run(
        [sys.executable, "-c", DRY_RUN, "--dry-run", "--output", str(output)],
        cwd=REPO,
        env=_no_aws_environment(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return DryRun(output, result)


def test_the_dry_run_succeeds_without_any_aws_configuration(dry_run: DryRun) -> None:
    assert dry_run.result.returncode == 0, dry_run.result.stdout[-2000:] + dry_run.result.stderr[-3000:]
    assert "Dry run: nothing deployed, no AWS call made." in dry_run.lines
    assert "not resolved in a dry run" in dry_run.result.stdout


def test_the_commands_name_the_pinned_cli_and_the_integ_app(dry_run: DryRun) -> None:
    synth = dry_run.command("synth")
    # The commands run in integ/ (its cdk.json: none of the example app's feature flags).
    cwd = REPO / "integ"
    assert "cd integ" in [line.strip() for line in dry_run.lines]
    assert (cwd / synth[0]).resolve() == (REPO / "node_modules" / ".bin" / "cdk").resolve()
    python, app = shlex.split(synth[synth.index("--app") + 1])
    assert os.path.normpath(cwd / python) == os.path.normpath(sys.executable)
    assert (cwd / app).resolve() == (REPO / "integ" / "integ_dataset_import.py").resolve()
    assert Path(synth[synth.index("--output") + 1]) == dry_run.output
    for verb in ("deploy", "destroy"):
        assert (cwd / dry_run.command(verb)[0]).resolve() == (REPO / "node_modules" / ".bin" / "cdk").resolve()


def test_deploy_then_destroy_the_synthesized_assembly(dry_run: DryRun) -> None:
    deploy, destroy = dry_run.command("deploy"), dry_run.command("destroy")
    assert deploy[1:2] == ["deploy"] and destroy[1:2] == ["destroy"]
    for command in (deploy, destroy):
        assert Path(command[command.index("--app") + 1]) == dry_run.output  # the assembly, not a second synth
        assert "--all" in command
    assert deploy[deploy.index("--require-approval") + 1] == "never"
    assert "--force" in destroy
    text = dry_run.result.stdout
    assert text.index(shlex.join(deploy)) < text.index(shlex.join(destroy))
    assert "always, also after a failed deploy" in next(line for line in dry_run.lines if "cdk destroy" in line)


def test_the_printed_stacks_are_the_assembly_s(dry_run: DryRun) -> None:
    manifest = json.loads((dry_run.output / "manifest.json").read_text())
    stacks = [key for key, artifact in manifest["artifacts"].items() if artifact["type"] == "aws:cloudformation:stack"]
    assert {integ_app.IMPORT_STACK, integ_app.BAD_TIMESTAMPS_STACK} < set(stacks)
    assert len(stacks) == 4  # two test cases, each with its assertion stack
    start = next(i for i, line in enumerate(dry_run.lines) if "each is deployed after the stacks it" in line) + 1
    end = dry_run.lines.index("What the stacks create:")
    listed = [line.split()[0] for line in dry_run.lines[start:end]]
    assert sorted(listed) == sorted(stacks)
    # Each assertion stack is deployed after the stack it checks.
    assertion_stacks = [s for s in stacks if s not in (integ_app.IMPORT_STACK, integ_app.BAD_TIMESTAMPS_STACK)]
    for assertion in assertion_stacks:
        checked = next(d for d in manifest["artifacts"][assertion]["dependencies"] if d in stacks)
        assert listed.index(checked) < listed.index(assertion)


def test_it_states_what_the_run_creates_and_costs(dry_run: DryRun) -> None:
    text = dry_run.result.stdout
    assert "2 dataset groups (personalizeintegbadtimestamps, personalizeintegimport)" in text
    assert "2 dataset import jobs" in text
    assert f"{integ_app.IMPORT_STACK} imports interactions.csv: 1,500 rows, 55 KB" in text
    assert f"{integ_app.BAD_TIMESTAMPS_STACK} imports interactions.csv: 1,500 rows, 60 KB" in text
    flat = " ".join(text.split())
    assert "Personalize charges data ingestion per GB, and this run imports 115 KB" in flat
    assert "Amazon Personalize pricing" in flat
    assert "kept after the destroy by design (DeletionPolicy Retain)" in text


def test_the_cli_synthesizes_what_the_snapshot_holds(dry_run: DryRun) -> None:
    """The deploy deploys the templates tests/integ/test_integ_snapshot.py checks, not other ones."""
    assembly = integ_run.read_assembly(dry_run.output)
    stored = integ_app.read_snapshot()
    assert sorted(stack.artifact_id for stack in assembly.stacks) == sorted(stored)
    for stack in assembly.stacks:
        synthesized = integ_app.snapshot_text(integ_app.normalize(stack.template))
        assert synthesized == integ_app.snapshot_text(stored[stack.artifact_id]), stack.artifact_id


def test_the_synth_gets_no_aws_configuration() -> None:
    env = integ_run.offline_environment({"AWS_PROFILE": "prod", "AWS_SECRET_ACCESS_KEY": "x", "PATH": "/bin"})
    assert not {"AWS_PROFILE", "AWS_SECRET_ACCESS_KEY"} & set(env)
    assert env["PATH"] == "/bin" and env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull


# --- The real run's sequence, with fakes --------------------------------------------------------------


@dataclass
class FakeCli:
    """Records the commands; ``cdk synth`` does nothing (the dry run's assembly is there already)."""

    statuses: dict[str, int | BaseException] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> int:
        verb = argv[1]
        self.calls.append((verb, dict(env)))
        outcome = self.statuses.get(verb, 0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    @property
    def verbs(self) -> list[str]:
        return [verb for verb, _ in self.calls]


@dataclass
class FakeAws:
    fail_target: bool = False
    fail_lookup: bool = False
    calls: list[str] = field(default_factory=list)

    def target(self) -> integ_run.Target:
        self.calls.append("target")
        if self.fail_target:
            raise RuntimeError("Unable to locate credentials")
        return integ_run.Target(ACCOUNT, REGION, f"arn:aws:iam::{ACCOUNT}:user/tester")

    def physical_ids(self, stack_name: str, logical_ids: Sequence[str]) -> dict[str, str]:
        self.calls.append(f"physical_ids {stack_name}")
        if self.fail_lookup:
            raise RuntimeError("throttled")
        return {logical_id: f"{stack_name.lower()}-{logical_id.lower()}" for logical_id in logical_ids}

    def dataset_groups(self, names: Sequence[str]) -> list[tuple[str, str]]:
        self.calls.append("dataset_groups")
        return []


def _real_run(
    dry_run: DryRun, cli: FakeCli, aws: FakeAws, *, yes: bool = True, answer: str = "y"
) -> tuple[int, str, list[str]]:
    assert dry_run.result.returncode == 0
    out, questions = io.StringIO(), []

    def ask(question: str) -> str:
        questions.append(question)
        return answer

    status = integ_run.run(
        output=dry_run.output,
        python=Path(sys.executable),
        dry_run=False,
        yes=yes,
        runner=cli,
        aws_factory=lambda profile, region: aws,
        ask=ask,
        environ={"PATH": os.environ.get("PATH", "")},
        out=out,
    )
    return status, out.getvalue(), questions


def test_a_passing_run_deploys_into_the_printed_region_then_destroys(dry_run: DryRun) -> None:
    cli, aws = FakeCli(), FakeAws()
    status, text, _ = _real_run(dry_run, cli, aws)
    assert status == 0
    assert cli.verbs == ["synth", "deploy", "destroy"]
    assert f"Account: {ACCOUNT}" in text and f"Region:  {REGION}" in text
    deploy_env = cli.calls[1][1]
    assert deploy_env["AWS_REGION"] == deploy_env["AWS_DEFAULT_REGION"] == REGION
    assert "AWS_REGION" not in cli.calls[0][1]  # the synth stays offline
    assert "integ: passed" in text
    assert "Kept in the account by design" in text  # the retained buckets and log groups, by name


def test_a_failed_deploy_is_destroyed_and_fails_the_run(dry_run: DryRun) -> None:
    cli, aws = FakeCli(statuses={"deploy": 1}), FakeAws()
    status, text, _ = _real_run(dry_run, cli, aws)
    assert status == 1
    assert cli.verbs == ["synth", "deploy", "destroy"]
    assert "integ: FAILED: the deploy (or one of its assertions) failed" in text


def test_a_failed_destroy_fails_the_run(dry_run: DryRun) -> None:
    cli, aws = FakeCli(statuses={"destroy": 1}), FakeAws()
    status, text, _ = _real_run(dry_run, cli, aws)
    assert status == 1
    assert "the destroy failed" in text


def test_an_interrupted_deploy_is_destroyed(dry_run: DryRun) -> None:
    cli, aws = FakeCli(statuses={"deploy": KeyboardInterrupt()}), FakeAws()
    status, _, _ = _real_run(dry_run, cli, aws)
    assert status == 130
    assert cli.verbs == ["synth", "deploy", "destroy"]


def test_a_failing_lookup_does_not_stop_the_destroy(dry_run: DryRun) -> None:
    cli, aws = FakeCli(), FakeAws(fail_lookup=True)
    status, text, _ = _real_run(dry_run, cli, aws)
    assert status == 0
    assert cli.verbs == ["synth", "deploy", "destroy"]
    assert "could not look up the retained resources" in text


def test_it_asks_first_and_a_no_deploys_nothing(dry_run: DryRun) -> None:
    cli, aws = FakeCli(), FakeAws()
    status, text, questions = _real_run(dry_run, cli, aws, yes=False, answer="n")
    assert status == 1
    assert cli.verbs == ["synth"]
    assert len(questions) == 1 and ACCOUNT in questions[0] and REGION in questions[0]
    assert "nothing deployed" in text


def test_without_credentials_nothing_is_deployed(dry_run: DryRun) -> None:
    cli, aws = FakeCli(), FakeAws(fail_target=True)
    status, text, _ = _real_run(dry_run, cli, aws)
    assert status == 1
    assert cli.verbs == ["synth"]
    assert "cannot resolve the AWS account" in text


def test_the_boto3_calls_match_the_service_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Boto3Aws`` against botocore's Stubber: the operations, parameters and responses the models define."""
    import boto3  # noqa: PLC0415 (only this test needs the SDK)
    from botocore.stub import Stubber  # noqa: PLC0415

    for key in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    session = boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    clients = {name: session.client(name) for name in ("sts", "cloudformation", "personalize")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    user = f"arn:aws:iam::{ACCOUNT}:user/tester"
    stubs["sts"].add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": user, "UserId": "AIDA"}, {})
    summary = {"ResourceStatus": "CREATE_COMPLETE", "LastUpdatedTimestamp": "2026-01-01T00:00:00Z"}
    stubs["cloudformation"].add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    **summary,
                    "LogicalResourceId": "DataBucket",
                    "PhysicalResourceId": "bucket-1",
                    "ResourceType": "AWS::S3::Bucket",
                },
                {**summary, "LogicalResourceId": "Other", "PhysicalResourceId": "x", "ResourceType": "AWS::IAM::Role"},
            ]
        },
        {"StackName": "PersonalizeIntegImport"},
    )
    stubs["cloudformation"].add_client_error(
        "list_stack_resources", "ValidationError", "Stack with id Never does not exist", 400, {"StackName": "Never"}
    )
    group = "arn:aws:personalize:{}:{}:dataset-group/{}".format
    stubs["personalize"].add_response(
        "list_dataset_groups",
        {
            "datasetGroups": [
                {
                    "name": "personalizeintegimport",
                    "datasetGroupArn": group(REGION, ACCOUNT, "a"),
                    "status": "DELETE PENDING",
                },
                {"name": "someone-else", "datasetGroupArn": group(REGION, ACCOUNT, "b"), "status": "ACTIVE"},
            ]
        },
        {},
    )
    aws = integ_run.Boto3Aws(profile=None, region=REGION)
    monkeypatch.setattr(aws, "_session", session)
    monkeypatch.setattr(session, "client", lambda name, region_name=None: clients[name])
    with stubs["sts"], stubs["cloudformation"], stubs["personalize"]:
        assert aws.target() == integ_run.Target(ACCOUNT, REGION, user)
        assert aws.physical_ids("PersonalizeIntegImport", ["DataBucket"]) == {"DataBucket": "bucket-1"}
        assert aws.physical_ids("Never", ["DataBucket"]) == {}
        groups = aws.dataset_groups(["personalizeintegimport", "personalizeintegbadtimestamps"])
        assert groups == [("personalizeintegimport", "DELETE PENDING")]
    for stub in stubs.values():
        stub.assert_no_pending_responses()
