#!/bin/bash
# flood.sh -- test-only, under Wine: a server holds N connections at once
# from sockets_probe (sockets/probe.c, mode flood), then serves every one.
#
# Usage: flood.sh WINE_RUN SERVER_EXE PROBE_EXE PORT N
#   SERVER_EXE  iocp_server.exe (or sockets_server.exe), run as
#                 SERVER_EXE --port PORT --max-clients N
#   PROBE_EXE   sockets_probe.exe, run as
#                 PROBE_EXE flood --port PORT --connections N --pause
# Exit status: 0 pass, 1 fail, 77 cannot run here (not under Wine).
#
# Why a script: under Wine the wineserver holds a Linux descriptor for every
# socket of every program of its prefix, and a process here may have at most
# 20,000 (ulimit -Hn, which a container may not let us raise). 10,000
# connections are 20,000 sockets, so the probe runs under a wineserver of
# its own: a second prefix, a copy of the build's (wine-run --clone).
# And the server's memory is read from the host: /proc/PID/status, RssAnon,
# which is what Wine reports as the process's private bytes (PagefileUsage).
# On Windows the test runs as a pair test instead, and the probe reads the
# server's memory itself (--server-pid).
set -u
[ $# = 5 ] || { echo "usage: flood.sh WINE_RUN SERVER_EXE PROBE_EXE PORT N" >&2; exit 2; }
wine_run=$1 server_exe=$2 probe_exe=$3 port=$4 count=$5
grep -q "^export WINEPREFIX=" "$wine_run" 2>/dev/null ||
    { echo "flood: skipped: $wine_run is not the wine-run wrapper (not under Wine)"; exit 77; }
prefix=$(sed -n "s/^export WINEPREFIX='\(.*\)'$/\1/p" "$wine_run")
server=$(basename "$server_exe" .exe)

work=$(mktemp -d "$prefix.flood.XXXXXX") || exit 1
server_pid= probe_pid=
cleanup() {
    exec 4<&- 5>&- 2>/dev/null
    for pid in $server_pid $probe_pid; do kill -KILL "$pid" 2>/dev/null; done
    [ -x "$work/apart/wine-run" ] && "$work/apart/wine-run" --stop
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "flood: FAIL: $*"
    for f in server.err probe.err; do echo "---- $f ----"; cat "$work/$f" 2>/dev/null; done
    exit 1
}
# The server prints a line per client: it writes to a file, never blocked
# by us (through a pipe it would stop when the pipe was full, until read).
# waitServer REGEX: the first line of its log that matches, as it comes.
waitServer() {
    timeout 120 tail -n +1 -f --pid="$server_pid" "$work/server.log" | grep -m1 -E -- "$1"
}
# waitProbe PATTERN: echo the probe's lines until one matches PATTERN.
waitProbe() {
    local line
    while IFS= read -r -t 120 -u 4 line; do
        line=${line%$'\r'}
        echo "probe: $line"
        [[ $line == $1 ]] && return 0
    done
    return 1
}
rssAnon() { sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$server_pid/status"; }

"$wine_run" --start || fail "cannot start Wine"
"$wine_run" --clone "$work/apart" || fail "cannot make a second Wine prefix"

# ($! is the .exe's own Linux process: wine-run execs wine, which becomes it.)
# The log exists before the server starts: the background job opens it in
# its own time, and a tail that came first would find no file and give up.
: >"$work/server.log" || exit 1
"$wine_run" "$server_exe" --port "$port" --max-clients "$count" \
    >"$work/server.log" 2>"$work/server.err" &
server_pid=$!
waitServer " listening on " || fail "no ready line from the server"
before=$(rssAnon)

mkfifo "$work/probe.out" "$work/probe.in" || exit 1
"$work/apart/wine-run" "$probe_exe" flood --port "$port" --connections "$count" --pause \
    <"$work/probe.in" >"$work/probe.out" 2>"$work/probe.err" &
probe_pid=$!
exec 5>"$work/probe.in" 4<"$work/probe.out"
waitProbe "flood: holding $count connections, each greeted" ||
    fail "the probe did not get $count connections"
held=$(rssAnon)
echo "flood: $server holds $count idle connections: private bytes (RssAnon) $before KiB ->" \
    "$held KiB, $(((held - before) * 1024 / count)) bytes per idle connection"

echo go >&5 # now a line on each, every reply checked
waitProbe "sockets_probe: flood: the server held" || fail "the probe failed"
wait "$probe_pid" || fail "the probe exited with $?"
probe_pid=
waitServer "^$server: .* $count clients served" || fail "no completion line from the server"
wait "$server_pid"
status=$?
server_pid=
[ "$status" = 0 ] || fail "the server exited with $status"
[ -s "$work/server.err" ] && fail "the server wrote on stderr"
echo "flood: PASS: $count connections held at once, each served"
