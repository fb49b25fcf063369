# loadgen (loadgen.c): K connections at once against sockets_server or
# iocp_server, every reply checked; lines/s, reply latency (p50, p99), the
# connections that failed, the server's peak threads and private bytes.
# bench/sweep.sh runs it for K = 1 to 10,000; the tests here only check that
# it works and that its figures are there, never how fast anything is.
add_executable(loadgen loadgen.c ${CMAKE_SOURCE_DIR}/sockets/protocol.c
               ${CMAKE_SOURCE_DIR}/sockets/sockets.h)
target_include_directories(loadgen PRIVATE ${CMAKE_SOURCE_DIR}/sockets)
target_link_libraries(loadgen PRIVATE common ws2_32 psapi)

# Ports 15950-15957, one per test: tests run in parallel. The servers serve
# until stopped (END_SERVER) and may print nothing on stderr. The CSV row:
# server,clients,lines,line_bytes,lines_per_s,p50_us,p99_us,failed,
# peak_threads,private_bytes,note -- failed must be 0, and every figure there.
set(header "server,clients,lines,line_bytes,lines_per_s,p50_us,p99_us,failed,peak_threads,private_bytes,note")
foreach(server sockets_server iocp_server)
  if(server STREQUAL "sockets_server")
    set(port 15950)
  else()
    set(port 15953)
  endif()
  math(EXPR held_port "${port} + 1")
  winipc_add_pair_test(bench.loadgen_${server}
    SERVER ${server} --port ${port}
    READY "${server}:*listening on *"
    REJECT server.err "*"
    CLIENT loadgen --port ${port} --clients 10 --lines 50 --format csv
      --server-name ${server} --server-pid {pid}
    END_SERVER
    EXPECT client1.out "${header}"
    EXPECT client1.out "${server},10,50,32,*,*,*,0,*,*,"
    REJECT client1.out "*n/a*"
    REJECT client1.err "*"
    EXPECT_COUNT server.out 500 "client *: \"*\" -> \"*\"")
  # --connect-only: all held at once, each greeted; no lines, so no rate
  # or latency (null in JSON), but the server's figures are there.
  winipc_add_pair_test(bench.loadgen_${server}_connect_only
    SERVER ${server} --port ${held_port}
    READY "${server}:*listening on *"
    REJECT server.err "*"
    CLIENT loadgen --port ${held_port} --clients 20 --connect-only
      --server-name ${server} --server-pid {pid} --format json
    END_SERVER
    EXPECT client1.out "[{\"server\": \"${server}\", \"clients\": 20, \"lines\": 0, *\"failed\": 0, *\"note\": \"connect-only: 20 held at once\"}]"
    REJECT client1.out "*\"peak_threads\": null*"
    REJECT client1.out "*\"private_bytes\": null*"
    REJECT client1.err "*")
  # --connect-only --hold (bench/sweep.sh's idle runs): client1 is let go at once by a line on
  # its stdin, and then reports; client2's stdin stays open and empty, so it says it holds its
  # connections and reports nothing until killed.
  math(EXPR hold_port "${port} + 2")
  winipc_add_pair_test(bench.loadgen_${server}_hold
    SERVER ${server} --port ${hold_port}
    READY "${server}:*listening on *"
    CLIENT loadgen --port ${hold_port} --clients 20 --connect-only --hold
      --server-name ${server} --server-pid {pid} --format csv
    CLIENT loadgen --port ${hold_port} --clients 5 --connect-only --hold
    INPUT client1 "go\n"
    HOLD_STDIN client2
    KILL client2 "loadgen: holding 5 connections, each greeted*"
    END_SERVER
    EXPECT client1.err "loadgen: holding 20 connections, each greeted: a line or the end of stdin lets them go"
    EXPECT client1.out "${server},20,0,32,n/a,n/a,n/a,0,*,*,connect-only: 20 held at once"
    REJECT client1.out "*,0,n/a,*"
    REJECT client1.out "*,n/a,connect-only*"
    REJECT client2.out "*")
endforeach()

# Nothing listens: every connection is refused, counted, and the exit code
# says so -- loadgen does not stop at the first.
winipc_add_pair_test(bench.loadgen_refused_counted
  CLIENT loadgen --port 15956 --clients 5 --lines 3
  EXIT client1 1
  EXPECT client1.out "server * note"
  EXPECT client1.out "unknown  *5 *3 *32 *n/a *n/a *n/a *5 *n/a *n/a  5 refused*"
  EXPECT client1.err "loadgen: client *: ConnectEx: error 10061 WSAECONNREFUSED*")

winipc_add_pair_test(bench.loadgen_help_and_usage
  CLIENT loadgen --help
  CLIENT loadgen --port 15957
  CLIENT loadgen --port 15957 --clients 2 --lines 1 --connect-only
  CLIENT loadgen --port 15957 --clients 2 --lines 1 --format xml
  EXIT client2 2
  EXIT client3 2
  EXIT client4 2
  EXPECT client1.out "Usage: loadgen *"
  EXPECT client1.out "  --connect-only *"
  EXPECT client2.err "loadgen: --port and --clients are needed"
  EXPECT client3.err "loadgen: give --lines M or --connect-only, one of them"
  EXPECT client4.err "loadgen: --format: table, csv or json, not \"xml\"")
