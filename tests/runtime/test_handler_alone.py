"""The Lambda handler imports with nothing but the standard library and boto3 on its path.

``index.py`` is shipped as a Lambda asset on its own: the Lambda runtime has the standard library and
boto3, and nothing of ``constructs_personalize``, ``aws_cdk`` or ``jsii``. These tests import it in a
separate interpreter started with ``-I -S -B`` (isolated: no PYTHONPATH, no user or venv site-packages)
whose ``sys.path`` is the standard library, the handler's folder and a folder of links to boto3 and
the distributions it needs, and nothing else.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HANDLER_DIR = Path(__file__).resolve().parents[2] / "constructs_personalize" / "handlers" / "dataset_import"
ENTRY_POINTS = ("on_event", "is_complete", "wait_step")
FORBIDDEN = ("constructs_personalize", "aws_cdk", "jsii")

# Runs in the child interpreter: argv[1:] are the folders to put in front of the standard library.
CHILD = """
import json, sys
sys.path[:0] = sys.argv[1:]
report = {"path": list(sys.path)}
try:
    import index
except BaseException as error:  # report everything, including SystemExit from a stray import
    report["error"] = f"{type(error).__name__}: {error}"
else:
    report["file"] = index.__file__
    report["missing"] = [name for name in ENTRY_POINTS if not callable(getattr(index, name, None))]
report["modules"] = sorted(sys.modules)
print(json.dumps(report))
""".replace("ENTRY_POINTS", repr(ENTRY_POINTS))


def _requirement_names(dist: importlib.metadata.Distribution) -> list[str]:
    """The names of a distribution's unconditional requirements (extras and markers dropped)."""
    names = []
    for requirement in dist.requires or []:
        if ";" in requirement and "extra" in requirement.split(";", 1)[1]:
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if match:
            names.append(match.group(0))
    return names


def _boto3_closure() -> list[importlib.metadata.Distribution]:
    """boto3 and every distribution it needs, found in the test interpreter's environment."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    pending = ["boto3"]
    while pending:
        name = pending.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        dist = importlib.metadata.distribution(name)
        seen[key] = dist
        pending.extend(_requirement_names(dist))
    return list(seen.values())


def _link_site(target: Path) -> Path:
    """A folder holding links to the top-level modules of boto3's distributions, and only those."""
    target.mkdir()
    for dist in _boto3_closure():
        tops = {Path(str(file)).parts[0] for file in dist.files or []}
        for top in sorted(tops):
            if top.endswith((".dist-info", ".egg-info", ".pth")) or top in {"__pycache__", "..", "bin"}:
                continue
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (target / top).exists():
                (target / top).symlink_to(source, target_is_directory=source.is_dir())
    return target


@pytest.fixture(scope="module")
def boto3_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _link_site(tmp_path_factory.mktemp("lambda-runtime") / "site")


def _import_alone(handler_dir: Path, site: Path) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", CHILD, str(handler_dir), str(site)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=site.parent,
    )
    assert completed.returncode == 0, completed.stderr
    report: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return report


def _problems(report: dict[str, object]) -> list[str]:
    """Everything that keeps the handler from running alone, empty when it does."""
    problems = []
    if "error" in report:
        problems.append(f"import index failed: {report['error']}")
    missing = report.get("missing") or []
    if missing:
        problems.append(f"index lacks {missing}")
    modules = report.get("modules")
    assert isinstance(modules, list)
    leaked = [m for m in modules if any(m == f or m.startswith(f + ".") or m.startswith(f + "_") for f in FORBIDDEN)]
    if leaked:
        problems.append(f"library modules imported: {leaked}")
    return problems


def test_child_path_holds_only_stdlib_handler_and_boto3(boto3_site: Path) -> None:
    report = _import_alone(HANDLER_DIR, boto3_site)
    path = report["path"]
    assert isinstance(path, list)
    assert path[:2] == [str(HANDLER_DIR), str(boto3_site)]
    stdlib = Path(sys.base_prefix)
    assert all(Path(entry).is_relative_to(stdlib) for entry in path[2:] if entry), path
    assert not any("site-packages" in entry for entry in path), path
    assert {"boto3", "botocore"} <= {p.name for p in boto3_site.iterdir()}


def test_handler_imports_with_stdlib_and_boto3_only(boto3_site: Path) -> None:
    report = _import_alone(HANDLER_DIR, boto3_site)
    assert _problems(report) == []
    assert report["file"] == str(HANDLER_DIR / "index.py")
    modules = report["modules"]
    assert isinstance(modules, list)
    assert "boto3" in modules
    assert "botocore" in modules


@pytest.mark.parametrize(
    "stray_import",
    [
        "import constructs_personalize",
        "from constructs_personalize.handlers.dataset_import import index as _self",
        "import aws_cdk",
        "import jsii",
    ],
)
def test_check_catches_an_import_from_the_library(boto3_site: Path, tmp_path: Path, stray_import: str) -> None:
    """The check itself: a handler that imports the library or the CDK fails it."""
    handler = tmp_path / "handler"
    shutil.copytree(HANDLER_DIR, handler, ignore=shutil.ignore_patterns("__pycache__"))
    source = (handler / "index.py").read_text()
    (handler / "index.py").write_text(source.replace("\nimport boto3\n", f"\nimport boto3\n{stray_import}\n", 1))
    assert stray_import in (handler / "index.py").read_text()
    assert _problems(_import_alone(handler, boto3_site)) != []
