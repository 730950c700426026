#!/usr/bin/env bash
# test_cli.sh — drives the tribune binary ($TRIBUNE, default build/asan/tribune): usage and exit
# codes, flag and validation errors, config precedence, the agent's signals, pid file and data-dir
# lock. Only PIDs this script started are signalled; temp dirs are removed on exit.
set -u
cd "$(dirname "$0")/../.."
T=${TRIBUNE:-$PWD/build/asan/tribune}
[[ -x $T ]] || { echo "test_cli: $T not built"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
W=$(mktemp -d /tmp/tribune-test-cli.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [[ -n ${2:-} ]] && echo "$2" | sed 's/^/     /'; }

# run NAME WANT_RC ARGS...: runs the binary, keeps stdout/stderr in $W/out, $W/err.
run() {
  local name=$1 want=$2; shift 2
  "$T" "$@" >"$W/out" 2>"$W/err"; local rc=$?
  if [[ $rc == "$want" ]]; then return 0; fi
  bad "$name: exit $rc, want $want" "$(cat "$W/out" "$W/err")"
  return 1
}

# expect_err NAME ARGS...: exit 1 and stderr's first line is exactly $MSG.
expect_err() {
  local name=$1; shift
  run "$name" 1 "$@" || return
  local first; first=$(head -n 1 "$W/err")
  if [[ $first == "$MSG" && ! -s $W/out ]]; then ok "$name"; else
    bad "$name" "stderr: $(cat "$W/err")"$'\n'"stdout: $(cat "$W/out")"; fi
}

# --- usage and exit codes --------------------------------------------------------------------
run "no command" 1 && { grep -q '^Usage: tribune' "$W/err" && grep -q '^    agent ' "$W/err" \
  && [[ ! -s $W/out ]] && ok "no command: usage on stderr, exit 1" || bad "no command" "$(cat "$W/err")"; }
for h in -h -help --help; do
  run "tribune $h" 0 "$h" && { grep -q '^Usage: tribune' "$W/out" && ok "tribune $h: usage, exit 0" \
    || bad "tribune $h" "$(cat "$W/out")"; }
done
run "usage lists only real commands" 0 -h && {
  cmds=$(sed -n 's/^    \([a-z-]*\) .*/\1/p' "$W/out" | tr '\n' ' ')
  [[ $cmds == "agent force-leave info join keygen leave members monitor operator reload version " ]] && ok "usage lists exactly: $cmds" || bad "commands listed: $cmds"; }
for c in agent keygen version; do
  run "$c -h" 0 "$c" -h && { grep -q "^Usage: tribune $c" "$W/out" && ok "$c -h: usage, exit 0" \
    || bad "$c -h" "$(cat "$W/out")"; }
done
run "agent --help" 0 agent --help && grep -q -- '-bootstrap-expect' "$W/out" && ok "agent --help lists flags"
MSG="tribune: unknown command: frobnicate"; expect_err "unknown command" frobnicate
grep -q '^Usage: tribune' "$W/err" && ok "unknown command: usage follows" || bad "unknown command: no usage"
MSG="tribune: unknown flag: -x"; expect_err "unknown top-level flag" -x
MSG="flag provided but not defined: -bogus"; expect_err "agent unknown flag" agent -bogus
grep -q '^Usage: tribune agent' "$W/err" && ok "agent unknown flag: usage follows" || bad "agent flag: no usage"
MSG="flag provided but not defined: -x"; expect_err "version unknown flag" version -x
MSG="unexpected argument: extra"; expect_err "keygen stray argument" keygen extra
MSG="flag needs an argument: -data-dir"; expect_err "flag without value" agent -data-dir
MSG='invalid value "x" for flag -bootstrap-expect: parse error'; expect_err "bad int flag" agent -bootstrap-expect=x
MSG='invalid boolean value "maybe" for -server: parse error'; expect_err "bad bool flag" agent -server=maybe

# --- version and keygen ----------------------------------------------------------------------
run version 0 version && {
  [[ $(sed -n 1p "$W/out") =~ ^Tribune\ v[0-9]+\.[0-9]+\.[0-9]+$ ]] \
    && grep -Eq '^Raft Protocol: [0-9]+ \(Understands back to: [0-9]+\)$' "$W/out" \
    && grep -Eq '^Gossip Protocol: [0-9]+ \(Understands back to: [0-9]+\)$' "$W/out" \
    && ok "version output" || bad "version output" "$(cat "$W/out")"; }
run "--version" 0 --version && grep -q '^Tribune v' "$W/out" && ok "--version is version"
run keygen 0 keygen && k1=$(cat "$W/out") && run keygen 0 keygen && k2=$(cat "$W/out") && {
  if [[ $k1 =~ ^[A-Za-z0-9+/]{22}==$ && $k1 != "$k2" ]] && [[ $(printf %s "$k1" | base64 -d | wc -c) == 16 ]]
  then ok "keygen: 24-char base64 of 16 bytes, fresh each time"; else bad "keygen" "$k1 / $k2"; fi; }

# --- validation errors (all Consul's texts, "==> " prefixed, exit 1) ------------------------
A=(agent -bind=127.0.0.1)
MSG="==> Must specify data directory using -data-dir"; expect_err "data dir required" "${A[@]}" -server
MSG="==> Bootstrap mode cannot be enabled when server mode is not enabled"
expect_err "bootstrap needs server" "${A[@]}" -data-dir="$W/d" -bootstrap
MSG="==> Expect mode cannot be enabled when server mode is not enabled"
expect_err "expect needs server" "${A[@]}" -data-dir="$W/d" -bootstrap-expect=3
MSG="==> Bootstrap cannot be provided with an expected server count"
expect_err "bootstrap xor expect" "${A[@]}" -data-dir="$W/d" -server -bootstrap -bootstrap-expect=3
MSG="==> Datacenter must be alpha-numeric with underscores and hypens only"
expect_err "datacenter charset" "${A[@]}" -data-dir="$W/d" -dc=east.1
MSG="==> Invalid log level: LOUD. Valid log levels are: [TRACE DEBUG INFO WARN ERR]"
expect_err "log level" "${A[@]}" -data-dir="$W/d" -log-level=loud
MSG="==> Error parsing retry interval: time: invalid duration 5"
expect_err "retry interval syntax" "${A[@]}" -data-dir="$W/d" -retry-interval=5
MSG='==> Invalid bind address "my-host": must be an IPv4 or IPv6 address'
expect_err "bind must be an IP" agent -data-dir="$W/d" -bind=my-host
[[ ! -e $W/d ]] && ok "failed validation created no data dir" || bad "data dir created on error"

# --- config files ----------------------------------------------------------------------------
mkdir -p "$W/conf.d"
echo '{"node_name": "from-a", "datacenter": "dc_a", "ports": {"http": 9500}}' >"$W/conf.d/a.json"
echo '{"node_name": "from-b", "log_level": "warn"}' >"$W/conf.d/b.json"
echo 'not json, and not *.json either' >"$W/conf.d/notes.txt"
echo '{"datacenter": "dc_later", "server": true, "bootstrap": true}' >"$W/later.json"
printf '{\n  "server": true,\n  "datacenter": dc1\n}\n' >"$W/broken.json"
echo '{"data_dir": "/x", "no_such_key": 1}' >"$W/unknown.json"

MSG="==> Error decoding '$W/broken.json': unexpected character (line 3, column 17)"
expect_err "bad JSON: one line with file and position" "${A[@]}" -data-dir="$W/d" -config-file="$W/broken.json"
[[ $(wc -l <"$W/err") == 1 ]] && ok "bad JSON error is a single line" || bad "bad JSON lines" "$(cat "$W/err")"
MSG="==> Error decoding '$W/unknown.json': unknown key \"no_such_key\" (line 1, column 20)"
expect_err "unknown key names key and file" "${A[@]}" -config-file="$W/unknown.json"
MSG="==> Error reading '$W/none.json': No such file or directory"
expect_err "missing config file" "${A[@]}" -data-dir="$W/d" -config-file="$W/none.json"

# wait_for FILE PATTERN PID: polls (max ~15s) until FILE matches or PID is gone.
wait_for() {
  for _ in $(seq 150); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# wait_exit PID: bounded wait (~15s) for our own child; sets rc to its exit code, 124 on timeout.
# Not called in $(...): only this shell can reap its child and read the status.
wait_exit() {
  for _ in $(seq 150); do
    kill -0 "$1" 2>/dev/null || { wait "$1"; rc=$?; return; }
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; rc=124
}

# start NAME ARGS...: starts an agent in the background; sets $pid, output in $W/NAME.out.
start() {
  local name=$1; shift
  "$T" agent "$@" >"$W/$name.out" 2>"$W/$name.err" &
  pid=$!
  pids+=("$pid")
  wait_for "$W/$name.out" 'Log data will now stream in' "$pid"
}

if start prec -bind=127.0.0.1 -data-dir="$W/d1" -config-dir="$W/conf.d" -config-file="$W/later.json" \
    -dc=dc_flag; then
  o="$W/prec.out"
  grep -q "Node name: 'from-b'" "$o" && ok "later file in a dir overrides earlier (lexical order)" \
    || bad "dir order" "$(cat "$o")"
  grep -q "Datacenter: 'dc_flag'" "$o" && ok "flag overrides every file" || bad "flag precedence" "$(cat "$o")"
  grep -q "Server: true (bootstrap: true)" "$o" && ok "a later -config-file adds its keys" \
    || bad "later file" "$(cat "$o")"
  grep -q "(HTTP: 9500, DNS: 8600)" "$o" && ok "ports merge key by key" || bad "ports" "$(cat "$o")"
  grep -q "WARNING: Bootstrap mode enabled" "$W/prec.err" && ok "bootstrap warning on stderr" \
    || bad "bootstrap warning" "$(cat "$W/prec.err")"
  kill -INT "$pid"; wait_exit "$pid"
  [[ $rc == 0 ]] && ok "SIGINT: exit 0" || bad "SIGINT exit $rc"
else bad "agent with config files did not start" "$(cat "$W/prec.out" "$W/prec.err")"; fi

# --- -dev, signals, pid file, lock -----------------------------------------------------------
if start dev -dev -pid-file="$W/agent.pid"; then
  o="$W/dev.out"
  grep -q "Server: true (bootstrap: true)" "$o" && grep -q "Cluster Addr: 127.0.0.1 " "$o" \
    && ok "-dev: bootstrapped server on 127.0.0.1" || bad "-dev banner" "$(cat "$o")"
  devdir=$(sed -n 's/.*using temporary data directory \(.*\)$/\1/p' "$o")
  [[ -n $devdir && -d $devdir && -e $devdir/.lock ]] && ok "-dev: temporary data dir exists and is locked" \
    || bad "-dev data dir '$devdir'" "$(cat "$o")"
  [[ $(cat "$W/agent.pid" 2>/dev/null) == "$pid" ]] && ok "pid file holds the agent's pid" \
    || bad "pid file" "$(cat "$W/agent.pid" 2>&1)"
  kill -HUP "$pid"
  wait_for "$o" '==> Reloading configuration...' "$pid" && grep -q '==> Caught signal: hangup' "$o" \
    && ok "SIGHUP: reload, agent keeps running" || bad "SIGHUP" "$(cat "$o")"
  kill -0 "$pid" 2>/dev/null || bad "agent died on SIGHUP"
  kill -INT "$pid"; wait_exit "$pid"
  [[ $rc == 0 ]] && ok "-dev: SIGINT exits 0" || bad "-dev SIGINT exit $rc" "$(cat "$o" "$W/dev.err")"
  grep -q '==> Caught signal: interrupt' "$o" && grep -q '==> Gracefully shutting down agent...' "$o" \
    && ok "SIGINT messages" || bad "SIGINT messages" "$(cat "$o")"
  [[ -n $devdir && ! -e $devdir ]] && ok "-dev: temporary data dir removed at exit" || bad "dev dir left: $devdir"
  [[ ! -e $W/agent.pid ]] && ok "pid file removed at exit" || bad "pid file left behind"
else bad "-dev agent did not start" "$(cat "$W/dev.out" "$W/dev.err")"; fi

if start lock -bind=127.0.0.1 -data-dir="$W/locked/deeper" -server -bootstrap-expect=1; then
  grep -qx '==> WARNING: BootstrapExpect Mode is specified as 1; this is the same as Bootstrap mode.' \
    "$W/lock.err" && grep -q "Server: true (bootstrap: true)" "$W/lock.out" \
    && ok "-bootstrap-expect=1 warns and means -bootstrap" || bad "expect=1" "$(cat "$W/lock.err")"
  [[ $(stat -c %a "$W/locked/deeper") == 700 ]] && ok "data dir created with mode 0700" \
    || bad "data dir mode $(stat -c %a "$W/locked/deeper")"
  MSG="==> Error starting agent: data directory $W/locked/deeper is in use by another agent (pid $pid)"
  "$T" agent -bind=127.0.0.1 -data-dir="$W/locked/deeper" >"$W/out" 2>"$W/err"; rc=$?
  [[ $rc == 1 && $(cat "$W/err") == "$MSG" ]] && ok "second agent on the same data dir refused" \
    || bad "lock refusal: rc $rc" "$(cat "$W/err")"
  kill -0 "$pid" 2>/dev/null && ok "first agent unaffected" || bad "first agent died"
  kill -TERM "$pid"; wait_exit "$pid"
  [[ $rc == 1 ]] && ok "SIGTERM without leave_on_terminate: exit 1" || bad "SIGTERM exit $rc"
  grep -q '==> Caught signal: terminated' "$W/lock.out" && ! grep -q 'Gracefully' "$W/lock.out" \
    && ok "SIGTERM: no graceful leave" || bad "SIGTERM messages" "$(cat "$W/lock.out")"
  # The lock died with its holder: the same dir now starts fine.
  if start relock -bind=127.0.0.1 -data-dir="$W/locked/deeper"; then
    ok "lock released when the holder exits"; kill -INT "$pid"; wait_exit "$pid"
  else bad "restart on released dir" "$(cat "$W/relock.err")"; fi
else bad "lock agent did not start" "$(cat "$W/lock.out" "$W/lock.err")"; fi

echo '{"leave_on_terminate": true}' >"$W/lot.json"
if start lot -bind=127.0.0.1 -data-dir="$W/d2" -config-file="$W/lot.json"; then
  kill -TERM "$pid"; wait_exit "$pid"
  [[ $rc == 0 ]] && grep -q Gracefully "$W/lot.out" && ok "SIGTERM with leave_on_terminate: graceful, exit 0" \
    || bad "leave_on_terminate exit $rc" "$(cat "$W/lot.out")"
else bad "leave_on_terminate agent did not start" "$(cat "$W/lot.err")"; fi

echo '{"skip_leave_on_interrupt": true}' >"$W/slo.json"
if start slo -bind=127.0.0.1 -data-dir="$W/d3" -config-file="$W/slo.json"; then
  kill -INT "$pid"; wait_exit "$pid"
  [[ $rc == 1 ]] && ! grep -q Gracefully "$W/slo.out" && ok "SIGINT with skip_leave_on_interrupt: exit 1" \
    || bad "skip_leave_on_interrupt exit $rc" "$(cat "$W/slo.out")"
else bad "skip_leave_on_interrupt agent did not start" "$(cat "$W/slo.err")"; fi

echo "$passed passed, $failed failed"
((failed == 0))
