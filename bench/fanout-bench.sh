#!/usr/bin/env bash
# `proactive fanout` against `proactive send` of the same envelopes, in one run, both to one nginx
# stand-in of Amazon's token and events endpoints on loopback (202 for every event):
#   - a SQLite subscription store with N subscribers of AMAZON.OrderStatus.Updated (ids of about
#     200 characters, as Amazon's are; apiEndpoint NA, EU and FE mixed), written straight in the
#     store's layout 2 (proactive-core/src/subscription/sqlite.rs) in one transaction;
#   - a JSONL file of the N envelopes the fan-out sends: the same template, Unicast to each user,
#     with the referenceId the fan-out gives them;
#   - `proactive send` of the JSONL and `proactive fanout` of the template, at the same
#     concurrency, each under /usr/bin/time; then the fan-out again with SMALL subscribers, for
#     its memory.
# Usage, from the project root: bench/fanout-bench.sh [N=1000000] [CONCURRENCY=64] [SMALL=100000]
# Needs nginx (installed with apt-get when missing) and python3. Work files go to
# target/fanout-bench/ (the stores are kept for the next run). Prints the figures last.
# Goals (issue 20): fanout events/s >= 0.8x send's; fanout's peak RSS at N <= 100 MB and within
# 20% of the run with SMALL.
set -u
proj=$PWD; N=${1:-1000000}; C=${2:-64}; SMALL=${3:-100000}
work="$proj/target/fanout-bench"; mkdir -p "$work/stand-in/tmp"
port=18091; base="http://127.0.0.1:$port"
command -v nginx >/dev/null || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq nginx-light >/dev/null 2>&1 || apt-get install -y -qq nginx >/dev/null 2>&1; }
cat > "$work/stand-in/nginx.conf" <<EOF
# A fast stand-in for Amazon's token and events endpoints, for throughput comparisons only.
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_buffer_size 64k;
    client_body_temp_path tmp;
    server {
        listen 127.0.0.1:$port backlog=4096;
        location = /auth/o2/token {
            access_log token.log;
            default_type application/json;
            return 200 '{"access_token":"Atc|bench-token","expires_in":3600,"scope":"alexa::proactive_events","token_type":"bearer"}';
        }
        location /v1/proactiveEvents {
            return 202;
        }
    }
}
EOF
# The same build as bench/queue-bench.sh, so that running one script does not rebuild the other's binary.
(cd "$proj" && cargo build -q --release -p proactive-cli --features aws) || { echo "proactive-cli: build failed"; exit 1; }
bin="$proj/target/release/proactive"

# The stores (kept between runs), a fresh template, and the JSONL of what the fan-out sends.
python3 - "$work" "$N" "$SMALL" <<'EOF'
import base64, datetime as dt, hashlib, json, os, sqlite3, sys, uuid
work, n, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
EVENT, KEY = "AMAZON.OrderStatus.Updated", "order-bench/shipped"
HOSTS = ["https://api.amazonalexa.com"] * 3 + ["https://api.eu.amazonalexa.com"] * 2 + ["https://api.fe.amazonalexa.com"]

def user(i):
    digest = hashlib.sha512(b"bench-user-%d" % i).digest() + hashlib.sha512(b"more-%d" % i).digest()
    return "amzn1.ask.account." + base64.b32encode(digest).decode()[:182]  # 200 characters

def store(count):
    path = f"{work}/subscribers-{count}.db"
    if os.path.exists(path):
        with sqlite3.connect(path) as db:
            if (db.execute("SELECT max(version) FROM proactive_schema").fetchone()[0] == 2 and
                    db.execute("SELECT count(*) FROM proactive_subscriptions WHERE event_name = ?", (EVENT,)).fetchone()[0] == count):
                return
        os.remove(path)
    db = sqlite3.connect(path + ".tmp")
    db.executescript("""
        CREATE TABLE proactive_schema (version INTEGER NOT NULL);
        CREATE TABLE proactive_users (user_id TEXT NOT NULL PRIMARY KEY, timestamp_secs INTEGER NOT NULL,
            timestamp_nanos INTEGER NOT NULL, request_id TEXT NOT NULL, api_endpoint TEXT NOT NULL);
        CREATE TABLE proactive_subscriptions (user_id TEXT NOT NULL REFERENCES proactive_users (user_id) ON DELETE CASCADE,
            event_name TEXT NOT NULL, api_endpoint TEXT NOT NULL, PRIMARY KEY (user_id, event_name));
        CREATE TABLE proactive_tombstones (user_id TEXT NOT NULL PRIMARY KEY, timestamp_secs INTEGER NOT NULL,
            timestamp_nanos INTEGER NOT NULL, request_id TEXT NOT NULL);
        CREATE INDEX proactive_tombstones_by_time ON proactive_tombstones (timestamp_secs, timestamp_nanos);
        INSERT INTO proactive_schema (version) VALUES (2);
    """)
    secs = int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    with db:
        db.executemany("INSERT INTO proactive_users VALUES (?, ?, 0, ?, ?)",
                       ((user(i), secs + i, f"amzn1.echo-api.request.{i}", HOSTS[i % len(HOSTS)]) for i in range(count)))
        db.executemany("INSERT INTO proactive_subscriptions VALUES (?, ?, ?)",
                       ((user(i), EVENT, HOSTS[i % len(HOSTS)]) for i in range(count)))
        # Some users subscribe to another event too.
        db.executemany("INSERT INTO proactive_subscriptions VALUES (?, ?, ?)",
                       ((user(i), "AMAZON.MessageAlert.Activated", HOSTS[i % len(HOSTS)]) for i in range(0, count, 7)))
    db.execute("CREATE INDEX proactive_subscribers ON proactive_subscriptions (event_name, user_id, api_endpoint)")
    db.commit(); db.close()
    os.replace(path + ".tmp", path)

store(n); store(small)
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
template = {
    "timestamp": stamp(now), "referenceId": "replaced-per-user", "expiryTime": stamp(now + dt.timedelta(hours=2)),
    "event": {"name": EVENT, "payload": {
        "state": {"status": "ORDER_SHIPPED", "deliveryDetails": {"expectedArrival": "2026-12-14T23:32:00.463Z"}},
        "order": {"seller": {"name": "localizedattribute:sellerName"}}}},
    "localizedAttributes": [{"locale": "en-US", "sellerName": "Delivery Owl"}, {"locale": "en-GB", "sellerName": "Delivery Owl UK"}],
    "relevantAudience": {"type": "Unicast", "payload": {"user": "amzn1.ask.account.TEMPLATE"}},
}
with open(f"{work}/template.json", "w") as f:
    json.dump(template, f, indent=2)
# The fan-out's referenceId: a name-based UUID of the key's length, the key and the user
# (proactive_core::fanout::stable_reference_id).
namespace = uuid.UUID("6f1c1f2e-8d4b-4a55-9b1e-5f0c2a7d93e1")
db = sqlite3.connect(f"{work}/subscribers-{n}.db")
with open(f"{work}/envelopes.jsonl", "w") as f:
    for (uid,) in db.execute("SELECT user_id FROM proactive_subscriptions WHERE event_name = ? ORDER BY user_id", (EVENT,)):
        template["referenceId"] = str(uuid.uuid5(namespace, f"{len(KEY)}:{KEY}{uid}"))
        template["relevantAudience"]["payload"]["user"] = uid
        f.write(json.dumps(template, separators=(",", ":")) + "\n")
EOF
[ $? -eq 0 ] || { echo "could not write the stores and the envelopes"; exit 1; }

cd "$work/stand-in" && { [ -f nginx.pid ] && kill -0 "$(cat nginx.pid)" 2>/dev/null || nginx -p "$PWD" -c nginx.conf; } && sleep 0.3
trap 'nginx -p "$work/stand-in" -c nginx.conf -s stop 2>/dev/null' EXIT
cd "$proj"
amazon=(--client-id bench-client --client-secret bench-secret --endpoint "$base" --token-url "$base/auth/o2/token"
  --concurrency "$C" --format json --quiet)

# run NAME COUNT ARGS...: runs `proactive ARGS` timed; prints its line, sets rate_NAME and rss_NAME.
run() {
  local name=$1 count=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/time-$name" "$bin" "$@" "${amazon[@]}" > "$work/out-$name" 2> "$work/err-$name"
  local code=$? wall user sys rss; read -r wall user sys rss < "$work/time-$name"
  local summary; summary=$(tail -1 "$work/out-$name")
  [ $code -eq 0 ] || { echo "$name: exit $code: $(tail -3 "$work/err-$name")"; exit 1; }
  printf -v "rate_$name" '%s' "$(python3 -c "print(round($count/$wall))")"; printf -v "rss_$name" '%s' "$((rss / 1024))"
  echo "$name: $summary wall_s=$wall cpu_s=$(python3 -c "print(round($user+$sys,2))") peak_rss_mb=$((rss / 1024))"
}
key=order-bench/shipped
run send "$N" send "$work/envelopes.jsonl"
run fanout "$N" fanout --subscribers "$work/subscribers-$N.db" --event-key "$key" "$work/template.json"
run fanout_small "$SMALL" fanout --subscribers "$work/subscribers-$SMALL.db" --event-key "$key" "$work/template.json"
python3 - <<EOF
send, fan, small = $rate_send, $rate_fanout, $rate_fanout_small
rss, rss_small, rss_send = $rss_fanout, $rss_fanout_small, $rss_send
print(f"send   {$N} events: {send} events/s, peak RSS {rss_send} MB")
print(f"fanout {$N} subscribers: {fan} events/s, peak RSS {rss} MB; ratio fanout/send {fan / send:.2f} (goal >= 0.8)")
print(f"fanout {$SMALL} subscribers: {small} events/s, peak RSS {rss_small} MB; "
      f"{$N} vs {$SMALL}: {rss / rss_small:.2f}x (goal: <= 100 MB and <= 1.2x)")
EOF
