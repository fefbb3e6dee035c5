#!/usr/bin/env bash
# Hostile input against the API: schemathesis (PyPI) generates requests from /api/openapi.json
# and checks that no answer is a 5xx and every answer matches its documented schema — once for
# each of the ten roles, signed in, against a fresh demo server. Exits non-zero on any failure.
#   XIETONG_BIN=target/debug/xietong bash scripts/schemathesis.sh [examples-per-operation]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${XIETONG_BIN:-$PWD/target/debug/xietong}"
EXAMPLES="${1:-20}"
if ! command -v st >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check schemathesis
fi
DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
"$BIN" serve --demo --data-dir "$DATA" --bind "127.0.0.1:$PORT" --sweep-every 3600 > "$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 240); do curl -fs "$BASE/health" >/dev/null 2>&1 && break; sleep 0.25; done
curl -fs "$BASE/health" >/dev/null || { echo "server did not start:"; cat "$DATA/server.log"; exit 1; }
status=0
# The account managers go last: fuzzing as the 系统管理员 resets and disables business accounts
# (and the 安全管理员 the administrators'), after which those could not sign in with the demo password.
for user in duchaju fqz_cj jsj_lly jsj_dlk kejiju qiye gaoxiao shenji admin anquan; do
  token=$(curl -fs -X POST "$BASE/api/session" -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"Xietong@2026\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  echo "==> schemathesis as $user"
  # Signing out would end the run's own session; the rest is fair game.
  st run "$BASE/api/openapi.json" -u "$BASE" -H "Authorization: Bearer $token" -n "$EXAMPLES" -w 2 \
    --checks not_a_server_error,response_schema_conformance --phases examples,fuzzing \
    --exclude-path /api/session --exclude-path /api/sessions --exclude-path /api/password \
    --no-color > "$DATA/st-$user.log" 2>&1 || { status=1; tail -60 "$DATA/st-$user.log"; }
  grep -E "^Test cases|generated" "$DATA/st-$user.log" | tail -1
done
if grep -qiE "panicked|internal error" "$DATA/server.log"; then
  echo "the server logged internal errors:"; grep -iE "panicked|internal error" "$DATA/server.log" | head -20; status=1
fi
exit $status
