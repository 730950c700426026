#!/usr/bin/env bash
# test_outage.sh — tribune(7) OUTAGE RECOVERY followed step by step with real servers on
# 127.0.0.61-69: one server lost for good (force-leave, remove-peer, replacements), quorum lost.
set -u
. "$(dirname "$0")/lib.sh"
lib_init test_outage

# Servers S1..S8 on 127.0.0.61..68; LIVE lists the ones that should be running.
declare -A IP=() NAME_OF=() ACK=()
for i in 1 2 3 4 5 6 7 8; do IP[S$i]=127.0.0.6$i; NAME_OF[127.0.0.6$i]=S$i; done
LIVE=()

# cli NAME CMD [SUB...] -- ARGS: CMD's flags go before its positional arguments, as in Consul.
cli() {
  local n=$1 a=(); shift
  while (($#)) && [[ $1 != -- ]]; do a+=("$1"); shift; done
  (($#)) && shift
  "$T" "${a[@]}" -http-addr="${IP[$n]}:$PORT_HTTP" "$@"
}
# rows NAME: the list-peers table without its header, as NAME's own server sees it.
rows() { cli "$1" operator raft list-peers -stale >"$W/peers.out" 2>"$W/peers.err" && tail -n +2 "$W/peers.out"; }
peers_dump() { cat "$W/peers.out" "$W/peers.err"; }
# voters_are NAME A B...: NAME lists exactly the servers A B... (by node name), all voters, one
# of them leader.
voters_are() {
  local n=$1 r; shift
  r=$(rows "$n") || return 1
  [[ $(awk '{print $1}' <<<"$r" | sort | tr '\n' ' ') == "$(printf '%s\n' "$@" | sort | tr '\n' ' ')" &&
     -z $(awk '$5 != "true"' <<<"$r") && $(awk '$4 == "leader"' <<<"$r" | wc -l) == 1 ]]
}
# all_list_live: every running server lists exactly LIVE as voters, with one leader.
all_list_live() { local n; for n in "${LIVE[@]}"; do voters_are "$n" "${LIVE[@]}" || return 1; done; }
status_is() { [[ $(cli "$1" members 2>/dev/null | awk -v n="$2" '$1 == n {print $3}') == "$3" ]]; }
# agreed_leader: every LIVE server names the same running leader; its name in $LNAME.
agreed_leader() {
  LNAME=
  leader_agreed "${LIVE[@]}" || return 1
  LNAME=${NAME_OF[$LEADER]:-}
  [[ -n $LNAME ]] && lib_running "$LNAME"
}
put_once() { agreed_leader && http_put "${IP[$LNAME]}" "/v1/kv/$1" "$2" && [[ $(lib_body) == true ]]; }
# put_many PREFIX COUNT: each write acknowledged (bounded retries while a leader is elected) and
# recorded in ACK as one that must survive.
put_many() {
  local i v all=0
  for ((i = 1; i <= $2; i++)); do
    v="$1$i-$RANDOM"
    if wait_for 40 put_once "$1$i" "$v"; then ACK[$1$i]=$v; else all=1; fi
  done
  return $all
}
# has_all NAME: NAME's own copy (?stale: answered locally) holds every acknowledged key.
has_all() {
  local k
  for k in "${!ACK[@]}"; do
    http_get "${IP[$1]}" "/v1/kv/$k?stale&raw" && [[ $(lib_body) == "${ACK[$k]}" ]] || { MISSING=$k; return 1; }
  done
}
# missing NAMES...: for a failure message, each server's missing or wrong keys.
missing() {
  local n k m
  for n in "$@"; do
    m=; for k in $(printf '%s\n' "${!ACK[@]}" | sort); do
      http_get "${IP[$n]}" "/v1/kv/$k?stale&raw" && [[ $(lib_body) == "${ACK[$k]}" ]] || m+=" $k"
    done
    echo "$n lacks:${m:- nothing}"
  done
}
all_have_all() { local n; for n in "${LIVE[@]}"; do has_all "$n" || return 1; done; }
drop_live() { local n keep=(); for n in "${LIVE[@]}"; do [[ $n != "$1" ]] && keep+=("$n"); done; LIVE=("${keep[@]}"); }
# logged_now NAME TEXT: TEXT is in NAME's log since its latest start (lib_start marks each).
logged_now() { awk -v t="$2" '/^--- start/ { f = 0 } index($0, t) { f = 1 } END { exit !f }' "$W/$1.log"; }
serf_of() { echo "${IP[$1]}:$PORT_SERF"; }
# replace NAME VIA: a server with an empty data dir started with -join=VIA becomes a voter listed
# by every server, and serves every acknowledged key.
replace() {
  lib_start "$1" "${IP[$1]}" -server -join="$(serf_of "$2")"
  LIVE+=("$1")
  wait_for 90 all_list_live && ok "$1 joins and is a voter on every server: ${LIVE[*]}" ||
    bad "$1 not a voter everywhere" "$(peers_dump; tail -n 5 "$W/$1.log")"
  wait_for 30 has_all "$1" && ok "$1 serves every committed key" || bad "$1 lacks ${MISSING:-?}" "$(lib_status) $(lib_body)"
}

# --- a cluster of three servers with data
for n in S1 S2 S3; do lib_start "$n" "${IP[$n]}" -server -bootstrap-expect=3; LIVE+=("$n"); done
join_s1() { cli "$1" join -- "$(serf_of S1)" >/dev/null 2>&1; }
wait_for 20 join_s1 S2 && wait_for 20 join_s1 S3 && ok "S2 and S3 join S1" || bad "joins failed"
wait_for 60 all_list_live && ok "three voters, one leader" || bad "no 3-server cluster" "$(peers_dump)"
put_many a 10 && ok "10 writes committed" || bad "writes before the outage"

# --- (a) one server of three lost: quorum holds. A server that comes back with its data dir is
# just started again, with the same flags; it rejoins and catches up.
wait_for 30 agreed_leader || bad "no agreed leader" "$(peers_dump)"
X=; for n in "${LIVE[@]}"; do [[ $n != "$LNAME" && -z $X ]] && X=$n; done
lib_stop "$X" KILL; drop_live "$X"
put_many r 5 && ok "kill -9 of follower $X: writes still commit" || bad "writes with follower $X down"
lib_start "$X" "${IP[$X]}" -server -bootstrap-expect=3; LIVE+=("$X")
wait_for 90 all_list_live && ok "$X, restarted with its data, is a voter again on every server" ||
  bad "$X did not come back" "$(peers_dump; tail -n 5 "$W/$X.log")"
wait_for 30 has_all "$X" && ok "$X caught up with the writes it missed" || bad "$X lacks ${MISSING:-?}"
wait_for 30 status_is "$LNAME" "$X" alive && ok "members on leader $LNAME shows $X alive" || bad "$X not alive" "$(cli "$LNAME" members 2>&1)"

# --- (a) one server lost for good, removed with force-leave, replaced. The leader goes, so the
# two others must also elect a new one first.
wait_for 30 agreed_leader || bad "no agreed leader" "$(peers_dump)"; X=$LNAME
lib_stop "$X" KILL; drop_live "$X"
wait_for 60 agreed_leader && ok "kill -9 of leader $X: ${LIVE[*]} elect $LNAME" || bad "no new leader after $X" "$(peers_dump)"
put_many b 5 && ok "two of three servers commit writes" || bad "writes with one server lost"
A=${LIVE[0]}
wait_for 60 status_is "$A" "$X" failed && ok "members shows $X failed" || bad "$X not failed" "$(cli "$A" members 2>&1)"
cli "$A" force-leave -- "$X" >"$W/cmd.out" 2>&1 && ok "tribune force-leave $X" || bad "force-leave $X" "$(cat "$W/cmd.out")"
wait_for 30 status_is "$A" "$X" left && ok "members shows $X left" || bad "$X not left" "$(cli "$A" members 2>&1)"
wait_for 30 all_list_live && ok "$X is out of the Raft configuration" || bad "$X still a peer" "$(peers_dump)"
replace S4 "$A"

# --- (a) again, a follower lost for good and removed with operator raft remove-peer
wait_for 30 agreed_leader || bad "no agreed leader" "$(peers_dump)"
X=; for n in "${LIVE[@]}"; do [[ $n != "$LNAME" && -z $X ]] && X=$n; done
lib_stop "$X" KILL; drop_live "$X"
put_many c 5 && ok "kill -9 of follower $X: writes still commit" || bad "writes with follower $X lost"
A=${LIVE[0]}
wait_for 60 status_is "$A" "$X" failed && ok "members shows $X failed" || bad "$X not failed" "$(cli "$A" members 2>&1)"
# Asked of a follower on purpose: the command is forwarded to the leader.
wait_for 30 agreed_leader || bad "no agreed leader" "$(peers_dump)"; F=; for n in "${LIVE[@]}"; do [[ $n != "$LNAME" && -z $F ]] && F=$n; done
cli "$F" operator raft remove-peer -address="${IP[$X]}:$PORT_SERVER" >"$W/cmd.out" 2>&1 &&
  grep -qF "Removed peer with address \"${IP[$X]}:$PORT_SERVER\"" "$W/cmd.out" &&
  ok "tribune operator raft remove-peer -address=${IP[$X]}:$PORT_SERVER (asked of $F)" || bad "remove-peer $X" "$(cat "$W/cmd.out")"
wait_for 30 all_list_live && ok "$X is out of the Raft configuration" || bad "$X still a peer" "$(peers_dump)"
replace S5 "$A"

# --- (b) grow to five, then lose three of them (the leader among them): quorum is lost. One
# survivor, B, was already down before the others went, so the two survivors' logs end at
# different places; the recovered cluster must keep the writes only the other one, A, holds.
replace S6 "${LIVE[0]}"
replace S7 "${LIVE[0]}"
put_many d 10 && ok "five servers commit writes" || bad "writes on five servers"
wait_for 30 all_have_all && ok "every server has applied every write" || bad "a server lacks ${MISSING:-?}"
wait_for 30 agreed_leader || bad "no agreed leader" "$(peers_dump)"
SURV=(); for n in "${LIVE[@]}"; do [[ $n != "$LNAME" && ${#SURV[@]} -lt 2 ]] && SURV+=("$n"); done
A=${SURV[0]} B=${SURV[1]}
LOST=(); for n in "${LIVE[@]}"; do [[ $n != "$A" && $n != "$B" ]] && LOST+=("$n"); done
# Before the outage: what list-peers says of the survivors is what peers.json needs.
rows "$A" >"$W/before.rows" || bad "list-peers before the outage" "$(peers_dump)"
lib_stop "$B" KILL; drop_live "$B"
put_many f 5 && ok "kill -9 of $B: four of five servers commit writes" || bad "writes with $B down"
wait_for 30 has_all "$A" && ok "$A has applied the writes $B missed" || bad "$A lacks ${MISSING:-?}"
for n in "${LOST[@]}"; do lib_stop "$n" KILL; drop_live "$n"; done
no_leader() { ! leader_of "$A"; }
wait_for 60 no_leader && ok "kill -9 of ${LOST[*]}: $A knows no leader" || bad "$A names leader $LEADER"
! http_put "${IP[$A]}" /v1/kv/during-outage x && grep -q "No cluster leader" "$W/http.body" &&
  ok "a write is refused without quorum: $(lib_status) $(lib_body)" || bad "a write without quorum" "$(lib_status) $(lib_body)"
r=$(rows "$A") && [[ $(grep -c . <<<"$r") == 5 ]] && ok "list-peers -stale on $A still lists five servers" ||
  bad "list-peers -stale without quorum" "$(peers_dump)"

# The recovery: stop the survivors, the same peers.json (their id and address, as list-peers
# showed them) in each data dir, start them.
lib_stop "$A" TERM
LIVE=("${SURV[@]}")
awk -v a="$A" -v b="$B" 'BEGIN { print "[" } $1 == a || $1 == b {
  printf "%s  {\"id\": \"0x%s\", \"address\": \"%s\", \"non_voter\": false}", (n++ ? ",\n" : ""), $2, $3
} END { print "\n]" }' "$W/before.rows" >"$W/peers.json"
[[ $(grep -c '"id"' "$W/peers.json") == 2 ]] || bad "peers.json from list-peers" "$(cat "$W/before.rows")"
for n in "${SURV[@]}"; do cp "$W/peers.json" "$W/$n/raft/peers.json"; done
for n in "${SURV[@]}"; do lib_start "$n" "${IP[$n]}" -server; done
for n in "${SURV[@]}"; do
  wait_for 30 logged_now "$n" "recovered configuration from peers.json" && ok "$n logs that it applied peers.json" ||
    bad "$n did not apply peers.json" "$(tail -n 5 "$W/$n.log")"
  gone() { [[ ! -e $W/$1/raft/peers.json ]]; }
  wait_for 10 gone "$n" && ok "$n deleted peers.json" || bad "$n left peers.json behind"
done
wait_for 90 all_list_live && ok "${SURV[*]} elect a leader between them" || bad "no leader after recovery" "$(peers_dump; tail -n 5 "$W/${SURV[0]}.log")"
wait_for 30 all_have_all && ok "both serve every committed key" || bad "a survivor lacks ${MISSING:-?}" "$(missing "${LIVE[@]}")"
put_many e 5 && ok "the recovered cluster commits writes" || bad "writes after recovery"
replace S8 "${SURV[0]}"
wait_for 30 all_have_all && ok "every server of the recovered cluster has every key" || bad "missing ${MISSING:-?}" "$(missing "${LIVE[@]}")"

for n in "${LIVE[@]}"; do lib_stop "$n" TERM; done
if grep -l "AddressSanitizer\|runtime error\|LeakSanitizer" "$W"/*.log; then bad "sanitizer report"
else ok "no sanitizer report from any agent"; fi
lib_finish
