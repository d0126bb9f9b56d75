"""The Lambda handler imports with nothing but the standard library and boto3 on its path.

The ``handlers`` folder is shipped as the Lambda asset: the runtime has the standard library and boto3,
and nothing of ``constructs_personalize``, ``aws_cdk`` or ``jsii``; it imports the entry points'
module (``dataset_import.index``, from the contract) with the asset's root on its path. These tests
import it, and every other module of the package, from a copy of that folder in a separate interpreter
started with ``-I -S -B`` (isolated: no PYTHONPATH, no user or venv site-packages) whose ``sys.path`` is
the standard library, the copy and a folder of links to boto3 and the distributions it needs.
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

from constructs_personalize.handlers.dataset_import import contract

HANDLERS_DIR = Path(__file__).resolve().parents[2] / "constructs_personalize" / "handlers"
PACKAGE_DIR = HANDLERS_DIR / contract.HANDLER_PACKAGE
ENTRY_POINTS = (contract.ON_EVENT, contract.IS_COMPLETE, contract.WAIT_STEP)
(ENTRY_MODULE,) = {entry.rsplit(".", 1)[0] for entry in ENTRY_POINTS}
PACKAGE_MODULES = sorted(path.name for path in PACKAGE_DIR.glob("*.py"))
FORBIDDEN = ("constructs_personalize", "aws_cdk", "jsii")

# Runs in the child interpreter: argv[1] is the module to import, argv[2] "all" to import the rest of
# its package too (a module the entry points do not import yet must still run alone), argv[3:] the
# folders to put in front of the standard library.
CHILD = """
import importlib, json, pkgutil, sys
module_name, siblings = sys.argv[1], sys.argv[2] == "all"
sys.path[:0] = sys.argv[3:]
report = {"path": list(sys.path), "errors": []}
def load(name):
    try:
        return importlib.import_module(name)
    except BaseException as error:  # report everything, including SystemExit from a stray import
        report["errors"].append(f"{name}: {type(error).__name__}: {error}")
        return None
module = load(module_name)
if module is not None:
    report["file"] = module.__file__
    report["missing"] = [n for n in ENTRY_NAMES if not callable(getattr(module, n, None))] if siblings else []
if siblings:
    package = module_name.rsplit(".", 1)[0]
    for info in pkgutil.iter_modules([str(sys.path[0]) + "/" + package]):
        load(f"{package}.{info.name}")
report["modules"] = sorted(sys.modules)
report["files"] = {n: getattr(m, "__file__", None) for n, m in sys.modules.items() if n.startswith(PACKAGE)}
print(json.dumps(report))
""".replace("ENTRY_NAMES", repr([entry.rsplit(".", 1)[1] for entry in ENTRY_POINTS])).replace(
    "PACKAGE", repr(contract.HANDLER_PACKAGE)
)


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


def _asset(tmp_path: Path) -> Path:
    """A copy of the Lambda asset (the handlers folder), so nothing resolves back into the source tree."""
    root = tmp_path / "asset"
    shutil.copytree(HANDLERS_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _import_alone(asset: Path, *folders: Path, module: str = ENTRY_MODULE, siblings: bool = True) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", CHILD, module, "all" if siblings else "one", str(asset)]
        + [str(folder) for folder in folders],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=asset.parent,
    )
    assert completed.returncode == 0, completed.stderr
    report: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return report


def _problems(report: dict[str, object]) -> list[str]:
    """Everything that keeps the handler from running alone, empty when it does."""
    errors = report.get("errors") or []
    assert isinstance(errors, list)
    problems = [f"import failed: {error}" for error in errors]
    missing = report.get("missing") or []
    if missing:
        problems.append(f"{ENTRY_MODULE} lacks {missing}")
    modules = report.get("modules")
    assert isinstance(modules, list)
    leaked = [m for m in modules if any(m == f or m.startswith(f + ".") or m.startswith(f + "_") for f in FORBIDDEN)]
    if leaked:
        problems.append(f"library modules imported: {leaked}")
    return problems


def test_child_path_holds_only_stdlib_asset_and_boto3(boto3_site: Path, tmp_path: Path) -> None:
    asset = _asset(tmp_path)
    report = _import_alone(asset, boto3_site)
    path = report["path"]
    assert isinstance(path, list)
    assert path[:2] == [str(asset), str(boto3_site)]
    stdlib = Path(sys.base_prefix)
    assert all(Path(entry).is_relative_to(stdlib) for entry in path[2:] if entry), path
    assert not any("site-packages" in entry for entry in path), path
    assert {"boto3", "botocore"} <= {p.name for p in boto3_site.iterdir()}


def test_handler_imports_with_stdlib_and_boto3_only(boto3_site: Path, tmp_path: Path) -> None:
    asset = _asset(tmp_path)
    report = _import_alone(asset, boto3_site)
    assert _problems(report) == []
    assert report["file"] == str(asset / Path(*ENTRY_MODULE.split(".")).with_suffix(".py"))
    modules = report["modules"]
    assert isinstance(modules, list)
    assert {"boto3", "botocore"} <= set(modules)
    # Every module of the package ran, each from the copy.
    files = report["files"]
    assert isinstance(files, dict)
    package = contract.HANDLER_PACKAGE
    assert {f"{package}.{name.removesuffix('.py')}" for name in PACKAGE_MODULES} - {f"{package}.__init__"} <= set(files)
    assert all(Path(str(file)).is_relative_to(asset / package) for file in files.values()), files


def test_the_contract_imports_without_boto3(tmp_path: Path) -> None:
    """The construct and the CLI import the contract: neither the package nor the contract may need boto3."""
    report = _import_alone(_asset(tmp_path), module=f"{contract.HANDLER_PACKAGE}.contract", siblings=False)
    assert report.get("errors") == []
    modules = report["modules"]
    assert isinstance(modules, list)
    assert "boto3" not in modules and "botocore" not in modules


def _with_stray_import(source: str, stray_import: str) -> str:
    # After the __future__ import, which must stay first; a module without one takes it at its end.
    future = "from __future__ import annotations\n"
    if future in source:
        return source.replace(future, f"{future}{stray_import}\n", 1)
    return f"{source}\n{stray_import}\n"


# An absolute import of a sibling is the likely slip: it works installed, and fails in Lambda.
SIBLING_IMPORT = "from constructs_personalize.handlers.dataset_import import contract as _absolute"
STRAY_IMPORTS = [
    "import constructs_personalize",
    "from constructs_personalize.handlers.dataset_import import index as _self",
    "import aws_cdk",
    "import jsii",
]


@pytest.mark.parametrize(
    ("module", "stray_import"),
    [(name, SIBLING_IMPORT) for name in PACKAGE_MODULES] + [("index.py", stray) for stray in STRAY_IMPORTS],
)
def test_check_catches_an_import_from_the_library(
    boto3_site: Path, tmp_path: Path, module: str, stray_import: str
) -> None:
    """The check itself: a handler module that imports the library or the CDK fails it, whichever module it is."""
    asset = _asset(tmp_path)
    path = asset / contract.HANDLER_PACKAGE / module
    path.write_text(_with_stray_import(path.read_text(), stray_import))
    assert stray_import in path.read_text()
    problems = _problems(_import_alone(asset, boto3_site))
    stray_top = re.split(r"[ .]", stray_import.split(maxsplit=1)[1])[0]
    assert any(stray_top in problem for problem in problems), problems
