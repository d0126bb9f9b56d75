# Two commands do all the set-up on a fresh clone:
#   make synth   synthesizes app.py offline into cdk.out/ (pinned CDK CLI from package.json)
#   make test    lint, type-check and run the whole test suite
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := 1
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: synth test lint typecheck unit lifecycle bench bench-preflight bench-synth bench-makespan clean
.PHONY: integ-deploy integ-dry-run

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: $(VENV)/.installed node_modules/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ./node_modules/.bin/cdk synth --no-notices --no-version-reporting --quiet --output cdk.out
	@echo "template: cdk.out/PersonalizeImportExample.template.json"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy constructs_personalize app.py scripts tests bench integ
	$(VENV)/bin/mypy constructs_personalize/handlers/dataset_import

unit: $(VENV)/.installed node_modules/.installed
	$(PY) -m pytest --cov=constructs_personalize --cov-report=term-missing:skip-covered

test: lint typecheck unit

# The end-to-end handler runs against the emulated Personalize only (also part of `make test`).
lifecycle: $(VENV)/.installed
	$(PY) -m pytest -m lifecycle tests/lifecycle

bench: $(VENV)/.installed
	$(PY) bench/detection_latency.py

bench-preflight: $(VENV)/.installed
	$(PY) bench/preflight_speed.py

bench-synth: $(VENV)/.installed
	$(PY) bench/synth_cost.py

bench-makespan: $(VENV)/.installed
	$(PY) bench/makespan.py

clean:
	rm -rf cdk.out integ/cdk.out .pytest_cache .mypy_cache .ruff_cache

# The integ app (integ/) deployed for real with the pinned CDK CLI, its assertions run by the deploy, then
# destroyed, also after a failure (docs/integration-test.md; scripts/integ_run.py). Needs AWS credentials
# and a CDK-bootstrapped region; prints the account, region and cost, and asks first unless YES=1.
# integ-dry-run (or DRY_RUN=1) synthesizes offline and prints the commands, without any AWS call.
integ-deploy: $(VENV)/.installed node_modules/.installed
	$(PY) scripts/integ_run.py $(if $(filter 1,$(YES)),--yes) $(if $(filter 1,$(DRY_RUN)),--dry-run)

integ-dry-run: $(VENV)/.installed node_modules/.installed
	$(PY) scripts/integ_run.py --dry-run

# Compatibility runs, each in a venv of its own (.venv-compat-py3NN, .venv-cdk-lowest, .venv-cdk-newest):
# the handler's tests on the newest Python here, the whole suite on the lowest aws-cdk-lib pyproject.toml
# claims and on the newest one the package index has. One summary line per run; see scripts/compat.sh.
.PHONY: compat
compat: node_modules/.installed
	PYTHON="$(PYTHON)" bash scripts/compat.sh
