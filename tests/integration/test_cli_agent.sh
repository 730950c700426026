#!/usr/bin/env bash
# test_cli_agent.sh — the commands that talk to an agent (join, leave, force-leave, members, info,
# monitor, reload) against real agents on 127.0.0.1: a bootstrap server and a client. Also every
# command with no agent answering, and their usage errors. Only PIDs started here are signalled.
set -u
cd "$(dirname "$0")/../.."
T=${TRIBUNE:-$PWD/build/asan/tribune}
[[ -x $T ]] || { echo "test_cli_agent: $T not built"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
W=$(mktemp -d /tmp/tribune-test-cliagent.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
unset TRIBUNE_HTTP_ADDR

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [[ -n ${2:-} ]] && echo "$2" | sed 's/^/     /'; }
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS >= end)) && return 1; sleep 0.2; done
}

# run WANT_RC ARGS...: the binary with stdout/stderr kept in $W/out, $W/err; 0 if the code matched.
run() {
  local want=$1; shift
  timeout 30 "$T" "$@" >"$W/out" 2>"$W/err"; RC=$?
  [[ $RC == "$want" ]]
}
show() { printf 'exit %s\nstdout: %s\nstderr: %s' "$RC" "$(head -c 600 "$W/out")" "$(head -c 600 "$W/err")"; }
# expect NAME WANT_RC STDOUT_REGEX STDERR_REGEX ARGS...: "" means the stream must be empty.
expect() {
  local name=$1 want=$2 o=$3 e=$4; shift 4
  if run "$want" "$@" &&
     { if [[ -z $o ]]; then [[ ! -s $W/out ]]; else grep -qE -- "$o" "$W/out"; fi; } &&
     { if [[ -z $e ]]; then [[ ! -s $W/err ]]; else grep -qE -- "$e" "$W/err"; fi; }; then
    ok "$name"
  else
    bad "$name" "$(show)"
  fi
}

P=$((24000 + (RANDOM % 800) * 10)) # below the ephemeral range (32768)
IP=127.0.0.1
H1=$IP:$((P + 2))  # server's HTTP
H2=$IP:$((P + 5))  # client's HTTP
NONE=$IP:$((P + 9)) # nobody listens here
CMDS=(join leave force-leave members info monitor reload)

# --- no agent: every command, via the flag, the environment and the default precedence -------
CONNERR='^Error connecting to tribune agent: dial tcp 127\.0\.0\.1:[0-9]+: connect: connection refused$'
for c in "${CMDS[@]}"; do
  args=()
  [[ $c == join ]] && args=(10.0.0.1)
  [[ $c == force-leave ]] && args=(somenode)
  expect "$c, no agent (-http-addr): connect error, exit 1" 1 "" "$CONNERR" "$c" -http-addr=$NONE "${args[@]}"
  TRIBUNE_HTTP_ADDR=$NONE expect "$c, no agent (TRIBUNE_HTTP_ADDR)" 1 "" "$CONNERR" "$c" "${args[@]}"
done
TRIBUNE_HTTP_ADDR=$IP:1 expect "-http-addr overrides TRIBUNE_HTTP_ADDR" 1 "" ":$((P + 9)): connect" \
  info -http-addr=$NONE
expect "unresolvable -http-addr" 1 "" '^Error connecting to tribune agent: dial tcp: ' \
  info -http-addr=no.such.host.invalid:8500

# --- usage errors --------------------------------------------------------------------------------
for c in "${CMDS[@]}"; do
  expect "$c -h: usage on stdout, exit 0" 0 "^Usage: tribune $c" "" "$c" -h
  expect "$c -h lists -http-addr" 0 "-http-addr=127\.0\.0\.1:8500" "" "$c" -h
  expect "$c -bogus: flag error then usage, exit 1" 1 "" "^flag provided but not defined: -bogus$" "$c" -bogus
  grep -q "^Usage: tribune $c" "$W/err" && ok "$c -bogus: usage on stderr" || bad "$c -bogus: no usage" "$(show)"
done
for c in leave members info monitor reload; do
  expect "$c with a stray argument: exit 1" 1 "" "^unexpected argument: extra$" "$c" -http-addr=$NONE extra
done
expect "force-leave two names: exit 1" 1 "" "^unexpected argument: b$" force-leave -http-addr=$NONE a b
expect "join without address" 1 "" "^At least one address to join must be specified\.$" join -http-addr=$NONE
[[ $(sed -n 2p "$W/err") == "" ]] && sed -n 3p "$W/err" | grep -q "^Usage: tribune join" \
  && ok "join without address: empty line, then usage" || bad "join without address layout" "$(show)"
expect "force-leave without name" 1 "" "^A node name must be specified to force leave\.$" force-leave -http-addr=$NONE
grep -q "^Usage: tribune force-leave" "$W/err" && ok "force-leave without name: usage" || bad "force-leave usage" "$(show)"
expect "members bad regexp: before contacting the agent" 1 "" "^Failed to compile status regexp: " \
  members -http-addr=$NONE -status='(alive'
expect "empty -http-addr refused" 1 "" "^-http-addr must not be empty$" info -http-addr=

# --- real agents: a bootstrap server h1, a client h2 ------------------------------------------
echo "{\"ports\": {\"server\": $P, \"serf_lan\": $((P + 1)), \"http\": $((P + 2)), \"dns\": -1}}" >"$W/p1.json"
echo "{\"ports\": {\"server\": $((P + 3)), \"serf_lan\": $((P + 4)), \"http\": $((P + 5)), \"dns\": -1}}" >"$W/p2.json"
"$T" agent -server -bootstrap -node=h1 -bind=$IP -client=$IP -data-dir="$W/d1" \
  -config-file="$W/p1.json" >"$W/log1" 2>&1 &
A1=$!; pids+=("$A1")
"$T" agent -node=h2 -bind=$IP -client=$IP -data-dir="$W/d2" -config-file="$W/p2.json" >"$W/log2" 2>&1 &
A2=$!; pids+=("$A2")

leader() { run 0 info -http-addr=$H1 && grep -q $'^\tstate = Leader$' "$W/out"; }
up2() { run 0 members -http-addr=$H2; }
if wait_for 30 leader && wait_for 20 up2; then ok "server elected itself, client answers"; else
  bad "agents did not come up" "$(tail -n 15 "$W/log1" "$W/log2")"; fi

# info: Consul's layout, sections and keys sorted.
expect "info: raft section of a leader" 0 $'^\tnum_peers = 0$' "" info -http-addr=$H1
secs=$(grep -v $'^\t' "$W/out" | tr '\n' ' ')
[[ $secs == "agent: build: consul: raft: runtime: serf_lan: " ]] && ok "info: sections sorted: $secs" \
  || bad "info sections: $secs"
if grep -vq $'^\t[a-z_]* = \|^[a-z_]*:$' "$W/out"; then bad "info: a line not in Consul's format" "$(cat "$W/out")"
else ok "info: every line is 'section:' or '<tab>key = value'"; fi
LC_ALL=C awk '/^[a-z_]*:$/ { prev = ""; next } { if ($1 < prev) exit 1; prev = $1 }' "$W/out" \
  && ok "info: keys sorted within sections" || bad "info keys not sorted" "$(cat "$W/out")"
expect "info: an http:// prefix on -http-addr" 0 "^raft:$" "" info -http-addr=http://$H1
expect "info on a client: no raft section" 0 "^serf_lan:$" "" info -http-addr=$H2
grep -q "^raft:$" "$W/out" && bad "client info has a raft section" || ok "client info: no raft section"

# join: the client joins the server; counting answers; failures.
expect "join: client joins the server" 0 "^Successfully joined cluster by contacting 1 nodes\.$" "" \
  join -http-addr=$H2 $IP:$((P + 1))
expect "join: one bad of two addresses still succeeds" 0 \
  "^Successfully joined cluster by contacting 1 nodes\.$" "" join -http-addr=$H2 $IP:$((P + 8)) $IP:$((P + 1))
expect "join: every address failing" 1 "" "^Error joining the cluster: .*; " \
  join -http-addr=$H2 $IP:$((P + 8)) $IP:$((P + 7))
expect "join -wan refused by the agent" 1 "" "^Error joining the cluster: " join -http-addr=$H2 -wan $IP:$((P + 1))

# members: both agents, Consul's columns, DC, filters, exit 2.
both() { run 0 members -http-addr=$H1 && grep -q '^h2 ' "$W/out"; }
if wait_for 20 both; then ok "members: the server sees the client"; else bad "members: no h2" "$(show)"; fi
expect "members: header" 0 "^Node  Address +Status  Type    Build  Protocol  DC$" "" members -http-addr=$H1
grep -qE "^h1    $IP:$((P + 1))  alive   server  0\.1\.0  2         dc1$" "$W/out" && ok "members: server row" \
  || bad "members: server row" "$(cat "$W/out")"
grep -qE "^h2    $IP:$((P + 4))  alive   client  0\.1\.0  2         dc1$" "$W/out" && ok "members: client row" \
  || bad "members: client row" "$(cat "$W/out")"
[[ $(wc -l <"$W/out") == 3 ]] && ok "members: exactly two rows" || bad "members rows" "$(cat "$W/out")"
expect "members -detailed: tags sorted" 0 "^h1 +$IP:$((P + 1)) +alive +bootstrap=1,build=[^,]*,cluster_id=[0-9a-f]{16},dc=dc1,port=$P,role=consul,vsn=2,vsn_max=2,vsn_min=1$" \
  "" members -http-addr=$H1 -detailed
expect "members -status=failed: nothing, exit 2" 2 "" "" members -http-addr=$H1 -status=failed
expect "members -status='^alive$'" 0 "^h2 " "" members -http-addr=$H1 '-status=^alive$'
TRIBUNE_HTTP_ADDR=$H2 expect "members via TRIBUNE_HTTP_ADDR" 0 "^h1 " "" members
# There is no WAN pool: the agent lists nobody, so nothing matches.
expect "members -wan: nobody, exit 2" 2 "" "" members -http-addr=$H1 -wan

# reload and monitor: the monitor sees the reload, Ctrl-C ends it with 0.
"$T" monitor -http-addr=$H1 -log-level=debug >"$W/mon" 2>"$W/mon.err" &
M=$!; pids+=("$M")
sleep 0.5
expect "reload" 0 "^Configuration reload triggered$" "" reload -http-addr=$H1
seen() { grep -q "Request PUT /v1/agent/reload\|log level is now" "$W/mon"; }
if wait_for 10 seen; then ok "monitor streams the agent's lines as they come"; else
  bad "monitor saw nothing" "$(cat "$W/mon" "$W/mon.err")"; fi
kill -INT "$M"; wait "$M"; rc=$?
[[ $rc == 0 && ! -s $W/mon.err ]] && ok "monitor: Ctrl-C exits 0" || bad "monitor SIGINT: exit $rc" "$(cat "$W/mon.err")"
expect "monitor bad level" 1 "" "^Error starting monitor: Unknown log level: nope$" monitor -http-addr=$H1 -log-level=nope

# force-leave: the client dies, is seen failed, then forced to left.
expect "force-leave of an unknown node: no output" 0 "" "" force-leave -http-addr=$H1 nosuchnode
kill -KILL "$A2"; wait "$A2" 2>/dev/null
h2failed() { run 0 members -http-addr=$H1 -status=failed && grep -q '^h2 ' "$W/out"; }
if wait_for 40 h2failed; then ok "members -status=failed shows the killed client"; else
  bad "h2 never failed" "$(show)"; fi
expect "force-leave h2" 0 "" "" force-leave -http-addr=$H1 h2
h2left() { run 0 members -http-addr=$H1 -status=left && grep -q '^h2 .* left ' "$W/out"; }
if wait_for 20 h2left; then ok "force-leave: h2 is now left"; else bad "h2 not left" "$(show)"; fi

# leave: a monitor attached to the server sees it go.
"$T" monitor -http-addr=$H1 >"$W/mon2" 2>"$W/mon2.err" &
M=$!; pids+=("$M")
sleep 0.5
expect "leave" 0 "^Graceful leave complete$" "" leave -http-addr=$H1
gone() { ! kill -0 "$A1" 2>/dev/null; }
if wait_for 20 gone; then wait "$A1"; rc=$?; [[ $rc == 0 ]] && ok "the agent left and exited 0" \
  || bad "agent exit $rc after leave" "$(tail -n 10 "$W/log1")"; else bad "agent still running after leave"; fi
mdone() { ! kill -0 "$M" 2>/dev/null; }
if wait_for 10 mdone; then
  wait "$M"; rc=$?
  [[ $rc == 1 ]] && grep -qx "Remote side ended the monitor! This usually means that the remote side has exited or crashed." "$W/mon2.err" \
    && ok "monitor: the agent ending the stream exits 1 with Consul's message" \
    || bad "monitor after leave: exit $rc" "$(cat "$W/mon2.err")"
else bad "monitor still running after the agent left"; fi
expect "after leave: connect error" 1 "" "$CONNERR" members -http-addr=$H1

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
