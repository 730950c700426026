#!/usr/bin/env bash
# gossip_vs_serf.sh — tribune's gossip against HashiCorp serf (Debian package, memberlist inside)
# on loopback: convergence, failure detection, leave propagation, UDP bytes at rest, RSS.
#
# Run:   bench/gossip_vs_serf.sh                   (TRIBUNE=path, default build/tribune, release)
#        SIZES="3 10" REST=5 bench/gossip_vs_serf.sh
# Needs root-free loopback only; installs the `serf` and `strace` packages with apt-get if
# missing (and says so). About 5 minutes for SIZES="3 10 30".
#
# For each N and each implementation, N agents are started on their own loopback addresses
# (tribune clients on 127.0.2.i, serf agents on 127.0.3.i), both with their defaults, which are
# memberlist's LAN profile (probe 1 s, gossip 200 ms, suspicion multiplier 4, push-pull 30 s).
# Every agent logs at warn level to /dev/null. Each row of the table:
#   converge   seconds from the moment the last `join` command returned (agents 2..N each join
#              agent 1, one after the other) until every agent lists N members alive;
#   fail       seconds from kill -9 of agent N until every other agent lists it failed;
#   leave      seconds from the `leave` command to agent N-1 until every remaining agent lists it
#              left;
#   udp B/s    UDP bytes sent per second per agent at rest (after convergence, before the kill):
#              every agent is traced with `strace -f -yy` for REST seconds and the return values
#              of its send calls (sendto, sendmsg, write, writev) on UDP sockets are summed. The
#              same tracer and window for both implementations; push-pull (TCP) not counted;
#   pkt/s      UDP datagrams sent per second per agent in the same window (the wire formats
#              differ: tribune's own compact encoding, memberlist's msgpack for serf);
#   rss KiB    VmRSS per agent at rest (mean over agents, and the largest).
# Times are observed by polling each implementation's own CLI (`tribune members`, `serf
# members`) over the agents still to report, round-robin; "poll" is the mean time of one poll
# round in that run, the resolution of the three timings. Each wait is bounded (TIMEOUT s);
# a wait that times out prints "timeout". The machine is shared: compare rows of one run.
set -u
cd "$(dirname "$0")/.."
T=${TRIBUNE:-$PWD/build/tribune}
SIZES=${SIZES:-"3 10 30"}
REST=${REST:-10}
TIMEOUT=${TIMEOUT:-60}
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

start() { # IMPL I
  local ip; ip=$(ip_of "$1" "$2")
  if [[ $1 == tribune ]]; then
    "$T" agent -node="n$2" -bind="$ip" -client="$ip" -data-dir="$W/t$2" \
      -config-file="$W/ports.json" -log-level=warn >/dev/null 2>&1 &
  else
    serf agent -node="n$2" -bind="$ip:$((P + 3))" -rpc-addr="$ip:$((P + 4))" -log-level=warn \
      >/dev/null 2>&1 &
  fi
  PID["$1 $2"]=$!
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

# Predicates on agent I's view.
is_up() { members "$1" "$2" >/dev/null; }
all_alive() { [[ $(members "$1" "$2" | awk '$2 == "alive"' | wc -l) == "$3" ]]; }
sees_as() { members "$1" "$2" | grep -qx "n$3 $4"; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# poll T0 PRED IMPL ARGS... -- I...: polls PRED IMPL I ARGS for every listed I, round-robin over
# those that have not yet succeeded, until all did or TIMEOUT. Prints the seconds from T0 to the
# last success (or "timeout"); the mean round time goes to $W/round.
poll() {
  local t0=$1 pred=$2 impl=$3; shift 3
  local args=() i
  while [[ $1 != -- ]]; do args+=("$1"); shift; done
  shift
  local pending=("$@") last=$t0 rounds=0 start; start=$(now_ms)
  local end=$((start + TIMEOUT * 1000))
  while ((${#pending[@]})); do
    local next=()
    for i in "${pending[@]}"; do
      if "$pred" "$impl" "$i" "${args[@]}"; then last=$(now_ms); else next+=("$i"); fi
    done
    pending=("${next[@]}")
    rounds=$((rounds + 1))
    if ((${#pending[@]})) && (($(now_ms) > end)); then
      echo $((($(now_ms) - start) / rounds)) >"$W/round"; echo timeout; return 1
    fi
  done
  echo $((($(now_ms) - start) / rounds)) >"$W/round"
  printf '%d.%03d' $(((last - t0) / 1000)) $(((last - t0) % 1000))
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

run() { # IMPL N: prints one table row
  local impl=$1 n=$2 i ids=() pids=()
  for ((i = 1; i <= n; i++)); do start "$impl" "$i"; ids+=("$i"); pids+=("${PID["$impl $i"]}"); done
  local conv fail lv udp rss rounds=()
  if ! poll "$(now_ms)" is_up "$impl" -- "${ids[@]}" >/dev/null; then
    printf '%-4s %-8s agents did not start\n' "$n" "$impl"; stop_all "$impl" "$n"; return
  fi
  for ((i = 2; i <= n; i++)); do join "$impl" "$i" || echo "  ($impl: join of agent $i failed)"; done
  conv=$(poll "$(now_ms)" all_alive "$impl" "$n" -- "${ids[@]}"); rounds+=("$(<"$W/round")")
  rss=$(rss_kib "${pids[@]}")
  udp=$(udp_bytes "${pids[@]}")
  local pkts=$((${udp#* } * 10 / n / REST)); pkts=$((pkts / 10)).$((pkts % 10))
  udp=$((${udp% *} / n / REST))

  kill -KILL "${PID["$impl $n"]}"; wait "${PID["$impl $n"]}" 2>/dev/null; unset "PID[$impl $n]"
  fail=$(poll "$(now_ms)" sees_as "$impl" "$n" failed -- "${ids[@]:0:n-1}"); rounds+=("$(<"$W/round")")

  local t0; t0=$(now_ms)
  leave "$impl" $((n - 1))
  lv=$(poll "$t0" sees_as "$impl" $((n - 1)) left -- "${ids[@]:0:n-2}"); rounds+=("$(<"$W/round")")
  printf '%-4s %-8s %9s %9s %9s %9s %7s %8s %8s  %s\n' "$n" "$impl" "$conv" "$fail" "$lv" "$udp" \
    "$pkts" ${rss% *} ${rss#* } "${rounds[*]}"
  stop_all "$impl" "$n"
}
stop_all() { # IMPL N
  local i p
  for ((i = 1; i <= $2; i++)); do
    p=${PID["$1 $i"]:-}
    [[ -n $p ]] || continue
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; unset "PID[$1 $i]"
  done
  rm -rf "$W"/t*
}

echo "tribune $("$T" version | head -n 1 | tr -d '\n'), serf $(serf version | head -n 1) (Debian $(dpkg-query -W -f='${Version}' serf 2>/dev/null))"
echo "loopback, logs at warn to /dev/null, UDP window ${REST}s, timeout ${TIMEOUT}s, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-8s %9s %9s %9s %9s %7s %8s %8s  %s\n' N impl "converge" "fail" "leave" "udp B/s" "pkt/s" "rss KiB" "rss max" "poll ms (conv fail leave)"
for n in $SIZES; do
  for impl in tribune serf; do run "$impl" "$n"; done
done
