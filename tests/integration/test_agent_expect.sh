#!/usr/bin/env bash
# test_agent_expect.sh — -bootstrap-expect=3: three servers on 127.0.0.21-23 wait for each other,
# bootstrap with one identical configuration, elect one leader and agree on the peers; a server
# with -bootstrap makes an expecting server refuse; a fourth expecting server joining the formed
# cluster defers to it and becomes a voter. Only PIDs started here are signalled.
set -u
cd "$(dirname "$0")/../.."
T=${TRIBUNE:-$PWD/build/asan/tribune}
[[ -x $T ]] || { echo "test_agent_expect: $T not built"; echo "0 passed, 1 failed"; exit 1; }
passed=0
failed=0
W=$(mktemp -d /tmp/tribune-test-expect.XXXXXX)
declare -A pid=()
cleanup() { for p in "${pid[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$W"; }
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [[ -n ${2:-} ]] && echo "$2" | sed 's/^/     /'; }
P=$((24000 + (RANDOM % 800) * 10)) # below the ephemeral range (32768)
HP=$((P + 2))
echo "{\"ports\": {\"server\": $P, \"serf_lan\": $((P + 1)), \"http\": $HP, \"dns\": -1}}" >"$W/ports.json"
http() {
  local fd
  { exec {fd}<>"/dev/tcp/$2/$HP"; } 2>/dev/null || { : >"$W/body"; return 1; }
  printf '%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' "$1" "$3" >&"$fd"
  timeout 20 cat <&"$fd" 2>/dev/null | sed '1,/^\r$/d' >"$W/body"
  exec {fd}>&-
}
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do ((SECONDS >= end)) && return 1; sleep 0.2; done; }
start() {
  local name=$1 ip=$2; shift 2
  "$T" agent -server -node="$name" -bind="$ip" -client="$ip" -data-dir="$W/$name" \
    -config-file="$W/ports.json" "$@" >>"$W/$name.log" 2>&1 &
  pid[$name]=$!
}

for i in 1 2 3; do start S$i 127.0.0.2$i -bootstrap-expect=3; done
sleep 1
if grep -q "leadership acquired" "$W"/S*.log; then bad "elected before the expected servers joined"
else ok "no election with fewer than 3 servers"; fi
wait_for 10 http PUT 127.0.0.22 "/v1/agent/join/127.0.0.21:$((P + 1))"
wait_for 10 http PUT 127.0.0.23 "/v1/agent/join/127.0.0.21:$((P + 1))"
# Each server bootstraps, or sees that a sibling already did (its gossip tags name a Raft cluster)
# and waits to be reached by the leader, as Consul does when peers report an existing log, or was
# reached by that leader first (it joined the leader's Raft cluster).
attempted() {
  local n=0 f
  for f in "$W"/S*.log; do
    grep -qE "Attempting bootstrap with nodes|Existing Raft peers reported by S|joined Raft cluster" "$f" &&
      n=$((n + 1))
  done
  ((n == 3)) && grep -q "Attempting bootstrap with nodes" "$W"/S*.log
}
if wait_for 20 attempted; then ok "every server bootstraps or defers to a sibling that did"; else bad "bootstrap not attempted"; fi
one_leader() { [[ $(grep -l "cluster leadership acquired" "$W"/S*.log | wc -l) == 1 ]]; }
if wait_for 20 one_leader; then ok "one leader elected"; else bad "leaders: $(grep -l "leadership acquired" "$W"/S*.log)"; fi
peers_agree() {
  local first="" i
  for i in 1 2 3; do
    http GET 127.0.0.2$i /v1/status/peers
    local sorted; sorted=$(tr -d '[]"' <"$W/body" | tr ',' '\n' | sort | tr '\n' ' ')
    [[ $(wc -w <<<"$sorted") == 3 ]] || return 1
    [[ -z $first ]] && first=$sorted
    [[ $sorted == "$first" ]] || return 1
  done
}
if wait_for 20 peers_agree; then ok "all agree on 3 voters"; else bad "peers disagree" "$(cat "$W/body")"; fi
lines=$(grep -h "Attempting bootstrap with nodes" "$W"/S*.log | sed 's/.*\[//' | tr ' ' '\n' | sort -u | wc -l)
if [[ $lines == 3 ]]; then ok "same 3 servers listed everywhere"; else bad "bootstrap lists differ"; fi

start X 127.0.0.24 -bootstrap-expect=3
start Y 127.0.0.25 -bootstrap
wait_for 10 http PUT 127.0.0.24 "/v1/agent/join/127.0.0.25:$((P + 1))"
refused() { grep -q "Member Y has bootstrap mode. Expect disabled." "$W/X.log"; }
if wait_for 20 refused; then ok "expect disabled next to a bootstrap server"; else bad "no refusal" "$(tail -n 5 "$W/X.log")"; fi

# A fourth server with the same -bootstrap-expect=3 joins the formed cluster: it sees servers
# that already hold a log (their tags name a Raft cluster), does not bootstrap a cluster of its
# own, and the leader adds it as the fourth voter.
start Z 127.0.0.26 -bootstrap-expect=3
wait_for 10 http PUT 127.0.0.26 "/v1/agent/join/127.0.0.21:$((P + 1))"
deferred() { grep -q "Existing Raft peers reported by S., disabling bootstrap mode" "$W/Z.log"; }
if wait_for 20 deferred; then ok "a fourth expect server defers to the existing cluster"; else bad "Z did not defer" "$(tail -n 5 "$W/Z.log")"; fi
four() { http GET 127.0.0.21 /v1/status/peers && [[ $(grep -o '"[^"]*"' "$W/body" | wc -l) == 4 ]]; }
if wait_for 30 four; then ok "the leader adds it as the fourth voter"; else bad "not 4 peers" "$(cat "$W/body")"; fi
if grep -q "Attempting bootstrap" "$W/Z.log"; then bad "Z bootstrapped"; else ok "Z never attempted a bootstrap"; fi

for n in "${!pid[@]}"; do kill -INT "${pid[$n]}" 2>/dev/null; done
end=$((SECONDS + 20))
for n in "${!pid[@]}"; do
  while kill -0 "${pid[$n]}" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
  wait "${pid[$n]}" 2>/dev/null
done
pid=()
echo "$passed passed, $failed failed"
