#!/usr/bin/env bash
# test_raft_cluster.sh — three real tribune servers on 127.0.0.1-3 formed from a peers.json
# written before the first start (no gossip join): election, KV replication, kill -9 of the
# leader and of a follower, restarts, and no acknowledged write lost anywhere.
set -u
. "$(dirname "$0")/lib.sh"
lib_init test_raft_cluster

NAMES=(A B C)
declare -A IP=([A]=127.0.0.1 [B]=127.0.0.2 [C]=127.0.0.3)
declare -A ID=([A]=1 [B]=2 [C]=3)
declare -A NAME_OF=([127.0.0.1]=A [127.0.0.2]=B [127.0.0.3]=C)
declare -A ACK=()   # key -> value of every PUT answered `true`

# The Raft id of a data dir is DATA_DIR/node-id ("<16 hex digits>\n<node name>\n"); writing it
# before the first start lets peers.json name each server by the id it will run with.
peers="["
for n in "${NAMES[@]}"; do
  peers+="{\"id\": \"${ID[$n]}\", \"address\": \"${IP[$n]}:$PORT_SERVER\", \"non_voter\": false},"
done
peers="${peers%,}]"
for n in "${NAMES[@]}"; do
  mkdir -p -m 700 "$W/$n/raft"
  printf '%016x\n%s\n' "${ID[$n]}" "$n" >"$W/$n/node-id"
  echo "$peers" >"$W/$n/raft/peers.json"
done

for n in "${NAMES[@]}"; do lib_start "$n" "${IP[$n]}" -server; done

# agreed_leader: every running server names the same leader, which is running; in $LEADER.
agreed_leader() { leader_agreed "${NAMES[@]}" && [[ -n $LEADER ]] && lib_running "${NAME_OF[$LEADER]}"; }

# put KEY VALUE: PUT to the current leader, retried until it answers `true` (bounded). Only an
# acknowledged write is recorded as one that must survive.
put_once() {
  agreed_leader || return 1
  http_put "$LEADER" "/v1/kv/$1" "$2" && [[ $(lib_body) == true ]]
}
put() {
  if wait_for 30 put_once "$1" "$2"; then ACK[$1]=$2; return 0; fi
  bad "PUT $1 never acknowledged: $(lib_status) $(lib_body)"
  return 1
}
put_many() { # PREFIX COUNT: all must be acknowledged
  local i all=0
  for ((i = 1; i <= $2; i++)); do put "$1$i" "$1$i-value-$RANDOM" || all=1; done
  return $all
}

# has_all NAME: NAME serves every acknowledged key with its value (reads are local: stale).
has_all() {
  local k
  for k in "${!ACK[@]}"; do
    http_get "${IP[$1]}" "/v1/kv/$k?raw" || return 1
    [[ $(lib_body) == "${ACK[$k]}" ]] || return 1
  done
}
check_all_have() { # LABEL
  local n
  for n in "${NAMES[@]}"; do
    lib_running "$n" || continue
    if wait_for 30 has_all "$n"; then ok "$1: $n serves all ${#ACK[@]} acknowledged keys"
    else bad "$1: $n lacks an acknowledged key" "$(lib_status) $(lib_body)"; fi
  done
}

# 1. A leader is elected from peers.json alone, and every server agrees on it.
if wait_for 60 agreed_leader; then ok "leader elected from peers.json: $LEADER"
else bad "no agreed leader" "$(for n in "${NAMES[@]}"; do tail -n 5 "$W/$n.log"; done)"; fi
for n in "${NAMES[@]}"; do
  if [[ ! -e $W/$n/raft/peers.json ]] && lib_logged "$n" "recovered configuration from peers.json"; then
    ok "$n: peers.json applied once and deleted"
  else bad "$n: peers.json still present or not logged" "$(grep raft "$W/$n.log" | tail -n 5)"; fi
done
# No gossip join happened: each agent's member list is itself alone.
lonely=1
for n in "${NAMES[@]}"; do
  http_get "${IP[$n]}" /v1/agent/members && [[ $(grep -o '"Name":' "$W/http.body" | wc -l) == 1 ]] || lonely=0
done
((lonely)) && ok "formed without gossip joins (one member per agent)" || bad "gossip members: $(lib_body)"
peers_ok() { http_get "$1" /v1/status/peers && [[ $(grep -o "127\.0\.0\.[123]:$PORT_SERVER" "$W/http.body" | sort -u | wc -l) == 3 ]]; }
if peers_ok "$LEADER"; then ok "status/peers lists the three servers"; else bad "status/peers: $(lib_body)"; fi

# 2. Writes replicate to every server; a write to a follower is forwarded to the leader.
put_many k 20 && ok "20 writes acknowledged"
check_all_have "replication"
for n in "${NAMES[@]}"; do
  [[ ${IP[$n]} == "$LEADER" ]] && continue
  http_put "${IP[$n]}" /v1/kv/follower-write x
  st=$(lib_status) msg=$(lib_body)
  if [[ $st == 200 && $msg == true ]] && http_get "$LEADER" "/v1/kv/follower-write?raw" &&
    [[ $(lib_body) == x ]]; then
    ok "$n (follower) forwards a write to the leader"
  else bad "$n follower write: $st $msg"; fi
  break
done

# 3. kill -9 of the leader: the other two elect a new leader and writes continue.
agreed_leader
old=${NAME_OF[$LEADER]}
lib_stop "$old" KILL
new_leader() { agreed_leader && [[ $LEADER != "${IP[$old]}" ]]; }
if wait_for 60 new_leader; then ok "leader $old killed: new leader $LEADER"
else bad "no new leader after killing $old"; fi
put k1 "overwritten-after-failover" && put_many f 20 && ok "20 writes acknowledged after failover"
check_all_have "after leader crash"

# 4. The old leader restarts (no peers.json now: its log holds the configuration) and catches up.
lib_start "$old" "${IP[$old]}" -server
if wait_for 60 has_all "$old"; then ok "$old restarted and caught up (${#ACK[@]} keys)"
else bad "$old did not catch up" "$(tail -n 10 "$W/$old.log")"; fi

# 5. kill -9 of a follower: writes continue with two of three; the follower restarts and catches up.
agreed_leader
for n in "${NAMES[@]}"; do [[ ${IP[$n]} != "$LEADER" ]] && { fol=$n; break; }; done
lib_stop "$fol" KILL
put_many g 20 && ok "20 writes acknowledged with follower $fol down"
lib_start "$fol" "${IP[$fol]}" -server
if wait_for 60 has_all "$fol"; then ok "$fol restarted and caught up (${#ACK[@]} keys)"
else bad "$fol did not catch up" "$(tail -n 10 "$W/$fol.log")"; fi

# 6. Both crashed servers came back with their identity; one leader; every acknowledged key
#    has its last acknowledged value everywhere.
if wait_for 60 agreed_leader; then ok "one agreed leader at the end: $LEADER"; else bad "no agreed leader at the end"; fi
same_id=1
for n in "${NAMES[@]}"; do
  [[ $(head -n 1 "$W/$n/node-id") == "$(printf '%016x' "${ID[$n]}")" ]] || same_id=0
done
((same_id)) && ok "node-id files unchanged across restarts" || bad "a node-id changed"
check_all_have "final"

# 7. SIGTERM stops every server without leaving (documented: exit 1); the whole cluster restarts
#    from its data dirs alone, elects a leader, keeps every acknowledged key and takes writes.
for n in "${NAMES[@]}"; do
  lib_stop "$n" TERM
  [[ $LIB_RC == 1 ]] && ok "$n: SIGTERM exits 1 without leaving" || bad "$n: SIGTERM exit $LIB_RC" "$(tail -n 5 "$W/$n.log")"
done
for n in "${NAMES[@]}"; do lib_start "$n" "${IP[$n]}" -server; done
if wait_for 60 agreed_leader; then ok "full restart: leader $LEADER"; else bad "full restart: no leader"; fi
put k2 "after-full-restart" && ok "write acknowledged after full restart"
check_all_have "after full restart"
for n in "${NAMES[@]}"; do lib_stop "$n" KILL; done
lib_finish
