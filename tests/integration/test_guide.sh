#!/usr/bin/env bash
# test_guide.sh — Consul's "Bootstrapping a Datacenter" guide step by step with real tribune
# processes on 127.0.0.1-6: bootstrap server, joins, replication, clients, graceful leave of the
# bootstrap server, catch-up after restart. Only PIDs started here are signalled; temp dirs go.
set -u
cd "$(dirname "$0")/../.."
T=${TRIBUNE:-$PWD/build/asan/tribune}
[[ -x $T ]] || { echo "test_guide: $T not built"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
W=$(mktemp -d /tmp/tribune-test-guide.XXXXXX)
declare -A pid=()
cleanup() {
  for p in "${pid[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [[ -n ${2:-} ]] && echo "$2" | sed 's/^/     /'; }

# One port set for every node (each node has its own loopback address): server, serf, http.
P=$((20000 + (RANDOM % 1200) * 10)) # below the ephemeral range (32768)
cat >"$W/ports.json" <<JSON
{"ports": {"server": $P, "serf_lan": $((P + 1)), "http": $((P + 2)), "dns": -1}}
JSON
HP=$((P + 2))

# http METHOD IP PATH: status in $W/status, headers in $W/hdr, body in $W/body. Plain bash, as
# curl may be missing.
http() {
  local fd
  : >"$W/resp"
  { exec {fd}<>"/dev/tcp/$2/$HP"; } 2>/dev/null || { echo 000 >"$W/status"; : >"$W/body"; return 1; }
  printf '%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' \
    "$1" "$3" "$2" >&"$fd"
  timeout 20 cat <&"$fd" >"$W/resp" 2>/dev/null
  exec {fd}>&-
  head -n 1 "$W/resp" | awk '{print $2}' >"$W/status"
  sed -n '1,/^\r$/p' "$W/resp" >"$W/hdr"
  sed '1,/^\r$/d' "$W/resp" >"$W/body"
  [[ $(cat "$W/status") == 200 ]]
}

# stat IP KEY: a value of /v1/agent/self's Stats (all values are strings).
stat() {
  http GET "$1" /v1/agent/self >/dev/null
  grep -o "\"$2\":\"[^\"]*\"" "$W/body" | head -n 1 | cut -d'"' -f4
}

# wait_for SECONDS CMD...: polls CMD until it succeeds or the deadline passes.
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS >= end)) && return 1
    sleep 0.2
  done
}

# start NAME IP FLAGS...
start() {
  local name=$1 ip=$2; shift 2
  "$T" agent -node="$name" -bind="$ip" -client="$ip" -data-dir="$W/$name" \
    -config-file="$W/ports.json" "$@" >>"$W/$name.log" 2>&1 &
  pid[$name]=$!
}

logged() { grep -qF -- "$2" "$W/$1.log"; }
stop() { # stop NAME SIGNAL: signal and wait (bounded) for the exit code in $W/rc
  local p=${pid[$1]}
  kill -"$2" "$p" 2>/dev/null
  local end=$((SECONDS + 20))
  while kill -0 "$p" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
  if kill -0 "$p" 2>/dev/null; then kill -KILL "$p"; echo 137 >"$W/rc"; else
    wait "$p"; echo $? >"$W/rc"; fi
  unset "pid[$1]"
}

# 1. Node A, the only -bootstrap server, elects itself.
start A 127.0.0.1 -server -bootstrap
if wait_for 20 logged A "consul: cluster leadership acquired"; then ok "A: cluster leadership acquired"
else bad "A: no leadership" "$(tail -n 20 "$W/A.log")"; fi

# 2. B and C without -bootstrap do not elect themselves.
start B 127.0.0.2 -server
start C 127.0.0.3 -server
for n in B C; do
  if wait_for 20 logged $n "no known peers" && ! logged $n "leadership acquired"; then
    ok "$n: no-peers warning, no election"
  else bad "$n: expected the no-peers warning" "$(tail -n 20 "$W/$n.log")"; fi
done

# 3. B and C join A: `tribune join` against their own agents, as in the guide.
for ip in 127.0.0.2 127.0.0.3; do
  wait_for 10 http GET $ip /v1/agent/self >/dev/null
  out=$("$T" join -http-addr=$ip:$HP 127.0.0.1:$((P + 1)) 2>&1); rc=$?
  if [[ $rc == 0 && $out == "Successfully joined cluster by contacting 1 nodes." ]]; then
    ok "tribune join from $ip"
  else bad "tribune join from $ip: rc=$rc" "$out"; fi
done

# 4. The leader adds both as Raft peers.
if wait_for 20 logged A "raft: Added peer 127.0.0.2:$P, starting replication" &&
   wait_for 20 logged A "raft: Added peer 127.0.0.3:$P, starting replication"; then
  ok "A: Added peer lines"
else bad "A: missing Added peer" "$(grep -E 'raft|consul' "$W/A.log" | tail -n 20)"; fi

# 5. num_peers is 2 on A, and last_log_index converges on B and C.
np() { [[ $(stat 127.0.0.1 num_peers) == 2 ]]; }
info_np() { "$T" info -http-addr=127.0.0.1:$HP 2>/dev/null | grep -qP '^\tnum_peers = 2$'; }
if wait_for 20 info_np; then ok "tribune info on A: raft.num_peers = 2"; else bad "A: num_peers $(stat 127.0.0.1 num_peers)"; fi
converged() {
  local a b c
  a=$(stat 127.0.0.1 last_log_index); b=$(stat 127.0.0.2 last_log_index); c=$(stat 127.0.0.3 last_log_index)
  [[ -n $a && $a == "$b" && $a == "$c" && $a -gt 1 ]]
}
if wait_for 20 converged; then ok "last_log_index converged ($(stat 127.0.0.1 last_log_index))"
else bad "last_log_index: A=$(stat 127.0.0.1 last_log_index) B=$(stat 127.0.0.2 last_log_index) C=$(stat 127.0.0.3 last_log_index)"; fi

# 6. A second server in bootstrap mode is refused as a peer.
start F 127.0.0.6 -server -bootstrap
wait_for 20 logged F "cluster leadership acquired" >/dev/null
http PUT 127.0.0.6 "/v1/agent/join/127.0.0.1:$((P + 1))" >/dev/null
if wait_for 20 logged A "are both in bootstrap mode. Only one node should be in bootstrap mode, not adding Raft peer." &&
   ! logged A "Added peer 127.0.0.6"; then ok "second bootstrap server refused"
else bad "second bootstrap server" "$(grep -E 'consul|raft' "$W/A.log" | tail -n 10)"; fi
stop F INT
if [[ $(cat "$W/rc") == 0 ]]; then ok "F: graceful leave exits 0"; else bad "F: exit $(cat "$W/rc")"; fi

# 7. Clients join any node; every agent agrees on the members.
start D 127.0.0.4
wait_for 10 http PUT 127.0.0.4 "/v1/agent/join/127.0.0.2:$((P + 1))" >/dev/null
alive_members() { http GET "$1" /v1/agent/members >/dev/null && [[ $(grep -o '"Status":1' "$W/body" | wc -l) == "$2" ]]; }
agree=1
for ip in 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4; do wait_for 20 alive_members $ip 4 || agree=0; done
if ((agree)); then ok "members agree everywhere (4 alive)"; else bad "members disagree" "$(cat "$W/body")"; fi
in_catalog() { http GET "$1" /v1/catalog/nodes >/dev/null && grep -q "\"Node\":\"$2\"" "$W/body"; }
if wait_for 20 in_catalog 127.0.0.1 D; then ok "leader registered client D in the catalog"
else bad "catalog lacks D" "$(cat "$W/body")"; fi
if wait_for 20 logged A "consul: member 'D' joined, marking health alive"; then ok "A: member 'D' joined line"
else bad "A: no member joined line"; fi

http GET 127.0.0.2 "/v1/catalog/nodes?consistent"
if [[ $(cat "$W/status") == 200 ]] && grep -q '"Node":"D"' "$W/body"; then ok "?consistent on a follower is forwarded to the leader"; else bad "?consistent on a follower: $(cat "$W/status")"; fi

# 8. SIGINT to A: graceful leave, a new leader among B and C, A removed as a peer.
stop A INT
if [[ $(cat "$W/rc") == 0 ]] && logged A "Gracefully shutting down agent..."; then ok "A: graceful leave, exit 0"
else bad "A: exit $(cat "$W/rc")" "$(tail -n 10 "$W/A.log")"; fi
new_leader() { http GET 127.0.0.2 /v1/status/leader >/dev/null && grep -qE "\"127\.0\.0\.[23]:$P\"" "$W/body"; }
if wait_for 20 new_leader; then ok "new leader $(cat "$W/body")"; else bad "no new leader: $(cat "$W/body")"; fi
removed() { logged B "Removed peer 127.0.0.1:$P" || logged C "Removed peer 127.0.0.1:$P"; }
if wait_for 20 removed; then ok "A removed as a peer after leaving"; else bad "A not removed"; fi

# 9. A client joins while A is away.
start E 127.0.0.5
wait_for 10 http PUT 127.0.0.5 "/v1/agent/join/127.0.0.3:$((P + 1))" >/dev/null
if wait_for 20 in_catalog 127.0.0.2 E; then ok "E registered while A is away"; else bad "E not registered"; fi

# 10. A restarts without -bootstrap, rejoins and catches up on what it missed.
start A 127.0.0.1 -server
if wait_for 10 http PUT 127.0.0.1 "/v1/agent/join/127.0.0.2:$((P + 1))"; then ok "A rejoined"
else bad "A rejoin: $(cat "$W/status")" "$(tail -n 10 "$W/A.log")"; fi
if wait_for 30 in_catalog 127.0.0.1 E; then ok "A's catalog lists E, which joined while A was away"
else bad "A's catalog lacks E" "$(cat "$W/body")"; fi
if wait_for 20 np && wait_for 20 converged; then ok "A back as a peer, logs converged"
else bad "A not back: num_peers=$(stat 127.0.0.1 num_peers)"; fi

# 11. A client stopped without leaving (SIGTERM) is failed: kept, its serfHealth critical.
stop D TERM
failed_logged() { logged A "member 'D' failed, marking health critical" || logged B "member 'D' failed, marking health critical" || logged C "member 'D' failed, marking health critical"; }
critical() { http GET 127.0.0.2 /v1/health/node/D >/dev/null && grep -q '"Status":"critical","Notes":"","Output":"Agent not live or unreachable"' "$W/body"; }
if wait_for 40 failed_logged && wait_for 20 critical; then ok "D failed: health critical, still in the catalog"
else bad "D not marked critical" "$(cat "$W/body")"; fi

# 12. A data dir is bound to its node name.
"$T" agent -node=Z -bind=127.0.0.4 -client=127.0.0.4 -data-dir="$W/D" -config-file="$W/ports.json" \
  >"$W/z.out" 2>"$W/z.err"; rc=$?
if [[ $rc == 1 ]] && grep -q "belongs to node 'D'" "$W/z.err"; then ok "data dir of D refused for node Z"
else bad "node-id check: rc=$rc" "$(cat "$W/z.err")"; fi

for n in E A B C; do [[ -n ${pid[$n]:-} ]] && stop $n INT; done
echo "$passed passed, $failed failed"
