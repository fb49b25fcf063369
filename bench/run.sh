#!/usr/bin/env bash
# run.sh -- bench/'s one command: measures, then writes bench/results/ and
# the results section of bench/README.md.
#
# Usage: bash bench/run.sh [--report-only]
#
# Steps (about 3 minutes on a 2-core machine, most of it the sweep):
#  1. installs what is missing (the Wine toolchain as .ci/setup.sh does,
#     gnuplot-nox and a host C compiler), configures and builds the
#     linux-mingw preset;
#  2. records the platform in results/platform.txt;
#  3. runs ipcbench --mechanism all under Wine  -> results/ipcbench.csv,
#     and at the line size loadgen uses, for tcp and tcp_iocp, the raw
#     figure the servers are held to             -> results/ipcbench_line.csv;
#     and the lab's named_pipe_server (--lab-server) with named_pipe_message,
#     its raw figure, at the same sizes          -> results/ipcbench_lab.csv;
#  4. builds and runs the native Linux floor    -> results/native.csv;
#  5. runs bench/sweep.sh (loadgen against both servers, 1 to 10,000
#     clients)                                   -> results/loadgen.csv;
#     and both servers holding 1 and 10,000 idle connections (loadgen
#     --connect-only --hold), for target 3       -> results/idle.csv;
#  6. draws results/latency.svg and results/servers.svg (bench/plot.gnuplot),
#     writes results/tables.md and copies it between the results markers of
#     bench/README.md.
# --report-only redoes step 6 from the CSV files already in results/.
# Knobs, for a quicker or longer run: IPCBENCH_ARGS (e.g. "--count 2000")
# and NATIVE_ARGS (e.g. "--count 2000") are added to those programs' options.
#
# Needs root or sudo to install; leaves no process behind (on any exit it
# stops the build tree's Wine). Run it alone: a busy machine makes slow
# numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/linux-mingw
results=bench/results
IPCBENCH_ARGS=${IPCBENCH_ARGS:-}
NATIVE_ARGS=${NATIVE_ARGS:-}

step() { echo "run: [$((SECONDS / 60))m$((SECONDS % 60))s] $*" >&2; }

setUp() {
    local want=()
    source .ci/setup.sh
    command -v gnuplot >/dev/null || want+=(gnuplot-nox)
    command -v cc >/dev/null || want+=(gcc libc6-dev)
    if ((${#want[@]} > 0)); then
        local sudo=""
        [[ $(id -u) -ne 0 ]] && sudo=sudo
        $sudo apt-get update
        echo "run: installing ${want[*]}"
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${want[@]}"
    fi
}

# Whatever happens, nothing of ours keeps running: Wine's processes all live
# under the build tree's wineserver, and the native floor's peer ends with it.
stopWine() {
    [[ -x $build/wine-run ]] && "$build/wine-run" --stop
    return 0
}

platform() {
    local cpu os
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    os=$(. /etc/os-release && echo "${PRETTY_NAME:-unknown}")
    {
        echo "wine: $(wine --version 2>/dev/null)"
        echo "kernel: $(uname -srm)"
        echo "os: $os"
        echo "cpu: ${cpu:-unknown}"
        echo "cores: $(nproc)"
        echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    } >"$results/platform.txt"
}

# wine PROGRAM.exe ARG... > FILE: Windows programs end lines with CR LF.
wineCsv() {
    "$build/wine-run" "$@" | tr -d '\r'
}

# The servers answer lines of loadgen's size (plus the newline, both ways):
# ipcbench's raw tcp and tcp_iocp figure at that size is what they are held to.
lineSize() {
    awk -F, 'NR > 1 && $4 ~ /^[0-9]+$/ { print $4 + 1; exit }' "$results/loadgen.csv"
}

measure() {
    local bytes
    step "platform"
    platform
    step "native floor: bench/native/pingpong.c (cc)"
    mkdir -p "$build/native"
    cc -std=c11 -O2 -Wall -Wextra -o "$build/native/pingpong" bench/native/pingpong.c
    # shellcheck disable=SC2086 # NATIVE_ARGS is a list of options
    "$build/native/pingpong" $NATIVE_ARGS >"$results/native.csv"
    step "loadgen sweep: bench/sweep.sh"
    bash bench/sweep.sh "$build" "$results/loadgen.csv" "$results/idle.csv"
    step "ipcbench --mechanism all"
    # shellcheck disable=SC2086
    wineCsv "$build/bench/ipcbench.exe" --mechanism all --format csv $IPCBENCH_ARGS \
        >"$results/ipcbench.csv"
    bytes=$(lineSize)
    step "ipcbench tcp and tcp_iocp at ${bytes:-64} B (loadgen's line)"
    # shellcheck disable=SC2086
    wineCsv "$build/bench/ipcbench.exe" --mechanism tcp --mechanism tcp_iocp --size "${bytes:-64}" \
        --format csv $IPCBENCH_ARGS >"$results/ipcbench_line.csv"
    # The lab's server and its raw figure back to back, so that one moment's
    # load weighs on both. An absolute path: Wine's cwd is a Windows one.
    step "ipcbench: the lab's named_pipe_server against named_pipe_message"
    # shellcheck disable=SC2086
    wineCsv "$build/bench/ipcbench.exe" --mechanism named_pipe_message \
        --lab-server "$PWD/$build/named_pipe/named_pipe_server.exe" \
        --format csv $IPCBENCH_ARGS >"$results/ipcbench_lab.csv"
}

# --- data for bench/plot.gnuplot --------------------------------------------

# The sizes in the latency CSVs, smallest first.
sizes() {
    awk -F, 'FNR > 1 && $2 ~ /^[0-9]+$/ { print $2 }' "$@" | sort -nu | tr '\n' ' '
}

# latency.dat: per mechanism (in the CSVs' order), p50 for each size, then p99.
latencyData() {
    awk -F, -v sizes="$1" '
        FNR == 1 { native = FILENAME ~ /native/; next }
        !($1 in seen) { seen[$1] = 1; order[++n] = $1; isNative[$1] = native }
        { p50[$1, $2] = $4; p99[$1, $2] = $5 }
        function v(x) { return x ~ /^[0-9.]+$/ ? x : "NaN" }
        END {
            k = split(sizes, size, " ")
            for (i = 1; i <= n; i++) {
                m = order[i]
                line = "\"" m (isNative[m] ? " (ref)" : "") "\""
                for (j = 1; j <= k; j++) line = line " " v(p50[m, size[j]])
                for (j = 1; j <= k; j++) line = line " " v(p99[m, size[j]])
                print line
            }
        }' "${@:2}"
}

# servers.dat: per server a block: title line, then clients lines_per_s private_bytes.
# A server that could not serve some K says so in its title.
serverData() {
    awk -F, '
        NR == 1 { next }
        !($1 in seen) { seen[$1] = 1; order[++n] = $1 }
        { rows[$1] = rows[$1] sprintf("%s %s %s\n", $2, v($5), v($10)) }
        ($8 ~ /^[0-9]+$/ && $8 > 0) || $5 !~ /^[0-9.]+$/ {
            if (!($1 in stopped)) stopped[$1] = $2
        }
        function v(x) { return x ~ /^[0-9.]+$/ ? x : "NaN" }
        END {
            for (i = 1; i <= n; i++) {
                s = order[i]
                title = s ((s in stopped) ? " (failed at " stopped[s] " clients)" : "")
                printf "%s\"%s\" clients lines_per_s private_bytes\n%s", \
                    (i > 1 ? "\n\n" : ""), title, rows[s]
            }
        }' "$1"
}

plots() {
    local sizes natives
    sizes=$(sizes "$results/ipcbench.csv" "$results/native.csv")
    natives=$(awk -F, 'NR > 1 { print $1 }' "$results/native.csv" | sort -u | wc -l)
    latencyData "$sizes" "$results/ipcbench.csv" "$results/native.csv" >"$results/latency.dat"
    serverData "$results/loadgen.csv" >"$results/servers.dat"
    gnuplot -e "dir='$results'; sizes='$sizes'; natives=$natives; \
        servers=$(awk -F, 'NR > 1 { print $1 }' "$results/loadgen.csv" | sort -u | wc -l)" \
        bench/plot.gnuplot
    rm -f "$results/latency.dat" "$results/servers.dat"
}

# --- tables.md ----------------------------------------------------------------

# markdownTable CSV: the CSV as a Markdown table (header row = the CSV's header).
# A field in double quotes may hold commas (the native rows' note does).
markdownTable() {
    awk '
        function cells(text,    line, field, more) {
            line = "|"
            for (more = 1; more; ) {
                if (text ~ /^"/) {
                    match(text, /^"[^"]*"/)
                    field = substr(text, 2, RLENGTH - 2); text = substr(text, RLENGTH + 1)
                } else {
                    field = text; sub(/,.*/, "", field); text = substr(text, length(field) + 1)
                }
                more = sub(/^,/, "", text)
                line = line " " field " |"
            }
            return line
        }
        { print cells($0) }
        NR == 1 { line = "|"; for (i = 1; i <= split($0, f, ","); i++)
                  line = line (i == 1 || f[i] == "note" ? " --- |" : " ---: |"); print line }' "$1"
}

platformLine() {
    [[ -f $results/platform.txt ]] || { echo "Platform: not recorded (no results/platform.txt)."; return; }
    awk -F': ' '{ v[$1] = $2 }
        END { printf "Platform: %s on %s (%s); CPU %s, %s cores; run %s.\n", \
              v["wine"], v["kernel"], v["os"], v["cpu"], v["cores"], v["date"] }' \
        "$results/platform.txt"
}

# The four targets of issue #10, computed from the CSVs: what was measured, and
# whether it meets the target. Where a figure is missing, it says so.
targets() {
    local lab=()
    [[ -f $results/ipcbench_lab.csv ]] && lab=("$results/ipcbench_lab.csv")
    local idle=() # the sweep's idle runs (target 3), if recorded
    [[ -f $results/idle.csv ]] && idle=("$results/idle.csv")
    awk -F, '
        function num(x) { return x ~ /^[0-9.]+$/ }
        function kib(b) { return sprintf("%.1f KiB", b / 1024) }
        FILENAME ~ /ipcbench_line/ && FNR > 1 { lp50[$1] = $4; lbytes[$1] = $2; next }
        FILENAME ~ /ipcbench_lab/ && FNR > 1 && $1 == "named_pipe_server" {
            np50[$2] = $4; if (!($2 in nsize)) { nsize[$2] = 1; nsizes[++labs] = $2 }; next
        }
        FILENAME ~ /ipcbench_lab/ && FNR > 1 { labRaw[$1, $2] = $4; next }
        FILENAME ~ /ipcbench/ && FNR > 1 { p50[$1, $2] = $4; next }
        FILENAME ~ /loadgen/ && FNR > 1 {
            key = $1 SUBSEP $2
            lps[key] = $5; sp50[key] = $6; failed[key] = $8; threads[key] = $9; priv[key] = $10
            note[key] = $11
            bytes[$1] = $4
        }
        FILENAME ~ /idle/ && FNR > 1 { key = $1 SUBSEP $2; iheld[key] = $2 - $8; ipriv[key] = $10 }
        function grouped(n) { return n >= 1000 ? grouped(int(n / 1000)) sprintf(",%03d", n % 1000) : n }
        function raw(server, mech,    s, r) {
            s = sp50[server, 1]; r = lp50[mech]
            if (!num(s) || !num(r))
                return "| " server " p50 within 1.2x of ipcbench " mech " | no figure (" \
                       server " at 1 client: " s ", ipcbench: " r ") | cannot tell |"
            return sprintf("| %s p50 within 1.2x of ipcbench %s | %s us vs %s us at %s B: %.2fx | %s |", \
                           server, mech, s, r, lbytes[mech], s / r, (s / r <= 1.2 ? "met" : "not met"))
        }
        # The lab named pipe server against named_pipe_message at one size: the
        # latter from the same ipcbench run if it has it, else from ipcbench.csv.
        function pipeServer(size,    s, r, t) {
            s = np50[size]
            r = (("named_pipe_message", size) in labRaw) ? labRaw["named_pipe_message", size] \
                                                         : p50["named_pipe_message", size]
            t = "| named_pipe_server p50 within 1.2x of ipcbench named_pipe_message at " size " B | "
            if (!num(s) || !num(r) || r <= 0)
                return t "no figure (named_pipe_server: " s ", named_pipe_message: " r ") | cannot tell |"
            return t sprintf("%s us vs %s us: %.2fx | %s |", s, r, s / r, (s / r <= 1.2 ? "met" : "not met"))
        }
        END {
            print "| target | measured | verdict |"
            print "| --- | --- | --- |"
            print raw("sockets_server", "tcp")
            print raw("iocp_server", "tcp_iocp")
            for (i = 1; i <= labs; i++)
                print pipeServer(nsizes[i])
            if (labs == 0)
                print "| named_pipe_server p50 within 1.2x of ipcbench named_pipe_message | no results/ipcbench_lab.csv | cannot tell |"
            e = p50["shm_event", 64]; s = p50["shm_spin", 64]
            if (num(e) && num(s) && s > 0)
                printf "| shm_spin >= 10x faster than shm_event at 64 B (p50) | %s us vs %s us: %.1fx | %s |\n", \
                       s, e, e / s, (e / s >= 10 ? "met" : "not met")
            else
                print "| shm_spin >= 10x faster than shm_event at 64 B (p50) | no figure | cannot tell |"
            k = "iocp_server" SUBSEP 10000
            if (!(k in failed))
                print "| iocp_server holds 10,000 connections | no 10,000-client row | cannot tell |"
            else
                printf "| iocp_server holds 10,000 connections | %s failed, peak %s threads%s | %s |\n", \
                       failed[k], threads[k], (note[k] == "" ? "" : "; " note[k]), \
                       (failed[k] == "0" ? "met" : "not met")
            one = "iocp_server" SUBSEP 1
            # Target 3 proper: idle connections, (at 10,000 - at 1) / the connections between.
            if ((k in ipriv) && num(ipriv[k]) && num(ipriv[one]) && iheld[k] > iheld[one]) {
                per = (ipriv[k] - ipriv[one]) / (iheld[k] - iheld[one])
                printf "| iocp_server private bytes per idle connection <= 8 KiB | (%s with %s held idle - %s with %s) / %s = %s | %s |\n", \
                       kib(ipriv[k]), grouped(iheld[k]), kib(ipriv[one]), grouped(iheld[one]), \
                       grouped(iheld[k] - iheld[one]), kib(per), \
                       (iheld[k] < 10000 ? "cannot tell: not all 10,000 held" : per <= 8192 ? "met" : "not met")
            } else
                print "| iocp_server private bytes per idle connection <= 8 KiB | no idle figure at 1 and 10,000 clients (results/idle.csv) | cannot tell |"
            if ((k in priv) && num(priv[k]) && num(priv[one])) {
                per = (priv[k] - priv[one]) / 9999
                printf "| iocp_server private bytes per busy connection (for comparison) | (%s at 10,000 busy - %s at 1) / 9,999 = %s | %s 8 KiB |\n", \
                       kib(priv[k]), kib(priv[one]), kib(per), (per <= 8192 ? "within" : "over")
            } else
                print "| iocp_server private bytes per busy connection (for comparison) | no figure at 1 and 10,000 clients | cannot tell |"
            i = lps["iocp_server", 1000]; s = lps["sockets_server", 1000]
            if (num(i) && num(s) && s > 0)
                printf "| iocp_server >= 2x the lines/s of sockets_server at 1,000 clients | %s vs %s lines/s: %.2fx | %s |\n", \
                       i, s, i / s, (i / s >= 2 ? "met" : "not met")
            else
                printf "| iocp_server >= 2x the lines/s of sockets_server at 1,000 clients | iocp_server: %s lines/s (%s failed); sockets_server: %s lines/s (%s failed; %s) | %s |\n", \
                       (i == "" ? "no row" : i), failed["iocp_server", 1000], \
                       (s == "" ? "no row" : s), failed["sockets_server", 1000], \
                       (note["sockets_server", 1000] == "" ? "no note" : note["sockets_server", 1000]), \
                       (num(i) ? "met only in that sockets_server could not serve them" : "cannot tell")
        }' "$results/ipcbench_line.csv" "${lab[@]}" "$results/ipcbench.csv" "$results/loadgen.csv" "${idle[@]}"
}

tables() {
    {
        platformLine
        echo
        echo "Numbers from Wine on Linux, not from Windows: they show Wine's costs."
        echo "Latency in microseconds (us); MB = 10^6 bytes, counted both ways."
        echo
        echo "#### ipcbench: every mechanism, one ping-pong (results/ipcbench.csv)"
        echo
        markdownTable "$results/ipcbench.csv"
        echo
        echo "#### The native Linux floor, not winipc (results/native.csv)"
        echo
        markdownTable "$results/native.csv"
        echo
        echo "#### loadgen: the two servers under load (results/loadgen.csv)"
        echo
        markdownTable "$results/loadgen.csv"
        echo
        if [[ -f $results/idle.csv ]]; then
            echo "#### loadgen: the two servers holding idle connections (results/idle.csv)"
            echo
            markdownTable "$results/idle.csv"
            echo
        fi
        echo "#### ipcbench at loadgen's line size (results/ipcbench_line.csv)"
        echo
        markdownTable "$results/ipcbench_line.csv"
        echo
        if [[ -f $results/ipcbench_lab.csv ]]; then
            echo "#### The lab's named_pipe_server against named_pipe_message, back to back (results/ipcbench_lab.csv)"
            echo
            markdownTable "$results/ipcbench_lab.csv"
            echo
        fi
        echo "#### Issue #10's targets, as this run measured them"
        echo
        targets
    } >"$results/tables.md"
}

# Replaces what is between the results markers of bench/README.md with tables.md.
readme() {
    local readme=bench/README.md
    if ! grep -q '^<!-- results:begin -->$' "$readme" || ! grep -q '^<!-- results:end -->$' "$readme"; then
        echo "run: $readme has no results markers" >&2
        return 1
    fi
    awk -v tables="$results/tables.md" '
        /^<!-- results:end -->$/ { skip = 0 }
        !skip { print }
        /^<!-- results:begin -->$/ {
            while ((getline line < tables) > 0) print line
            skip = 1
        }' "$readme" >"$readme.new"
    mv "$readme.new" "$readme"
}

report() {
    step "plots, tables.md, README.md"
    plots
    tables
    readme
    step "done: $results/"
}

main() {
    mkdir -p "$results"
    if [[ ${1:-} == --report-only ]]; then
        report
        return
    fi
    [[ $# -eq 0 ]] || { echo "usage: bash bench/run.sh [--report-only]" >&2; exit 2; }
    setUp
    trap stopWine EXIT
    step "build: cmake --preset linux-mingw"
    cmake --preset linux-mingw >/dev/null
    cmake --build --preset linux-mingw
    measure
    stopWine
    report
}

main "$@"
