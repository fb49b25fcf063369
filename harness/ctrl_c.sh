#!/bin/bash
# ctrl_c.sh -- sockets_server stops on Ctrl-C: it stops accepting, gives the
# sessions still open STOP_WAIT_MS to end, says so, and exits 0.
#
# Usage: ctrl_c.sh WINE_RUN SERVER_EXE CLIENT_EXE PORT
#
# Why a script: a Ctrl-C needs a console, and a test has none (WINE.md:
# GenerateConsoleCtrlEvent fails). Under Wine a host `kill -INT` on the
# .exe's Linux process reaches the console handler as CTRL_C_EVENT. So: start
# the server, wait for its ready line, serve one client, connect a second
# that stays idle at its prompt (its session is blocked in recv), send
# SIGINT, and check what the server says. Lines are read as they come (a
# fifo and `read -t`), never after a sleep. Exit 0 pass, 1 fail, 77 cannot
# run here (not under Wine).
set -u
[ $# = 4 ] || { echo "usage: ctrl_c.sh WINE_RUN SERVER_EXE CLIENT_EXE PORT" >&2; exit 2; }
wine_run=$1 server_exe=$2 client_exe=$3 port=$4
grep -q "^export WINEPREFIX=" "$wine_run" 2>/dev/null ||
    { echo "ctrl_c: skipped: $wine_run is not the wine-run wrapper (not under Wine)"; exit 77; }

work=$(mktemp -d) || exit 1
server_pid= idle_pid=
cleanup() {
    exec 3<&- 4<&- 5>&- 2>/dev/null
    for pid in $server_pid $idle_pid; do kill -KILL "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "ctrl_c: FAIL: $*"
    for f in server.err idle.err; do echo "---- $f ----"; cat "$work/$f"; done
    exit 1
}
# waitFor FD LABEL PATTERN: echo FD's lines until one matches PATTERN.
waitFor() {
    local line
    while IFS= read -r -t 60 -u "$1" line; do
        line=${line%$'\r'}
        echo "$2: $line"
        [[ $line == $3 ]] && return 0
    done
    return 1
}

mkfifo "$work/server.out" "$work/idle.out" "$work/idle.in" || exit 1
# ($! is the .exe's own Linux process: wine-run execs wine, which becomes it.)
"$wine_run" "$server_exe" --port "$port" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
exec 3<"$work/server.out"
waitFor 3 server "sockets_server: listening on 127.0.0.1:$port" || fail "no ready line"

"$wine_run" "$client_exe" --port "$port" "before the signal" | sed 's/\r$//; s/^/client: /'
waitFor 3 server "client 1: session ended after 1 lines: *" || fail "client 1 not served"

# The idle client: its stdin is a fifo we hold open, so it waits at its prompt.
"$wine_run" "$client_exe" --port "$port" <"$work/idle.in" >"$work/idle.out" 2>"$work/idle.err" &
idle_pid=$!
exec 5>"$work/idle.in" 4<"$work/idle.out"
waitFor 4 idle "Greeting: *" || fail "the idle client got no greeting"
waitFor 3 server "client 2: connected from *" || fail "client 2 not logged"

kill -INT "$server_pid" || fail "kill -INT failed"
waitFor 3 server "sockets_server: 1 sessions still open, ending them" ||
    fail "the server did not report the open session"
waitFor 3 server "sockets_server: stopped by Ctrl-C, 2 clients served" ||
    fail "no completion line after Ctrl-C"
wait "$server_pid"
status=$?
server_pid=
[ "$status" = 0 ] || fail "the server exited with $status"
[ -s "$work/server.err" ] && fail "the server wrote on stderr"
exec 5>&- # end of input: the idle client ends too
waitFor 4 idle "sockets_client: 0 lines sent, 0 replies" || fail "the idle client did not end"
wait "$idle_pid"
idle_pid=
echo "ctrl_c: PASS: Ctrl-C stopped the server, which said so and exited 0"
