#!/usr/bin/env python3
"""Synth cost of N ``DatasetImport``s against the same stack written with native Personalize import jobs.

For N = 1, 10 and 30 imports of local data (N distinct copies of ``data/interactions/``, one row
varied in each so every asset differs), two stacks with one dataset group and N interactions
datasets (a ``CfnSchema`` and a ``CfnDataset`` each):
- "ours": N ``DatasetImport(data=DataSource.from_asset(folder), schema=DatasetSchema.interactions())``,
  the pre-flight cache in a fresh directory (cold, as in CI); "ours-warm" (N=10 and 30): the same
  stack again with the cache its cold run just filled (an unchanged re-synth);
- "native": aws-cdk-lib only: one data bucket (+ Personalize's bucket policy statement), one role,
  N ``BucketDeployment``s to distinct prefixes and N ``CfnDataset(dataset_import_job=...)``.
Both synthesize as ``cdk synth`` does: aws-cdk-lib's validation on (its built-in CloudFormation
validation included), no cdk-nag plugin; the context is cdk.json's.

Every measurement is a fresh Python process (this file with ``--child``), ours and native
alternating, ``--pairs`` rounds (default 3), medians reported. Inside the process: the import of
aws_cdk (+ the library), the construct building and ``app.synth()``, each in wall time and in CPU
time (this process + the jsii node processes). "Synth" in the tables is building + ``app.synth()``:
the whole-stack cost beyond the imports.

Targets, judged on the medians' wall time as ``cdk synth`` runs (a verdict is marked "noisy" when
the individual pairs fall on both sides of the limit): from N=10 to N=30 the library adds <= 3
resources and no Lambda function per additional import (the stack's own CfnSchema + CfnDataset per
dataset not counted) and its synth cost per additional import is <= 2x native's; the whole-stack
synth at N=10 is <= 1.3x native's. aws-cdk-lib's CloudFormation validation costs seconds of fixed,
noisy CPU per synth, so N=10 and N=30 are also measured with ``CDK_VALIDATION=false``, for reference.

Last, both stacks at N=10 and N=30 are profiled (cProfile, cold cache, ``CDK_VALIDATION=false``, a
fresh process each): the library's functions by cumulative time per additional import, and the jsii
kernel requests per additional import, by the innermost library function that made them and by kind.

The library is copied once at the start (the work tree, or ``--rev`` a git revision of it), so every
process of a run measures the same code even while the work tree changes.

    .venv/bin/python bench/synth_cost.py [--pairs 3] [--sizes 1,10,30] [--warm-sizes 10,30]
                                         [--no-baseline] [--no-profile] [--rev HEAD]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LIBRARY_ENV = "SYNTH_COST_LIBRARY"  # the snapshot of the library every process of one run measures
LIBRARY_ROOT = Path(os.environ.get(LIBRARY_ENV) or REPO)
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(LIBRARY_ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

SAMPLE = REPO / "data" / "interactions" / "interactions.csv"
STACK_NAME = "SynthCost"
ACCOUNT, REGION = "123456789012", "eu-west-1"
CACHE_ENV = "CONSTRUCTS_PERSONALIZE_CACHE_DIR"
OUTDIR_ENV = "SYNTH_COST_OUTDIR"
PERSONALIZE_RESOURCES_PER_DATASET = 2  # the stack's own CfnSchema + CfnDataset, not the library's
PHASES = ("import_cdk", "import_lib", "build", "synth")
OUTSIDE = "(outside the library)"
LOW, HIGH = 10, 30  # the marginal figures and the profile: from N=10 to N=30
MAX_LIBRARY_RESOURCES = 3
MAX_MARGINAL_RATIO = 2.0
MAX_STACK_RATIO = 1.3
TOP = 12

# DatasetSchema.interactions().to_json(), written out: the native stack does not import the library.
INTERACTIONS_AVRO = json.dumps(
    {
        "type": "record",
        "name": "Interactions",
        "namespace": "com.amazonaws.personalize.schema",
        "fields": [
            {"name": "USER_ID", "type": "string"},
            {"name": "ITEM_ID", "type": "string"},
            {"name": "TIMESTAMP", "type": "long"},
            {"name": "EVENT_TYPE", "type": "string"},
        ],
        "version": "1.0",
    },
    separators=(",", ":"),
)


# ---------------------------------------------------------------------------------------------------
# The child: one measurement in a fresh process
# ---------------------------------------------------------------------------------------------------


def _import_cdk() -> None:
    """The aws_cdk modules both stacks' own code uses (the jsii assembly loads with the first)."""
    import aws_cdk  # noqa: F401, PLC0415
    from aws_cdk import aws_iam, aws_personalize, aws_s3, aws_s3_deployment  # noqa: F401, PLC0415


def _context() -> dict[str, Any]:
    """The feature flags ``cdk synth`` would pass from the project's cdk.json."""
    try:
        context = json.loads((REPO / "cdk.json").read_text())["context"]
    except (OSError, ValueError, KeyError):
        return {}
    return dict(context) if isinstance(context, dict) else {}


def build_ours(folders: list[Path]) -> Any:
    """The stack with N ``DatasetImport``s; returns the App."""
    from aws_cdk import App, Environment, Stack  # noqa: PLC0415
    from aws_cdk import aws_personalize as personalize  # noqa: PLC0415

    from constructs_personalize import DatasetImport, DatasetSchema, DataSource  # noqa: PLC0415

    app = App(outdir=os.environ[OUTDIR_ENV], context=_context())
    stack = Stack(app, STACK_NAME, env=Environment(account=ACCOUNT, region=REGION))
    group = personalize.CfnDatasetGroup(stack, "DatasetGroup", name="synth-cost")
    schema = DatasetSchema.interactions()
    for index, folder in enumerate(folders):
        cfn_schema = personalize.CfnSchema(stack, f"Schema{index}", name=f"synth-cost-{index}", schema=schema.to_json())
        dataset = personalize.CfnDataset(
            stack,
            f"Dataset{index}",
            name=f"synth-cost-interactions-{index}",
            dataset_group_arn=group.attr_dataset_group_arn,
            dataset_type="Interactions",
            schema_arn=cfn_schema.attr_schema_arn,
        )
        DatasetImport(
            stack,
            f"Import{index}",
            dataset_arn=dataset.attr_dataset_arn,
            data=DataSource.from_asset(folder),
            schema=schema,
        )
    return app


def build_native(folders: list[Path]) -> Any:
    """The same stack with aws-cdk-lib only: bucket, role, BucketDeployments, CfnDataset import jobs."""
    from aws_cdk import App, Environment, Stack  # noqa: PLC0415
    from aws_cdk import aws_iam as iam  # noqa: PLC0415
    from aws_cdk import aws_personalize as personalize  # noqa: PLC0415
    from aws_cdk import aws_s3 as s3  # noqa: PLC0415
    from aws_cdk import aws_s3_deployment as s3_deployment  # noqa: PLC0415

    app = App(outdir=os.environ[OUTDIR_ENV], context=_context())
    stack = Stack(app, STACK_NAME, env=Environment(account=ACCOUNT, region=REGION))
    group = personalize.CfnDatasetGroup(stack, "DatasetGroup", name="synth-cost")
    bucket = s3.Bucket(
        stack,
        "DataBucket",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
    )
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("personalize.amazonaws.com")],
            actions=["s3:GetObject", "s3:ListBucket"],
            resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
        )
    )
    role = iam.Role(stack, "ImportRole", assumed_by=iam.ServicePrincipal("personalize.amazonaws.com"))
    bucket.grant_read(role)
    for index, folder in enumerate(folders):
        prefix = f"import-{index}/"
        upload = s3_deployment.BucketDeployment(
            stack,
            f"Upload{index}",
            sources=[s3_deployment.Source.asset(str(folder))],
            destination_bucket=bucket,
            destination_key_prefix=prefix,
        )
        cfn_schema = personalize.CfnSchema(
            stack, f"Schema{index}", name=f"synth-cost-{index}", schema=INTERACTIONS_AVRO
        )
        dataset = personalize.CfnDataset(
            stack,
            f"Dataset{index}",
            name=f"synth-cost-interactions-{index}",
            dataset_group_arn=group.attr_dataset_group_arn,
            dataset_type="Interactions",
            schema_arn=cfn_schema.attr_schema_arn,
            dataset_import_job=personalize.CfnDataset.DatasetImportJobProperty(
                # data_source is typed Any (JSON): CfnDataset.DataSourceProperty(data_location=...) would
                # render as "dataLocation", which CloudFormation rejects. Written as CloudFormation spells it.
                data_source={"DataLocation": f"s3://{bucket.bucket_name}/{prefix}"},
                role_arn=role.role_arn,
                job_name=f"synth-cost-import-{index}",
            ),
        )
        # The job starts when the dataset is created: after the upload and the read permissions.
        dataset.node.add_dependency(upload, role)
        if bucket.policy is not None:
            dataset.node.add_dependency(bucket.policy)
    return app


def _template_counts(outdir: Path) -> dict[str, int]:
    template = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    types = Counter(entry["Type"] for entry in template.get("Resources", {}).values())
    return {
        "resources": sum(types.values()),
        "lambda_functions": types["AWS::Lambda::Function"],
        "layers": types["AWS::Lambda::LayerVersion"],
    }


def _node_cpu() -> float:
    """CPU seconds of the jsii kernel's node processes (the runtime and the program it runs), Linux only."""
    try:
        from jsii._runtime import kernel  # noqa: PLC0415

        pids = [int(kernel.provider._process._process.pid)]  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        return 0.0
    total = 0
    while pids:
        pid = pids.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
            for task in Path(f"/proc/{pid}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def _cpu() -> float:
    return time.process_time() + _node_cpu()


def run_child(variant: str, folders: list[Path]) -> dict[str, Any]:
    """Import, build, synth: each phase's wall and CPU seconds, and the template's counts."""
    marks = [(time.perf_counter(), _cpu())]
    _import_cdk()
    marks.append((time.perf_counter(), _cpu()))
    builder: Callable[[list[Path]], Any] = build_native
    if variant != "native":
        # The package loads its public names on first use: load the ones the build takes, so "import lib"
        # stays the library's whole import cost and "build" the building alone.
        from constructs_personalize import DatasetImport, DatasetSchema, DataSource  # noqa: F401, PLC0415

        builder = build_ours
    marks.append((time.perf_counter(), _cpu()))
    app = builder(folders)
    marks.append((time.perf_counter(), _cpu()))
    app.synth()
    marks.append((time.perf_counter(), _cpu()))
    report: dict[str, Any] = _template_counts(Path(os.environ[OUTDIR_ENV]))
    for index, phase in enumerate(PHASES):
        report[phase] = marks[index + 1][0] - marks[index][0]
        report[f"{phase}_cpu"] = marks[index + 1][1] - marks[index][1]
    return report


# ---------------------------------------------------------------------------------------------------
# The profiled child: cProfile + the jsii kernel round trips
# ---------------------------------------------------------------------------------------------------


@dataclass
class KernelCounter:
    """Every request this process sends the jsii kernel (create/get/set/invoke/..., replies to callbacks).

    Each is attributed to the innermost ``constructs_personalize`` function on the Python stack
    ("(outside the library)" when there is none, e.g. the stack's own code or aws-cdk-lib at synth).
    """

    phase: str = "import"
    by_kind: Counter[str] = field(default_factory=Counter)
    by_function: Counter[str] = field(default_factory=Counter)
    seconds_by_function: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    by_request: Counter[str] = field(default_factory=Counter)
    callbacks: Counter[str] = field(default_factory=Counter)

    @contextmanager
    def installed(self) -> Iterator[None]:
        from jsii._kernel.providers import process  # noqa: PLC0415

        node_process: Any = process._NodeProcess
        original = node_process.send

        def send(this: Any, request: Any, response_type: Any) -> Any:
            caller = f"{self.phase}:{_library_caller(sys._getframe(1))}"
            kind = type(request).__name__.removesuffix("Request").lstrip("_")
            start = time.perf_counter()
            response = original(this, request, response_type)
            self.seconds_by_function[caller] += time.perf_counter() - start
            self.by_kind[f"{self.phase}:{kind}"] += 1
            self.by_function[caller] += 1
            if not caller.endswith(OUTSIDE):
                self.by_request[f"{self.phase}:{kind} {_target(request)}"] += 1
            if type(response).__name__ == "Callback":
                self.callbacks[self.phase] += 1
            return response

        node_process.send = send
        try:
            yield
        finally:
            node_process.send = original


def _library_caller(frame: FrameType | None) -> str:
    library = _library_dir()
    while frame is not None:
        if frame.f_code.co_filename.startswith(library):
            return f"{_short_path(frame.f_code.co_filename)}:{frame.f_code.co_qualname}"
        frame = frame.f_back
    return OUTSIDE


def _target(request: Any) -> str:
    """What a kernel request is about: ``aws-cdk-lib.Stack.node``, ``aws-cdk-lib.aws_iam.PolicyStatement``..."""
    member = getattr(request, "property", None) or getattr(request, "method", None) or ""
    objref = getattr(request, "objref", None)
    owner = str(objref.ref).split("@", 1)[0] if objref is not None else str(getattr(request, "fqn", ""))
    return f"{owner}.{member}" if member else owner


def _library_dir() -> str:
    """Where the measured library's files are: the run's snapshot (set in the parent once it is made)."""
    return str(Path(os.environ.get(LIBRARY_ENV) or REPO) / "constructs_personalize")


def _short_path(filename: str) -> str:
    return filename[len(_library_dir()) + 1 :].removesuffix(".py").replace("/", ".")


def run_profile(variant: str, folders: list[Path], stats_file: Path) -> dict[str, Any]:
    counter = KernelCounter()
    profile = cProfile.Profile()
    with counter.installed():
        _import_cdk()
        from constructs_personalize import DatasetImport, DatasetSchema, DataSource  # noqa: F401, PLC0415

        counter.phase = "build"
        profile.enable()
        app = (build_native if variant == "native" else build_ours)(folders)
        counter.phase = "synth"
        app.synth()
        profile.disable()
    profile.dump_stats(str(stats_file))
    return {
        "by_kind": dict(counter.by_kind),
        "by_function": dict(counter.by_function),
        "seconds_by_function": dict(counter.seconds_by_function),
        "callbacks": dict(counter.callbacks),
        "by_request": dict(counter.by_request),
    }


# ---------------------------------------------------------------------------------------------------
# The parent: data, processes, medians, the report
# ---------------------------------------------------------------------------------------------------


def make_folders(root: Path, count: int) -> list[Path]:
    """``count`` folders, each the sample with its last row's timestamp shifted (distinct assets and checks)."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    user, item, timestamp, event = lines[-1].rstrip("\r\n").split(",")
    folders = []
    for index in range(count):
        folder = root / f"interactions-{index:02d}"
        folder.mkdir()
        last = f"{user},{item},{int(timestamp) + index + 1},{event}\n"
        (folder / "interactions.csv").write_text("".join([*lines[:-1], last]), encoding="utf-8")
        folders.append(folder)
    return folders


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def child(
    arguments: list[str], folders: list[Path], cache_dir: Path, scratch: Path, **extra_env: str
) -> tuple[dict[str, Any], float, float]:
    """Run one measurement in a fresh process: (its report, its wall seconds, its process tree's CPU seconds)."""
    outdir = Path(tempfile.mkdtemp(prefix="cdk.out-", dir=scratch))
    env = {**os.environ, CACHE_ENV: str(cache_dir), OUTDIR_ENV: str(outdir), **extra_env}
    command = [sys.executable, str(Path(__file__).resolve()), *arguments, *map(str, folders)]
    cpu = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    shutil.rmtree(outdir, ignore_errors=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} N={len(folders)} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1]), wall, cpu


@dataclass
class Runs:
    """The measurements of one variant at one N."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, report: dict[str, Any], wall: float, cpu: float) -> None:
        values = {key: float(report[key]) for key in report if key.startswith(PHASES)}
        values |= {
            "wall": wall,
            "wall_cpu": cpu,
            "stack": values["build"] + values["synth"],
            "stack_cpu": values["build_cpu"] + values["synth_cpu"],
        }
        for key, value in values.items():
            self.samples.setdefault(key, []).append(value)
        self.counts = {key: int(report[key]) for key in ("resources", "lambda_functions", "layers")}

    def median(self, key: str) -> float:
        return statistics.median(self.samples[key])


def measure(
    sizes: list[int], pairs: int, warm_sizes: set[int], folders: list[Path], scratch: Path, **extra_env: str
) -> dict[tuple[str, int], Runs]:
    runs: dict[tuple[str, int], Runs] = {}
    for size in sizes:
        for pair in range(pairs):
            cache_dir = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))  # fresh: the cold check runs
            # Alternate which goes first; the warm run re-uses the cache its pair's cold run filled.
            order = ["ours", "native"] if pair % 2 == 0 else ["native", "ours"]
            for variant in order + (["ours-warm"] if size in warm_sizes else []):
                report, wall, cpu = child(["--child", variant], folders[:size], cache_dir, scratch, **extra_env)
                runs.setdefault((variant, size), Runs()).add(report, wall, cpu)
            shutil.rmtree(cache_dir, ignore_errors=True)
            print(f"  measured N={size}, pair {pair + 1}/{pairs}", file=sys.stderr, flush=True)
    return runs


def report_tables(runs: dict[tuple[str, int], Runs], sizes: list[int]) -> None:
    print("Whole stack, medians. synth = building the constructs + app.synth(); cpu = the same in CPU seconds")
    print("(this process + the jsii node processes); wall = the whole process, imports and exit included")
    print(
        f"{'N':>3} {'ours s':>7} {'native s':>8} {'ratio':>6} {'warm s':>7} {'ratio':>6}  {'ours cpu':>8} "
        f"{'nat cpu':>7} {'ratio':>6}  {'wall o':>6} {'wall n':>6}  {'resources o/n':>13} {'lambdas o/n':>11} "
        f"{'layers o/n':>10}"
    )
    for size in sizes:
        ours, native = runs["ours", size], runs["native", size]
        o, n = ours.median("stack"), native.median("stack")
        oc, nc = ours.median("stack_cpu"), native.median("stack_cpu")
        warm = f"{'-':>7} {'-':>6}"
        if ("ours-warm", size) in runs:
            w = runs["ours-warm", size].median("stack")
            warm = f"{w:7.2f} {w / n:6.2f}"
        print(
            f"{size:>3} {o:7.2f} {n:8.2f} {o / n:6.2f} {warm}  {oc:8.2f} {nc:7.2f} {oc / nc:6.2f}  "
            f"{ours.median('wall'):6.1f} {native.median('wall'):6.1f}  "
            f"{ours.counts['resources']:>6}/{native.counts['resources']:<6} "
            f"{ours.counts['lambda_functions']:>5}/{native.counts['lambda_functions']:<5} "
            f"{ours.counts['layers']:>4}/{native.counts['layers']:<5}"
        )
    print()
    print("Phases, medians: wall s (cpu s). import cdk = aws_cdk and its jsii assembly; import lib = the library")
    print(f"{'N':>3} {'variant':9s} {'import cdk':>13} {'import lib':>13} {'build':>13} {'synth':>13} {'process':>13}")
    for size in sizes:
        for variant in ("ours", "native", "ours-warm"):
            if (variant, size) not in runs:
                continue
            entry = runs[variant, size]
            cells = [f"{entry.median(p):5.2f} ({entry.median(p + '_cpu'):5.2f})" for p in (*PHASES, "wall")]
            print(f"{size:>3} {variant:9s} " + " ".join(f"{cell:>13}" for cell in cells))
    print()


@dataclass(frozen=True)
class Ratio:
    """ours / native: of the medians, and of each pair (ours and native measured back to back)."""

    median: float
    pairs: list[float]

    @classmethod
    def of(cls, ours: float, native: float, ours_pairs: list[float], native_pairs: list[float]) -> Ratio:
        return cls(_divide(ours, native), [_divide(o, n) for o, n in zip(ours_pairs, native_pairs, strict=False)])

    def verdict(self, limit: float) -> str:
        """PASS / FAIL by the median; "(noisy)" when the pairs fall on both sides of the limit."""
        verdict = "PASS" if self.median <= limit else "FAIL"
        return f"{verdict} (noisy)" if min(self.pairs) <= limit < max(self.pairs) else verdict

    def __str__(self) -> str:
        return f"{self.median:.2f}x (pairs {min(self.pairs):.2f}..{max(self.pairs):.2f})"


def _divide(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("inf")


def _marginal_ms(runs: dict[tuple[str, int], Runs], variant: str, key: str) -> tuple[float, list[float]]:
    """Milliseconds per additional import from N=LOW to N=HIGH: of the medians, and of each pair."""
    low, high = runs[variant, LOW].samples[key], runs[variant, HIGH].samples[key]
    pairs = [(b - a) / (HIGH - LOW) * 1000 for a, b in zip(low, high, strict=False)]
    return (statistics.median(high) - statistics.median(low)) / (HIGH - LOW) * 1000, pairs


def report_marginal(runs: dict[tuple[str, int], Runs], label: str) -> dict[str, Ratio]:
    """Print the marginal and absolute figures of one configuration; their ratios (marginal_wall, stack_cpu...)."""
    print(f"Per additional import from N={LOW} to N={HIGH}, {label}")
    ratios: dict[str, Ratio] = {}
    for unit, suffix in (("wall", ""), ("cpu", "_cpu")):
        (ours, ours_pairs), (native, native_pairs) = (
            _marginal_ms(runs, v, "stack" + suffix) for v in ("ours", "native")
        )
        ratios[f"marginal_{unit}"] = ratio = Ratio.of(ours, native, ours_pairs, native_pairs)
        parts = {
            variant: ", ".join(f"{p} {_marginal_ms(runs, variant, p + suffix)[0]:.0f}" for p in ("build", "synth"))
            for variant in ("ours", "native")
        }
        warm = ""
        if ("ours-warm", LOW) in runs and ("ours-warm", HIGH) in runs:
            warm = f"; ours, warm cache {_marginal_ms(runs, 'ours-warm', 'stack' + suffix)[0]:.0f} ms"
        print(
            f"  synth cost, {unit:4s}: ours {ours:3.0f} ms [{parts['ours']}; pairs "
            f"{min(ours_pairs):.0f}..{max(ours_pairs):.0f}], native {native:3.0f} ms [{parts['native']}; pairs "
            f"{min(native_pairs):.0f}..{max(native_pairs):.0f}], ratio {ratio}{warm}"
        )
    for unit, suffix in (("wall", ""), ("cpu", "_cpu")):
        ours_runs, native_runs = runs["ours", LOW], runs["native", LOW]
        ours_s, native_s = ours_runs.median("stack" + suffix), native_runs.median("stack" + suffix)
        ratios[f"stack_{unit}"] = ratio = Ratio.of(
            ours_s, native_s, ours_runs.samples["stack" + suffix], native_runs.samples["stack" + suffix]
        )
        warm = ""
        if ("ours-warm", LOW) in runs:
            warm = f" (warm cache {runs['ours-warm', LOW].median('stack' + suffix) - native_s:+.2f} s)"
        process = ours_runs.median("wall" + suffix) - native_runs.median("wall" + suffix)
        print(
            f"  overhead at N={LOW}, {unit:4s}: {ours_s - native_s:+.2f} s per stack{warm} = "
            f"{(ours_s - native_s) / LOW * 1000:+.0f} ms per import, ratio {ratio}; whole process {process:+.2f} s"
        )
    return ratios


def report_targets(runs: dict[tuple[str, int], Runs], baseline: dict[tuple[str, int], Runs] | None) -> str:
    """Print the resources, the marginal and absolute figures and the targets; the overall verdict, as a line."""
    steps = HIGH - LOW

    def extra(variant: str, count: str) -> float:
        return (runs[variant, HIGH].counts[count] - runs[variant, LOW].counts[count]) / steps

    resources = extra("ours", "resources")
    library_resources = resources - PERSONALIZE_RESOURCES_PER_DATASET
    lambdas = extra("ours", "lambda_functions")
    print(f"Per additional import from N={LOW} to N={HIGH}, resources")
    print(
        f"  resources: ours +{resources:.2f} (the stack's own CfnSchema + CfnDataset: "
        f"{PERSONALIZE_RESOURCES_PER_DATASET}; the library's +{library_resources:.2f}), "
        f"native +{extra('native', 'resources'):.2f}"
    )
    print(
        f"  Lambda functions: ours +{lambdas:.2f}, native +{extra('native', 'lambda_functions'):.2f}; "
        f"layers: ours +{extra('ours', 'layers'):.2f}, native +{extra('native', 'layers'):.2f}"
    )
    ratios = report_marginal(runs, "as cdk synth (CloudFormation validation on)")
    reference = None
    if baseline is not None:
        reference = report_marginal(baseline, "CDK_VALIDATION=false (without the validation's fixed cost and noise)")
    print()
    print(
        "Targets, judged on the medians' wall time as cdk synth runs ((noisy): the pairs fall on both sides); "
        "CPU time and CDK_VALIDATION=false for reference"
    )
    resources_ok = library_resources <= MAX_LIBRARY_RESOURCES and lambdas == 0
    verdicts = ["PASS" if resources_ok else "FAIL"]
    print(
        f"  {verdicts[0]:13s} library resources per additional import <= {MAX_LIBRARY_RESOURCES} and no Lambda "
        f"function (+{library_resources:.2f}, +{lambdas:.2f})"
    )
    for key, limit, text in (
        ("marginal", MAX_MARGINAL_RATIO, f"marginal synth cost per import <= {MAX_MARGINAL_RATIO:.0f}x native's"),
        ("stack", MAX_STACK_RATIO, f"whole-stack synth at N={LOW} <= {MAX_STACK_RATIO}x native's"),
    ):
        wall, cpu = ratios[f"{key}_wall"], ratios[f"{key}_cpu"]
        verdicts.append(wall.verdict(limit))
        print(f"  {verdicts[-1]:13s} {text}: {wall}; cpu {cpu.verdict(limit)} {cpu}")
        if reference is not None:
            wall, cpu = reference[f"{key}_wall"], reference[f"{key}_cpu"]
            print(f"  {'':13s}   CDK_VALIDATION=false: {wall.verdict(limit)} {wall}; cpu {cpu.verdict(limit)} {cpu}")
    noisy = sum("noisy" in verdict for verdict in verdicts)
    met = all(verdict.startswith("PASS") for verdict in verdicts)
    return ("targets met" if met else "TARGETS MISSED") + (f" ({noisy} of them within the noise)" if noisy else "")


def _library_stats(stats_file: Path) -> tuple[dict[str, tuple[int, float]], float]:
    """({library function: (calls, cumulative seconds)}, total seconds) from a cProfile dump."""
    stats = pstats.Stats(str(stats_file))
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = vars(stats)["stats"]  # not in typeshed
    functions = {
        f"{_short_path(filename)}:{line}({name})": (calls, cumulative)
        for (filename, line, name), (_, calls, _own, cumulative, _callers) in raw.items()
        if filename.startswith(_library_dir())
    }
    return functions, float(vars(stats)["total_tt"])


def report_profile(folders: list[Path], scratch: Path) -> None:
    steps = HIGH - LOW
    stats: dict[tuple[str, int], tuple[dict[str, tuple[int, float]], float]] = {}
    kernel: dict[tuple[str, int], dict[str, dict[str, float]]] = {}
    for variant in ("ours", "native"):
        for size in (LOW, HIGH):
            stats_file = scratch / f"profile-{variant}-{size}.pstats"
            cache_dir = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
            arguments = ["--profile", variant, str(stats_file)]
            # The built-in CloudFormation validation (seconds of fixed node time) makes no kernel request and
            # calls no library code: off here, so the per-import differences are not lost in its noise.
            kernel[variant, size], _, _ = child(arguments, folders[:size], cache_dir, scratch, CDK_VALIDATION="false")
            stats[variant, size] = _library_stats(stats_file)

    def per_import(variant: str, key: str) -> dict[str, float]:
        low, high = kernel[variant, LOW].get(key, {}), kernel[variant, HIGH].get(key, {})
        return {name: (high.get(name, 0) - low.get(name, 0)) / steps for name in set(low) | set(high)}

    print()
    print(
        f"Profile (cProfile, cold cache, CDK_VALIDATION=false, one run each), per additional import from N={LOW} "
        f"to N={HIGH}"
    )
    for variant in ("ours", "native"):
        low_total, high_total = stats[variant, LOW][1], stats[variant, HIGH][1]
        kinds = per_import(variant, "by_kind")
        phases = {phase: sum(v for k, v in kinds.items() if k.startswith(f"{phase}:")) for phase in ("build", "synth")}
        print(
            f"  {variant:6s}: profiled build + synth {low_total:.2f} s at N={LOW}, {high_total:.2f} s at N={HIGH}: "
            f"{(high_total - low_total) / steps * 1000:.0f} ms per import; jsii kernel requests per import "
            f"{sum(phases.values()):.1f} (build {phases['build']:.1f}, synth {phases['synth']:.1f})"
        )
    rows = []
    for function, (calls, cumulative) in stats["ours", HIGH][0].items():
        calls_low, cumulative_low = stats["ours", LOW][0].get(function, (0, 0.0))
        rows.append(((cumulative - cumulative_low) / steps * 1000, (calls - calls_low) / steps, function))
    rows.sort(reverse=True)
    print("  ours: constructs_personalize functions by cumulative time per import (nested calls count in both)")
    print(f"  {'ms':>7} {'calls':>6}  function")
    for marginal, calls_per_import, function in rows[:TOP]:
        print(f"  {marginal:7.1f} {calls_per_import:6.1f}  {function}")
    kinds, callbacks = per_import("ours", "by_kind"), per_import("ours", "callbacks")
    for phase in ("build", "synth"):
        mine = {k.split(":", 1)[1]: v for k, v in kinds.items() if k.startswith(f"{phase}:")}
        shown = ", ".join(f"{k} {v:.1f}" for k, v in sorted(mine.items(), key=lambda item: -item[1]) if abs(v) >= 0.05)
        print(
            f"  ours: jsii kernel requests per import at {phase}: {sum(mine.values()):.1f} ({shown}); "
            f"callbacks into Python {callbacks.get(phase, 0.0):.1f}"
        )
    counts, seconds = per_import("ours", "by_function"), per_import("ours", "seconds_by_function")
    print("  ours: jsii kernel requests per import by the innermost library function on the Python stack")
    print(f"  {'requests':>8} {'ms':>6}  phase:function")
    for name, value in sorted(counts.items(), key=lambda item: -item[1])[:TOP]:
        if abs(value) >= 0.5:
            print(f"  {value:8.1f} {seconds[name] * 1000:6.1f}  {name}")
    requests = per_import("ours", "by_request")
    print("  ours: the library's most frequent jsii kernel requests per import")
    for name, value in sorted(requests.items(), key=lambda item: -item[1])[:TOP]:
        if abs(value) >= 0.5:
            print(f"  {value:8.1f}  {name}")


def snapshot_library(rev: str | None, target: Path) -> str:
    """Copy the library once, so every process of the run measures the same code; describe what was copied."""
    target.mkdir()
    package = "constructs_personalize"

    def git(*arguments: str) -> str:
        result = subprocess.run(["git", "-C", str(REPO), *arguments], check=False, capture_output=True, text=True)
        return result.stdout.strip()

    if rev is not None:
        command = ["git", "-C", str(REPO), "archive", "--format=tar", rev, package]
        archive = subprocess.run(command, check=False, capture_output=True)
        if archive.returncode != 0:
            raise SystemExit(f"git archive {rev} failed: {archive.stderr.decode(errors='replace').strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(target, filter="data")
        return f"{package} at {rev} ({git('rev-parse', '--short', rev)})"
    shutil.copytree(REPO / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    changed = len(git("status", "--porcelain", "--", package).splitlines())
    return f"{package} of the work tree (HEAD {git('rev-parse', '--short', 'HEAD')}, {changed} changed files)"


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("--child", "--profile"):
        folders = [Path(p) for p in argv[2:]]
        if argv[0] == "--child":
            report = run_child(argv[1], folders)
        else:
            folders = folders[1:]
            report = run_profile(argv[1], folders, Path(argv[2]))
        print(json.dumps(report))
        return 0
    parser = argparse.ArgumentParser(description="Synth cost of DatasetImport against native import jobs.")
    parser.add_argument("--pairs", type=int, default=3, help="ours/native rounds per N (default 3)")
    parser.add_argument("--sizes", default="1,10,30", help="numbers of imports, comma-separated (default 1,10,30)")
    parser.add_argument("--warm-sizes", default="10,30", help="the N with warm-cache runs of ours too (default 10,30)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the reference runs with CDK_VALIDATION=false")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile part")
    parser.add_argument("--rev", help="measure the library as committed at this git revision (default: the work tree)")
    args = parser.parse_args(argv)
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    warm_sizes = {int(size) for size in args.warm_sizes.split(",") if size}
    profile = not args.no_profile
    with tempfile.TemporaryDirectory(prefix="synth-cost-") as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "data").mkdir()
        folders = make_folders(scratch / "data", max([*sizes, HIGH if profile else 0]))
        os.environ[LIBRARY_ENV] = str(scratch / "library")
        print(f"library: {snapshot_library(args.rev, scratch / 'library')}")
        print(
            f"{len(folders)} folders of {SAMPLE.stat().st_size:,} bytes (one row varied in each); {args.pairs} pairs "
            f"per N; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        child(["--child", "ours"], folders[:1], scratch / "warm-up", scratch)  # page cache, .pyc files
        runs = measure(sizes, args.pairs, warm_sizes, folders, scratch)
        marginal = {LOW, HIGH} <= set(sizes)
        baseline = None
        if marginal and not args.no_baseline:
            baseline = measure([LOW, HIGH], args.pairs, set(), folders, scratch, CDK_VALIDATION="false")
        print()
        report_tables(runs, sizes)
        verdict = "targets met"
        if marginal:
            verdict = report_targets(runs, baseline)
        else:
            print(f"(the marginal figures and the targets need N={LOW} and N={HIGH})")
        if profile:
            report_profile(folders, scratch)
        print()
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
        print(verdict)
        return 0 if verdict.startswith("targets met") else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
