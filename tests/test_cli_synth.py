"""The README's main job: the pinned CDK CLI synthesizes app.py offline into a template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.constants import REPO


def test_pinned_cli_synthesizes_the_example_offline(tmp_path: Path) -> None:
    cli = REPO / "node_modules" / ".bin" / "cdk"
    assert cli.exists(), "run `make test` (it installs the CLI pinned in package.json)"
    env = {
        **os.environ,
        "CDK_DISABLE_CLI_TELEMETRY": "1",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        [str(cli), "synth", "--no-notices", "--no-version-reporting", "--quiet", "--output", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / "PersonalizeImportExample.template.json").read_text())
    types = [r["Type"] for r in template["Resources"].values()]
    assert types.count("Custom::PersonalizeDatasetImport") == 1
    assert "AWS::Personalize::Dataset" in types
