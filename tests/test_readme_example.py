"""The README's smallest example runs as written, from any working directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.constants import REPO, SAMPLE_DIR


def test_the_readme_example_synthesizes_from_another_working_directory(tmp_path: Path) -> None:
    block = re.search(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert block is not None
    project = tmp_path / "recs"
    shutil.copytree(SAMPLE_DIR, project / "data" / "interactions")
    (project / "app.py").write_text(block.group(1))
    env = {**os.environ, "PYTHONPATH": str(REPO), "CDK_OUTDIR": str(tmp_path / "cdk.out")}
    done = subprocess.run(
        [sys.executable, str(project / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "cdk.out" / "RecsDev.template.json").exists()
