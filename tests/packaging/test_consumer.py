"""The wheel as a new user gets it: built, installed into a fresh venv outside the checkout, used and type-checked.

One module-scoped fixture builds the wheel and the venv (the slow part; pip's cache makes the dependency
downloads local); the tests then synthesize a small app with the venv's python and check it with the venv's
``mypy --strict``, from a folder where nothing of the checkout is importable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parents[2]
CONSUMER_APP = Path(__file__).resolve().parent / "consumer_app" / "recs_app.py"
SAMPLE_CSV = REPO / "data" / "interactions" / "interactions.csv"
PACKAGE = "constructs_personalize"
# What a copy of the checkout leaves out: environments, build output and caches, none of which a wheel may hold.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "cdk.out", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)


@dataclass(frozen=True)
class Consumer:
    wheel: Path
    python: Path
    mypy: Path
    site_packages: Path
    app_dir: Path
    env: dict[str, str]
    timings: dict[str, float]


def _mypy_pin() -> str:
    for line in (REPO / "requirements-dev.txt").read_text().splitlines():
        if re.match(r"mypy==", line.strip()):
            return line.strip()
    raise AssertionError("requirements-dev.txt pins no mypy")


def _run(args: list[str | Path], *, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _clean_env() -> dict[str, str]:
    """The environment of a user's shell: nothing that points at the checkout or its venv."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consumer]:
    root = tmp_path_factory.mktemp("consumer")
    env = _clean_env()
    timings: dict[str, float] = {}

    # 1. The wheel, built from a copy of the checkout so that no stale build/ of it (or of another engineer's
    #    edits in progress) goes in, and the build leaves nothing behind in the checkout.
    started = time.monotonic()
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    wheels = root / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", source, "-w", wheels], cwd=root, env=env)
    (wheel,) = wheels.glob(f"{PACKAGE}-*.whl")
    timings["build wheel"] = time.monotonic() - started

    # 2. A clean venv (no system site-packages) with the wheel, its dependencies from the registry, and mypy.
    started = time.monotonic()
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=root, env=env)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", wheel, _mypy_pin()], cwd=root, env=env)
    timings["venv + install"] = time.monotonic() - started
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=root, env=env)

    # 3. The user's project: the app and its own data folder, in a folder of its own.
    app_dir = root / "app"
    (app_dir / "data" / "interactions").mkdir(parents=True)
    shutil.copy(CONSUMER_APP, app_dir / "app.py")
    shutil.copy(SAMPLE_CSV, app_dir / "data" / "interactions" / "interactions.csv")

    yield Consumer(
        wheel=wheel,
        python=python,
        mypy=venv / "bin" / "mypy",
        site_packages=Path(purelib.strip()),
        app_dir=app_dir,
        env=env,
        timings=timings,
    )
    print(f"\npackaging timings: { {k: round(v, 1) for k, v in timings.items()} }")


def test_wheel_holds_the_package_the_handler_and_py_typed_only(consumer: Consumer) -> None:
    names = zipfile.ZipFile(consumer.wheel).namelist()
    assert f"{PACKAGE}/handlers/dataset_import/index.py" in names
    assert f"{PACKAGE}/py.typed" in names
    tops = {name.split("/", 1)[0] for name in names}
    dist_info = {top for top in tops if top.endswith(".dist-info")}
    assert len(dist_info) == 1, tops
    assert tops == {PACKAGE, *dist_info}, f"the wheel holds more than the package: {sorted(tops)}"
    strays = [n for n in names if re.search(r"(^|/)(tests|bench|data|__pycache__)/", n) or n.endswith(".pyc")]
    assert not strays, strays


def test_app_synthesizes_with_the_installed_wheel(consumer: Consumer) -> None:
    started = time.monotonic()
    out = consumer.app_dir / "cdk.out"
    printed = _run([consumer.python, "app.py", out], cwd=consumer.app_dir, env=consumer.env)
    consumer.timings["synth"] = time.monotonic() - started

    loaded = json.loads(printed.strip().splitlines()[-1])
    module_file = Path(loaded["module_file"]).resolve()
    assert module_file.is_relative_to(consumer.site_packages.resolve()), module_file
    assert not module_file.is_relative_to(REPO), module_file
    assert loaded["version"] == consumer.wheel.name.split("-")[1]

    template = json.loads((out / "RecsDev.template.json").read_text())
    types = [resource["Type"] for resource in template["Resources"].values()]
    assert types.count("Custom::PersonalizeDatasetImport") == 2, sorted(set(types))
    assert "AWS::Personalize::Dataset" in types
    # The handler's code is an asset the synth staged from the installed package.
    assert any(p.is_dir() and p.name.startswith("asset.") for p in out.iterdir())


def test_app_passes_mypy_strict_against_the_installed_wheel(consumer: Consumer) -> None:
    started = time.monotonic()
    cache = consumer.app_dir / ".mypy_cache"
    report = _run(
        [consumer.mypy, "--strict", "--cache-dir", cache, "--no-incremental", "app.py"],
        cwd=consumer.app_dir,
        env=consumer.env,
    )
    consumer.timings["mypy --strict"] = time.monotonic() - started
    assert "Success" in report, report


def test_consumer_venv_is_not_the_checkout_venv(consumer: Consumer) -> None:
    """The fresh venv sees no site-packages of the test run's own environment."""
    assert consumer.site_packages.resolve() != Path(sysconfig.get_path("purelib")).resolve()
    assert not consumer.python.resolve().is_relative_to(REPO)
    shown = _run([consumer.python, "-m", "pip", "list", "--format=json"], cwd=consumer.app_dir, env=consumer.env)
    installed = {row["name"].lower() for row in json.loads(shown)}
    # The test suite's own tools are not in it: only the wheel, its dependencies and mypy.
    assert {"constructs-personalize", "aws-cdk-lib", "constructs", "typing_extensions", "mypy"} <= installed
    assert not installed & {"pytest", "boto3", "moto", "polars", "cdk-nag"}, installed
