#!/usr/bin/env bash
# The queue path, measured where SQS is not the bottleneck, in one run on loopback:
#   `proactive send` of N envelopes (the baseline), `proactive queue send` of the same N into the
#   SQS stand-in (bench/sqs-stand-in: SQS's JSON protocol, in memory, one thread), and
#   `proactive queue work` draining them, at the same concurrency, to one nginx stand-in of
#   Amazon's token and events endpoints (202 for every event); then `proactive queue fanout` of one
#   envelope to FANOUT_N subscribers (default 100000) read from the DynamoDB stand-in
#   (bench/sqs-stand-in's second binary: DynamoDB's JSON protocol, in memory, one thread) into a
#   fresh queue of the SQS stand-in (goal: at least 10,000 events/s). With --moto, the same queue
#   steps through moto's server (the local AWS of the tests) for MOTO_N envelopes, and the fan-out
#   from moto's DynamoDB to MOTO_N subscribers, for comparison. --only-fanout runs the fan-out
#   step(s) alone (no nginx, no send, no queue send or work, no ratio).
# Usage, from the project root:
#   bench/queue-bench.sh [--moto] [--only-fanout] [N=100000] [CONCURRENCY=64] [MOTO_N=500]
# Environment: FANOUT_N (default 100000); PROACTIVE_BIN, a proactive CLI built with `--features aws`
# to use instead of building target/release/proactive; CARGO_TARGET_DIR is honoured.
# Needs nginx (installed with apt-get when missing), python3 with boto3 (the seeding) and, for
# --moto, moto[server]. Works in target/queue-bench/. Prints one line per step, the ratio last.
set -u
src=$(cd "$(dirname "$0")" && pwd); proj=$(dirname "$src")
use_moto=0; only_fanout=0
while :; do
  case "${1:-}" in --moto) use_moto=1; shift ;; --only-fanout) only_fanout=1; shift ;; *) break ;; esac
done
N=${1:-100000}; C=${2:-64}; MOTO_N=${3:-500}
work="$proj/target/queue-bench"; mkdir -p "$work/stand-in/tmp"
cp "$src/stand-in/nginx.conf" "$work/stand-in/"
[ "$only_fanout" = 1 ] || command -v nginx >/dev/null || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq nginx-light >/dev/null 2>&1 || apt-get install -y -qq nginx >/dev/null 2>&1; }
release="${CARGO_TARGET_DIR:-$proj/target}/release"
bin=${PROACTIVE_BIN:-$release/proactive}
# The stand-ins (both binaries of the package) are always built; the CLI unless PROACTIVE_BIN names one.
(cd "$proj" && { [ -n "${PROACTIVE_BIN:-}" ] || cargo build -q --release -p proactive-cli --features aws; } \
  && cargo build -q --release -p sqs-stand-in) || { echo "build failed"; exit 1; }
[ -x "$bin" ] || { echo "no proactive CLI at $bin"; exit 1; }
# Dummy credentials: the stand-ins check none, and nothing may reach AWS.
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN

# ---- the servers: nginx for Amazon, the SQS and DynamoDB stand-ins, moto (--moto); stopped on exit ----
amazon=http://127.0.0.1:18080; sqs_pid=; dynamodb_pid=; moto_pid=
stop() {
  [ "$only_fanout" = 1 ] || nginx -p "$work/stand-in" -c nginx.conf -s stop 2>/dev/null
  [ -n "$sqs_pid" ] && kill "$sqs_pid" 2>/dev/null; [ -n "$dynamodb_pid" ] && kill "$dynamodb_pid" 2>/dev/null
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null
}
trap stop EXIT
[ "$only_fanout" = 1 ] || (cd "$work/stand-in" && { [ -f nginx.pid ] && kill -0 "$(cat nginx.pid)" 2>/dev/null || nginx -p "$PWD" -c nginx.conf; }) || { echo "nginx did not start"; exit 1; }
start_stand_in() { # NAME: starts $release/NAME, which prints its base URL first; sets stand_in_pid and stand_in_url
  : > "$work/$1.url"
  "$release/$1" > "$work/$1.url" 2>"$work/$1.log" & stand_in_pid=$!
  for _ in $(seq 50); do [ -s "$work/$1.url" ] && break; sleep 0.1; done
  stand_in_url=$(head -1 "$work/$1.url"); [ -n "$stand_in_url" ] || { echo "$1 did not start: $(cat "$work/$1.log")"; exit 1; }
}
start_stand_in sqs-stand-in; sqs_pid=$stand_in_pid; sqs=$stand_in_url
start_stand_in dynamodb-stand-in; dynamodb_pid=$stand_in_pid; dynamodb=$stand_in_url
start_moto() {
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 -m moto.server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 & moto_pid=$!
  moto="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -s -o /dev/null "$moto/moto-api/" && return 0; sleep 0.1; done
  echo "moto's server did not start (pip install 'moto[server]'): $(tail -1 "$work/moto.log")"; exit 1
}

# ---- helpers: one SQS call with curl, the wait for a drained queue ----
# Unsigned, but with the shape of a signature: moto's server picks the service from it.
auth='AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0'
sqs_call() { # ENDPOINT OPERATION JSON
  curl -s -X POST "$1/" -H 'Content-Type: application/x-amz-json-1.0' -H "X-Amz-Target: AmazonSQS.$2" -H "Authorization: $auth" -d "$3"
}
create_queue() { # ENDPOINT NAME -> the queue URL
  sqs_call "$1" CreateQueue "{\"QueueName\":\"$2\"}" | sed -n 's/.*"QueueUrl" *: *"\([^"]*\)".*/\1/p'
}
queue_length() { # ENDPOINT QUEUE_URL -> how many messages it holds, visible or in flight
  sqs_call "$1" GetQueueAttributes "{\"QueueUrl\":\"$2\",\"AttributeNames\":[\"All\"]}" | python3 -c '
import json, sys
a = json.load(sys.stdin).get("Attributes", {})
print(int(a.get("ApproximateNumberOfMessages", 0)) + int(a.get("ApproximateNumberOfMessagesNotVisible", 0)))'
}
wait_drained() { # ENDPOINT QUEUE_URL: returns once nothing is left, visible or in flight
  python3 - "$1" "$2" "$auth" <<'PY'
import http.client, json, sys, time, urllib.parse
endpoint, queue, auth = sys.argv[1], sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection(urllib.parse.urlparse(endpoint).netloc)
body = json.dumps({"QueueUrl": queue, "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]})
headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.GetQueueAttributes", "Authorization": auth}
while True:
    conn.request("POST", "/", body, headers)
    attributes = json.loads(conn.getresponse().read()).get("Attributes", {})
    if int(attributes.get("ApproximateNumberOfMessages", 1)) + int(attributes.get("ApproximateNumberOfMessagesNotVisible", 1)) == 0:
        break
    time.sleep(0.02)
PY
}
now() { date +%s.%N; }
rate() { python3 -c "import sys; n, s = int(sys.argv[1]), float(sys.argv[2]); print(f'{n} events in {s:.2f} s = {n / s:,.0f} events/s')" "$1" "$2"; }
rss_mb() { echo $(( $1 / 1024 )); }
cpu_us() { python3 -c "import sys; print(round((float(sys.argv[1]) + float(sys.argv[2])) * 1e6 / int(sys.argv[3]), 1))" "$1" "$2" "$3"; }
# The CPU the servers on this machine spent (clock ticks, user + system): nginx's workers, and the
# SQS stand-in. They share the cores with the CLI, so a step's rate depends on their cost too.
ticks() { local t=0 pid; for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
nginx_pids() { pgrep -f "nginx: worker process" | tr '\n' ' '; }
ticks_us() { python3 -c "import os, sys; print(round(int(sys.argv[1]) / os.sysconf('SC_CLK_TCK') * 1e6 / int(sys.argv[2]), 1))" "$1" "$2"; }

# ---- the steps; each prints one line and sets <step>_eps ----
run_send() { # FILE N
  local n0; n0=$(ticks $(nginx_pids))
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" send --client-id bench-client --client-secret bench-secret \
    --endpoint "$amazon" --token-url "$amazon/auth/o2/token" --concurrency "$C" --format json "$1" > "$work/send.out" 2>&1
  read -r wall user sys rss < "$work/time"
  send_eps=$(python3 -c "print($2 / $wall)")
  send_cpu=$(cpu_us "$user" "$sys" "$2")
  send_nginx=$(ticks_us $(( $(ticks $(nginx_pids)) - n0 )) "$2")
  echo "proactive send (nginx stand-in, $C in flight): $(rate "$2" "$wall"), CPU $send_cpu us/event, peak RSS $(rss_mb "$rss") MB; nginx $send_nginx us/event"
}
run_enqueue() { # LABEL ENDPOINT QUEUE_URL FILE N
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" queue send --aws-endpoint "$2" --queue-url "$3" "$4" > "$work/enqueue.out" 2>&1
  read -r wall user sys rss < "$work/time"
  enqueue_eps=$(python3 -c "print($5 / $wall)")
  echo "proactive queue send ($1): $(rate "$5" "$wall"), CPU $(cpu_us "$user" "$sys" "$5") us/event, peak RSS $(rss_mb "$rss") MB; $(tail -1 "$work/enqueue.out")"
}
run_work() { # LABEL ENDPOINT QUEUE_URL N: from start until the queue is drained, then SIGTERM
  local t0 t1 timer worker n0 q0
  n0=$(ticks $(nginx_pids)); q0=$(ticks $sqs_pid)
  t0=$(now)
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" queue work --aws-endpoint "$2" --queue-url "$3" --concurrency "$C" \
    --client-id bench-client --client-secret bench-secret --endpoint "$amazon" --token-url "$amazon/auth/o2/token" \
    > "$work/work.out" 2>"$work/work.err" & timer=$!
  wait_drained "$2" "$3"; t1=$(now)
  work_nginx=$(ticks_us $(( $(ticks $(nginx_pids)) - n0 )) "$4"); work_sqs=$(ticks_us $(( $(ticks $sqs_pid) - q0 )) "$4")
  # SIGTERM to the worker itself (the child of /usr/bin/time), as a container is stopped.
  worker=$(ps -o pid= --ppid "$timer" | tr -d ' '); [ -n "$worker" ] && kill -TERM "$worker"
  wait "$timer"
  read -r _ user sys rss < "$work/time"
  local wall; wall=$(python3 -c "print($t1 - $t0)")
  work_eps=$(python3 -c "print($4 / $wall)")
  work_cpu=$(cpu_us "$user" "$sys" "$4")
  echo "proactive queue work ($1, $C in flight): $(rate "$4" "$wall"), CPU $work_cpu us/event, peak RSS $(rss_mb "$rss") MB; nginx $work_nginx us/event, SQS stand-in $work_sqs us/event (moto: not counted); $(tail -1 "$work/work.out")"
}
# `proactive queue fanout` (DynamoDB -> SQS): N subscribers seeded (not timed) into a new table, one
# envelope (the first of events.jsonl) fanned out to them into a fresh queue of the SQS stand-in,
# timed from the CLI's start to its exit; then the queue must hold N messages. A failure is
# printed on the step's line, and the script then exits with 1 at the end.
fanout_failed=0
run_fanout() { # LABEL DYNAMODB_ENDPOINT SQS_ENDPOINT N
  if ! "$bin" queue fanout --help > /dev/null 2>&1; then
    echo "proactive queue fanout ($1): skipped (not in this build)"; return
  fi
  local table="fanout-$$-$4" queue held
  python3 "$src/seed-dynamodb.py" "$2" "$table" "$4" 2>"$work/seed.log" || { echo "proactive queue fanout ($1): seeding failed: $(tail -3 "$work/seed.log")"; fanout_failed=1; return 1; }
  head -n 1 "$work/events.jsonl" > "$work/template.json"
  queue=$(create_queue "$3" "$table")
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" queue fanout --aws-endpoint "$3" --dynamodb-endpoint "$2" \
    --queue-url "$queue" --table "$table" --event-key "bench-$$" "$work/template.json" > "$work/fanout.out" 2>&1 \
    || { echo "proactive queue fanout ($1): failed: $(tail -3 "$work/fanout.out")"; fanout_failed=1; return 1; }
  read -r wall user sys rss < "$work/time"
  held=$(queue_length "$3" "$queue")
  [ "$held" = "$4" ] || { echo "proactive queue fanout ($1): error: the queue holds ${held:-?} messages, not $4: $(tail -1 "$work/fanout.out")"; fanout_failed=1; return 1; }
  echo "proactive queue fanout ($1): $(rate "$4" "$wall"), CPU $(cpu_us "$user" "$sys" "$4") us/event, peak RSS $(rss_mb "$rss") MB; $(tail -1 "$work/fanout.out")"
}

if [ "$only_fanout" = 1 ]; then
  # The template only.
  python3 "$src/gen-events.py" 1 "$work/events.jsonl"
  run_fanout "DynamoDB stand-in, SQS stand-in" "$dynamodb" "$sqs" "${FANOUT_N:-100000}"
  [ "$use_moto" = 1 ] && { start_moto; run_fanout "DynamoDB on moto, SQS stand-in" "$moto" "$sqs" "$MOTO_N"; }
  exit "$fanout_failed"
fi
python3 "$src/gen-events.py" "$N" "$work/events.jsonl"
run_send "$work/events.jsonl" "$N"
queue=$(create_queue "$sqs" "events-$$")
run_enqueue "SQS stand-in" "$sqs" "$queue" "$work/events.jsonl" "$N"
run_work "SQS stand-in" "$sqs" "$queue" "$N"
stand_in_work_eps=$work_eps; stand_in_work_cpu=$work_cpu
# What the cores allow: events/s = cores / (CPU per event of every process on the path). With the
# servers' costs as measured, this is the rate queue work would reach if the worker itself cost no
# more per event than send does.
python3 - "$(nproc)" "$send_cpu" "$send_nginx" "$work_cpu" "$work_nginx" "$work_sqs" "$send_eps" <<'PY'
import sys
cores, send_cpu, send_nginx, work_cpu, work_nginx, work_sqs, send_eps = map(float, sys.argv[1:])
path_send, path_work = send_cpu + send_nginx, work_cpu + work_nginx + work_sqs
bound = cores * 1e6 / (send_cpu + work_nginx + work_sqs)
print(f"CPU per event on the path: send {path_send:.1f} us (CLI {send_cpu:.1f} + nginx {send_nginx:.1f}); "
      f"queue work {path_work:.1f} us (worker {work_cpu:.1f} + nginx {work_nginx:.1f} + SQS stand-in {work_sqs:.1f}); "
      f"on {cores:.0f} cores, a worker costing what send costs would reach at most {bound:,.0f} events/s = {bound / send_eps:.2f}x send")
PY
run_fanout "DynamoDB stand-in, SQS stand-in" "$dynamodb" "$sqs" "${FANOUT_N:-100000}"
if [ "$use_moto" = 1 ]; then
  start_moto
  head -n "$MOTO_N" "$work/events.jsonl" > "$work/events-moto.jsonl"
  queue=$(create_queue "$moto" "events-$$")
  run_enqueue "moto" "$moto" "$queue" "$work/events-moto.jsonl" "$MOTO_N"
  run_work "moto" "$moto" "$queue" "$MOTO_N"
  run_fanout "DynamoDB on moto, SQS stand-in" "$moto" "$sqs" "$MOTO_N"
fi
python3 -c "import sys; r, c = (float(sys.argv[1]) / float(sys.argv[2]), float(sys.argv[3]) / float(sys.argv[4])); print(f'ratio queue work (SQS stand-in) / send: {r:.2f} in events/s (goal: at least 0.8), {c:.2f} in CPU per event')" "$stand_in_work_eps" "$send_eps" "$stand_in_work_cpu" "$send_cpu"
exit "$fanout_failed"
