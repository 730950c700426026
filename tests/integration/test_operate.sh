#!/usr/bin/env bash
# test_operate.sh — the "Operating a cluster" scenarios with real servers on 127.0.0.41-49, driven
# through the tribune CLI: bootstrap-expect, a stray -bootstrap server recovered, leader killed and
# force-left, rolling SIGINT restarts, -rejoin, peers.json recovery, retry-join to a late server.
set -u
. "$(dirname "$0")/lib.sh"
lib_init test_operate

ip_of() { echo "127.0.0.4${1#S}"; }
# cli NAME CMD [SUB...] -- ARGS: CMD's flags go before its positional arguments, as in Consul.
cli() {
  local n=$1 a=(); shift
  while (($#)) && [[ $1 != -- ]]; do a+=("$1"); shift; done
  (($#)) && shift
  "$T" "${a[@]}" -http-addr="$(ip_of "$n"):$PORT_HTTP" "$@"
}
# rows NAME: the list-peers table without its header, asked of NAME; fails when the command fails.
rows() { cli "$1" operator raft list-peers -stale >"$W/peers.out" 2>"$W/peers.err" && tail -n +2 "$W/peers.out"; }
# peers_are NAME N: NAME lists N voters, exactly one of them leader.
peers_are() {
  local r; r=$(rows "$1") || return 1
  [[ $(grep -c . <<<"$r") == "$2" && -z $(awk '$5 != "true"' <<<"$r") &&
     $(awk '$4 == "leader"' <<<"$r" | wc -l) == 1 ]]
}
leader_name() { rows "$1" | awk '$4 == "leader" {print $1}'; }
member_status() { cli "$1" members 2>/dev/null | awk -v n="$2" '$1 == n {print $3}'; }
status_is() { [[ $(member_status "$1" "$2") == "$3" ]]; }
join() { cli "$1" join -- "$(ip_of "$2"):$PORT_SERF" >/dev/null 2>&1; }
peers_dump() { cat "$W/peers.out" "$W/peers.err"; }

# --- 1. three empty servers with -bootstrap-expect=3 elect one leader with two peers
for n in S1 S2 S3; do lib_start "$n" "$(ip_of $n)" -server -bootstrap-expect=3; done
wait_for 20 join S2 S1 && wait_for 20 join S3 S1 && ok "S2 and S3 join S1" || bad "joins failed"
ok_all=1
for n in S1 S2 S3; do wait_for 40 peers_are "$n" 3 || { ok_all=0; bad "$n: not 3 voters and one leader" "$(peers_dump)"; }; done
((ok_all)) && ok "bootstrap-expect=3: all three list 3 voters and one leader"
L=$(leader_name S1)
[[ $(leader_name S2) == "$L" && $(leader_name S3) == "$L" && -n $L ]] &&
  ok "the three agree on leader $L" || bad "leaders differ"
http_put 127.0.0.41 /v1/kv/before-s4 one || http_put "$(ip_of "$L")" /v1/kv/before-s4 one
[[ $(lib_body) == true ]] && ok "a write is committed" || bad "write: $(lib_status)" "$(lib_body)"

# --- 2. a fourth server started with -bootstrap by mistake leads a cluster of its own. Joined to
# the others, it is refused as a Raft peer in both directions (its log belongs to another Raft
# cluster), and neither cluster loses a write. The guide's footnote then recovers it: stop it,
# delete raft/ from its data dir, restart it without -bootstrap and join it.
lib_start S4 "$(ip_of S4)" -server -bootstrap
wait_for 30 lib_logged S4 "leadership acquired" && ok "S4 bootstraps a cluster of its own" || bad "S4 never led" "$(tail -n 5 "$W/S4.log")"
wait_for 20 http_put "$(ip_of S4)" /v1/kv/stray-s4 mine && [[ $(lib_body) == true ]] &&
  ok "S4 commits a write of its own" || bad "S4 write: $(lib_status)" "$(lib_body)"
wait_for 20 join S4 S1 && ok "S4 joins the gossip pool of S1" || bad "S4 cannot join S1"
L=$(leader_name S1)
wait_for 30 lib_logged "$L" "Server 'S4' ($(ip_of S4):$PORT_SERVER) belongs to another Raft cluster" &&
  ok "leader $L refuses S4 as a Raft peer" || bad "$L did not refuse S4" "$(grep -i s4 "$W/$L.log" | tail -n 5)"
wait_for 30 lib_logged S4 "belongs to another Raft cluster" &&
  ok "S4 refuses the others as Raft peers" || bad "S4 did not refuse them" "$(tail -n 5 "$W/S4.log")"
wait_for 20 status_is S1 S4 alive && ok "S1 sees S4 alive in gossip" || bad "S4 not a member" "$(cli S1 members 2>&1)"
http_put "$(ip_of "$L")" /v1/kv/after-s4 two
[[ $(lib_body) == true ]] && ok "the cluster commits a write with S4 in its gossip pool" || bad "write: $(lib_status)" "$(lib_body)"
ok_all=1
for n in S1 S2 S3; do
  peers_are "$n" 3 && [[ $(leader_name "$n") == "$L" ]] || { ok_all=0; bad "$n: not 3 voters led by $L" "$(peers_dump)"; }
done
((ok_all)) && ok "S1-S3 still list 3 voters and leader $L"
peers_are S4 1 && [[ $(leader_name S4) == S4 ]] && ok "S4 still leads only itself" || bad "S4 peers" "$(peers_dump)"
has_key() { http_get "$(ip_of "$1")" "/v1/kv/$2?raw" && [[ $(lib_body) == "$3" ]]; }
missing() { http_get "$(ip_of "$1")" "/v1/kv/$2?stale"; [[ $(lib_status) == 404 ]]; }
ok_all=1
for n in S1 S2 S3; do
  { has_key "$n" before-s4 one && has_key "$n" after-s4 two && missing "$n" stray-s4; } ||
    { ok_all=0; bad "$n: data of the two clusters mixed" "$(lib_status) $(lib_body)"; }
done
((ok_all)) && ok "no committed write lost or mixed in (stray-s4 stays on S4 alone)"
has_key S4 stray-s4 mine && missing S4 before-s4 &&
  ok "S4 keeps its own data and nothing of the others'" || bad "S4 data" "$(lib_status) $(lib_body)"
lib_stop S4 TERM
rm -rf "$W/S4/raft"
lib_start S4 "$(ip_of S4)" -server
wait_for 20 join S4 S1 && ok "S4, restarted without -bootstrap, joins S1" || bad "S4 cannot join"
ok_all=1
for n in S1 S2 S3 S4; do wait_for 40 peers_are "$n" 4 || { ok_all=0; bad "$n: not 4 voters" "$(peers_dump)"; }; done
((ok_all)) && ok "S4 is the fourth voter on every server"
wait_for 20 has_key S4 before-s4 one && has_key S4 after-s4 two && missing S4 stray-s4 &&
  ok "S4 serves the cluster's data, none of its stray cluster's" || bad "S4 data after recovery" "$(lib_status) $(lib_body)"

# --- 3. kill -9 of the leader: a new leader, the old one `failed`; force-leave makes it `left`
L=$(leader_name S1)
lib_stop "$L" KILL
rest=(); for n in S1 S2 S3 S4; do [[ $n != "$L" ]] && rest+=("$n"); done
A=${rest[0]}
new_leader() { local x; x=$(leader_name "$A") && [[ -n $x && $x != "$L" ]]; }
wait_for 40 new_leader && ok "a new leader $(leader_name "$A") after kill -9 of $L" || bad "no new leader" "$(peers_dump)"
wait_for 40 status_is "$A" "$L" failed && ok "members shows $L failed" || bad "$L not failed" "$(cli "$A" members 2>&1)"
cli "$A" force-leave -- "$L" >"$W/fl.out" 2>&1 && ok "force-leave $L" || bad "force-leave $L" "$(cat "$W/fl.out")"
wait_for 30 status_is "$A" "$L" left && ok "members shows $L left" || bad "$L not left" "$(cli "$A" members 2>&1)"
gone() { peers_are "$A" 3 && ! rows "$A" | grep -q "^$L "; }
wait_for 30 gone && ok "force-leave dropped $L from the Raft peers" || bad "$L still a peer" "$(peers_dump)"
http_put "$(ip_of "$(leader_name "$A")")" /v1/kv/after-kill two && [[ $(lib_body) == true ]] &&
  ok "the three servers commit a write" || bad "write after kill: $(lib_status)" "$(lib_body)"

# --- 4. every server stopped with SIGINT (a graceful leave) one by one, then restarted: the last
# one never removed itself, so the cluster comes back with no file edits.
for n in "${rest[@]}"; do
  lib_stop "$n" INT
  [[ $LIB_RC == 0 ]] && ok "$n leaves on SIGINT, exit 0" || bad "$n exit $LIB_RC" "$(tail -n 5 "$W/$n.log")"
done
# The last to leave keeps itself as the only voter: restarted alone, it leads with all the data.
Z=${rest[-1]}
lib_start "$Z" "$(ip_of "$Z")" -server
wait_for 60 peers_are "$Z" 1 && ok "$Z, last to leave, restarts and leads alone" || bad "$Z does not lead" "$(peers_dump)"
wait_for 20 has_key "$Z" after-kill two && has_key "$Z" before-s4 one &&
  ok "$Z serves every committed key" || bad "$Z lacks data" "$(lib_status) $(lib_body)"
# -rejoin: the others rejoin the members they remember, with no join command; the leader adds
# them back as voters.
for n in "${rest[@]::${#rest[@]}-1}"; do lib_start "$n" "$(ip_of "$n")" -server -rejoin; done
wait_for 60 peers_are "$Z" 3 && ok "-rejoin: ${rest[*]::${#rest[@]}-1} are voters again" || bad "not 3 voters after -rejoin" "$(peers_dump)"
all_alive() { local n; for n in "${rest[@]}"; do status_is "$Z" "$n" alive || return 1; done; }
wait_for 30 all_alive && ok "members: the three are alive" || bad "members after -rejoin" "$(cli "$Z" members 2>&1)"
ok_all=1
for n in "${rest[@]}"; do wait_for 30 peers_are "$n" 3 || { ok_all=0; bad "$n: not 3 voters" "$(peers_dump)"; }; done
((ok_all)) && ok "every server lists the same 3 voters and a leader"

# --- 5. peers.json recovery: two of three servers destroyed, the survivor leads a one-server
# cluster with every committed key, and new servers join it.
Z=$(leader_name "${rest[0]}")
P=; for n in "${rest[@]}"; do [[ $n != "$Z" && -z $P ]] && P=$n; done
for i in 1 2 3 4 5; do
  http_put "$(ip_of "$Z")" "/v1/kv/pre-outage-$i" "v$i" && [[ $(lib_body) == true ]] || bad "write pre-outage-$i: $(lib_status)"
done
wait_for 30 has_key "$P" pre-outage-5 v5 && ok "survivor-to-be $P has applied every write" || bad "$P behind" "$(lib_status) $(lib_body)"
for n in "${rest[@]}"; do [[ $n != "$P" ]] && { lib_stop "$n" KILL; rm -rf "${W:?}/$n"; }; done
lib_stop "$P" TERM
id=$(head -n 1 "$W/$P/node-id")
echo "[{\"id\": \"0x$id\", \"address\": \"$(ip_of "$P"):$PORT_SERVER\", \"non_voter\": false}]" >"$W/$P/raft/peers.json"
lib_start "$P" "$(ip_of "$P")" -server
wait_for 30 lib_logged "$P" "recovered configuration from peers.json" && ok "$P applies peers.json" || bad "peers.json not applied" "$(tail -n 5 "$W/$P.log")"
no_peers_json() { [[ ! -e $W/$P/raft/peers.json ]]; }
wait_for 10 no_peers_json && ok "peers.json is deleted once applied" || bad "peers.json left behind"
wait_for 60 peers_are "$P" 1 && ok "$P leads a one-server cluster" || bad "$P does not lead alone" "$(peers_dump)"
all_keys() {
  has_key "$1" before-s4 one && has_key "$1" after-kill two || return 1
  local i; for i in 1 2 3 4 5; do has_key "$1" "pre-outage-$i" "v$i" || return 1; done
}
wait_for 20 all_keys "$P" && ok "$P serves every committed key" || bad "$P lost data" "$(lib_status) $(lib_body)"
http_put "$(ip_of "$P")" /v1/kv/post-recovery three && [[ $(lib_body) == true ]] &&
  ok "the one-server cluster commits a write" || bad "write after recovery: $(lib_status)" "$(lib_body)"

# --- 6. new servers join the recovered cluster; S5's retry-join targets S6, started 5 s later.
lib_start S5 "$(ip_of S5)" -server -retry-join="$(ip_of S6):$PORT_SERF"
sleep 5
[[ $(cli S5 members 2>/dev/null | grep -c alive) == 1 ]] && ok "S5 is still alone before S6 starts" || bad "S5 members" "$(cli S5 members 2>&1)"
lib_start S6 "$(ip_of S6)" -server
wait_for 20 join S6 "$P" && ok "S6 joins $P" || bad "S6 cannot join $P"
sees_p() { status_is S5 "$P" alive; }
wait_for 60 sees_p && ok "retry-join: S5 reached S6 and sees $P alive" || bad "S5 retry-join" "$(cli S5 members 2>&1; tail -n 5 "$W/S5.log")"
rest=("$P" S5 S6)
ok_all=1
for n in "${rest[@]}"; do wait_for 60 peers_are "$n" 3 || { ok_all=0; bad "$n: not 3 voters" "$(peers_dump)"; }; done
((ok_all)) && ok "$P, S5 and S6: 3 voters, one leader, everywhere"
ok_all=1
for n in S5 S6; do
  wait_for 30 all_keys "$n" && has_key "$n" post-recovery three || { ok_all=0; bad "$n lacks data" "$(lib_status) $(lib_body)"; }
done
((ok_all)) && ok "the new servers serve every committed key"
for n in "${rest[@]}"; do lib_stop "$n" TERM; done
lib_finish
