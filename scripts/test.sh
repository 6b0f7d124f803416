#!/usr/bin/env bash
# Runs every test: unit, integration, property, CLI and live-backend tests (the real AWS
# SDK clients against moto server), and each bench once; then validates infra/ (the
# central template and the member-account template) with cfn-lint and checkov.
#
# First it installs moto[server] into .venv, and cfn-lint and checkov into .venv-infra
# (once; later runs reuse them; two venvs because their pins conflict). The tests start
# moto themselves on free loopback ports and fail, naming this script, if it is missing.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_VERSION="1.58.0"
CHECKOV_VERSION="3.3.30"
INFRA_VENV=".venv-infra"

# shellcheck source=scripts/moto-venv.sh
. scripts/moto-venv.sh
echo "==> moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)') at $VENV/bin/moto_server"

# A clean `cargo test --all-targets` writes about 3.5 GB under target/. When the disk fills
# mid-build the linker dies with SIGBUS rather than a clear error, so say it up front.
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
mkdir -p "$TARGET_DIR"
FREE_MB=$(df -Pk "$TARGET_DIR" | awk 'NR == 2 { print int($4 / 1024) }')
if [ "${FREE_MB:-0}" -lt 5120 ]; then
    echo "warning: only ${FREE_MB} MB free for $TARGET_DIR; a clean build needs about 3.5 GB," \
        "and a full disk shows up as a linker crash (signal 7, Bus error)" >&2
fi

echo "==> cargo test (all targets)"
cargo test --locked --all-targets "$@"

if ! "$INFRA_VENV/bin/python" -c "
import sys, importlib.metadata as m
sys.exit(m.version('cfn-lint') != '$CFN_LINT_VERSION' or m.version('checkov') != '$CHECKOV_VERSION')" 2>/dev/null; then
    echo "==> installing cfn-lint==$CFN_LINT_VERSION and checkov==$CHECKOV_VERSION into $INFRA_VENV"
    python3 -m venv "$INFRA_VENV"
    "$INFRA_VENV/bin/pip" install --quiet --disable-pip-version-check \
        "cfn-lint==$CFN_LINT_VERSION" "checkov==$CHECKOV_VERSION"
fi

echo "==> cfn-lint infra/template.json infra/member-account.json"
"$INFRA_VENV/bin/cfn-lint" infra/template.json infra/member-account.json

# --skip-download: no calls to Prisma Cloud (offline; the checks themselves are local).
# The member-account template (many accounts) skips nothing.
for template in infra/template.json infra/member-account.json; do
    echo "==> checkov $template"
    "$INFRA_VENV/bin/checkov" -f "$template" --framework cloudformation \
        --skip-download --compact --quiet
done
