#!/bin/bash
# two_hosts.sh -- test-only: the report's two virtual machines on a bridge,
# made with Linux network namespaces: a server on one "host" (192.0.2.1), a
# client on the other (192.0.2.2), joined by a veth pair, and TCP between
# them. It is a script, not a pairtest scenario, because the namespaces are
# made by the Linux host, as root, around the Windows programs.
#
# Usage: two_hosts.sh WINE_RUN SERVER_EXE CLIENT_EXE [PORT]
#   WINE_RUN    the build's wine-run wrapper (CMAKE_CROSSCOMPILING_EMULATOR)
#   SERVER_EXE  a server of the sockets.h protocol (sockets_server.exe,
#               iocp_server.exe); it is run as
#                 SERVER_EXE --host 192.0.2.1 --port PORT --max-clients 1
#               and must print a line ending in "listening on 192.0.2.1:PORT"
#               when ready, log the client's address, and exit 0 after it
#   CLIENT_EXE  sockets_client.exe, run as
#                 CLIENT_EXE --host 192.0.2.1 --port PORT LINE LINE
#   PORT        default 15150 (each namespace has ports of its own, so it
#               cannot clash with another test)
# It checks the client's replies and completion line, and that the server
# logged a client from 192.0.2.2 and exited 0. Exit status: 0 pass, 1 fail,
# 77 cannot run here (not root, no `ip`, no namespaces, not under Wine):
# CTest reports that as a skip. The namespaces are always deleted.
#
# Why each host gets its own Wine prefix: a Wine program's sockets are made
# by its wineserver, in the wineserver's network namespace. So each host
# needs a wineserver started inside its namespace, and a wineserver belongs
# to one prefix. Each host's prefix is a copy of the build's (wine-run
# --clone).
set -u

wine_run=${1:?usage: two_hosts.sh WINE_RUN SERVER_EXE CLIENT_EXE [PORT]}
server_exe=${2:?usage: two_hosts.sh WINE_RUN SERVER_EXE CLIENT_EXE [PORT]}
client_exe=${3:?usage: two_hosts.sh WINE_RUN SERVER_EXE CLIENT_EXE [PORT]}
port=${4:-15150}
server_addr=192.0.2.1 client_addr=192.0.2.2 # RFC 5737 documentation range
ns_server=winipc_server_$$ ns_client=winipc_client_$$ # unique per run

skip() {
    echo "two_hosts: skipped: $*"
    exit 77
}
fail() {
    echo "two_hosts: FAIL: $*"
    exit 1
}

[ "$(id -u)" = 0 ] || skip "making network namespaces needs root"
command -v ip >/dev/null || skip "no ip command (Debian: apt-get install iproute2)"
[ -x "$wine_run" ] && grep -q "^export WINEPREFIX=" "$wine_run" ||
    skip "$wine_run is not the wine-run wrapper: not cross-compiling under Wine"
prefix=$(sed -n "s/^export WINEPREFIX='\(.*\)'$/\1/p" "$wine_run")
[ -n "$prefix" ] || fail "cannot read WINEPREFIX from $wine_run"

work=$(mktemp -d "$prefix.two_hosts.XXXXXX") || fail "mktemp failed"
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    for host in server client; do
        [ -x "$work/$host/wine-run" ] && "$work/$host/wine-run" --stop
    done
    ip netns del "$ns_server" 2>/dev/null
    ip netns del "$ns_client" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns_server" || skip "ip netns add failed"
ip netns add "$ns_client" || skip "ip netns add failed"
ip netns exec "$ns_server" true || skip "ip netns exec failed"
# The veth pair is created with its ends already inside the namespaces: no
# interface ever appears on this machine's own network.
ip link add veth0 netns "$ns_server" type veth peer name veth0 netns "$ns_client" ||
    skip "cannot make a veth pair"
ip -n "$ns_server" addr add $server_addr/24 dev veth0 &&
    ip -n "$ns_client" addr add $client_addr/24 dev veth0 &&
    ip -n "$ns_server" link set veth0 up && ip -n "$ns_client" link set veth0 up &&
    ip -n "$ns_server" link set lo up && ip -n "$ns_client" link set lo up ||
    fail "cannot configure the veth pair"

for host in server client; do
    "$wine_run" --clone "$work/$host" || fail "cannot make a Wine prefix for the $host"
done

# The server's stdout comes through a fifo, read line by line: we wait for
# its ready line, not for some time.
mkfifo "$work/server.out" || fail "mkfifo failed"
timeout 120 ip netns exec "$ns_server" "$work/server/wine-run" "$server_exe" \
    --host $server_addr --port "$port" --max-clients 1 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
exec 3<"$work/server.out"
server_log=
ready=
while IFS= read -r -t 90 -u 3 line; do
    line=${line%$'\r'}
    echo "server: $line"
    server_log+="$line"$'\n'
    if [[ $line == *"listening on $server_addr:$port" ]]; then
        ready=yes
        break
    fi
done
[ -n "$ready" ] || { cat "$work/server.err"; fail "the server printed no ready line"; }

client_out=$(timeout 60 ip netns exec "$ns_client" "$work/client/wine-run" "$client_exe" \
    --host $server_addr --port "$port" "hello from the other host" "привет" 2>&1)
client_status=$?
echo "$client_out" | sed 's/\r$//; s/^/client: /'

while IFS= read -r -t 30 -u 3 line; do
    line=${line%$'\r'}
    echo "server: $line"
    server_log+="$line"$'\n'
done
wait "$server_pid"
server_status=$?
server_pid=
sed 's/\r$//; s/^/server (stderr): /' "$work/server.err"

failures=0
check() { # check DESCRIPTION TEXT PATTERN
    if grep -q -- "$3" <<<"$2"; then
        echo "two_hosts: ok: $1"
    else
        echo "two_hosts: FAIL: $1 (no line matches \"$3\")"
        failures=$((failures + 1))
    fi
}
check "the client connected to the other host" "$client_out" "connected to $server_addr:$port"
check "first reply" "$client_out" "^Received: HELLO FROM THE OTHER HOST"
check "Cyrillic reply" "$client_out" "^Received: ПРИВЕТ"
check "client completion line" "$client_out" "^sockets_client: 2 lines sent, 2 replies"
check "the server saw the client's address" "$server_log" "$client_addr"
[ "$client_status" = 0 ] ||
    { echo "two_hosts: FAIL: client exit status $client_status"; failures=$((failures + 1)); }
[ "$server_status" = 0 ] ||
    { echo "two_hosts: FAIL: server exit status $server_status"; failures=$((failures + 1)); }
[ $failures = 0 ] || fail "$failures checks failed"
echo "two_hosts: PASS: $server_addr and $client_addr talked over the veth pair"
