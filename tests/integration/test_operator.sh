#!/usr/bin/env bash
# test_operator.sh — `tribune operator raft list-peers|remove-peer` against three real servers on
# 127.0.0.1-3 joined with `tribune join`: the table, a follower killed and removed, the errors.
. "$(dirname "$0")/lib.sh"
lib_init test_operator

ips=(127.0.0.1 127.0.0.2 127.0.0.3)
op() { local ip=$1; shift; "$T" operator raft "$@" -http-addr="$ip:$PORT_HTTP"; }
# rows IP: the list-peers table without its header; fails when the command fails.
rows() { op "$1" list-peers -stale >"$W/peers.out" 2>"$W/peers.err" && tail -n +2 "$W/peers.out"; }
count_rows() { local r; r=$(rows "$1") || return 1; [[ $(grep -c . <<<"$r") == "$2" ]]; }
one_leader() { local r; r=$(rows "$1") || return 1; [[ $(awk '$4 == "leader"' <<<"$r" | wc -l) == 1 ]]; }
all_voters() { local r; r=$(rows "$1") || return 1; [[ -z $(awk '$5 != "true"' <<<"$r") ]]; }
# A joined server catches up as a non-voter first and is promoted later: wait for the promotion.
settled() { count_rows "$1" 3 && one_leader "$1" && all_voters "$1"; }

lib_start S1 127.0.0.1 -server -bootstrap
lib_start S2 127.0.0.2 -server
lib_start S3 127.0.0.3 -server
wait_for 30 lib_logged S1 "leadership acquired" && ok "S1 leads" || bad "S1 never led" "$(tail -n 5 "$W/S1.log")"
for i in 2 3; do
  up() { "$T" join -http-addr="${ips[i - 1]}:$PORT_HTTP" "127.0.0.1:$PORT_SERF" >/dev/null 2>&1; }
  wait_for 20 up && ok "S$i joins S1" || bad "S$i cannot join"
done

for i in 1 2 3; do
  ip=${ips[i - 1]}
  if wait_for 40 settled "$ip"; then
    ok "list-peers on S$i: 3 voters, one leader"
  else
    bad "list-peers on S$i" "$(cat "$W/peers.out" "$W/peers.err")"
  fi
done
op 127.0.0.1 list-peers >"$W/p.out" 2>&1
head -n 1 "$W/p.out" | grep -qE '^Node +ID +Address +State +Voter$' && ok "header columns" || bad "header" "$(cat "$W/p.out")"
grep -qE "^S1 +[0-9a-f]{16} +127\.0\.0\.1:$PORT_SERVER +leader +true$" "$W/p.out" &&
  ok "leader row: name, id, address, state, voter" || bad "leader row" "$(cat "$W/p.out")"
http_get 127.0.0.1 /v1/operator/raft/configuration && grep -q '"Index":[1-9]' "$W/http.body" &&
  ok "configuration JSON with Index" || bad "configuration JSON" "$(lib_body)"

# A follower dies; the leader removes it by address.
lib_stop S3 KILL
# As in Consul, the leader re-adds a server that gossip still sees alive: remove it once failed.
failed_in_members() { "$T" members -http-addr="127.0.0.1:$PORT_HTTP" -status=failed 2>/dev/null | grep -q "^$1 "; }
wait_for 40 failed_in_members S3 && ok "S3 seen failed" || bad "S3 never failed" "$("$T" members -http-addr="127.0.0.1:$PORT_HTTP" 2>&1)"
out=$(op 127.0.0.2 remove-peer -address="127.0.0.3:$PORT_SERVER" 2>&1); rc=$?
[[ $rc == 0 && $out == "Removed peer with address \"127.0.0.3:$PORT_SERVER\"" ]] &&
  ok "remove-peer on a follower is forwarded to the leader" || bad "remove-peer via follower (rc $rc)" "$out"
http_get 127.0.0.1 /v1/operator/raft/configuration && ! grep -q "127.0.0.3:$PORT_SERVER" "$W/http.body" &&
  ok "the leader's configuration lacks S3" || bad "S3 still in the configuration" "$(lib_body)"
for ip in 127.0.0.1 127.0.0.2; do
  if wait_for 20 count_rows "$ip" 2 && ! rows "$ip" | grep -q "127.0.0.3:"; then
    ok "list-peers on $ip: 2 rows, S3 gone"
  else
    bad "list-peers on $ip after removal" "$(cat "$W/peers.out" "$W/peers.err")"
  fi
done
http_put 127.0.0.1 /v1/kv/after-remove v && ok "the two servers still commit writes" || bad "write after removal" "$(lib_status) $(lib_body)"

# force-leave of a failed server also takes it out of the Raft configuration (the leader's
# reconcile removes a left server), so no remove-peer is needed.
lib_start S4 127.0.0.4 -server
join4() { "$T" join -http-addr="127.0.0.4:$PORT_HTTP" "127.0.0.1:$PORT_SERF" >/dev/null 2>&1; }
wait_for 20 join4 && ok "S4 joins S1" || bad "S4 cannot join"
wait_for 40 count_rows 127.0.0.1 3 && ok "S4 added as a peer" || bad "S4 not added" "$(cat "$W/peers.out" "$W/peers.err")"
lib_stop S4 KILL
wait_for 40 failed_in_members S4 && ok "S4 seen failed" || bad "S4 never failed" "$("$T" members -http-addr="127.0.0.1:$PORT_HTTP" 2>&1)"
"$T" force-leave -http-addr="127.0.0.1:$PORT_HTTP" S4 && ok "force-leave S4" || bad "force-leave S4"
if wait_for 30 count_rows 127.0.0.1 2 && ! rows 127.0.0.1 | grep -q "^S4 "; then
  ok "force-leave removed S4 from the Raft configuration"
else
  bad "S4 still a peer after force-leave" "$(cat "$W/peers.out" "$W/peers.err")"
fi

out=$(op 127.0.0.1 remove-peer -address=10.9.9.9:8300 2>&1); rc=$?
[[ $rc == 1 && $out == 'Error removing peer: address "10.9.9.9:8300" was not found in the Raft configuration' ]] &&
  ok "unknown address: Consul's error, exit 1" || bad "unknown address (rc $rc)" "$out"
out=$(op 127.0.0.1 remove-peer 2>&1); rc=$?
[[ $rc == 1 && $(head -n 1 <<<"$out") == "Missing peer address" ]] && ok "missing -address" || bad "missing -address (rc $rc)" "$out"
lib_http DELETE 127.0.0.1 "/v1/operator/raft/peer?id=00000000000000ff"
[[ $(lib_status) == 500 && $(lib_body) == 'id "00000000000000ff" was not found in the Raft configuration' ]] &&
  ok "DELETE ?id unknown: 500" || bad "DELETE ?id unknown: $(lib_status)" "$(lib_body)"
lib_http DELETE 127.0.0.1 /v1/operator/raft/peer
[[ $(lib_status) == 400 ]] && ok "DELETE without address or id: 400" || bad "DELETE no param: $(lib_status)" "$(lib_body)"
lib_http GET 127.0.0.1 /v1/operator/raft/peer
[[ $(lib_status) == 405 ]] && ok "GET on the peer endpoint: 405" || bad "GET peer: $(lib_status)"

# A client agent has no Raft: it forwards to a server.
lib_start C 127.0.0.5
joinc() { "$T" join -http-addr="127.0.0.5:$PORT_HTTP" "127.0.0.1:$PORT_SERF" >/dev/null 2>&1; }
wait_for 20 joinc && ok "client C joins" || bad "client C cannot join" "$(tail -n 5 "$W/C.log")"
out=$(op 127.0.0.5 list-peers 2>&1); rc=$?
[[ $rc == 0 && $out == *S1*S2* && $out != *S3* ]] &&
  ok "list-peers on a client: forwarded, S1 and S2" || bad "list-peers on client (rc $rc)" "$out"
lib_stop C TERM

# A lone server (a cluster of its own) refuses to remove its only voter.
lib_start B 127.0.0.6 -server -bootstrap
wait_for 30 lib_logged B "leadership acquired" && ok "lone server B leads" || bad "B never led" "$(tail -n 5 "$W/B.log")"
out=$(op 127.0.0.6 remove-peer -address="127.0.0.6:$PORT_SERVER" 2>&1); rc=$?
[[ $rc == 1 && $out == "Error removing peer: cannot remove the last voter"* ]] &&
  ok "the last voter is not removed" || bad "last voter (rc $rc)" "$out"
count_rows 127.0.0.6 1 && ok "B still lists itself" || bad "B's peers" "$(cat "$W/peers.out" "$W/peers.err")"
lib_stop B TERM

out=$("$T" operator 2>&1); rc=$?
[[ $rc == 1 && $out == *"Usage: tribune operator"* ]] && ok "operator alone: usage, exit 1" || bad "operator alone (rc $rc)" "$out"
out=$("$T" operator raft 2>&1); rc=$?
[[ $rc == 1 && $out == *"list-peers"* ]] && ok "operator raft alone: usage, exit 1" || bad "operator raft (rc $rc)" "$out"
out=$("$T" operator raft list-peers -http-addr=127.0.0.1:1 2>&1); rc=$?
[[ $rc == 1 && $out == "Error connecting to tribune agent:"* ]] && ok "no agent: exit 1" || bad "no agent (rc $rc)" "$out"

lib_stop S1 TERM
lib_stop S2 TERM
lib_finish
