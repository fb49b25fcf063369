#!/bin/bash
# ctrl_c.sh -- iocp_server stops cleanly on Ctrl-C, with a client connected.
#
# Usage: ctrl_c.sh WINE_RUN IOCP_SERVER_EXE SOCKETS_CLIENT_EXE PORT
#
# Why a script and not a pair test: a Ctrl-C needs a console, and under CTest
# there is none (WINE.md: GenerateConsoleCtrlEvent fails). What does work
# under Wine is a host signal: `kill -INT` on the Linux process that runs the
# .exe reaches its handler as CTRL_C_EVENT. So: start the server, wait for its
# ready line, serve one client, connect a second that stays idle (a WSARecv
# pending on the server), send SIGINT, and check that the server cancelled
# that I/O, freed every context, said so and exited 0, with nothing on stderr.
# Exit 0 pass, 1 fail, 77 skip (a host tool this needs is missing).
set -u
if [ $# -ne 4 ]; then
    echo "usage: $0 WINE_RUN IOCP_SERVER_EXE SOCKETS_CLIENT_EXE PORT" >&2
    exit 2
fi
wine_run=$1 server=$2 client=$3 port=$4
for tool in timeout pgrep mkfifo; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is missing: cannot signal the server under Wine" >&2
        exit 77
    fi
done

dir=$(mktemp -d) || exit 1
server_job= idle_job=
cleanup() {
    exec 3<&- 4>&-
    for job in $server_job $idle_job; do # (timeout passes TERM on to its program)
        kill -TERM "$job" 2>/dev/null && wait "$job"
    done
    rm -rf "$dir"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in server.out server.err client.out client.err idle.out idle.err; do
        [ -f "$dir/$f" ] && { echo "---- $f ----"; cat "$dir/$f"; }
    done
    exit 1
}

# The server's stdout comes through a fifo, so we can wait for a line with
# `read -t` instead of sleeping; every line is kept in server.out too.
mkfifo "$dir/out" "$dir/idle_in" || exit 1
timeout -s KILL 120 "$wine_run" "$server" --port "$port" >"$dir/out" 2>"$dir/server.err" &
server_job=$!
exec 3<"$dir/out"
readUntil() { # PATTERN: read server lines until one matches; FALSE at the end or after 60 s
    local line
    while IFS= read -r -t 60 -u 3 line; do
        line=${line%$'\r'}
        printf '%s\n' "$line" >>"$dir/server.out"
        [[ $line == $1 ]] && return 0
    done
    return 1
}
readUntil "iocp_server: * listening on *" || fail "no ready line from the server"

# The Linux process of the .exe: wine-run execs wine, which execs its loader,
# so it is timeout's child. (Not pgrep -f on the path: other tests run the
# same .exe at the same time.)
exe_pid=$(pgrep -P "$server_job" | head -n 1)
[ -n "$exe_pid" ] && grep -q "iocp_server" "/proc/$exe_pid/cmdline" 2>/dev/null ||
    fail "cannot find the Linux process running iocp_server.exe (child of $server_job)"

timeout -s KILL 60 "$wine_run" "$client" --port "$port" hello привет \
    >"$dir/client.out" 2>"$dir/client.err" || fail "the client failed"
grep -q "^Received: ПРИВЕТ" "$dir/client.out" || fail "the client got no ПРИВЕТ"
readUntil "client 1: closed after 2 lines: *" || fail "the server did not log client 1's end"

# A second client that waits on its stdin (our fifo) while the server waits
# for its first line.
timeout -s KILL 60 "$wine_run" "$client" --port "$port" <"$dir/idle_in" \
    >"$dir/idle.out" 2>"$dir/idle.err" &
idle_job=$!
exec 4>"$dir/idle_in"
readUntil "client 2: connected from *" || fail "the idle client did not connect"

kill -INT "$exe_pid" || fail "kill -INT $exe_pid"
readUntil "iocp_server: stopped, * clients served, all contexts freed"
while IFS= read -r -t 60 -u 3 line; do # the rest, to the end of its output
    printf '%s\n' "${line%$'\r'}" >>"$dir/server.out"
done
wait "$server_job"
status=$?
server_job=
exec 4>&- # the idle client sees the end of its input and exits
wait "$idle_job"
idle_job=

[ "$status" -eq 0 ] || fail "the server exited with status $status, not 0"
for expected in "iocp_server: Ctrl-C, stopping" \
    "client 2: closed after 0 lines: cancelled: the server is stopping" \
    "iocp_server: stopped, 2 clients served, all contexts freed"; do
    grep -qxF "$expected" "$dir/server.out" || fail "the server did not print: $expected"
done
[ -s "$dir/server.err" ] && fail "the server printed errors"
echo "ok: Ctrl-C cancelled the idle client's I/O, freed every context, exit 0"
cat "$dir/server.out"
exit 0
