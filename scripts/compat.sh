#!/usr/bin/env bash
# Compatibility runs, each in a venv of its own (kept between runs; rebuilt only when its inputs change):
#   1. the handler's tests (tests/runtime, tests/lifecycle) on the newest Python this machine has;
#   2. the whole suite on the lowest aws-cdk-lib that pyproject.toml claims (its ">=" bound);
#   3. the whole suite on the newest aws-cdk-lib the package index has.
# One summary line per run: "compat: <label> python X cdk Y -> N passed, N failed, N skipped[, N errors]".
# Exits non-zero if any run failed. Usage: scripts/compat.sh [handler|lowest|newest ...] (default: all).
# Environment: PYTHON (interpreter of the CDK runs, default python3), COMPAT_NEWEST_PYTHON (interpreter of
# the handler run, default the newest python3.N found in pyenv or on PATH), COMPAT_VENVS (where the venvs
# live, default the repository root), COMPAT_PYTEST_ARGS (extra pytest arguments).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENVS="${COMPAT_VENVS:-$ROOT}"
PYTHON="${PYTHON:-python3}"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=1 CDK_DISABLE_VERSION_CHECK=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
REPORTS="$VENVS/.venv-compat-reports"
mkdir -p "$REPORTS"
SUMMARY=()
STATUS=0

log() { printf 'compat: %s\n' "$*" >&2; }

newest_python() {
    if [[ -n "${COMPAT_NEWEST_PYTHON:-}" ]]; then echo "$COMPAT_NEWEST_PYTHON"; return; fi
    local candidates=() c
    for c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*/bin/python3; do [[ -x "$c" ]] && candidates+=("$c"); done
    for c in $(compgen -c python3. | sort -u); do command -v "$c" >/dev/null && candidates+=("$(command -v "$c")"); done
    local best="" best_v="" v
    for c in "${candidates[@]}" "$(command -v "$PYTHON")"; do
        v="$("$c" -c 'import sys; print("%d.%03d.%03d" % sys.version_info[:3])' 2>/dev/null)" || continue
        if [[ -z "$best_v" || "$v" > "$best_v" ]]; then best="$c"; best_v="$v"; fi
    done
    echo "$best"
}

lowest_cdk() {  # the ">=" bound of aws-cdk-lib in pyproject.toml
    "$PYTHON" - <<'EOF'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
spec = next(d for d in deps if re.match(r"aws[-_]cdk[-_]lib\b", d))
print(re.search(r">=\s*([0-9][^,;\s]*)", spec).group(1))
EOF
}

newest_cdk() {  # the newest aws-cdk-lib release the configured index offers
    "$PYTHON" -m pip index versions aws-cdk-lib 2>/dev/null | sed -n 's/^aws-cdk-lib (\(.*\))$/\1/p' | head -1
}

# ensure_venv DIR PYTHON CDK_VERSION: DIR holds requirements-dev.txt with aws-cdk-lib at CDK_VERSION.
ensure_venv() {
    local dir="$1" python="$2" cdk="$3" reqs stamp
    reqs="$dir/.compat-requirements"
    stamp="$(cat requirements.txt requirements-dev.txt; echo "cdk=$cdk"; "$python" -VV)"
    if [[ -f "$dir/.compat-installed" && "$(cat "$dir/.compat-installed")" == "$stamp" ]]; then
        log "$(basename "$dir") up to date"; return 0
    fi
    log "building $(basename "$dir") ($("$python" -V), aws-cdk-lib $cdk)"
    rm -rf "$dir"
    "$python" -m venv "$dir" || return 1
    mkdir -p "$reqs"
    sed -E "s/^aws-cdk-lib([^A-Za-z0-9_.-].*)?$/aws-cdk-lib==$cdk/" requirements.txt >"$reqs/requirements.txt"
    cp requirements-dev.txt "$reqs/requirements-dev.txt"
    "$dir/bin/python" -m pip install --quiet --upgrade pip &&
        "$dir/bin/python" -m pip install --quiet -r "$reqs/requirements-dev.txt" || return 1
    printf '%s' "$stamp" >"$dir/.compat-installed"
}

# run_suite LABEL VENV -- PYTEST_ARGS...
run_suite() {
    local label="$1" dir="$2"; shift 3
    local xml="$REPORTS/$label.xml" pyv cdkv counts rc
    pyv="$("$dir/bin/python" -c 'import platform; print(platform.python_version())')"
    cdkv="$("$dir/bin/python" -c 'import importlib.metadata as m; print(m.version("aws-cdk-lib"))')"
    log "running $label: python $pyv, aws-cdk-lib $cdkv: pytest $*"
    rm -f "$xml"
    # shellcheck disable=SC2086
    "$dir/bin/python" -m pytest -p no:cacheprovider -q --junitxml="$xml" ${COMPAT_PYTEST_ARGS:-} "$@" \
        >"$REPORTS/$label.log" 2>&1
    rc=$?
    tail -n 15 "$REPORTS/$label.log" >&2
    counts="$("$dir/bin/python" - "$xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("no report"); raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
passed = n["tests"] - n["failures"] - n["errors"] - n["skipped"]
line = f"{passed} passed, {n['failures']} failed, {n['skipped']} skipped"
print(line + (f", {n['errors']} errors" if n["errors"] else ""))
EOF
)"
    [[ $rc -eq 0 ]] || STATUS=1
    SUMMARY+=("compat: $label python $pyv cdk $cdkv -> $counts (pytest exit $rc)")
}

run_handler() {
    local py; py="$(newest_python)"
    local tag; tag="$("$py" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
    local dir="$VENVS/.venv-compat-py$tag"
    if ensure_venv "$dir" "$py" "$(sed -n 's/^aws-cdk-lib==//p' requirements.txt)"; then
        run_suite "handler-py$tag" "$dir" -- tests/runtime tests/lifecycle
    else
        STATUS=1; SUMMARY+=("compat: handler-py$tag -> venv build failed ($py)")
    fi
}

run_cdk() {  # run_cdk lowest|newest
    local which="$1" version
    version="$("${which}_cdk")"
    if [[ -z "$version" ]]; then STATUS=1; SUMMARY+=("compat: cdk-$which -> no version found"); return; fi
    log "aws-cdk-lib $which: $version"
    local dir="$VENVS/.venv-cdk-$which"
    if ensure_venv "$dir" "$(command -v "$PYTHON")" "$version"; then
        run_suite "cdk-$which" "$dir" -- tests
    else
        STATUS=1; SUMMARY+=("compat: cdk-$which aws-cdk-lib $version -> venv build failed")
    fi
}

runs=("$@")
[[ ${#runs[@]} -gt 0 ]] || runs=(handler lowest newest)
for run in "${runs[@]}"; do
    case "$run" in
        handler) run_handler ;;
        lowest | newest) run_cdk "$run" ;;
        *) echo "unknown run: $run (handler, lowest, newest)" >&2; exit 2 ;;
    esac
done
printf '%s\n' "${SUMMARY[@]}"
exit $STATUS
