"""One home for what the tests share: the emulated account and region, ARNs, the sample data's paths.

Plain values only (no aws-cdk-lib import): the emulator, the handler tests and the synth tests all
use them. ``tests/infra/helpers.py`` builds the CDK ``Environment`` from these.
"""

from __future__ import annotations

from pathlib import Path

ACCOUNT = "123456789012"
REGION = "eu-west-1"
DATASET_ARN = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop/INTERACTIONS"
ITEMS_ARN = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/shop/ITEMS"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/personalize-import"
REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "data" / "interactions"
TEST_DATA = REPO / "tests" / "data"
