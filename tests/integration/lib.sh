# lib.sh — shared helpers for integration scripts (source it): temp dir removed on exit, agents
# started and signalled only by their own PID, bounded polling, raw HTTP over bash's /dev/tcp,
# pass/fail counting and the closing "N passed, M failed" line.
#
# Usage, from tests/integration/test_x.sh:
#   . "$(dirname "$0")/lib.sh"; lib_init test_x      # sets T (binary), W (temp dir), ports
#   lib_start A 127.0.0.1 -server -bootstrap          # pid in LIB_PID[A], log in $W/A.log
#   wait_for 20 lib_logged A "leadership acquired" && ok "..." || bad "..." "$(tail "$W/A.log")"
#   lib_http PUT 127.0.0.1 /v1/kv/k value; lib_status; lib_body
#   lib_finish                                        # prints the closing line, exits 0/1
# Every wait is bounded; nothing here sleeps without a condition to poll.

passed=0
failed=0
declare -A LIB_PID=()

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [[ -n ${2:-} ]] && echo "$2" | sed 's/^/     /'; return 0; }
# check NAME CMD...: ok when CMD succeeds, else bad.
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }

lib_cleanup() {
  local p
  for p in "${LIB_PID[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [[ -n ${W:-} && -d $W && -z ${LIB_KEEP:-} ]] && rm -rf "$W"
  return 0
}

# lib_init NAME: binary from $TRIBUNE (default build/asan/tribune), temp dir, one port set shared
# by every node (each node has its own loopback address): server, serf_lan, http; no DNS.
lib_init() {
  LIB_NAME=$1
  cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
  T=${TRIBUNE:-$PWD/build/asan/tribune}
  if [[ ! -x $T ]]; then echo "$LIB_NAME: $T not built"; echo "0 passed, 1 failed"; exit 1; fi
  W=$(mktemp -d "/tmp/tribune-$LIB_NAME.XXXXXX")
  trap lib_cleanup EXIT
  # Below 32768, where the kernel picks ephemeral ports: a test port is never taken by one.
  PORT_SERVER=$((20000 + (RANDOM % 1200) * 10))
  PORT_SERF=$((PORT_SERVER + 1))
  PORT_HTTP=$((PORT_SERVER + 2))
  cat >"$W/ports.json" <<JSON
{"ports": {"server": $PORT_SERVER, "serf_lan": $PORT_SERF, "http": $PORT_HTTP, "dns": -1}}
JSON
}

lib_finish() {
  echo "$passed passed, $failed failed"
  ((failed == 0)) && exit 0
  exit 1
}

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds (0) or the deadline passes (1).
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS >= end)) && return 1
    sleep 0.2
  done
}

# lib_start NAME IP FLAGS...: a tribune agent bound to IP (gossip, Raft and HTTP), data dir
# $W/NAME, log appended to $W/NAME.log.
lib_start() {
  local name=$1 ip=$2; shift 2
  echo "--- start $*" >>"$W/$name.log"
  "$T" agent -node="$name" -bind="$ip" -client="$ip" -data-dir="$W/$name" \
    -config-file="$W/ports.json" "$@" >>"$W/$name.log" 2>&1 &
  LIB_PID[$name]=$!
}

lib_running() { [[ -n ${LIB_PID[$1]:-} ]] && kill -0 "${LIB_PID[$1]}" 2>/dev/null; }

# lib_stop NAME SIGNAL: signals the agent and reaps it (bounded: 30 s, then SIGKILL). Its exit
# status is left in LIB_RC (128+n for a signal).
lib_stop() {
  local p=${LIB_PID[$1]:-}
  LIB_RC=
  [[ -n $p ]] || return 1
  local end=$((SECONDS + 30))
  # Braces around the reaping too: bash reports a killed job on the shell's stderr.
  {
    kill -"$2" "$p"
    while kill -0 "$p" && ((SECONDS < end)); do sleep 0.1; done
    kill -0 "$p" && kill -KILL "$p"
    wait "$p"
    LIB_RC=$?
  } 2>/dev/null
  unset "LIB_PID[$1]"
}

lib_logged() { grep -qF -- "$2" "$W/$1.log"; }

# lib_http METHOD IP PATH [BODY]: one request to IP:$PORT_HTTP over /dev/tcp (curl may be absent).
# Status, headers and body land in $W/http.{status,hdr,body}; success means status 200. Bounded
# by a 20 s read timeout. Chunked bodies are not decoded (no endpoint used here streams).
lib_http() {
  local method=$1 ip=$2 path=$3 body=${4-} fd LC_ALL=C
  : >"$W/http.resp"; echo 000 >"$W/http.status"; : >"$W/http.hdr"; : >"$W/http.body"
  { exec {fd}<>"/dev/tcp/$ip/$PORT_HTTP"; } 2>/dev/null || return 1
  printf '%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s' \
    "$method" "$path" "$ip" "${#body}" "$body" >&"$fd"
  timeout 20 cat <&"$fd" >"$W/http.resp"
  exec {fd}>&-
  head -n 1 "$W/http.resp" | awk '{print $2}' >"$W/http.status"
  sed -n '1,/^\r$/p' "$W/http.resp" >"$W/http.hdr"
  sed '1,/^\r$/d' "$W/http.resp" >"$W/http.body"
  [[ $(<"$W/http.status") == 200 ]]
}
http_get() { lib_http GET "$1" "$2"; }
http_put() { lib_http PUT "$1" "$2" "${3-}"; }
lib_status() { cat "$W/http.status"; }
lib_body() { cat "$W/http.body"; }

# leader_of NAME: the leader's IP as agent NAME reports it (GET /v1/status/leader), in $LEADER;
# fails when NAME is not running or names no leader. The caller declares IP[NAME] (its address);
# the leader's Raft port must be $PORT_SERVER, as every node here shares one port set.
leader_of() {
  LEADER=
  lib_running "$1" && http_get "${IP[$1]}" /v1/status/leader || return 1
  LEADER=$(sed -n "s/^\"\(127\.0\.0\.[0-9]*\):$PORT_SERVER\"\$/\1/p" "$W/http.body")
  [[ -n $LEADER ]]
}

# leader_agreed NAME...: every running NAME reports the same leader; its IP in $LEADER.
leader_agreed() {
  local n first=
  for n in "$@"; do
    lib_running "$n" || continue
    leader_of "$n" || return 1
    [[ -z $first ]] && first=$LEADER
    [[ $LEADER == "$first" ]] || return 1
  done
  LEADER=$first
}
