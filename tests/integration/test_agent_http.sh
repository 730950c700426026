#!/usr/bin/env bash
# test_agent_http.sh — the agent's HTTP API against one real bootstrap server: status, agent self
# and members, KV semantics and limits, catalog headers, error codes, monitor streaming, reload,
# leave. Only the PID started here is signalled; the temp dir is removed.
set -u
cd "$(dirname "$0")/../.."
T=${TRIBUNE:-$PWD/build/asan/tribune}
[[ -x $T ]] || { echo "test_agent_http: $T not built"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
W=$(mktemp -d /tmp/tribune-test-http.XXXXXX)
PID=
MPID=
cleanup() {
  [[ -n $PID ]] && kill -KILL "$PID" 2>/dev/null
  [[ -n $MPID ]] && kill -KILL "$MPID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [[ -n ${2:-} ]] && echo "$2" | sed 's/^/     /'; }

P=$((22000 + (RANDOM % 1000) * 10)) # below the ephemeral range (32768)
IP=127.0.0.1
HP=$((P + 2))
echo "{\"ports\": {\"server\": $P, \"serf_lan\": $((P + 1)), \"http\": $HP, \"dns\": -1}}" >"$W/ports.json"

# http METHOD PATH [BODYFILE]: status, headers and body into $W/{status,hdr,body}.
http() {
  local fd len=0
  [[ -n ${3:-} ]] && len=$(stat -c %s "$3")
  { exec {fd}<>"/dev/tcp/$IP/$HP"; } 2>/dev/null || { echo 000 >"$W/status"; : >"$W/body"; return 1; }
  printf '%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %s\r\n\r\n' "$1" "$2" "$len" >&"$fd"
  [[ -n ${3:-} ]] && cat "$3" >&"$fd" 2>/dev/null
  timeout 20 cat <&"$fd" >"$W/resp" 2>/dev/null
  exec {fd}>&-
  head -n 1 "$W/resp" | awk '{print $2}' >"$W/status"
  sed -n '1,/^\r$/p' "$W/resp" >"$W/hdr"
  sed '1,/^\r$/d' "$W/resp" >"$W/body"
}
# check NAME STATUS BODY_REGEX
check() {
  if [[ $(cat "$W/status") == "$2" ]] && { [[ -z $3 ]] || grep -qE -- "$3" "$W/body"; }; then ok "$1"
  else bad "$1: status $(cat "$W/status")" "$(head -c 400 "$W/body")"; fi
}
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS >= end)) && return 1; sleep 0.2; done
}

"$T" agent -server -bootstrap -node=h1 -bind=$IP -client=$IP -data-dir="$W/d" \
  -config-file="$W/ports.json" >"$W/log" 2>&1 &
PID=$!
leader() { http GET /v1/status/leader; grep -q "\"$IP:$P\"" "$W/body"; }
registered() { http GET /v1/catalog/nodes; grep -q '"Node":"h1"' "$W/body"; }
if wait_for 30 leader && wait_for 20 registered; then ok "status/leader names ourselves"; else
  bad "no leader" "$(tail -n 20 "$W/log")"; fi

http GET /v1/status/peers; check "status/peers" 200 "^\[\"$IP:$P\"\]$"
http GET /v1/agent/self; check "agent/self Config" 200 '"NodeName":"h1".*"Server":true|"Server":true.*"NodeName":"h1"'
check "agent/self Stats.raft" 200 '"raft":\{[^}]*"state":"Leader"'
check "agent/self Stats.consul" 200 '"consul":\{"bootstrap":"true","known_datacenters":"1","leader":"true","server":"true"\}'
http GET /v1/agent/services; check "agent/services on a server" 200 '^\{"consul":\{"ID":"consul","Service":"consul","Tags":\[\],"Port":'"$P"'\}\}$'
http GET /v1/agent/checks; check "agent/checks" 200 '^\{\}$'
http GET /v1/agent/members; check "agent/members" 200 '"Name":"h1".*"role":"consul".*"bootstrap":"1".*"Status":1'
http GET /v1/catalog/nodes
if grep -qi "^X-Consul-Index: [1-9]" "$W/hdr" && grep -qi "^X-Consul-KnownLeader: true" "$W/hdr" &&
   grep -qi "^X-Consul-LastContact: 0" "$W/hdr"; then ok "catalog headers"; else bad "catalog headers" "$(cat "$W/hdr")"; fi
http GET /v1/catalog/services; check "catalog/services lists consul" 200 '"consul":\[\]'
http GET /v1/health/node/h1; check "serfHealth passing" 200 '"CheckID":"serfHealth","Name":"Serf Health Status","Status":"passing"'
http GET /v1/health/state/bogus; check "health/state/bogus is 400" 400 ""
http GET "/v1/catalog/nodes?stale&consistent"; check "stale+consistent 400" 400 "Cannot specify \?stale with \?consistent"
http GET "/v1/catalog/nodes?wait=xyz&index=1"; check "bad wait 400" 400 "Invalid wait time"

cat >"$W/reg" <<'JSON'
{"Datacenter":"dc1","Node":"foobar","Address":"192.168.10.10","Service":{"ID":"redis1","Service":"redis","Tags":["master","v1"],"Port":8000},"Check":{"CheckID":"service:redis1","Name":"Redis health check","Status":"passing","ServiceID":"redis1"}}
JSON
http PUT /v1/catalog/register "$W/reg"; check "catalog/register" 200 '^true$'
http GET /v1/catalog/service/redis; check "registered service listed" 200 '"Node":"foobar","Address":"192.168.10.10","ServiceID":"redis1","ServiceName":"redis","ServiceTags":\["master","v1"\],"ServicePort":8000'
http GET "/v1/health/service/redis?passing"; check "health/service passing" 200 '"CheckID":"service:redis1"'
printf '{"Node":"x"}' >"$W/noaddr"
http PUT /v1/catalog/register "$W/noaddr"; check "register without address is 400" 400 "Must provide address"

printf 'bar' >"$W/v"
http PUT /v1/kv/foo "$W/v"; check "kv PUT" 200 '^true$'
http GET "/v1/kv/foo?raw"; check "kv GET ?raw" 200 '^bar$'
http GET "/v1/kv/foo?raw&consistent"; check "kv GET ?consistent on the leader" 200 '^bar$'
http GET "/v1/catalog/nodes?consistent"; check "catalog ?consistent on the leader" 200 '"Node":"h1"'
http GET /v1/kv/foo; check "kv GET" 200 '"Key":"foo".*"Value":"YmFy"'
http PUT "/v1/kv/foo?cas=0" "$W/v"; check "kv cas=0 on existing key is false" 200 '^false$'
http PUT "/v1/kv/a/b?flags=42" "$W/v"; http PUT /v1/kv/a/c/d "$W/v"
http GET "/v1/kv/a/?keys&separator=/"; check "kv keys+separator" 200 '^\["a/b","a/c/"\]$'
http GET "/v1/kv/a/b"; check "kv flags" 200 '"Flags":42'
http GET "/v1/kv/a?recurse"; check "kv recurse" 200 '"Key":"a/b".*"Key":"a/c/d"'
http DELETE "/v1/kv/a?recurse"; check "kv DELETE recurse" 200 '^true$'
http GET /v1/kv/a/b; check "kv deleted key is 404" 404 ""
http PUT /v1/kv/ "$W/v"; check "kv empty key 400" 400 "Missing key name"
head -c $((512 * 1024 + 1)) /dev/zero >"$W/big"
http PUT /v1/kv/big "$W/big"; check "kv value over 512 KiB is 413" 413 ""
http POST /v1/kv/foo "$W/v"; check "kv POST is 405" 405 ""
# Blocking query: parked at the current index, answered by the next write to the key.
printf 'v1' >"$W/v1"; printf 'v2' >"$W/v2"
http PUT /v1/kv/blk "$W/v1"; http GET /v1/kv/blk
BI=$(grep -i '^X-Consul-Index:' "$W/hdr" | tr -d '\r' | awk '{print $2}')
{ exec {bfd}<>"/dev/tcp/$IP/$HP"; } 2>/dev/null
printf 'GET /v1/kv/blk?raw&index=%s&wait=60s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$BI" >&"$bfd"
timeout 60 cat <&"$bfd" >"$W/blk" 2>/dev/null &
BPID=$!
sleep 1
if kill -0 "$BPID" 2>/dev/null && [[ ! -s $W/blk ]]; then ok "blocking query parked"; else bad "blocking query answered at once" "$(cat "$W/blk")"; fi
http PUT /v1/kv/blk "$W/v2"
blk_done() { ! kill -0 "$BPID" 2>/dev/null; }
if wait_for 10 blk_done && tail -n 1 "$W/blk" | grep -q '^v2$'; then ok "blocking query woken by the write"
else bad "blocking query" "$(cat "$W/blk")"; kill "$BPID" 2>/dev/null; fi
exec {bfd}>&-
http GET "/v1/kv/blk?raw&index=999999&wait=1s"; check "blocking query answers at the end of its wait" 200 '^v2$'

http GET /v1/agent/join/; check "join without address is 400" 400 ""
http PUT "/v1/agent/join/127.0.0.1:1"; check "failed join is 500 with the error" 500 "."

# monitor: a stream that sees a line logged after it opened.
exec {mfd}<>"/dev/tcp/$IP/$HP"
printf 'GET /v1/agent/monitor?loglevel=debug HTTP/1.1\r\nHost: x\r\n\r\n' >&"$mfd"
timeout 10 cat <&"$mfd" >"$W/mon" &
MPID=$!
sleep 0.5
http PUT /v1/agent/force-leave/nosuchnode
monitored() { grep -q "Force leaving node: nosuchnode" "$W/mon"; }
if wait_for 10 monitored && grep -qi "Transfer-Encoding: chunked" "$W/mon"; then ok "monitor streams log lines"
else bad "monitor" "$(head -c 600 "$W/mon")"; fi
exec {mfd}>&-
kill "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null; MPID=
http GET /v1/agent/monitor?loglevel=nope; check "monitor bad level 400" 400 "Unknown log level"

http PUT /v1/agent/reload; check "reload" 200 ""
if wait_for 5 grep -q "Reloading configuration" "$W/log"; then ok "reload logged"; else bad "reload not logged"; fi

# retry_join: a client finds the server; with nobody to answer it gives up after retry_max.
"$T" agent -node=rj -bind=127.0.0.9 -client=127.0.0.9 -data-dir="$W/rj" -config-file="$W/ports.json" \
  -retry-join=$IP:$((P + 1)) -retry-interval=1s >"$W/rj.log" 2>&1 &
RJ=$!
rj_member() { http GET /v1/agent/members; grep -q '"Name":"rj"' "$W/body"; }
if wait_for 20 rj_member && grep -q "Join completed. Synced with 1 initial agents" "$W/rj.log"; then
  ok "retry_join joins"; else bad "retry_join" "$(tail -n 5 "$W/rj.log")"; fi
kill -INT "$RJ"; wait "$RJ"
# The member events above made the leader reconcile: an external node is not reaped.
http GET /v1/catalog/nodes; check "external node survives reconcile" 200 '"Node":"foobar"'
printf '{"Node":"foobar"}' >"$W/dereg"
http PUT /v1/catalog/deregister "$W/dereg"; check "catalog/deregister" 200 '^true$'
http GET /v1/catalog/service/redis; check "deregistered" 200 '^\[\]$' 
timeout 30 "$T" agent -node=rk -bind=127.0.0.10 -client=127.0.0.10 -data-dir="$W/rk" \
  -config-file="$W/ports.json" -retry-join=127.0.0.11:1 -retry-interval=1s -retry-max=2 >"$W/rk.log" 2>&1
rc=$?
if [[ $rc == 1 ]] && grep -q "max join retry exhausted, exiting" "$W/rk.log"; then ok "retry_max gives up, exit 1"
else bad "retry_max: rc=$rc" "$(tail -n 5 "$W/rk.log")"; fi

http PUT /v1/agent/leave; check "agent/leave" 200 ""
end=$((SECONDS + 20)); while kill -0 "$PID" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
if kill -0 "$PID" 2>/dev/null; then bad "agent still running after leave"; else
  wait "$PID"; rc=$?; PID=
  if [[ $rc == 0 ]]; then ok "left gracefully, exit 0"; else bad "exit $rc" "$(tail -n 10 "$W/log")"; fi
fi
echo "$passed passed, $failed failed"
