#!/bin/bash
# sweep.sh -- loadgen (bench/loadgen.c) against sockets_server and iocp_server
# under Wine, for K = 1, 10, 100, 1000 and 10,000 connections at once: one
# CSV row per run, with loadgen's header (server,clients,lines,line_bytes,
# lines_per_s,p50_us,p99_us,failed,peak_threads,private_bytes,note). Then,
# for each server, its idle runs: K = 1 and 10,000 connections only held.
#
# Usage: bench/sweep.sh BUILD_DIR [OUT.csv [IDLE.csv]]  (no OUT.csv: stdout)
#   BUILD_DIR  a linux-mingw build tree: its wine-run, bench/loadgen.exe,
#              sockets/sockets_server.exe and iocp/iocp_server.exe
#   IDLE.csv   the idle rows, with the same header (without it they follow
#              the busy rows in OUT.csv; an idle row is one with lines 0)
# Knobs: SWEEP_CLIENTS (default "1 10 100 1000 10000"), SWEEP_IDLE_CLIENTS
# (default "1 10000"; empty: no idle runs), SWEEP_MEMORY_MIB (default 4096,
# see below). About 2 minutes on a 2-core machine.
#
# For each server and K: start the server on a free port (15900 up), wait
# for its ready line (its stdout through a fifo, read -t, never a sleep;
# then drained, or a server that logs every line would block on a full
# pipe), run loadgen --format csv, append its row, stop the server with a
# Ctrl-C (kill -INT of the .exe's Linux process reaches its console handler,
# as harness/ctrl_c.sh does). A server's sweep stops at the first K it
# cannot serve (loadgen exits 1): that row's note adds the server's first
# line on stderr, or how it ended.
#
# Lines per client shrink as K grows (linesFor): the rate is what matters,
# and the sweep stays within a few minutes. The CSV says how many.
#
# Idle runs: loadgen --connect-only --hold: K connections, each greeted, then
# held, sending nothing. What the server costs then is read from the host,
# /proc/PID/status (below), at the moment loadgen says on stderr that it
# holds them all ("loadgen: holding N connections..."; its stderr is read
# through a fifo as it comes): the sampler's peaks so far and the status
# then, the larger -- so the peak from the start until all were held. Then
# loadgen's stdin ends, which lets them go. The same way for every K, so that
# (the figure at 10,000 - at 1) / 9,999 is what one idle connection costs
# (issue #10's target 3; bench/run.sh computes it). A row's note starts with
# "idle"; lines, the rate and the latencies are 0 and n/a (none sent).
#
# The server's figures: loadgen finds the server by name (--server-name) in
# its Wine prefix, and samples its threads (Toolhelp32) and private bytes
# (PagefileUsage; under Wine the resident anonymous memory). So that the
# name is unambiguous the sweep runs in a prefix of its own, a copy of the
# build's (other tests may run the same servers in that one).
#
# K = 10,000: under Wine the wineserver holds a Linux descriptor for every
# socket of every program of its prefix, at most `ulimit -Hn` (20,000 here,
# which a container may not let us raise). The server's 10,000 sockets and
# loadgen's 10,000 do not fit under one, so loadgen runs under a wineserver
# of its own, a second copy (as harness/flood.sh does). From there it cannot
# see the server: the sweep reads the server's figures from the host,
# /proc/PID/status (Threads, RssAnon -- the figure Wine reports as private
# bytes), sampled every 0.1 s, and the row's note says so.
#
# A guard: a server whose RssAnon passes SWEEP_MEMORY_MIB is killed (the
# machine has no swap, and sockets_server costs about 1 MiB per connection
# under Wine): the row's note says so, and that server's sweep ends there.
set -u
[ $# -ge 1 ] && [ $# -le 3 ] ||
    { echo "usage: sweep.sh BUILD_DIR [OUT.csv [IDLE.csv]]" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
out=${2:-/dev/stdout}
idleOut=${3:-$out}
clientCounts=${SWEEP_CLIENTS:-1 10 100 1000 10000}
idleCounts=${SWEEP_IDLE_CLIENTS-1 10000}
memoryCapKib=$((${SWEEP_MEMORY_MIB:-4096} * 1024))
loadgen=$build/bench/loadgen.exe
header="server,clients,lines,line_bytes,lines_per_s,p50_us,p99_us,failed,peak_threads,private_bytes,note"
grep -q "^export WINEPREFIX=" "$build/wine-run" 2>/dev/null ||
    { echo "sweep: $build/wine-run is not the wine-run wrapper (not a Wine build)" >&2; exit 2; }
for exe in "$loadgen" "$build/sockets/sockets_server.exe" "$build/iocp/iocp_server.exe"; do
    [ -f "$exe" ] || { echo "sweep: no $exe: build it first" >&2; exit 2; }
done
prefix=$(sed -n "s/^export WINEPREFIX='\(.*\)'$/\1/p" "$build/wine-run")

work=$(mktemp -d "$prefix.sweep.XXXXXX") || exit 1
server_pid='' drain_pid='' sampler_pid='' loadgen_pid=''
stopServer() {
    exec 3<&- 4>&- 5<&- 2>/dev/null
    for pid in $sampler_pid $server_pid $drain_pid $loadgen_pid; do
        kill -KILL "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    server_pid='' drain_pid='' sampler_pid='' loadgen_pid=''
}
cleanup() {
    stopServer
    for p in "$work/main" "$work/apart"; do
        [ -x "$p/wine-run" ] && "$p/wine-run" --stop
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# makePrefix NAME: $work/NAME/wine-run, which runs programs in a copy of the
# build's prefix (wine-run --clone) under a wineserver of its own, started.
makePrefix() {
    "$build/wine-run" --clone "$work/$1" && "$work/$1/wine-run" --start
}

linesFor() {
    case $1 in
    1) echo 2000 ;;
    10) echo 1000 ;;
    100) echo 200 ;;
    1000) echo 20 ;;
    *) echo 4 ;;
    esac
}

# A port nothing listens on, from 15900 up.
nextPort=15900
freePort() {
    while ss -Htln "sport = :$nextPort" | grep -q .; do nextPort=$((nextPort + 1)); done
    port=$nextPort
    nextPort=$((nextPort + 1))
}

# startServer NAME: the server on a free port, its ready line read; sets
# server_pid (the .exe's Linux process: wine-run execs wine, which becomes
# it) and port. FALSE, with the reason in $why, if it never got ready.
startServer() {
    local line
    freePort
    rm -f "$work/server.out" "$work/server.err"
    mkfifo "$work/server.out" || exit 1
    "$work/main/wine-run" "$build/$2/$1.exe" --port "$port" \
        >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    exec 3<"$work/server.out"
    why="no ready line from $1"
    while IFS= read -r -t 60 -u 3 line; do
        if [[ ${line%$'\r'} == "$1: "*"listening on "* ]]; then
            cat <&3 >/dev/null & # its log of every line, drained
            drain_pid=$!
            exec 3<&-
            grep -qF "$1.exe" "/proc/$server_pid/cmdline" 2>/dev/null && return 0
            why="cannot find the Linux process running $1.exe"
            return 1
        fi
    done
    return 1
}

# procFigures: the server's threads and RssAnon (KiB) now, from the host:
# sets t and k (empty once it has gone).
procFigures() {
    t=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$server_pid/status" 2>/dev/null)
    k=$(sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$server_pid/status" 2>/dev/null)
}

# sampleServer: every 0.1 s, the server's threads and RssAnon from the host,
# their peaks written to $work/peaks ("THREADS KIB"); kills a server over
# the memory cap, and says so in $work/over_cap.
sampleServer() {
    local threads=0 kib=0 t k
    rm -f "$work/peaks" "$work/over_cap"
    while [ -r "/proc/$server_pid/status" ]; do
        procFigures
        [ -n "$t" ] && [ "$t" -gt "$threads" ] && threads=$t
        [ -n "$k" ] && [ "$k" -gt "$kib" ] && kib=$k
        echo "$threads $kib" >"$work/peaks.new" && mv "$work/peaks.new" "$work/peaks"
        if [ -n "$k" ] && [ "$k" -gt "$memoryCapKib" ]; then
            echo "$k" >"$work/over_cap"
            kill -KILL "$server_pid"
            return
        fi
        sleep 0.1 # a sampling period, not a wait for anything
    done
}

# stopGently: Ctrl-C, then its exit (a server that does not stop within 30
# s is killed); sets server_status to its exit code, for a note.
stopGently() {
    kill -INT "$server_pid" 2>/dev/null
    timeout 30 tail --pid="$server_pid" -f /dev/null
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid"
    server_status=$?
    kill -KILL "$sampler_pid" 2>/dev/null
    wait "$sampler_pid" "$drain_pid" 2>/dev/null
    server_pid='' sampler_pid='' drain_pid=''
}

# withProcFigures ROW FILE WHY: the server's figures as the host saw them
# (FILE: "THREADS KIB") in place of loadgen's, and the note says where they
# come from (WHY).
withProcFigures() {
    local threads kib f note
    read -r threads kib <"$2"
    IFS=, read -r -a f <<<"$1"
    note=${f[10]:-}
    note=${note//server figures n\/a: no process of that name/}
    note=${note%; }
    f[8]=$threads f[9]=$((kib * 1024))
    f[10]="${note:+$note; }server figures from /proc/PID/status (Threads RssAnon)$3"
    (IFS=,; echo "${f[*]:0:11}")
}

# heldFigures: the server's peaks so far and its figures now, the larger
# ("THREADS KIB").
heldFigures() {
    local threads=0 kib=0 t k
    [ -s "$work/peaks" ] && read -r threads kib <"$work/peaks"
    procFigures
    [ -n "$t" ] && [ "$t" -gt "${threads:-0}" ] && threads=$t
    [ -n "$k" ] && [ "$k" -gt "${kib:-0}" ] && kib=$k
    echo "${threads:-0} ${kib:-0}"
}

# holdIdle RUNNER NAME K: loadgen --connect-only --hold, its stderr read as
# it comes: at its "holding" line, the server's figures go to $work/held;
# then its stdin ends (it lets the connections go, reports and exits). The
# fifos open in turn, stdin then stderr, as loadgen's shell opens them.
# Returns loadgen's exit status.
holdIdle() {
    local text status
    rm -f "$work/held" "$work/hold.in" "$work/hold.err"
    mkfifo "$work/hold.in" "$work/hold.err" || exit 1
    "$1" "$loadgen" --port "$port" --clients "$3" --connect-only --hold --format csv \
        --server-name "$2" <"$work/hold.in" >"$work/loadgen.out" 2>"$work/hold.err" &
    loadgen_pid=$!
    exec 4>"$work/hold.in" 5<"$work/hold.err"
    : >"$work/loadgen.err"
    while IFS= read -r -t 300 -u 5 text; do
        if [[ $text == "loadgen: holding "* ]]; then
            heldFigures >"$work/held"
            break
        fi
        echo "$text" >>"$work/loadgen.err"
    done
    exec 4>&-
    cat <&5 >>"$work/loadgen.err"
    exec 5<&-
    wait "$loadgen_pid"
    status=$?
    loadgen_pid=''
    return "$status"
}

# row NAME FOLDER K M: one run, M lines a client, or idle if M is 0; appends
# its row (to $out, or an idle one to $idleOut), and fails when the server
# could not serve (loadgen exited 1, or it never started, or the guard).
row() {
    local name=$1 dir=$2 k=$3 m=$4 runner=$work/main/wine-run to=$out line status extra=""
    local apart="" idle=""
    [ "$m" = 0 ] && to=$idleOut idle="idle: "
    if ! startServer "$name" "$dir"; then
        echo "$name,$k,$m,32,n/a,n/a,n/a,$k,n/a,n/a,$idle$why$(head -n 1 "$work/server.err" |
            tr -d ',\r' | sed 's/^./: &/')" >>"$to"
        stopServer
        return 1
    fi
    sampleServer &
    sampler_pid=$!
    if [ "$k" -ge 10000 ]; then
        runner=$work/apart/wine-run
        apart="; loadgen ran on a wineserver of its own"
    fi
    if [ "$m" = 0 ]; then
        echo "sweep: $name, $k idle clients: held, nothing sent (port $port)" >&2
        holdIdle "$runner" "$name" "$k"
    else
        echo "sweep: $name, $k clients, $m lines each (port $port)" >&2
        "$runner" "$loadgen" --port "$port" --clients "$k" --lines "$m" --format csv \
            --server-name "$name" >"$work/loadgen.out" 2>"$work/loadgen.err"
    fi
    status=$?
    sed 's/^/sweep: loadgen: /' "$work/loadgen.err" | head -n 8 >&2
    stopGently
    line=$(tr -d '\r' <"$work/loadgen.out" | sed -n 2p)
    if [ -z "$line" ]; then # loadgen itself failed: a row of what is known
        line="$name,$k,$m,32,n/a,n/a,n/a,$k,n/a,n/a,loadgen exited $status$(head -n 1 \
            "$work/loadgen.err" | tr -d ',\r' | sed 's/^./: &/')"
        status=1
    fi
    if [ "$m" = 0 ] && [ -s "$work/held" ] && [ ! -s "$work/over_cap" ]; then
        line=$(withProcFigures "$line" "$work/held" " while loadgen held them$apart")
    elif [ "$m" = 0 ] && [ -s "$work/peaks" ]; then # not all held: the run's peaks
        line=$(withProcFigures "$line" "$work/peaks" ": peaks of the run$apart")
    elif [ -n "$apart" ] && [ -s "$work/peaks" ]; then
        line=$(withProcFigures "$line" "$work/peaks" ":${apart#;}")
    fi
    line="${line%,*},$idle${line##*,}"
    if [ -s "$work/over_cap" ]; then
        extra="server killed by the sweep: RssAnon $(($(cat "$work/over_cap") / 1024)) MiB"
        extra="$extra over the ${SWEEP_MEMORY_MIB:-4096} MiB cap"
        status=1
    elif [ "$status" != 0 ] && [ -s "$work/server.err" ]; then
        extra="server: $(head -n 1 "$work/server.err" | tr -d ',\r')"
    elif [ "$status" != 0 ]; then
        extra="server exit code $server_status"
    fi
    [ -n "$extra" ] && line="${line%,*},$(note=${line##*,}; echo "${note:+$note; }$extra")"
    echo "$line" >>"$to"
    return "$status"
}

echo "sweep: making two Wine prefixes of its own under $work" >&2
makePrefix main >/dev/null && makePrefix apart >/dev/null ||
    { echo "sweep: cannot make the Wine prefixes" >&2; exit 1; }
for file in "$out" "$idleOut"; do
    [ "$file" = /dev/stdout ] || : >"$file" || exit 1
done
echo "$header" >>"$out"
[ "$idleOut" = "$out" ] || echo "$header" >>"$idleOut"
for server in sockets_server:sockets iocp_server:iocp; do
    for k in $clientCounts; do
        row "${server%%:*}" "${server##*:}" "$k" "$(linesFor "$k")" || break
    done
    for k in $idleCounts; do
        row "${server%%:*}" "${server##*:}" "$k" 0 || break
    done
done
echo "sweep: done" >&2
