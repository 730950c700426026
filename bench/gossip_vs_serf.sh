#!/usr/bin/env bash
# gossip_vs_serf.sh — tribune's gossip against HashiCorp serf (Debian package, memberlist inside)
# on loopback: convergence, failure detection, leave propagation, UDP bytes at rest, RSS.
#
# Run:   bench/gossip_vs_serf.sh                   (TRIBUNE=path, default build/tribune, release)
#        SIZES="3 10" RUNS=5 REST=5 VERBOSE=1 bench/gossip_vs_serf.sh
#        VERBOSE=2 also prints, per run, where failure-detection time went (fail_phases)
# Needs root-free loopback only; installs the `serf` and `strace` packages with apt-get if
# missing (and says so). About 20 s per run of one size and implementation: RUNS=7 for 3, 10
# and 30 takes about 15 minutes.
#
# For each N and each implementation, N agents are started on their own loopback addresses
# (tribune clients on 127.0.2.i, serf agents on 127.0.3.i), both with their defaults, which are
# memberlist's LAN profile (probe 1 s, gossip 200 ms, suspicion multiplier 4, push-pull 30 s).
# Both log at info level into a pipe read by one small reader per agent, which stamps every line
# with the wall clock the moment it arrives (the agents' own log times have 1 s resolution).
# The timings are differences of those stamps, the same method for both implementations; their
# resolution is the reader's wake-up latency, well under a millisecond on an idle machine:
#   converge   seconds from agent 1 logging "EventMemberJoin: nN" (the last of the joins has
#              taken effect: agents 2..N each join agent 1, one after the other, JOIN_GAP_MS
#              apart) until the last agent has logged EventMemberJoin for each of the N-1 others;
#              afterwards every agent's own CLI must list N alive, or the row says so;
#   fail       seconds from kill -9 of agent N (stamped just before the signal) until every other
#              agent has logged "EventMemberFailed: nN";
#   hang       seconds from SIGSTOP of agent N-2 (after the leave; N >= 4) until every agent
#              but the three last has logged "EventMemberFailed: nN-2". A killed agent's host
#              answers probes with ICMP port unreachable and refuses TCP, which tribune uses
#              (tribune-gossip(7), FAILURE DETECTION) and memberlist does not; a stopped (hung)
#              process keeps its socket open, so its host says nothing, as when a whole
#              machine is gone: this column is plain SWIM + Lifeguard for both;
#   leave      seconds from agent N-1 logging that it starts its graceful leave (tribune
#              "Gracefully shutting down agent...", serf "Graceful leave triggered") until every
#              remaining agent has logged "EventMemberLeave: nN-1";
#   udp B/s    UDP bytes sent per second per agent at rest (from SETTLE s after convergence, when
#              the join news has stopped being retransmitted, until the kill): every agent is traced with `strace -f -yy` for REST seconds and the return values
#              of its send calls (sendto, sendmsg, write, writev) on UDP sockets are summed. The
#              same tracer and window for both implementations; push-pull (TCP) not counted;
#   pkt/s      UDP datagrams sent per second per agent in the same window (the wire formats
#              differ: tribune's own compact encoding, memberlist's msgpack for serf);
#   rss KiB    VmRSS per agent at rest (mean over agents, and the largest);
#   joins      seconds the N-1 join commands took: they start JOIN_GAP_MS apart (or as soon as
#              the previous one returned, if that took longer), so that both implementations
#              spread their joins over the same time whatever their CLI's start-up costs.
# With RUNS > 1 each figure is the median over the runs (VERBOSE=1 prints every run). Each wait
# is bounded (TIMEOUT s); a wait that times out prints "timeout". The machine may be shared:
# compare rows of one run, and read the load average printed before and after.
set -u
cd "$(dirname "$0")/.."
T=${TRIBUNE:-$PWD/build/tribune}
SIZES=${SIZES:-"3 10 30"}
RUNS=${RUNS:-1}
REST=${REST:-10}
SETTLE=${SETTLE:-5}
JOIN_GAP_MS=${JOIN_GAP_MS:-50}
TIMEOUT=${TIMEOUT:-60}
VERBOSE=${VERBOSE:-0}
[[ -x $T ]] || { echo "gossip_vs_serf: $T not built (make build/tribune)"; exit 1; }
for pkg in serf strace; do
  if ! command -v "$pkg" >/dev/null; then
    echo "gossip_vs_serf: $pkg missing: installing the Debian package '$pkg' with apt-get"
    apt-get install -y "$pkg" >/dev/null 2>&1 || { echo "gossip_vs_serf: cannot install $pkg"; exit 1; }
  fi
done

W=$(mktemp -d /tmp/tribune-bench-gossip.XXXXXX)
declare -A PID=()   # "impl i" -> pid, only processes started here
cleanup() {
  local p
  for p in "${PID[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT

P=$((30000 + (RANDOM % 1000) * 10))   # tribune: server P, serf_lan P+1, http P+2; serf: P+3, rpc P+4
cat >"$W/ports.json" <<JSON
{"ports": {"server": $P, "serf_lan": $((P + 1)), "http": $((P + 2)), "dns": -1}}
JSON

ip_of() { if [[ $1 == tribune ]]; then echo "127.0.2.$2"; else echo "127.0.3.$2"; fi; }
gossip_addr() { if [[ $1 == tribune ]]; then echo "$(ip_of "$@"):$((P + 1))"; else echo "$(ip_of "$@"):$((P + 3))"; fi; }
logf() { echo "$W/log.$1.$2"; }

# Prefixes each line with the wall-clock seconds at which it was read. One read per agent; the
# agents write each line with one write(2), so a line is stamped as soon as it is logged.
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }

# start IMPL I: agent I starts after a random delay under a second, as agents in a real
# cluster are not started in the same millisecond: Go tickers (serf) take their phase from the
# start, so agents started together would gossip and probe in lockstep and every measurement
# would sample one phase. tribune draws its timer phases at random regardless.
start() {
  local ip d; ip=$(ip_of "$1" "$2"); d=$(printf '0.%03d' $((RANDOM % 1000)))
  if [[ $1 == tribune ]]; then
    (sleep "$d"; exec "$T" agent -node="n$2" -bind="$ip" -client="$ip" -data-dir="$W/t$2" \
      -config-file="$W/ports.json" -log-level=info) > >(stamp >"$(logf "$1" "$2")") 2>&1 &
  else
    (sleep "$d"; exec serf agent -node="n$2" -bind="$ip:$((P + 3))" -rpc-addr="$ip:$((P + 4))" \
      -log-level=info) > >(stamp >"$(logf "$1" "$2")") 2>&1 &
  fi
  PID["$1 $2"]=$!   # the subshell execs the agent: the same process
}
# members IMPL I: "name status" lines as agent I sees them.
members() {
  local ip; ip=$(ip_of "$1" "$2")
  if [[ $1 == tribune ]]; then
    "$T" members -http-addr="$ip:$((P + 2))" 2>/dev/null | awk 'NR > 1 {print $1, $3}'
  else
    serf members -rpc-addr="$ip:$((P + 4))" 2>/dev/null | awk '{print $1, $3}'
  fi
  return "${PIPESTATUS[0]}"
}
join() { # IMPL I: agent I joins agent 1
  local ip; ip=$(ip_of "$1" "$2")
  if [[ $1 == tribune ]]; then "$T" join -http-addr="$ip:$((P + 2))" "$(gossip_addr "$1" 1)"
  else serf join -rpc-addr="$ip:$((P + 4))" "$(gossip_addr "$1" 1)"; fi >/dev/null 2>&1
}
leave() { # IMPL I
  local ip; ip=$(ip_of "$1" "$2")
  if [[ $1 == tribune ]]; then "$T" leave -http-addr="$ip:$((P + 2))"
  else serf leave -rpc-addr="$ip:$((P + 4))"; fi >/dev/null 2>&1
}

# seen EVENT WANT ONLY T0 FILE...: for each agent's log, the members other than the agent itself
# (and equal to ONLY unless it is empty) it logged "EVENT: name" about, each at its first line.
# Prints "ready latest": how many logs name at least WANT such members, and the latest of those
# first lines in seconds after T0 (the time at which the last agent knew).
seen() {
  local ev=$1 want=$2 only=$3 t0=$4; shift 4
  awk -v ev="$ev:" -v want="$want" -v only="$only" -v t0="$t0" '
    FNR == 1 { f = FILENAME; own = FILENAME; sub(/.*\./, "", own); own = "n" own; files[f] = 1 }
    {
      for (k = 2; k < NF; k++) {
        if ($k != ev) continue
        nm = $(k + 1)
        if (nm != own && (only == "" || nm == only) && !((f, nm) in first)) {
          first[f, nm] = $1; cnt[f]++
          if (!(f in last) || $1 > last[f]) last[f] = $1
        }
        break
      }
    }
    END {
      ready = 0; mx = ""
      for (f in files) if (cnt[f] >= want) { ready++; if (mx == "" || last[f] > mx) mx = last[f] }
      printf "%d %s\n", ready, (mx == "" ? "-" : sprintf("%.3f", mx - t0))
    }' "$@"
}
# wait_seen EVENT WANT ONLY T0 FILE...: waits (TIMEOUT) until every log is ready, prints the
# latest time, or "timeout".
wait_seen() {
  local end=$((${EPOCHREALTIME%.*} + TIMEOUT)) n=$(($# - 4)) r
  while :; do
    r=$(seen "$@")
    if [[ ${r% *} == "$n" ]]; then echo "${r#* }"; return 0; fi
    if ((${EPOCHREALTIME%.*} >= end)); then echo timeout; return 1; fi
    sleep 0.05
  done
}
# first_line FILE REGEX: the stamp of the first line matching REGEX (waits up to TIMEOUT).
first_line() {
  local end=$((${EPOCHREALTIME%.*} + TIMEOUT)) s
  while :; do
    s=$(awk -v re="$2" '$0 ~ re {print $1; exit}' "$1")
    if [[ -n $s ]]; then echo "$s"; return 0; fi
    if ((${EPOCHREALTIME%.*} >= end)); then return 1; fi
    sleep 0.02
  done
}
# fail_phases T0 NAME FILE...: where failure-detection time went, in seconds after the kill T0:
# the first agent whose own probe of NAME failed, the first to declare it failed on its own
# suspicion timer (with its confirmation count), and how many declared it so. Both
# implementations log these lines in memberlist's words.
fail_phases() {
  local t0=$1 nm=$2; shift 2
  awk -v t0="$t0" -v nm="$nm" '
    index($0, "Suspect " nm " has failed") && (sus == "" || $1 < sus) { sus = $1 }
    index($0, "Marking " nm " as failed") {
      own++
      if (mark == "" || $1 < mark) { mark = $1; c = $0; sub(/.*\(/, "", c); sub(/ peer.*/, "", c) }
    }
    END {
      printf "probe failed %s, first declared %s (%s confirmations), declared by %d\n",
        sus == "" ? "-" : sprintf("%.3f", sus - t0), mark == "" ? "-" : sprintf("%.3f", mark - t0),
        c == "" ? "-" : c, own
    }' "$@"
}
# until_after T0 MS: sleeps until MS milliseconds after the stamp T0 (at once if that has passed).
until_after() {
  local t0=${1/./} now=${EPOCHREALTIME/./} left
  left=$((t0 + $2 * 1000 - now))
  ((left > 0)) && sleep "$(printf '%d.%06d' $((left / 1000000)) $((left % 1000000)))"
  return 0
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

is_up() { members "$1" "$2" >/dev/null; }
all_alive() { [[ $(members "$1" "$2" | awk '$2 == "alive"' | wc -l) == "$3" ]]; }
# wait_all PRED IMPL ARG -- I...: until PRED IMPL I ARG holds for every I, or TIMEOUT.
wait_all() {
  local pred=$1 impl=$2 arg=$3; shift 4
  local end=$((${EPOCHREALTIME%.*} + TIMEOUT)) i pending=("$@")
  while ((${#pending[@]})); do
    local next=()
    for i in "${pending[@]}"; do "$pred" "$impl" "$i" "$arg" || next+=("$i"); done
    pending=("${next[@]}")
    ((${#pending[@]})) || return 0
    ((${EPOCHREALTIME%.*} < end)) || return 1
    sleep 0.1
  done
}

# udp_bytes PID...: "bytes datagrams" the processes sent on UDP during REST seconds, all traced
# at once.
udp_bytes() {
  local p tr=()
  for p in "$@"; do
    timeout -s INT "$REST" strace -f -yy -qq -e trace=sendto,sendmsg,write,writev \
      -o "$W/strace.$p" -p "$p" 2>/dev/null &
    tr+=($!)
  done
  wait "${tr[@]}" 2>/dev/null
  cat "$W"/strace.* 2>/dev/null | grep '<UDP' | sed -n 's/.*= \([0-9][0-9]*\)$/\1/p' |
    awk '{s += $1} END {print s + 0, NR}'
  rm -f "$W"/strace.*
}

rss_kib() { # PID...: "mean max"
  local p
  for p in "$@"; do awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null; done |
    awk '{s += $1; if ($1 > m) m = $1} END {if (NR) printf "%d %d", s / NR, m; else print "- -"}'
}

ROW='%-4s %-8s %9s %9s %9s %9s %9s %7s %8s %8s %7s  %s\n'
# run IMPL N: one run; sets ROWVAL to its row (fields as in the header, then a note). Not run in
# a subshell, so that PID stays the record of what the exit trap must stop.
run() {
  local impl=$1 n=$2 i ids=() pids=() logs=() note=""
  for ((i = 1; i <= n; i++)); do
    start "$impl" "$i"; ids+=("$i"); pids+=("${PID["$impl $i"]}"); logs+=("$(logf "$impl" "$i")")
  done
  if ! wait_all is_up "$impl" - -- "${ids[@]}"; then
    ROWVAL=$(printf "$ROW" "$n" "$impl" - - - - - - - - - "agents did not start")
    stop_all "$impl" "$n"; return
  fi
  local j0=$EPOCHREALTIME
  for ((i = 2; i <= n; i++)); do
    until_after "$j0" $(((i - 2) * JOIN_GAP_MS))
    join "$impl" "$i" || note+="join of agent $i failed; "
  done
  local joins; joins=$(secs "$j0" "$EPOCHREALTIME")
  local conv="timeout" t0
  if t0=$(first_line "${logs[0]}" "EventMemberJoin: n$n "); then
    conv=$(wait_seen EventMemberJoin $((n - 1)) "" "$t0" "${logs[@]}")
  fi
  wait_all all_alive "$impl" "$n" -- "${ids[@]}" || note+="CLI does not list $n alive everywhere; "
  sleep "$SETTLE"
  local rss udp; rss=$(rss_kib "${pids[@]}")
  udp=$(udp_bytes "${pids[@]}")
  local pkts=$((${udp#* } * 10 / n / REST)); pkts=$((pkts / 10)).$((pkts % 10))
  udp=$((${udp% *} / n / REST))

  local k=$EPOCHREALTIME
  kill -KILL "${PID["$impl $n"]}"; wait "${PID["$impl $n"]}" 2>/dev/null; unset "PID[$impl $n]"
  local fail; fail=$(wait_seen EventMemberFailed 1 "n$n" "$k" "${logs[@]:0:n-1}")
  ((VERBOSE > 1)) && echo "#   fail phases: $(fail_phases "$k" "n$n" "${logs[@]:0:n-1}")"

  local lv="timeout" re='Graceful leave triggered'
  [[ $impl == tribune ]] && re='Gracefully shutting down agent'
  leave "$impl" $((n - 1)) &
  local lpid=$!
  if t0=$(first_line "${logs[n-2]}" "$re"); then
    lv=$(wait_seen EventMemberLeave 1 "n$((n - 1))" "$t0" "${logs[@]:0:n-2}")
  fi
  wait "$lpid"

  # hang: agent N-2 stops (SIGSTOP) instead of dying: its socket stays open, so its host sends
  # no "port unreachable" and detection is SWIM's alone. Needs an observer left: N >= 4.
  local hang="-"
  if ((n >= 4)); then
    local h=$EPOCHREALTIME
    kill -STOP "${PID["$impl $((n - 2))"]}"
    hang=$(wait_seen EventMemberFailed 1 "n$((n - 2))" "$h" "${logs[@]:0:n-3}")
    ((VERBOSE > 1)) && echo "#   hang phases: $(fail_phases "$h" "n$((n - 2))" "${logs[@]:0:n-3}")"
  fi
  ROWVAL=$(printf "$ROW" "$n" "$impl" "$conv" "$fail" "$hang" "$lv" "$udp" "$pkts" ${rss% *} ${rss#* } "$joins" "$note")
  stop_all "$impl" "$n"
}
stop_all() { # IMPL N
  local i p
  for ((i = 1; i <= $2; i++)); do
    p=${PID["$1 $i"]:-}
    [[ -n $p ]] || continue
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; unset "PID[$1 $i]"
  done
  rm -rf "$W"/t* "$W"/log.*
}
# median: the median of the numeric values on stdin (the mean of the middle two for an even
# count; "timeout" if there are none, "-" if every run had nothing to measure), "*" appended
# when some runs gave no number.
median() {
  sort -g | awk '$1 ~ /^[0-9.]+$/ {v[n++] = $1; next} $1 == "-" {na++; next} {bad++}
    END {
      if (!n) {print (bad ? "timeout" : "-"); exit}
      m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
      d = index(v[0], ".") ? length(v[0]) - index(v[0], ".") : 0   # as many decimals as given
      printf "%.*f%s", d, m, bad ? "*" : ""
    }'
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "tribune $("$T" version | head -n 1 | tr -d '\n'), serf $(serf version | head -n 1) (Debian $(dpkg-query -W -f='${Version}' serf 2>/dev/null))"
echo "loopback, $(nproc) CPUs, logs at info stamped on arrival, starts spread over 1 s, joins ${JOIN_GAP_MS} ms apart, UDP window ${REST}s after ${SETTLE}s, timeout ${TIMEOUT}s, runs $RUNS (median), load $(load)"
printf "$ROW" N impl converge fail hang leave "udp B/s" "pkt/s" "rss KiB" "rss max" joins ""
for n in $SIZES; do
  for impl in tribune serf; do
    rows=()
    for ((r = 1; r <= RUNS; r++)); do
      run "$impl" "$n"
      rows+=("$ROWVAL")
      ((VERBOSE)) && echo "# run $r: $ROWVAL"
    done
    if ((RUNS == 1)); then echo "${rows[0]}"; continue; fi
    cols=()
    for c in 3 4 5 6 7 8 9 10 11; do
      cols+=("$(printf '%s\n' "${rows[@]}" | awk -v c="$c" '{print $c}' | median)")
    done
    printf "$ROW" "$n" "$impl" "${cols[@]}" ""
  done
done
echo "load at the end $(load)"
