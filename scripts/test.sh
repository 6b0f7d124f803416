#!/usr/bin/env bash
# Runs every test: unit, integration, property, CLI and live-backend tests (the real AWS
# SDK clients against moto server), and each bench once.
#
# First it installs moto[server] into .venv (once; later runs reuse it). The tests start
# moto themselves on free loopback ports and fail, naming this script, if it is missing.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION="5.2.5"
VENV=".venv"

if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    echo "==> installing moto[server]==$MOTO_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
echo "==> moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)') at $VENV/bin/moto_server"

echo "==> cargo test (all targets)"
cargo test --locked --all-targets "$@"
