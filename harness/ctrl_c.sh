#!/bin/bash
# ctrl_c.sh -- test-only, under Wine: a server of the sockets.h protocol
# (sockets_server, iocp_server) stops on Ctrl-C with a client connected,
# prints what it should, and exits 0 with nothing on stderr.
#
# Usage: ctrl_c.sh WINE_RUN SERVER_EXE CLIENT_EXE PORT OPTION...
#   --ready PATTERN     the server's ready line
#   --send LINE         a line the first client sends (each --send, in order)
#   --reply PATTERN     a line the first client must print
#   --served PATTERN    the server's line once the first client has gone
#   --greeting PATTERN  a line the idle client prints once connected
#   --after PATTERN     a line the server prints after the signal (each
#                       --after, in order)
#   --idle-end PATTERN  the idle client's line when its input ends
# --ready, --served and one --after at least are required.
# The server runs as SERVER_EXE --port PORT and must log "client 2:
# connected from ..."; the clients as CLIENT_EXE --port PORT [LINE...]. A
# PATTERN is a bash glob that matches a whole line (its \r removed).
#
# Why a script: a Ctrl-C needs a console, and a test has none --
# GenerateConsoleCtrlEvent fails under Wine without a console. What does
# work under Wine is a host signal: `kill -INT` on the Linux process that
# runs the .exe reaches its console handler as CTRL_C_EVENT. So: start the
# server, wait for its ready line, serve one client, connect a second that
# stays idle at its prompt (the server waits for its first line), send
# SIGINT, and check what the server prints and its exit code. Lines are read
# as they come (fifos and `read -t`), never after a sleep. Exit status: 0
# pass, 1 fail, 2 bad arguments, 77 cannot run here (not under Wine, or a
# tool missing).
set -u
usage() { echo "usage: see the top of ctrl_c.sh" >&2; exit 2; }
[ $# -ge 4 ] || usage
wine_run=$1 server_exe=$2 client_exe=$3 port=$4
shift 4
ready= served= greeting= idle_end= sends=() replies=() afters=()
while [ $# -ge 2 ]; do
    case $1 in
    --ready) ready=$2 ;;
    --send) sends+=("$2") ;;
    --reply) replies+=("$2") ;;
    --served) served=$2 ;;
    --greeting) greeting=$2 ;;
    --after) afters+=("$2") ;;
    --idle-end) idle_end=$2 ;;
    *) usage ;;
    esac
    shift 2
done
[ $# = 0 ] && [ -n "$ready" ] && [ -n "$served" ] && [ ${#afters[@]} -gt 0 ] || usage
grep -q "^export WINEPREFIX=" "$wine_run" 2>/dev/null ||
    { echo "ctrl_c: skipped: $wine_run is not the wine-run wrapper (not under Wine)"; exit 77; }
for tool in timeout pgrep mkfifo; do
    command -v "$tool" >/dev/null ||
        { echo "ctrl_c: skipped: no $tool, needed to signal the server"; exit 77; }
done

work=$(mktemp -d) || exit 1
server_job= idle_job=
cleanup() {
    exec 3<&- 4<&- 5>&-
    for job in $server_job $idle_job; do # (timeout passes TERM on to its program)
        kill -TERM "$job" 2>/dev/null && wait "$job"
    done
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "ctrl_c: FAIL: $*"
    for f in server.err client.err idle.err; do
        [ -f "$work/$f" ] && { echo "---- $f ----"; cat "$work/$f"; }
    done
    exit 1
}
# waitFor FD LABEL PATTERN: echo FD's lines until one matches PATTERN
# (an empty PATTERN: to the end). FALSE at the end, or after 60 s silent.
waitFor() {
    local line
    while IFS= read -r -t 60 -u "$1" line; do
        line=${line%$'\r'}
        echo "$2: $line"
        [ -n "$3" ] && [[ $line == $3 ]] && return 0
    done
    return 1
}
# hasLine FILE PATTERN: some line of FILE matches PATTERN.
hasLine() {
    local line
    while IFS= read -r line; do
        [[ ${line%$'\r'} == $2 ]] && return 0
    done <"$1"
    return 1
}

mkfifo "$work/server.out" "$work/idle.out" "$work/idle.in" || exit 1
timeout -s KILL 120 "$wine_run" "$server_exe" --port "$port" \
    >"$work/server.out" 2>"$work/server.err" &
server_job=$!
exec 3<"$work/server.out"
waitFor 3 server "$ready" || fail "no ready line"

# The Linux process that runs the .exe, to signal. wine-run execs wine,
# which execs its loader, so today it is timeout's child, and it would be $!
# without timeout too; but a wrapper on the way that forks instead of
# exec'ing would get the SIGINT in its place, and the test would fail for
# no reason it could say. So we look the process up and check its command
# line. (Not pgrep -f on the path: other tests run the same .exe at the same
# time.) And timeout, besides, bounds the server's life whatever happens.
exe_pid=$(pgrep -P "$server_job" | head -n 1)
[ -n "$exe_pid" ] && grep -qF "$(basename "$server_exe")" "/proc/$exe_pid/cmdline" 2>/dev/null ||
    fail "cannot find the Linux process running $(basename "$server_exe") (child of $server_job)"

timeout -s KILL 60 "$wine_run" "$client_exe" --port "$port" "${sends[@]}" \
    >"$work/client.out" 2>"$work/client.err"
status=$?
sed 's/\r$//; s/^/client: /' "$work/client.out"
[ "$status" = 0 ] || fail "the first client exited with $status"
for reply in "${replies[@]}"; do
    hasLine "$work/client.out" "$reply" || fail "the first client did not print: $reply"
done
waitFor 3 server "$served" || fail "the first client was not served"

# The idle client: its stdin is a fifo we hold open, so it waits at its prompt.
timeout -s KILL 60 "$wine_run" "$client_exe" --port "$port" <"$work/idle.in" \
    >"$work/idle.out" 2>"$work/idle.err" &
idle_job=$!
exec 5>"$work/idle.in" 4<"$work/idle.out"
if [ -n "$greeting" ]; then
    waitFor 4 idle "$greeting" || fail "the idle client did not print: $greeting"
fi
waitFor 3 server "client 2: connected from *" || fail "the idle client did not connect"

kill -INT "$exe_pid" || fail "kill -INT $exe_pid failed"
for after in "${afters[@]}"; do
    waitFor 3 server "$after" || fail "the server did not print: $after"
done
waitFor 3 server "" # the rest, to the end of its output
wait "$server_job"
status=$?
server_job=
[ "$status" = 0 ] || fail "the server exited with $status, not 0"
[ -s "$work/server.err" ] && fail "the server wrote on stderr"

exec 5>&- # the end of its input: the idle client ends too
if [ -n "$idle_end" ]; then
    waitFor 4 idle "$idle_end" || fail "the idle client did not print: $idle_end"
fi
waitFor 4 idle ""
wait "$idle_job"
idle_job=
echo "ctrl_c: PASS: Ctrl-C stopped the server, which said so and exited 0"
