#!/bin/bash
# two_hosts.sh -- test-only: the messenger across the report's two virtual
# machines on a bridge. messenger_server on host A (192.0.2.1); alice joins
# over its named pipe, on host A too (a pipe is local to its machine); bob
# joins over TCP from host B (192.0.2.2). Each waits for the other, says
# something, and waits for the other's line. harness/two_hosts_lib.sh makes
# the hosts (Linux network namespaces joined by a veth pair, a Wine prefix
# each) and says why this is a script.
#
# Usage: two_hosts.sh WINE_RUN SERVER_EXE CLIENT_EXE [PORT]
#   WINE_RUN    the build's wine-run wrapper (CMAKE_CROSSCOMPILING_EMULATOR)
#   SERVER_EXE  messenger_server.exe, run on host A as
#                 SERVER_EXE --host 192.0.2.1 --port PORT --pipe msg_two_hosts
#   CLIENT_EXE  messenger_client.exe, run as alice on host A, with --pipe,
#               and as bob on host B, with --host 192.0.2.1 --port PORT
#   PORT        default 15390 (each namespace has ports of its own)
# It checks that each member printed the other's message and exited 0, and
# that the server logged bob's connection from 192.0.2.2 and both joins.
# The server is left serving, and ended with the hosts. Exit status: 0
# pass, 1 fail, 2 bad arguments, 77 cannot run here (not root, no `ip`, no
# namespaces, not under Wine): CTest reports that as a skip.
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: two_hosts.sh WINE_RUN SERVER_EXE CLIENT_EXE [PORT]" >&2
    exit 2
fi
wine_run=$1 server_exe=$2 client_exe=$3 port=${4:-15390} pipe=msg_two_hosts
# shellcheck source=../harness/two_hosts_lib.sh
source "$(dirname "$0")/../harness/two_hosts_lib.sh" || exit 1
twoHosts messenger_two_hosts "$wine_run"

startOn A server 150 "$server_exe" --host "$host_a" --port "$port" --pipe $pipe
readUntil server 90 "messenger_server: listening on *" || fail "the server printed no ready line"
startOn A alice 90 "$client_exe" --pipe $pipe --nick alice \
    --wait bob --send "привет из A" --wait "bob: hello from B"
startOn B bob 90 "$client_exe" --host "$host_a" --port "$port" --nick bob \
    --wait alice --send "hello from B" --wait "alice: привет из A"
readToEnd alice 90
finish alice
readToEnd bob 90
finish bob
# Logged before either member could finish; read up to them.
readUntil server 30 "connection *: TCP from $host_b:*" "connection *: pipe" \
    "[[]#*] alice joined (connection *), * in the room" \
    "[[]#*] bob joined (connection *), * in the room"

check "alice got bob's message, from host B" alice "*bob: hello from B"
check "bob got alice's message, from host A" bob "*alice: привет из A"
check "the server took bob's connection from host B" server "connection *: TCP from $host_b:*"
check "the server took alice's pipe connection" server "connection *: pipe"
check "the server logged alice's join" server "[[]#*] alice joined (connection *), * in the room"
check "the server logged bob's join" server "[[]#*] bob joined (connection *), * in the room"
checkExit alice 0
checkExit bob 0
verdict "alice on $host_a (pipe) and bob on $host_b (TCP) chatted through the server on $host_a"
