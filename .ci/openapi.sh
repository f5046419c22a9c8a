#!/usr/bin/env bash
# The OpenAPI stage of CI (issue 18): `bash .ci/openapi.sh` from the repository.
#
# Starts the debug binary on a free loopback port with a throw-away SQLite database and file
# mail, fetches GET /api/v1/openapi.json, and
#   1. validates it as OpenAPI 3.1 (openapi-spec-validator),
#   2. generates a Python client from it (openapi-python-client) and checks that the client
#      has every operation of the document,
#   3. runs a property-based conformance check of the live server against it (schemathesis):
#      no 5xx, every status declared, bodies, headers and content types as documented; then
#      prints how many answers were 2xx and 201, and fails if no creating request succeeded.
# The Python tools live in a venv under target/ with pinned versions (PyPI must be reachable
# on the first run). Any failure fails the script; the server is always stopped.
#
# Optional environment: OPENAPI_MAX_EXAMPLES (test cases per operation and phase, default 25),
# OPENAPI_MAX_TIME (seconds for the conformance run, default 180), BULLETIN_BIN (a built
# binary to test instead of building target/debug/bulletin).
set -euo pipefail

script=$(readlink -f "${BASH_SOURCE[0]}")
cd "${script%/*}/.."

VENV=$PWD/target/openapi-venv
PINS=(openapi-spec-validator==0.9.0 openapi-python-client==0.29.1 schemathesis==4.32.5)
MAX_EXAMPLES=${OPENAPI_MAX_EXAMPLES:-25}
MAX_TIME=${OPENAPI_MAX_TIME:-180}

log() { printf 'openapi.sh: %s\n' "$*" >&2; }

# --- the tools ------------------------------------------------------------------------------
pins_installed() {
    [[ -x "$VENV/bin/python" ]] || return 1
    local pin
    for pin in "${PINS[@]}"; do
        [[ $("$VENV/bin/python" -m pip show "${pin%%==*}" 2>/dev/null |
            awk '/^Version:/ {print $2}') == "${pin##*==}" ]] || return 1
    done
}
if pins_installed; then
    log "Python tools present in $VENV"
else
    log "installing ${PINS[*]} into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" </dev/null
fi

# --- the binary -----------------------------------------------------------------------------
if [[ -n "${BULLETIN_BIN:-}" ]]; then
    BIN=$BULLETIN_BIN
else
    # The test stage built target/debug/bulletin this way (same features): a no-op after it,
    # and a rebuild when the sources changed.
    cargo test --locked --no-run
    BIN=target/debug/bulletin
fi
BIN=$(readlink -f "$BIN")

# --- the server -----------------------------------------------------------------------------
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    local rc=$?
    set +e
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    if ((rc != 0)) && [[ -f "$WORK/server.log" ]]; then
        echo "---- last lines of the server log ----"
        tail -n 40 "$WORK/server.log"
    fi
    [[ -n "${OPENAPI_KEEP:-}" ]] && cp -r "$WORK" "$OPENAPI_KEEP"
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export BULLETIN__HTTP__BIND="127.0.0.1:$PORT"
export BULLETIN__HTTP__PUBLIC_URL="$BASE"
export BULLETIN__DATABASE__URL="sqlite://$WORK/bulletin.db?mode=rwc"
export BULLETIN__DATA__DIR="$WORK/data"
export BULLETIN__MAIL__TRANSPORT=file
export BULLETIN__MAIL__OUTBOX_DIR="$WORK/outbox"
export BULLETIN__MAIL__TEMPLATES_DIR="$WORK/emails"
export BULLETIN__DELIVERY__WORKER_ENABLED=false
export BULLETIN__DELIVERY__TEST_SENDS_PER_HOUR=0
export BULLETIN__SCHEDULER__ENABLED=false
export BULLETIN__HTTP__MAX_CONNECTIONS_PER_CLIENT=0
export BULLETIN__LOG__FILTER=warn
unset BULLETIN_CONFIG

"$BIN" migrate >"$WORK/migrate.log" 2>&1
TOKEN=$("$BIN" token create --name ci --role admin 2>/dev/null | tail -n 1)
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
# HTTP through Python (curl may be missing on a fresh machine): METHOD URL [JSON [OUT]];
# a JSON body goes with the token.
http() {
    "$VENV/bin/python" - "$@" <<'EOF'
import os, sys, urllib.request
method, url = sys.argv[1:3]
body = sys.argv[3].encode() if len(sys.argv) > 3 and sys.argv[3] else None
req = urllib.request.Request(url, data=body, method=method)
if body is not None:
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "Bearer " + os.environ["TOKEN"])
with urllib.request.urlopen(req, timeout=10) as r:
    data = r.read()
if len(sys.argv) > 4:
    open(sys.argv[4], "wb").write(data)
EOF
}
export TOKEN
for _ in $(seq 1 100); do
    http GET "$BASE/api/v1/openapi.json" "" "$WORK/openapi.json" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || {
        log "the server exited"
        exit 1
    }
    sleep 0.2
done
[[ -s "$WORK/openapi.json" ]] || {
    log "no document at $BASE/api/v1/openapi.json"
    exit 1
}
log "server $BIN on $BASE; document $(wc -c <"$WORK/openapi.json") bytes"

# --- 1. validate ----------------------------------------------------------------------------
# On failure it prints the whole document with the error: keep the head of that.
"$VENV/bin/openapi-spec-validator" --schema 3.1 "$WORK/openapi.json" 2>&1 | cut -c1-2000

# --- 2. a client with every operation -------------------------------------------------------
# The generator takes no text/csv bodies: the CSV imports become file uploads of bytes.
printf '{"content_type_overrides": {"text/csv": "application/octet-stream"}}\n' >"$WORK/client.json"
(cd "$WORK" && PATH="$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate \
    --path openapi.json --config client.json --output-path client --meta none \
    --fail-on-warning >client.log 2>&1) || {
    cat "$WORK/client.log"
    exit 1
}
"$VENV/bin/python" - "$WORK/openapi.json" "$WORK/client" <<'EOF'
import json, pathlib, re, sys

doc = json.loads(pathlib.Path(sys.argv[1]).read_text())
client = pathlib.Path(sys.argv[2])
methods = {"get", "put", "post", "delete", "patch"}
ops = [op["operationId"] for item in doc["paths"].values() for m, op in item.items() if m in methods]
assert len(ops) == len(set(ops)), "operationIds are not unique"
snake = lambda s: re.sub(r"[^a-z0-9]+", "_", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()).strip("_")
made = {p.stem for p in client.glob("api/*/*.py") if p.stem != "__init__"}
missing = sorted(o for o in ops if snake(o) not in made)
if missing:
    sys.exit(f"the generated client lacks {len(missing)} operations: {', '.join(missing)}")
print(f"openapi.sh: the generated client has all {len(ops)} operations", file=sys.stderr)
EOF

# --- 3. conformance of the live server ------------------------------------------------------
# What the document's examples name (list `news`, product `BLT-100`) exists, so that requests
# built from them (a subscriber, a campaign, a customer, a notice) can be accepted.
seed() { # PATH JSON
    http POST "$BASE/api/v1/$1" "$2"
}
seed lists '{"slug":"news","name":"News","kind":"newsletter","legal_basis":"consent","opt_in":"double"}'
seed products '{"part_number":"BLT-100","name":"Bulletin board","product_line":"boards"}'

CHECKS=${OPENAPI_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}
st_status=0
conformance() { # NAME ARGS...: one schemathesis run, its requests recorded in $WORK/NAME.har
    local name=$1
    shift
    # In $WORK: schemathesis keeps a cache in the working directory. One worker: with two
    # threads CPython 3.11's ast.parse (which hypothesis calls to describe its lambdas) is not
    # thread-safe and fails at random with "AST constructor recursion depth mismatch"
    # (CPython gh-106905), a failure of the tool, not of the server.
    (cd "$WORK" && "$VENV/bin/st" run "$WORK/openapi.json" --url "$BASE" \
        -H "Authorization: Bearer $TOKEN" --checks "$CHECKS" \
        --max-examples "$MAX_EXAMPLES" --workers 1 --seed "${OPENAPI_SEED:-1}" \
        --generation-database none --suppress-health-check all \
        --request-timeout 30 --no-color --output-sanitize false \
        --report har --report-har-path "$WORK/$name.har" "$@") || st_status=$?
}
# Revoking a token takes the run's own (its id is in GET /tokens): that operation goes last.
# Webhook targets are not fuzzed: registering one looks its host up in DNS and the worker
# would then post to it, and no request of a test may leave this machine (the SSRF guard
# refuses loopback; tests/integration/outgoing_webhooks.rs covers these routes instead).
conformance main --exclude-operation-id tokens_revoke \
    --exclude-operation-id webhooks_create --exclude-operation-id webhooks_update \
    --max-time "$MAX_TIME"
conformance revoke --include-operation-id tokens_revoke --max-time 30

"$VENV/bin/python" - "$WORK/main.har" "$WORK/revoke.har" <<'EOF' || st_status=1
import collections, json, sys

entries = [e for har in sys.argv[1:] for e in json.load(open(har))["log"]["entries"]]
by_status = collections.Counter(e["response"]["status"] for e in entries)
ok = sum(n for s, n in by_status.items() if 200 <= s < 300)
created = by_status.get(201, 0)
print(f"openapi.sh: {len(entries)} requests, {ok} answered 2xx, {created} answered 201")
print("openapi.sh: by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
if created == 0:
    sys.exit("openapi.sh: no creating request was accepted: the schemas let the generator build none")
EOF
exit "$st_status"
