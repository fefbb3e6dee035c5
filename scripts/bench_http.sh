#!/usr/bin/env bash
# HTTP load benchmark (not a test): wrk (Debian) on loopback, 256 connections for 60 s each,
# against the trivial health route (the ceiling of this server on this machine) and three real
# reads — a liaison's 待办 list, a task detail, and a 成果库 match query — on a release build with
# the demo data (SQLite). Prints requests per second, p50/p99 latency, errors, and the server's
# peak RSS.   bash scripts/bench_http.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-60}"
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi
cargo build --release --locked -p xietong
BIN="$PWD/target/release/xietong"
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
RUST_LOG=warn "$BIN" serve --demo --data-dir "$DATA" --bind "127.0.0.1:$PORT" --sweep-every 3600 > "$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 240); do curl -fs "$BASE/health" >/dev/null 2>&1 && break; sleep 0.25; done
token() { curl -fs -X POST "$BASE/api/session" -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"Xietong@2026\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
LIAISON=$(token jsj_lly)
TECH=$(token kejiju)
TASK=$(curl -fs "$BASE/api/todo" -H "Authorization: Bearer $LIAISON" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["task"]["id"])')
Q=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("架桥机 焊接残余应力 消除"))')
# Warm the search index before measuring.
curl -fs "$BASE/api/achievements/match?q=$Q" -H "Authorization: Bearer $TECH" >/dev/null

run() { # name url token
  local out
  out=$(wrk -t2 -c256 -d"${SECS}s" --latency ${3:+-H "Authorization: Bearer $3"} "$2")
  local rps p50 p99 errs non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Socket errors/ {gsub(",", ""); print $4+$6+$8+$10}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%-28s %10s req/s   p50 %8s   p99 %8s   socket errors %s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${errs:-0}" "${non2xx:-0}"
}
echo "wrk -t2 -c256 -d${SECS}s on $(nproc) cores, release build, SQLite, demo data"
run "GET /health (ceiling)" "$BASE/health" ""
run "GET /api/todo (联络员)" "$BASE/api/todo" "$LIAISON"
run "GET /api/tasks/$TASK" "$BASE/api/tasks/$TASK" "$LIAISON"
run "GET /api/achievements/match" "$BASE/api/achievements/match?q=$Q" "$TECH"
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
