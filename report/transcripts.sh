#!/usr/bin/env bash
# transcripts.sh -- the report's transcripts are runs, not pastes. Each sits
# between two markers in report/README.md:
#
#   <!-- transcript: NAME -->
#   ...
#   <!-- end of transcript -->
#
# NAME is a pair test (`ctest -N` lists them), and what lies between is what
# `pairtest --show` printed running that test's scenario, whole, with only
# the numbers that change from run to run masked:
#   - a time of day, 21:40:09                      -> HH:MM:SS
#   - a process id: the number after "pid " or "process ", and that number
#     wherever else it stands alone                 -> PID
#   - a port the system chose for a client (32768 and up; our servers' ports
#     are fixed, below 32768)                       -> PORT
#
# Usage: transcripts.sh BUILD_DIR
#            runs every scenario the report names, and writes its transcript in
#        transcripts.sh --check NAME BUILD_DIR [FILE.md]
#            runs NAME's scenario, and fails if FILE.md (default: the report)
#            holds a different transcript of it. CTest runs this for every
#            transcript (report.transcript.NAME), so .ci/run does.
# BUILD_DIR is a configured and built tree (its scenarios/ folder has each
# test's command). Exit status: 0 good, 1 a scenario failed or a transcript
# differs, 2 usage.
#
# Each process writes a stream of its own, so no two runs interleave their
# lines alike: --check compares each stream in order -- the server's stdout,
# each client's, pairtest's own lines -- and not how they interleave.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() { echo "usage: transcripts.sh BUILD_DIR | transcripts.sh --check NAME BUILD_DIR [FILE.md]" >&2; exit 2; }

# Runs NAME's scenario from BUILD_DIR's scenarios/NAME.txt, prints its output
# masked; a scenario that does not pass is a failure, shown whole.
runScenario() {
    local name=$1 build=$2 file=$2/scenarios/$1.txt words output
    [[ -f $file ]] || { echo "transcripts: no scenario $name in $build (is it a pair test of this build?)" >&2; exit 2; }
    mapfile -t words <"$file"
    # pairtest --show writes the transcript on stdout. Its stderr holds only
    # what went wrong -- or what Wine itself says (under a virtual display it
    # may report a client error now and then): shown, but no part of the run.
    if ! output=$("${words[@]}") || [[ $output != *$'\n'"pairtest: PASS: "* ]]; then
        printf '%s\n' "$output" >&2
        echo "transcripts: FAIL: the scenario of $name did not pass, so it makes no transcript" >&2
        exit 1
    fi
    printf '%s\n' "$output" | tr -d '\r' | perl -e '
        my @lines = <STDIN>;
        my %pids;
        for (@lines) { $pids{$1} = 1 while /\b(?:pid|process) (\d+)\b/g; }
        for (@lines) {
            s/\b\d\d:\d\d:\d\d\b/HH:MM:SS/g;
            s/(\d+\.\d+\.\d+\.\d+|\]):(\d+)\b/$2 >= 32768 ? "$1:PORT" : "$1:$2"/ge;
            for my $pid (keys %pids) { s/\b$pid\b/PID/g; }
            print;
        }'
}

# The transcript of NAME in FILE, between its markers (without the fence).
committed() {
    awk -v start="<!-- transcript: $1 -->" '
        $0 == start { inside = 1; next }
        inside && $0 == "<!-- end of transcript -->" { exit }
        inside && !/^```/ { print }' "$2"
}

# "STREAM<TAB>LINE" for each line, stream by stream, each in its own order.
byStream() {
    awk '{ stream = "pairtest"
           if (match($0, /^\[[^]]*\] /)) {
               stream = substr($0, 2, RLENGTH - 3)
               gsub(/ /, "", stream)
           }
           printf "%s\t%s\n", stream, $0 }' | LC_ALL=C sort -s -t$'\t' -k1,1
}

if [[ ${1:-} == --check ]]; then
    [[ $# -eq 3 || $# -eq 4 ]] || usage
    name=$2 build=$3 md=${4:-$here/README.md}
    grep -qxF "<!-- transcript: $name -->" "$md" || { echo "transcripts: $md has no transcript of $name" >&2; exit 2; }
    fresh=$(runScenario "$name" "$build")
    if ! differences=$(diff <(committed "$name" "$md" | byStream) <(printf '%s\n' "$fresh" | byStream)); then
        echo "transcripts: the transcript of $name in $md, against a fresh run, stream by stream (< the report, > the run):"
        printf '%s\n' "$differences" | sed 's/^\([<>]\) [^\t]*\t/\1 /'  # without the sort key
        echo "transcripts: FAIL: the transcript of $name differs from a fresh run; if the run is right, remake it: report/transcripts.sh BUILD_DIR"
        exit 1
    fi
    echo "transcripts: ok: the transcript of $name matches a fresh run, stream by stream ($(printf '%s\n' "$fresh" | wc -l) lines)"
    exit 0
fi

[[ $# -eq 1 ]] || usage
build=$1 md=$here/README.md
made=$(mktemp -d)
trap 'rm -rf "$made"' EXIT
for name in $(sed -n 's/^<!-- transcript: \([^ ]*\) -->$/\1/p' "$md"); do
    runScenario "$name" "$build" >"$made/$name"
    echo "transcripts: ran $name ($(wc -l <"$made/$name") lines)"
done
# Each block between markers becomes its fresh transcript, in a fence.
awk -v made="$made" '
    /^<!-- transcript: [^ ]* -->$/ {
        print; name = $3
        print "```"
        while ((getline line < (made "/" name)) > 0) print line
        print "```"
        skipping = 1; next
    }
    skipping && $0 == "<!-- end of transcript -->" { skipping = 0 }
    !skipping { print }' "$md" >"$made/README.md"
cp "$made/README.md" "$md"
echo "transcripts: wrote $md"
