#!/usr/bin/env bash
# Runs every test: unit, integration, property and CLI tests, and each bench once.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> cargo test (all targets)"
cargo test --locked --all-targets "$@"
