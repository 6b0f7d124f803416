#!/usr/bin/env bash
# Answer times and AWS call counts on a big account, all on loopback, bounded in time.
#
# Seeds moto with CLUSTERS x SERVICES services and ALARMS metric alarms on each (one firing
# on every tenth service), puts a proxy in front that adds DELAY_MS to every AWS call (a
# real region's round trip), and asks every intent through the Lex adapter: cold (nothing
# cached), refreshed (after one background refresh, as `serve` is once it has run a few
# seconds) and warm (the same question again). Prints a Markdown table and the words of
# each cold answer. The call counts do not depend on the machine; the times do.
#
# Usage: scripts/bigfleet.sh [CLUSTERS (8)] [SERVICES per cluster (50)]
#                            [ALARMS per service (10)] [DELAY_MS (40)]
# Installs moto into .venv as scripts/test.sh does, and builds the release driver
# (scripts/bigfleet.rs, the `bigfleet` example). Seeding 4,000 alarms takes a minute or two.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTERS="${1:-8}"
SERVICES="${2:-50}"
ALARMS="${3:-10}"
DELAY_MS="${4:-40}"

# shellcheck source=scripts/moto-venv.sh
. scripts/moto-venv.sh

echo "==> building the driver (release)"
cargo build --release --quiet --example bigfleet

echo "==> seeding moto and asking (moto stops when the driver exits)"
# Bounded: a run that hangs is cut off rather than left running.
timeout 1800 target/release/examples/bigfleet "$CLUSTERS" "$SERVICES" "$ALARMS" "$DELAY_MS"
