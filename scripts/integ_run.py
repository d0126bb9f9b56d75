#!/usr/bin/env python3
"""Run the integ app (``integ/integ_dataset_import.py``) for real with the pinned CDK CLI, then destroy it.

``@aws-cdk/integ-runner`` cannot read the cloud assemblies of this project's aws-cdk-lib (schema 55 vs
53), but it is not needed: the ``integ-tests-alpha`` assertions are custom resources of their own
stacks, so a plain ``cdk deploy`` runs them, and a failed assertion fails the deploy. This script:

1. synthesizes the integ app with ``node_modules/.bin/cdk`` into ``integ/cdk.out``, offline: from
   ``integ/`` (whose ``cdk.json`` has none of the example app's feature flags, so the templates are the
   ones ``integ/snapshot/`` holds) and with every ``AWS_*`` variable removed from the synth's
   environment (the stacks are environment-agnostic; the synth needs no account);
2. prints the stacks of that cloud assembly, what they create, what a run costs and how long it takes;
3. resolves the account (STS ``GetCallerIdentity``) and region the deploy will use and prints them;
4. asks for confirmation (unless ``--yes``);
5. ``cdk deploy --app cdk.out --all --require-approval never``: the synthesized assembly, not a second
   synth; the assertions run as part of it;
6. ``cdk destroy --app cdk.out --all --force``, always: also after a failed or interrupted deploy;
7. names what the stacks keep by design (``DeletionPolicy: Retain``) and any dataset group left over.

Exits 0 when the deploy (the assertions included) and the destroy succeeded, 1 otherwise.

``--dry-run`` does steps 1 and 2 and prints the commands of 5 and 6 without running them: it makes no
AWS call (boto3 is not even imported) and needs no credentials.

    .venv/bin/python scripts/integ_run.py --dry-run     # make integ-dry-run
    .venv/bin/python scripts/integ_run.py               # make integ-deploy (asks first)
    .venv/bin/python scripts/integ_run.py --yes         # make integ-deploy YES=1

The account and region come from the usual AWS configuration (``AWS_PROFILE`` or ``--profile``,
``AWS_REGION`` / ``AWS_DEFAULT_REGION`` or ``--region``, else the profile's region, else us-east-1 as the
CDK CLI does); the region found is passed to the CDK CLI explicitly so that both agree.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

ROOT = Path(__file__).resolve().parent.parent
INTEG_DIR = ROOT / "integ"
APP_FILE = INTEG_DIR / "integ_dataset_import.py"
CLI = ROOT / "node_modules" / ".bin" / "cdk"
DEFAULT_OUTPUT = INTEG_DIR / "cdk.out"
CDK_DEFAULT_REGION = "us-east-1"  # the CDK CLI's region when the configuration names none
STACK_TYPE = "aws:cloudformation:stack"
ASSET_MANIFEST_TYPE = "cdk:asset-manifest"
ASSERTION_TYPE_PREFIX = "Custom::DeployAssert@"
IMPORT_TYPE = "Custom::PersonalizeDatasetImport"
WIDTH = 100  # of the printed paragraphs
_RETAINED = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})
# The CDK CLI's own switches: no notices, version check or telemetry (offline, reproducible output).
CDK_ENV = {
    "CDK_DISABLE_CLI_TELEMETRY": "1",
    "CDK_DISABLE_VERSION_CHECK": "1",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}
# What the integ snapshot is synthesized without (integ/cdk.json says the same).
SYNTH_FLAGS = ("--no-notices", "--no-version-reporting", "--no-path-metadata", "--no-asset-metadata", "--quiet")

DURATION = (
    "Time: creating a dataset group and dataset takes a minute or two; each import job of about 1,500 "
    "rows typically takes 5 to 20 minutes, the failing one about as long before it fails (its assertion "
    "polls once a minute, for up to an hour). Count 30 to 60 minutes for deploy and destroy."
)
COST = (
    "Cost (see the AWS pricing pages 'Amazon Personalize pricing', 'AWS Lambda pricing', 'AWS Step Functions "
    "pricing', 'Amazon S3 pricing' and 'Amazon CloudWatch pricing'): Personalize charges data ingestion per "
    "GB, and this run imports {kilobytes} KB, a tiny fraction of a GB. No solution, solution version or "
    "campaign is created: training and campaigns are where Personalize costs add up. The Lambda functions "
    "(billed per request and GB-second) run for minutes in total; the Step Functions waiters (billed per "
    "state transition) make tens to a few hundred transitions; S3 holds a few MB of assets and data; "
    "CloudWatch Logs takes the functions' logs. Expect cents, not dollars, for a complete run. What the "
    "destroy leaves by design (the retained buckets and log groups) and the assets left in the CDK bootstrap "
    "bucket cost storage only, until deleted."
)


# --- The cloud assembly -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackInfo:
    """One stack artifact of the cloud assembly."""

    artifact_id: str
    stack_name: str  # the CloudFormation stack name
    display_name: str  # the construct path, which ``cdk deploy STACK`` also accepts
    depends_on: tuple[str, ...]  # artifact ids of the stacks deployed before this one
    template: Mapping[str, Any]

    @property
    def resources(self) -> Mapping[str, Any]:
        resources: Mapping[str, Any] = self.template.get("Resources", {})
        return resources

    @property
    def is_assertion_stack(self) -> bool:
        return any(str(r.get("Type", "")).startswith(ASSERTION_TYPE_PREFIX) for r in self.resources.values())

    def retained(self) -> list[tuple[str, str]]:
        """``(logical id, type)`` of the resources a destroy leaves in the account (``DeletionPolicy``)."""
        return sorted(
            (logical_id, str(resource["Type"]))
            for logical_id, resource in self.resources.items()
            if resource.get("DeletionPolicy") in _RETAINED
        )


@dataclass(frozen=True)
class DataFile:
    """A CSV file among a stack's file assets: data an import uploads."""

    stack_name: str
    name: str
    rows: int  # without the header
    size: int  # bytes


@dataclass(frozen=True)
class Assembly:
    directory: Path
    stacks: tuple[StackInfo, ...]  # dependencies first: the order of a deploy
    data_files: tuple[DataFile, ...] = field(default=())

    def resource_counts(self) -> Counter[str]:
        return Counter(str(r["Type"]) for stack in self.stacks for r in stack.resources.values())

    def dataset_group_names(self) -> list[str]:
        return sorted(
            str(r["Properties"]["Name"])
            for stack in self.stacks
            for r in stack.resources.values()
            if r["Type"] == "AWS::Personalize::DatasetGroup" and isinstance(r.get("Properties", {}).get("Name"), str)
        )


def _deploy_order(stacks: Mapping[str, StackInfo]) -> list[StackInfo]:
    """Dependencies first, otherwise in the manifest's order (the order the CDK CLI deploys them in)."""
    ordered: list[StackInfo] = []
    done: set[str] = set()

    def visit(artifact_id: str, path: tuple[str, ...]) -> None:
        if artifact_id in done:
            return
        if artifact_id in path:
            raise ValueError(f"dependency cycle between stacks: {' -> '.join((*path, artifact_id))}")
        for dependency in stacks[artifact_id].depends_on:
            visit(dependency, (*path, artifact_id))
        done.add(artifact_id)
        ordered.append(stacks[artifact_id])

    for artifact_id in stacks:
        visit(artifact_id, ())
    return ordered


def _data_files(directory: Path, stack_name: str, asset_manifest: Path) -> list[DataFile]:
    """The CSV files among the file assets a stack's asset manifest lists."""
    files: Mapping[str, Any] = json.loads(asset_manifest.read_text(encoding="utf-8")).get("files", {})
    found = []
    for asset in files.values():
        source = directory / str(asset.get("source", {}).get("path", ""))
        if not source.is_dir():
            continue
        for csv in sorted(source.rglob("*.csv")):
            with csv.open("rb") as handle:
                lines = sum(1 for _ in handle)
            found.append(DataFile(stack_name, csv.name, rows=max(lines - 1, 0), size=csv.stat().st_size))
    return found


def read_assembly(directory: Path) -> Assembly:
    """The stacks of a synthesized cloud assembly (``manifest.json``), dependencies first."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    artifacts: Mapping[str, Any] = manifest.get("artifacts", {})
    stack_ids = {key for key, artifact in artifacts.items() if artifact.get("type") == STACK_TYPE}
    stacks = {}
    data: list[DataFile] = []
    for artifact_id, artifact in artifacts.items():
        if artifact_id not in stack_ids:
            continue
        properties = artifact.get("properties", {})
        dependencies = artifact.get("dependencies", [])
        stack = StackInfo(
            artifact_id=artifact_id,
            stack_name=str(properties.get("stackName", artifact_id)),
            display_name=str(artifact.get("displayName", artifact_id)),
            depends_on=tuple(d for d in dependencies if d in stack_ids),
            template=json.loads((directory / properties["templateFile"]).read_text(encoding="utf-8")),
        )
        stacks[artifact_id] = stack
        for dependency in dependencies:
            dependency_artifact = artifacts.get(dependency, {})
            if dependency_artifact.get("type") == ASSET_MANIFEST_TYPE:
                asset_manifest = directory / dependency_artifact["properties"]["file"]
                data += _data_files(directory, stack.stack_name, asset_manifest)
    return Assembly(directory=directory, stacks=tuple(_deploy_order(stacks)), data_files=tuple(data))


# --- Commands -----------------------------------------------------------------------------------------


def _shown(path: Path) -> str:
    """A path as the commands use it: relative to integ/ (their working directory) inside the repository."""
    path = Path(os.path.abspath(path))
    if path.is_relative_to(ROOT):
        return os.path.relpath(path, INTEG_DIR)
    return str(path)


def default_python() -> Path:
    """The interpreter that runs the integ app: this one (the project's venv when run from the Makefile)."""
    return Path(sys.executable)


@dataclass(frozen=True)
class Commands:
    """The three CDK CLI command lines of a run; each runs in ``integ/`` (``cwd``)."""

    synth: list[str]
    deploy: list[str]
    destroy: list[str]
    cwd: Path = INTEG_DIR


def commands(output: Path, *, python: Path, profile: str | None = None) -> Commands:
    cli = _shown(CLI)
    app = f"{shlex.quote(_shown(python))} {shlex.quote(_shown(APP_FILE))}"
    assembly = _shown(output)
    aws = ["--profile", profile] if profile else []
    return Commands(
        synth=[cli, "synth", "--app", app, "--output", assembly, *SYNTH_FLAGS],
        deploy=[cli, "deploy", "--app", assembly, "--all", "--require-approval", "never", "--no-notices", *aws],
        destroy=[cli, "destroy", "--app", assembly, "--all", "--force", "--no-notices", *aws],
    )


def offline_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without any AWS configuration or credentials: a synth that cannot reach AWS."""
    env = {key: value for key, value in environ.items() if not key.startswith("AWS_")}
    env.update(CDK_ENV)
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def deploy_environment(environ: Mapping[str, str], region: str) -> dict[str, str]:
    """``environ`` with the region the run printed, so that the CDK CLI uses that one."""
    return {**environ, **CDK_ENV, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}


# --- AWS (real runs only) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    account: str
    region: str
    caller: str  # the ARN the credentials belong to


class Aws(Protocol):
    """What a real run asks AWS, besides what the CDK CLI does."""

    def target(self) -> Target: ...

    def physical_ids(self, stack_name: str, logical_ids: Sequence[str]) -> dict[str, str]: ...

    def dataset_groups(self, names: Sequence[str]) -> list[tuple[str, str]]: ...


class Boto3Aws:
    """``Aws`` through boto3, imported only here: a dry run never loads it."""

    def __init__(self, *, profile: str | None, region: str | None) -> None:
        import boto3  # noqa: PLC0415 (a dry run must not load the AWS SDK)

        self._session = boto3.Session(profile_name=profile, region_name=region)
        self.region = self._session.region_name or CDK_DEFAULT_REGION

    def target(self) -> Target:
        sts: Any = self._session.client("sts", region_name=self.region)
        identity = sts.get_caller_identity()
        return Target(account=str(identity["Account"]), region=self.region, caller=str(identity["Arn"]))

    def physical_ids(self, stack_name: str, logical_ids: Sequence[str]) -> dict[str, str]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        cloudformation: Any = self._session.client("cloudformation", region_name=self.region)
        found: dict[str, str] = {}
        try:
            for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
                for summary in page["StackResourceSummaries"]:
                    if summary["LogicalResourceId"] in logical_ids and summary.get("PhysicalResourceId"):
                        found[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
        except (BotoCoreError, ClientError):  # no such stack (never created): nothing kept from it
            pass
        return found

    def dataset_groups(self, names: Sequence[str]) -> list[tuple[str, str]]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        personalize = self._session.client("personalize", region_name=self.region)
        left: list[tuple[str, str]] = []
        try:
            for page in personalize.get_paginator("list_dataset_groups").paginate():
                for group in page.get("datasetGroups", []):
                    if group.get("name") in names:
                        left.append((str(group["name"]), str(group.get("status", "?"))))
        except (BotoCoreError, ClientError) as error:
            left.append(("(could not list dataset groups)", str(error)))
        return left


# --- The run ------------------------------------------------------------------------------------------

Runner = Callable[[Sequence[str], Path, Mapping[str, str]], int]


def run_command(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> int:
    """Run a command with inherited stdin/stdout/stderr; its exit status."""
    return subprocess.run(list(argv), cwd=cwd, env=dict(env), check=False).returncode


def _kilobytes(size: int) -> str:
    return f"{size / 1000:,.0f}"


def describe(assembly: Assembly, out: TextIO) -> None:
    """The stacks, what they create, and what a run costs and takes."""
    counts = assembly.resource_counts()
    print(
        f"The cloud assembly {_from_root(assembly.directory)} holds {len(assembly.stacks)} stacks; each is deployed "
        "after the stacks it depends on and destroyed before them:",
        file=out,
    )
    for stack in assembly.stacks:
        notes = []
        if stack.display_name != stack.stack_name:
            notes.append(stack.display_name)
        if stack.is_assertion_stack:
            notes.append("assertions")
        if stack.depends_on:
            notes.append("after " + ", ".join(stack.depends_on))
        print(f"  {stack.stack_name}" + (f" ({'; '.join(notes)})" if notes else ""), file=out)

    print("What the stacks create:", file=out)
    groups = assembly.dataset_group_names()
    print(
        f"  Personalize: {counts['AWS::Personalize::DatasetGroup']} dataset groups ({', '.join(groups)}), "
        f"{counts['AWS::Personalize::Schema']} schemas, {counts['AWS::Personalize::Dataset']} datasets, "
        f"{counts[IMPORT_TYPE]} dataset import jobs",
        file=out,
    )
    for data in assembly.data_files:
        print(f"    {data.stack_name} imports {data.name}: {data.rows:,} rows, {_kilobytes(data.size)} KB", file=out)
    assertions = sum(n for kind, n in counts.items() if kind.startswith(ASSERTION_TYPE_PREFIX))
    print(
        f"  {counts['AWS::S3::Bucket']} S3 buckets, {counts['AWS::Lambda::Function']} Lambda functions, "
        f"{counts['AWS::StepFunctions::StateMachine']} Step Functions state machines, "
        f"{counts['AWS::Logs::LogGroup']} log groups, {counts['AWS::IAM::Role']} IAM roles; "
        f"{assertions} API-call assertions",
        file=out,
    )
    retained = Counter(kind for stack in assembly.stacks for _, kind in stack.retained())
    if retained:
        kept = ", ".join(f"{n} {kind}" for kind, n in sorted(retained.items()))
        print(f"  kept after the destroy by design (DeletionPolicy Retain): {kept}", file=out)
    print(textwrap.fill(DURATION, WIDTH), file=out)
    print(textwrap.fill(COST.format(kilobytes=_kilobytes(sum(d.size for d in assembly.data_files))), WIDTH), file=out)


def _from_root(path: Path) -> str:
    path = Path(os.path.abspath(path))
    return os.path.relpath(path, ROOT) if path.is_relative_to(ROOT) else str(path)


def _print_commands(cmds: Commands, out: TextIO, *, prefix: str) -> None:
    print(f"{prefix}:", file=out)
    print(f"  cd {_from_root(cmds.cwd)}", file=out)
    print(f"  {shlex.join(cmds.deploy)}", file=out)
    print(f"  {shlex.join(cmds.destroy)}    # always, also after a failed deploy", file=out)


def _confirm(target: Target, ask: Callable[[str], str]) -> bool:
    try:
        answer = ask(f"Deploy into account {target.account}, region {target.region}, then destroy? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def _kept(assembly: Assembly, aws: Aws, out: TextIO) -> dict[str, dict[str, str]]:
    """The names of what the destroy will leave (looked up before it, while the stacks still say); never raises."""
    kept: dict[str, dict[str, str]] = {}
    try:
        for stack in assembly.stacks:
            retained = [logical_id for logical_id, _ in stack.retained()]
            if retained:
                kept[stack.stack_name] = aws.physical_ids(stack.stack_name, retained)
    except Exception as error:  # noqa: BLE001 (a lookup must not stand between the deploy and the destroy)
        print(f"integ: could not look up the retained resources ({type(error).__name__}: {error})", file=out)
    return kept


def _report_left(assembly: Assembly, kept: Mapping[str, Mapping[str, str]], aws: Aws, out: TextIO) -> None:
    lines = []
    for stack in assembly.stacks:
        for logical_id, kind in stack.retained():
            physical = kept.get(stack.stack_name, {}).get(logical_id)
            if physical:
                lines.append(f"  {kind} {physical}  ({stack.stack_name}/{logical_id})")
    if lines:
        print("Kept in the account by design (DeletionPolicy Retain); delete them when no longer wanted:", file=out)
        print("\n".join(lines), file=out)
        print("  (aws s3 rb s3://BUCKET --force; aws logs delete-log-group --log-group-name NAME)", file=out)
    left = aws.dataset_groups(assembly.dataset_group_names())
    if left:
        print("Personalize dataset groups still there (a delete may still be under way; check again later):", file=out)
        for name, status in left:
            print(f"  {name}: {status}", file=out)


def run(
    *,
    output: Path,
    python: Path,
    dry_run: bool,
    yes: bool,
    profile: str | None = None,
    region: str | None = None,
    runner: Runner = run_command,
    aws_factory: Callable[[str | None, str | None], Aws] | None = None,
    ask: Callable[[str], str] = input,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    """One run (see the module docstring); the exit status."""
    out = out or sys.stdout
    environ = dict(os.environ if environ is None else environ)
    cmds = commands(output, python=python, profile=profile)

    print("Synthesizing the integ app offline (no AWS configuration reaches the synth):", file=out)
    print(f"  cd {_from_root(cmds.cwd)}", file=out)
    print(f"  {shlex.join(cmds.synth)}", file=out, flush=True)
    status = runner(cmds.synth, cmds.cwd, offline_environment(environ))
    if status != 0:
        print(f"integ: the synth failed (exit status {status}); nothing deployed", file=out)
        return 1
    assembly = read_assembly(output)
    describe(assembly, out)

    if dry_run:
        region_source = next(
            (f"{key}={environ[key]}" for key in ("AWS_REGION", "AWS_DEFAULT_REGION") if environ.get(key)), None
        )
        where = f"--region {region}" if region else region_source or "the profile's configuration, else us-east-1"
        credentials = f"the credentials of --profile {profile}" if profile else "the configured credentials"
        text = (
            "Account and region: not resolved in a dry run (no AWS call). A real run prints them before asking: "
            f"the account from STS GetCallerIdentity with {credentials}, the region from {where}."
        )
        print(textwrap.fill(text, WIDTH), file=out)
        _print_commands(cmds, out, prefix="Would run")
        print("Dry run: nothing deployed, no AWS call made.", file=out)
        return 0

    factory = aws_factory or (lambda p, r: Boto3Aws(profile=p, region=r))
    aws = factory(profile, region)
    try:
        target = aws.target()
    except Exception as error:  # noqa: BLE001 (no credentials, expired token, no network: say so, deploy nothing)
        print(f"integ: cannot resolve the AWS account ({type(error).__name__}: {error}); nothing deployed", file=out)
        return 1
    print(f"Account: {target.account} (as {target.caller})", file=out)
    print(f"Region:  {target.region}", file=out)
    print(
        f"  (bootstrapped for the CDK? if not: {_shown(CLI)} bootstrap aws://{target.account}/{target.region})",
        file=out,
    )
    _print_commands(cmds, out, prefix="Will run")
    if not yes and not _confirm(target, ask):
        print("integ: not confirmed; nothing deployed (pass --yes, or YES=1 to make, to skip the question)", file=out)
        return 1

    env = deploy_environment(environ, target.region)
    return deploy_and_destroy(cmds, assembly, aws, env=env, runner=runner, out=out)


def deploy_and_destroy(
    cmds: Commands, assembly: Assembly, aws: Aws, *, env: Mapping[str, str], runner: Runner, out: TextIO
) -> int:
    """The deploy, then the destroy whatever became of it; 0 only if both succeeded."""
    deployed, interrupted = 1, False
    try:
        deployed = runner(cmds.deploy, cmds.cwd, env)
    except KeyboardInterrupt:
        interrupted = True
        print("\ninteg: interrupted; destroying what was deployed", file=out)
    finally:  # whatever became of the deploy
        kept = _kept(assembly, aws, out)
        destroyed = runner(cmds.destroy, cmds.cwd, env)
    _report_left(assembly, kept, aws, out)
    if interrupted:
        print("integ: FAILED: interrupted during the deploy", file=out)
        return 130
    if deployed != 0:
        print(f"integ: FAILED: the deploy (or one of its assertions) failed, exit status {deployed}", file=out)
    if destroyed != 0:
        print(f"integ: the destroy failed (exit status {destroyed}): check CloudFormation for stacks left", file=out)
    if deployed == 0 and destroyed == 0:
        print("integ: passed: every stack deployed, every assertion held, every stack destroyed", file=out)
        return 0
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dry-run", action="store_true", help="synthesize and print the commands; no AWS call")
    parser.add_argument("--yes", action="store_true", help="deploy without asking for confirmation")
    parser.add_argument("--profile", help="AWS profile for the account lookup and the CDK CLI")
    parser.add_argument("--region", help="region to deploy into (default: the AWS configuration's)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="cloud assembly directory")
    parser.add_argument("--python", type=Path, default=default_python(), help="interpreter that runs the app")
    options = parser.parse_args(argv)
    if not CLI.exists():
        print(f"integ: {CLI} is missing: run `npm ci` (or `make synth`) first", file=sys.stderr)
        return 1
    return run(
        output=options.output,
        python=options.python,
        dry_run=options.dry_run,
        yes=options.yes,
        profile=options.profile,
        region=options.region,
    )


if __name__ == "__main__":
    sys.exit(main())
