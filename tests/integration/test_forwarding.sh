#!/usr/bin/env bash
# test_forwarding.sh — request forwarding between real agents: three servers and one client on
# 127.0.0.1-4 joined with `tribune join`; KV writes through the client and through a follower are
# committed on every server, the client lists the catalog, and survives kill -9 of its server.
set -u
. "$(dirname "$0")/lib.sh"
lib_init test_forwarding

SERVERS=(A B C)
declare -A IP=([A]=127.0.0.1 [B]=127.0.0.2 [C]=127.0.0.3 [D]=127.0.0.4)
declare -A NAME_OF=([127.0.0.1]=A [127.0.0.2]=B [127.0.0.3]=C)

for n in "${SERVERS[@]}"; do lib_start "$n" "${IP[$n]}" -server -bootstrap-expect=3; done
lib_start D "${IP[D]}" -log-level=debug
join_to_a() { "$T" join -http-addr="${IP[$1]}:$PORT_HTTP" "${IP[A]}:$PORT_SERF" >/dev/null 2>&1; }
for n in B C D; do
  if wait_for 20 join_to_a "$n"; then ok "tribune join: $n joined A"; else bad "$n cannot join A"; fi
done

agreed_leader() { leader_agreed "${SERVERS[@]}"; }
if wait_for 40 agreed_leader; then ok "servers agree on leader $LEADER"; else bad "no leader" "$(tail -n 5 "$W/A.log")"; fi
FOLLOWER=
for n in "${SERVERS[@]}"; do [[ ${IP[$n]} != "$LEADER" ]] && { FOLLOWER=$n; break; }; done
# A client has no Raft: it asks a server, so it names the same leader and the same voters.
SERVER_LEADER=$LEADER
if wait_for 20 leader_of D && [[ $LEADER == "$SERVER_LEADER" ]]; then ok "client's /v1/status/leader names leader $LEADER"
else bad "client's /v1/status/leader" "$(lib_body)"; fi
LEADER=$SERVER_LEADER
http_get "${IP[D]}" /v1/status/peers && [[ $(grep -o "127\.0\.0\.[123]:$PORT_SERVER" "$W/http.body" | sort -u | wc -l) == 3 ]] &&
  ok "client's /v1/status/peers lists the 3 voters" || bad "client's /v1/status/peers" "$(lib_body)"

put_via() { http_put "${IP[$1]}" "/v1/kv/$2" "$3" && [[ $(lib_body) == true ]]; }
# on_every_server KEY VALUE: each running server's own copy (?stale: answered locally) holds it.
on_every_server() {
  local n
  for n in "${SERVERS[@]}"; do
    lib_running "$n" || continue
    http_get "${IP[$n]}" "/v1/kv/$1?stale&raw" && [[ $(lib_body) == "$2" ]] || return 1
  done
}

if wait_for 30 put_via D via-client c1; then ok "PUT through the client answered true"
else bad "PUT through the client" "$(lib_status) $(lib_body)"; fi
if wait_for 20 on_every_server via-client c1; then ok "client's write committed on every server"
else bad "client's write missing on a server"; fi
if grep -q "forwarded request to server" "$W/D.log"; then ok "client forwarded over RPC"; else bad "client log shows no forwarding"; fi

if put_via "$FOLLOWER" via-follower f1; then ok "PUT through follower $FOLLOWER answered true"
else bad "PUT through follower $FOLLOWER" "$(lib_status) $(lib_body)"; fi
if wait_for 20 on_every_server via-follower f1; then ok "follower's write committed on every server"
else bad "follower's write missing on a server"; fi

if http_get "${IP[D]}" /v1/kv/via-follower?raw && [[ $(lib_body) == f1 ]]; then ok "client reads a key"
else bad "GET through the client" "$(lib_status) $(lib_body)"; fi
if http_get "${IP[D]}" /v1/kv/nope && [[ $(lib_status) == 404 ]]; then bad "missing key: 200"
elif [[ $(lib_status) == 404 ]]; then ok "missing key through the client: 404 relayed"
else bad "missing key through the client: $(lib_status)"; fi
grep -qi "^X-Consul-Index: [0-9]" "$W/http.hdr" && ok "X-Consul-Index relayed" || bad "no X-Consul-Index" "$(cat "$W/http.hdr")"

# A blocking read through the client waits on the server and comes back with the index.
http_get "${IP[D]}" /v1/kv/via-client
idx=$(sed -n 's/^X-Consul-Index: \([0-9]*\).*/\1/Ip' "$W/http.hdr")
if [[ -n $idx ]] && http_get "${IP[D]}" "/v1/kv/via-client?index=$idx&wait=1s" &&
  grep -qi "^X-Consul-Index: $idx" "$W/http.hdr"; then ok "blocking read through the client (index $idx, wait 1s)"
else bad "blocking read through the client" "$(lib_status) $(cat "$W/http.hdr")"; fi

all_nodes() {
  http_get "${IP[D]}" /v1/catalog/nodes || return 1
  local n
  for n in A B C D; do grep -q "\"Node\": *\"$n\"" "$W/http.body" || return 1; done
}
if wait_for 30 all_nodes; then ok "catalog/nodes through the client lists all 4 nodes"
else bad "catalog/nodes through the client" "$(lib_status) $(lib_body)"; fi

reg='{"Node":"ext1","Address":"10.0.0.9","Service":{"Service":"web","Port":80}}'
if lib_http PUT "${IP[D]}" /v1/catalog/register "$reg" && [[ $(lib_body) == true ]]; then
  ok "catalog register through the client"
else bad "catalog register through the client" "$(lib_status) $(lib_body)"; fi
ext_everywhere() {
  local n
  for n in "${SERVERS[@]}"; do
    http_get "${IP[$n]}" "/v1/catalog/service/web?stale" && grep -q 10.0.0.9 "$W/http.body" || return 1
  done
}
if wait_for 20 ext_everywhere; then ok "registered service on every server"; else bad "service missing"; fi

# An answer over the frame bound is refused with a clear error, not truncated.
big=$(head -c 400000 /dev/zero | tr '\0' x)
for i in 1 2 3; do http_put "${IP[A]}" "/v1/kv/big/$i" "$big" >/dev/null; done
if http_get "${IP[D]}" "/v1/kv/big/?recurse"; then bad "oversized answer relayed: 200"
elif grep -q "too large to forward" "$W/http.body"; then ok "oversized answer: 500 too large to forward"
else bad "oversized answer" "$(lib_status) $(head -c 200 "$W/http.body")"; fi
if http_get "${IP[D]}" "/v1/kv/big/1?raw" && [[ $(wc -c <"$W/http.body") == 400000 ]]; then
  ok "a 400000-byte value read through the client"
else bad "big value through the client: $(lib_status)"; fi

# Kill -9 the server the client used last; the client fails over to another.
USED=$(grep -o "forwarded request to server 127\.0\.0\.[0-9]*" "$W/D.log" | tail -n 1 | awk '{print $NF}')
VICTIM=${NAME_OF[$USED]:-}
if [[ -n $VICTIM ]]; then
  kill -KILL "${LIB_PID[$VICTIM]}"; wait "${LIB_PID[$VICTIM]}" 2>/dev/null; unset "LIB_PID[$VICTIM]"
  ok "killed $VICTIM, the server the client used"
  if wait_for 40 put_via D after-kill k1; then ok "PUT through the client after the kill"
  else bad "PUT through the client after the kill" "$(lib_status) $(lib_body)"; fi
  if wait_for 20 on_every_server after-kill k1; then ok "write after the kill on every live server"
  else bad "write after the kill missing"; fi
  if grep -q "cannot reach server $USED" "$W/D.log"; then ok "client failed over from $USED"
  else bad "no failover logged" "$(grep rpc "$W/D.log" | tail -n 5)"; fi
else
  bad "cannot tell which server the client used"
fi

# A request that claims too many forwards is refused, never bounced around.
: >"$W/hops.resp"
if exec {fd}<>"/dev/tcp/${IP[D]}/$PORT_HTTP"; then
  printf 'GET /v1/kv/x HTTP/1.1\r\nHost: d\r\nConnection: close\r\nX-Tribune-Rpc-Hops: 2\r\n\r\n' >&"$fd"
  timeout 20 cat <&"$fd" >"$W/hops.resp"; exec {fd}>&-
fi
grep -q "too many times" "$W/hops.resp" && ok "hop limit enforced" || bad "hop limit" "$(cat "$W/hops.resp")"

# A hostile RPC frame on the server port closes that connection with one log line; Raft goes on.
S=${SERVERS[0]}; lib_running "$S" || S=${SERVERS[1]}
if exec {fd}<>"/dev/tcp/${IP[$S]}/$PORT_SERVER"; then
  printf 'TRPC\xff\xff\xff\xff' >&"$fd"; timeout 10 cat <&"$fd" >/dev/null; exec {fd}>&-
fi
if wait_for 10 lib_logged "$S" "closing rpc connection: rpc frame of 4294967295 bytes exceeds"; then
  ok "oversized rpc frame refused by $S"
else bad "no refusal logged by $S"; fi
if wait_for 20 put_via D after-garbage g1; then ok "cluster still serves writes"; else bad "write after garbage"; fi

# The client leaves gracefully (its sanitizers report at exit); then the servers go.
lib_stop D INT
for n in "${SERVERS[@]}"; do lib_running "$n" && lib_stop "$n" TERM; done
if grep -l "AddressSanitizer\|runtime error\|LeakSanitizer" "$W"/*.log; then bad "sanitizer report"
else ok "no sanitizer report from any agent"; fi
lib_finish
