#!/bin/bash
# two_hosts.sh -- test-only: the report's two virtual machines on a bridge:
# a server of the sockets.h protocol on host A (192.0.2.1), a client on host
# B (192.0.2.2), and TCP between them. two_hosts_lib.sh makes the hosts
# (Linux network namespaces joined by a veth pair, a Wine prefix each) and
# says why it is a script.
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
# 2 bad arguments, 77 cannot run here (not root, no `ip`, no namespaces, not
# under Wine): CTest reports that as a skip.
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: two_hosts.sh WINE_RUN SERVER_EXE CLIENT_EXE [PORT]" >&2
    exit 2
fi
wine_run=$1 server_exe=$2 client_exe=$3 port=${4:-15150}
# shellcheck source=two_hosts_lib.sh
source "$(dirname "$0")/two_hosts_lib.sh" || exit 1
twoHosts two_hosts "$wine_run"

startOn A server 120 "$server_exe" --host "$host_a" --port "$port" --max-clients 1
readUntil server 90 "*listening on $host_a:$port" || fail "the server printed no ready line"
startOn B client 60 "$client_exe" --host "$host_a" --port "$port" \
    "hello from the other host" "привет"
readToEnd client 60
finish client
readToEnd server 30 # it exits after its one client
finish server

check "the client connected to the other host" client "*connected to $host_a:$port*"
check "first reply" client "Received: HELLO FROM THE OTHER HOST*"
check "Cyrillic reply" client "Received: ПРИВЕТ*"
check "client completion line" client "sockets_client: 2 lines sent, 2 replies*"
check "the server saw the client's address" server "*$host_b*"
checkExit client 0
checkExit server 0
verdict "$host_a and $host_b talked over the veth pair"
