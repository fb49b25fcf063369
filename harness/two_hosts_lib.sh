# shellcheck shell=bash
# two_hosts_lib.sh -- test-only, sourced by the scenarios that need two
# machines (harness/two_hosts.sh, messenger/two_hosts.sh): the report's two
# virtual machines on a bridge, made with Linux network namespaces. Host A
# is 192.0.2.1 and host B 192.0.2.2 (RFC 5737's documentation range),
# joined by a veth pair. Scripts, not pairtest scenarios, because the
# namespaces are made by the Linux host, as root, around the Windows
# programs.
#
# Why each host gets its own Wine prefix: a Wine program's sockets, and its
# named pipes, are made by its wineserver, in the wineserver's network
# namespace. So each host needs a wineserver started inside its namespace,
# and a wineserver belongs to one prefix. Each host's prefix is a copy of
# the build's (wine-run --clone). A pipe therefore joins programs on one
# host only, as on two real machines.
#
# What a scenario calls (a ROLE is a name of its choosing: server, bob...):
#   twoHosts NAME WINE_RUN   make the hosts, or exit 77 -- CTest's skip --
#                            when they cannot be made here (not root, no
#                            `ip`, no namespaces, not under Wine). NAME
#                            begins every line printed. All is undone when
#                            the script exits: programs, wineservers,
#                            namespaces, files.
#   startOn A|B ROLE SECONDS EXE [ARG...]
#                            start EXE on that host, in the background, for
#                            SECONDS at most; its stdout is read by:
#   readUntil ROLE SECONDS GLOB...
#                            read ROLE's lines, printing each as "ROLE:
#                            LINE", until each GLOB has matched one of them
#                            (in any order), or SECONDS pass, or the output
#                            ends; false unless each GLOB matched
#   readToEnd ROLE SECONDS   the same, to the end of ROLE's output
#   finish ROLE              wait for ROLE to exit, and print its stderr
#   check TEXT ROLE GLOB     "ok: TEXT" if a line ROLE printed matches GLOB,
#                            else "FAIL: TEXT" and the check is counted
#   checkExit ROLE CODE      ROLE (finished) exited with status CODE
#   verdict TEXT             exit: 0 "PASS: TEXT" if every check held, else 1
#   fail TEXT, skip TEXT     exit now: 1 (with the stderr of those not
#                            finished), or 77
# A GLOB is a bash pattern matched against a whole line (its \r removed):
# * ? [...], and "[[]" for a "[" itself. $host_a and $host_b hold the
# addresses. No step waits for some time: each waits for a line, or an end.
set -u
host_a=192.0.2.1 host_b=192.0.2.2
declare -A pid_of=() fd_of=() output=() exit_of=() ns_of=()
failures=0 _name=two_hosts _work=

skip() {
    echo "$_name: skipped: $*"
    exit 77
}
fail() {
    local role
    echo "$_name: FAIL: $*"
    for role in "${!pid_of[@]}"; do # those finished have shown theirs
        [ -s "$_work/$role.err" ] && sed 's/\r$//; s/^/'"$role"' (stderr): /' "$_work/$role.err"
    done
    exit 1
}
_undo() {
    local role host
    for role in "${!pid_of[@]}"; do kill "${pid_of[$role]}" 2>/dev/null; done
    for host in A B; do
        [ -x "$_work/$host/wine-run" ] && "$_work/$host/wine-run" --stop
    done
    for host in "${!ns_of[@]}"; do ip netns del "${ns_of[$host]}" 2>/dev/null; done
    [ -n "$_work" ] && rm -rf "$_work"
}

twoHosts() { # twoHosts NAME WINE_RUN
    local wine_run=$2 prefix host
    _name=$1
    [ "$(id -u)" = 0 ] || skip "making network namespaces needs root"
    command -v ip >/dev/null || skip "no ip command (Debian: apt-get install iproute2)"
    if ! [ -x "$wine_run" ] || ! grep -q "^export WINEPREFIX=" "$wine_run"; then
        skip "$wine_run is not the wine-run wrapper: not cross-compiling under Wine"
    fi
    prefix=$(sed -n "s/^export WINEPREFIX='\(.*\)'$/\1/p" "$wine_run")
    [ -n "$prefix" ] || fail "cannot read WINEPREFIX from $wine_run"
    _work=$(mktemp -d "$prefix.$_name.XXXXXX") || fail "mktemp failed"
    trap _undo EXIT

    for host in A B; do
        ns_of[$host]=winipc_${host}_$$ # unique per run
        ip netns add "${ns_of[$host]}" || skip "ip netns add failed"
    done
    ip netns exec "${ns_of[A]}" true || skip "ip netns exec failed"
    # The veth pair is made with its ends already inside the namespaces: no
    # interface ever appears on this machine's own network.
    ip link add veth0 netns "${ns_of[A]}" type veth peer name veth0 netns "${ns_of[B]}" ||
        skip "cannot make a veth pair"
    if ! ip -n "${ns_of[A]}" addr add $host_a/24 dev veth0 ||
        ! ip -n "${ns_of[B]}" addr add $host_b/24 dev veth0; then
        fail "cannot give the veth pair its addresses"
    fi
    for host in A B; do
        if ! ip -n "${ns_of[$host]}" link set veth0 up || ! ip -n "${ns_of[$host]}" link set lo up
        then
            fail "cannot bring up host $host's interfaces"
        fi
        "$wine_run" --clone "$_work/$host" || fail "cannot make a Wine prefix for host $host"
    done
}

startOn() { # startOn A|B ROLE SECONDS EXE [ARG...]
    local host=$1 role=$2 seconds=$3 fd
    shift 3
    mkfifo "$_work/$role.out" || fail "mkfifo failed"
    timeout "$seconds" ip netns exec "${ns_of[$host]}" "$_work/$host/wine-run" "$@" \
        >"$_work/$role.out" 2>"$_work/$role.err" &
    pid_of[$role]=$!
    exec {fd}<"$_work/$role.out" # a fifo: we read each line as it comes
    fd_of[$role]=$fd
    output[$role]=""
}

_take() { # _take ROLE LINE: one line of ROLE's output
    local line=${2%$'\r'}
    echo "$1: $line"
    output[$1]+="$line"$'\n'
}
# _next ROLE DEADLINE: reads ROLE's next line into $line, before DEADLINE
# (in $SECONDS); false at the end of the output, or at the deadline, where
# a last line without \n, or a part of one, is in $line.
_next() {
    line=
    [ $(($2 - SECONDS)) -gt 0 ] && IFS= read -r -t $(($2 - SECONDS)) -u "${fd_of[$1]}" line
}
readUntil() { # readUntil ROLE SECONDS GLOB...
    local role=$1 deadline=$((SECONDS + $2)) line i
    shift 2
    local wanted=("$@")
    while IFS= read -r line; do # what was read before counts too
        for i in "${!wanted[@]}"; do
            # shellcheck disable=SC2053 # unquoted on purpose: a pattern
            [[ $line == ${wanted[$i]} ]] && unset "wanted[$i]"
        done
    done <<<"${output[$role]}"
    while [ ${#wanted[@]} -gt 0 ]; do
        if ! _next "$role" $deadline; then
            [ -n "$line" ] && _take "$role" "$line"
            return 1
        fi
        _take "$role" "$line"
        line=${line%$'\r'}
        for i in "${!wanted[@]}"; do
            # shellcheck disable=SC2053
            [[ $line == ${wanted[$i]} ]] && unset "wanted[$i]"
        done
    done
}
readToEnd() { # readToEnd ROLE SECONDS
    local deadline=$((SECONDS + $2)) line
    while _next "$1" $deadline; do
        _take "$1" "$line"
    done
    [ -n "$line" ] && _take "$1" "$line"
    [ $SECONDS -lt $deadline ] || echo "$_name: $1's output did not end within $2 s"
}
finish() { # finish ROLE
    wait "${pid_of[$1]}"
    exit_of[$1]=$?
    unset "pid_of[$1]"
    sed 's/\r$//; s/^/'"$1"' (stderr): /' "$_work/$1.err"
}

check() { # check TEXT ROLE GLOB
    local line
    while IFS= read -r line; do
        # shellcheck disable=SC2053
        if [[ $line == $3 ]]; then
            echo "$_name: ok: $1"
            return
        fi
    done <<<"${output[$2]-}"
    echo "$_name: FAIL: $1 (no line of $2's output matches \"$3\")"
    failures=$((failures + 1))
}
checkExit() { # checkExit ROLE CODE
    if [ "${exit_of[$1]-}" = "$2" ]; then
        echo "$_name: ok: $1 exited with status $2"
    else
        echo "$_name: FAIL: $1 exited with status ${exit_of[$1]-(still running)}, not $2"
        failures=$((failures + 1))
    fi
}
verdict() { # verdict TEXT
    [ $failures = 0 ] || fail "$failures checks failed"
    echo "$_name: PASS: $*"
    exit 0
}
