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
#        scripts/bigfleet.sh accounts [ACCOUNTS (20)] [REGIONS (2)]
#                            [SERVICES per account and region (50)] [DELAY_MS (40)]
# The accounts mode (issue 32) seeds every account (moto keeps one state per account, read
# with credentials from AssumeRole into its role) in every region, and reads them all
# through the accounts source, each account's role assumed by the SDK's provider. Each
# account has a moto server of its own (as AWS serves accounts independently), behind a
# router that adds the delay and sends each request to its account's moto
# (scripts/bigfleet_shards.rs). It lets moto go idle (3 s) before each question. In this
# mode:
#   BIGFLEET_SHARDS=1     one moto for every account, behind the delay proxy (as before)
#   BIGFLEET_TIMELINE=1   where each cold answer's time goes (every SDK call, timed; the
#                         CPU time of moto, of this process and of the rest of the machine)
#   BIGFLEET_MOTO=1       moto alone first (each API's time, DescribeServices' throughput)
#   BIGFLEET_ONLY=ServiceHealth,FleetSummary   only these intents
#   BIGFLEET_COLD=1       the cold answers only
#   BIGFLEET_ANSWERS=N    accounts.answer_concurrency (default 64)
#   BIGFLEET_DEADLINE_MS=N  the answer deadline (default 3000; the fan-out has 60%)
# In both modes:
#   BIGFLEET_RUNS=N       each measure N times (a new assistant each time): the median and
#                         the range
# Installs moto into .venv as scripts/test.sh does, and builds the release driver
# (scripts/bigfleet.rs, the `bigfleet` example). Seeding 4,000 alarms takes a minute or two.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = accounts ]; then
  MODE=(accounts "${2:-20}" "${3:-2}" "${4:-50}" "${5:-40}")
else
  MODE=("${1:-8}" "${2:-50}" "${3:-10}" "${4:-40}")
fi

# shellcheck source=scripts/moto-venv.sh
. scripts/moto-venv.sh

echo "==> building the driver (release)"
cargo build --release --quiet --example bigfleet

echo "==> seeding moto and asking (moto stops when the driver exits)"
# Bounded: a run that hangs is cut off rather than left running.
timeout 1800 target/release/examples/bigfleet "${MODE[@]}"
