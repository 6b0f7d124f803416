#!/usr/bin/env bash
# Load figures for opsvoice on this machine, all on loopback, bounded in time:
#   /lex (demo fleet, warm cache), /alexa (full verification, cached chain), /v1/ask,
# each beside a minimal axum server that only parses the JSON body (the baseline), run in
# the same invocation so every figure is also a ratio to the baseline. Then start-up: from
# process start to the first answered request, demo and aws (moto) backends.
#
# Usage: scripts/load.sh [SECONDS per run (10; at most 20, for the signed Alexa request's
#                         150 s freshness)] [CONNECTIONS (32)]
#        SOAK=600 scripts/load.sh     # soak: one long /lex run at half the measured rate
#        OPSVOICE_BIN=/path/to/opsvoice scripts/load.sh   # measure another build
# Needs wrk (apt-get install wrk). Builds the release binary and the loadkit helper.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${1:-10}"
CONNECTIONS="${2:-32}"
THREADS=2
PORT_APP=3801
PORT_BASE=3802
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

echo "==> building (release)"
cargo build --release --quiet --bin opsvoice --example loadkit
# OPSVOICE_BIN: another build to measure (an A/B against an earlier commit's binary).
BIN="${OPSVOICE_BIN:-target/release/opsvoice}"
KIT=target/release/examples/loadkit

wait_for() { # URL
    for _ in $(seq 1 500); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.02
    done
    echo "error: $1 did not come up" >&2
    exit 1
}

peak_rss_mb() { # PID
    awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"
}

# CPU time a process has used (user + system), in clock ticks.
cpu_ticks() { # PID
    awk '{print $14 + $15}' "/proc/$1/stat"
}
TICKS_PER_SEC="$(getconf CLK_TCK)"

# One wrk run; prints "rps p50_ms p99_ms errors requests".
run_wrk() { # URL LUA
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$2" "$1" >"$WORK/wrk.out" 2>&1
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec/ { rps = $2 }
        / requests in / { requests = $1 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx/ { errors += $NF }
        /Socket errors/ { errors += 1 }
        END { printf "%d %.2f %.2f %d %d\n", rps, p50, p99, errors + 0, requests + 0 }
    ' "$WORK/wrk.out"
}

# A wrk script that POSTs FILE with the given extra headers.
make_lua() { # NAME FILE [HEADER=VALUE ...]
    local name="$1" file="$2"
    shift 2
    {
        echo 'wrk.method = "POST"'
        echo "local f = io.open(\"$file\", \"rb\"); wrk.body = f:read(\"*a\"); f:close()"
        echo 'wrk.headers["Content-Type"] = "application/json"'
        for header in "$@"; do
            echo "wrk.headers[\"${header%%=*}\"] = \"${header#*=}\""
        done
    } >"$WORK/$name.lua"
}

echo "==> preparing requests (Alexa chain and a freshly signed request)"
"$KIT" alexa "$WORK" $((DURATION * 8 + 120)) &
PIDS+=($!)
for _ in $(seq 1 500); do [ -f "$WORK/ready" ] && break; sleep 0.02; done
cp tests/fixtures/lex/service-health-voice.json "$WORK/lex.json"
echo '{"text": "how is checkout doing", "session_id": "load-room"}' >"$WORK/ask.json"
make_lua lex "$WORK/lex.json"
make_lua ask "$WORK/ask.json"
make_lua alexa "$WORK/alexa.json" \
    "SignatureCertChainUrl=https://s3.amazonaws.com/echo.api/echo-api-cert.pem" \
    "Signature-256=$(cat "$WORK/alexa.sig")"
SKILL="amzn1.ask.skill.11111111-2222-3333-4444-555555555555"

echo "==> starting the baseline and opsvoice (demo fleet)"
"$KIT" baseline "127.0.0.1:$PORT_BASE" &
PIDS+=($!)
OPSVOICE_ADDR="127.0.0.1:$PORT_APP" OPSVOICE_LOG_FORMAT=json RUST_LOG=warn \
OPSVOICE_ALEXA_SKILL_IDS="$SKILL" \
OPSVOICE_ALEXA_TRUST_ROOTS="$WORK/root.pem" \
OPSVOICE_ALEXA_CERT_BASE_URL="$(cat "$WORK/base_url")" \
    "$BIN" serve >"$WORK/server.log" 2>&1 &
APP_PID=$!
PIDS+=("$APP_PID")
wait_for "http://127.0.0.1:$PORT_APP/healthz"
# Warm the caches and the Alexa chain.
for route in lex alexa ask; do
    body="$WORK/$route.json"
    path="/$route"; [ "$route" = ask ] && path=/v1/ask
    curl -sf -o /dev/null -H 'content-type: application/json' \
        -H "SignatureCertChainUrl: https://s3.amazonaws.com/echo.api/echo-api-cert.pem" \
        -H "Signature-256: $(cat "$WORK/alexa.sig")" \
        --data-binary @"$body" "http://127.0.0.1:$PORT_APP$path"
done

if [ -n "${SOAK:-}" ]; then
    read -r full _ < <(run_wrk "http://127.0.0.1:$PORT_APP/lex" "$WORK/lex.lua")
    half=$((full / 2))
    echo "==> soak: /lex for ${SOAK}s at about $half req/s (half of $full), $CONNECTIONS connections"
    start_rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$APP_PID/status")
    # wrk has no rate limit: half the connections, each pacing itself with a delay.
    delay_ms=$(( CONNECTIONS * 1000 / (half > 0 ? half : 1) ))
    { cat "$WORK/lex.lua"; echo "function delay() return $delay_ms end"; } >"$WORK/soak.lua"
    DURATION="$SOAK" run_wrk "http://127.0.0.1:$PORT_APP/lex" "$WORK/soak.lua" >"$WORK/soak.out"
    read -r rps p50 p99 errors _ <"$WORK/soak.out"
    end_rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$APP_PID/status")
    growth=$(awk -v a="$start_rss" -v b="$end_rss" 'BEGIN { printf "%.1f", (b - a) / a * 100 }')
    printf "soak: %s req/s, p50 %s ms, p99 %s ms, errors %s, RSS %s MB -> %s MB (%s%%)\n" \
        "$rps" "$p50" "$p99" "$errors" "$start_rss" "$end_rss" "$growth"
    exit 0
fi

# CPU µs per request: the server's user + system time over a run, divided by the requests
# it answered. It moves less than req/s when wrk and the server share the cores.
cpu_per_request() { # TICKS_BEFORE TICKS_AFTER REQUESTS
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="$TICKS_PER_SEC" \
        'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1e6 / hz / n; else printf "-" }'
}

BASE_PID="${PIDS[1]}"
printf "\n%-8s %10s %9s %9s %7s %10s %9s %9s %8s %9s\n" route "req/s" "p50 ms" "p99 ms" errors \
    "baseline" "ratio" "base p99" " cpu µs" "base cpu"
# /alexa first: its signed request carries a timestamp that must stay within 150 s.
for route in alexa lex ask; do
    path="/$route"; [ "$route" = ask ] && path=/v1/ask
    t0=$(cpu_ticks "$APP_PID")
    read -r rps p50 p99 errors requests < <(run_wrk "http://127.0.0.1:$PORT_APP$path" "$WORK/$route.lua")
    cpu=$(cpu_per_request "$t0" "$(cpu_ticks "$APP_PID")" "$requests")
    t0=$(cpu_ticks "$BASE_PID")
    read -r brps _ bp99 _ brequests < <(run_wrk "http://127.0.0.1:$PORT_BASE$path" "$WORK/$route.lua")
    bcpu=$(cpu_per_request "$t0" "$(cpu_ticks "$BASE_PID")" "$brequests")
    ratio=$(awk -v a="$rps" -v b="$brps" 'BEGIN { printf "%.0f%%", a / b * 100 }')
    printf "%-8s %10s %9s %9s %7s %10s %9s %9s %8s %9s\n" "$path" "$rps" "$p50" "$p99" "$errors" \
        "$brps" "$ratio" "$bp99" "$cpu" "$bcpu"
done
echo "opsvoice peak RSS: $(peak_rss_mb "$APP_PID") MB; baseline peak RSS: $(peak_rss_mb "$BASE_PID") MB"
echo "(wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION}s per run, loopback, $(nproc) cores shared by wrk and the server)"

kill "$APP_PID"

echo
echo "==> start to first answer (release build, 5 runs each)"
for run in 1 2 3 4 5; do
    OPSVOICE_ADDR="127.0.0.1:$PORT_APP" RUST_LOG=off \
        "$KIT" startup "http://127.0.0.1:$PORT_APP/v1/ask" "$BIN" serve
done | sort -n | awk '{ a[NR] = $1 } END { printf "demo  (/v1/ask \"any alarms firing\"): median %.1f ms, min %.1f, max %.1f\n", a[3], a[1], a[5] }'

if [ -x .venv/bin/moto_server ]; then
    MOTO_PORT=3803
    .venv/bin/moto_server -H 127.0.0.1 -p "$MOTO_PORT" >/dev/null 2>&1 &
    PIDS+=($!)
    wait_for "http://127.0.0.1:$MOTO_PORT/moto-api/"
    export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_ACCESS_KEY_ID=test \
        AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
    for run in 1 2 3 4 5; do
        OPSVOICE_ADDR="127.0.0.1:$PORT_APP" RUST_LOG=off OPSVOICE_BACKEND=aws \
        OPSVOICE_COGNITO_USER_POOL_ID=us-east-1_load OPSVOICE_COGNITO_CLIENT_IDS=load \
            "$KIT" startup "http://127.0.0.1:$PORT_APP/readyz" "$BIN" serve
    done | sort -n | awk '{ a[NR] = $1 } END { printf "aws   (/readyz, ECS ListClusters on moto): median %.1f ms, min %.1f, max %.1f\n", a[3], a[1], a[5] }'
else
    echo "aws: skipped (run scripts/test.sh once to install moto into .venv)"
fi
