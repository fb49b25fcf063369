# ipcbench: every mechanism measured by one method (ipcbench.c and its
# ipcbench_*.c). The tests are short smoke runs: each checks that a mechanism
# works end to end and that every reply was verified byte for byte, never how
# fast anything is. ipcbench starts its own peer, so each test has one client.
add_executable(ipcbench ipcbench.c ipcbench_links.c ipcbench_peer.c ipcbench_watch.c
                        ipcbench_lab.c ipcbench_report.c ipcbench.h)
# MS_MAX_MESSAGE; named_pipe_server's protocol, for --lab-server
target_include_directories(ipcbench PRIVATE ${CMAKE_SOURCE_DIR}/mailslot
                                            ${CMAKE_SOURCE_DIR}/named_pipe)
target_link_libraries(ipcbench PRIVATE common ws2_32 advapi32)

# The mailslot limit comes from mailslot.h, as in mailslot/CMakeLists.txt.
set(mailslot_header ${CMAKE_SOURCE_DIR}/mailslot/mailslot.h)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${mailslot_header})
file(STRINGS ${mailslot_header} max_line REGEX "^#define MS_MAX_MESSAGE [0-9]+")
string(REGEX REPLACE "^#define MS_MAX_MESSAGE ([0-9]+).*" "\\1" ipcbench_mailslot_max
       "${max_line}")

set(ipcbench_mechanisms anonymous_pipe named_pipe_byte named_pipe_message mailslot shm_event
                        shm_spin tcp tcp_iocp)
set(ipcbench_header "mechanism,bytes,count,p50_us,p99_us,max_us,messages_per_s,mb_per_s,cpu_ms_bench,cpu_ms_peer,note")

# Each mechanism at 64 bytes, 50 round trips after 5: a table row with the
# count and figures, and the closing line that every reply was checked. No
# figure is n/a: the peer's CPU time too, which the peer reports itself.
foreach(mechanism IN LISTS ipcbench_mechanisms)
  winipc_add_pair_test(bench.ipcbench_${mechanism}
    CLIENT ipcbench --mechanism ${mechanism} --size 64 --count 50 --warmup 5
    EXPECT client1.out "ipcbench on *"
    EXPECT client1.out "mechanism * bytes * count * p50_us * note"
    EXPECT_COUNT client1.out 1 "${mechanism} * 64 * 50 * *.? * *.? * *.? *"
    EXPECT client1.err "ipcbench: 1 runs: all 55 replies checked byte for byte, as sent"
    REJECT client1.out "* n/a *")
endforeach()

# --lab-server: the lab's named_pipe_server as the peer, at 64 bytes, and
# over its 65536-byte limit (not run). Its CPU time can be had only from
# outside, which Wine does not allow: n/a there, with a note saying why.
if(WINIPC_UNDER_WINE)
  set(server_cpu EXPECT client1.out
      "named_pipe_server * 64 * 50 * *.? * *.? * n/a  server CPU n/a: Wine cannot time another process")
else()
  set(server_cpu REJECT client1.out "named_pipe_server * 64 * n/a *")
endif()
winipc_add_pair_test(bench.ipcbench_named_pipe_server
  CLIENT ipcbench --lab-server $<TARGET_FILE:named_pipe_server> --size 64 --size 65537
                  --count 50 --warmup 5
  EXPECT_COUNT client1.out 1 "named_pipe_server * 64 * 50 * *.? * *.? * *.? *"
  ${server_cpu}
  EXPECT client1.out "named_pipe_server * 65537 * 0 * n/a * not run: over the 65536-byte named_pipe_server limit"
  EXPECT client1.err "ipcbench: 2 runs: all 55 replies checked byte for byte, as sent"
  REJECT client1.out "named_pipe_message *")

# The largest default size, 65536 bytes, on every mechanism: more than one
# pipe buffer, several TCP segments. Mailslot's row says it was not run.
winipc_add_pair_test(bench.ipcbench_largest
  TIMEOUT 120
  CLIENT ipcbench --size 65536 --count 20 --warmup 2
  EXPECT_COUNT client1.out 7 "* 65536 * 20 * *.? * *.? *"
  EXPECT client1.out "mailslot * 65536 * 0 * n/a * not run: over the ${ipcbench_mailslot_max}-byte mailslot limit"
  EXPECT client1.err "ipcbench: 8/8: tcp_iocp, 65536 bytes"
  EXPECT client1.err "ipcbench: 8 runs: all 154 replies checked byte for byte, as sent")

# --format csv: exactly the contract's header, then one row per run.
winipc_add_pair_test(bench.ipcbench_csv
  CLIENT ipcbench --mechanism tcp --mechanism mailslot --size 64 --size 4096 --count 10
                  --warmup 1 --format csv
  EXPECT client1.out "${ipcbench_header}"
  EXPECT_COUNT client1.out 1 "${ipcbench_header}"
  EXPECT client1.out "mailslot,64,10,*,*,*,*,*,*,*,"
  EXPECT client1.out "mailslot,4096,0,n/a,n/a,n/a,n/a,n/a,n/a,n/a,not run: over the ${ipcbench_mailslot_max}-byte mailslot limit"
  EXPECT client1.out "tcp,64,10,*,"
  EXPECT client1.out "tcp,4096,10,*,"
  EXPECT_COUNT client1.out 5 "*,*,*,*,*,*,*,*,*,*,*"
  REJECT client1.out "ipcbench on *")

winipc_add_pair_test(bench.ipcbench_json
  CLIENT ipcbench --mechanism shm_event --size 64 --count 10 --warmup 1 --format json
  EXPECT client1.out "  {\"mechanism\": \"shm_event\", \"bytes\": 64, \"count\": 10, \"p50_us\": *, \"note\": \"\"}"
  EXPECT_COUNT client1.out 3 "*") # the brackets on lines of their own

# The test-only knob: the peer corrupts the middle byte of its reply to
# message 7; ipcbench names the message and the byte, and exits 1.
foreach(mechanism tcp shm_spin)
  winipc_add_pair_test(bench.ipcbench_flipped_byte_${mechanism}
    CLIENT ipcbench --mechanism ${mechanism} --size 64 --count 20 --warmup 2 --flip-byte 7
    EXIT client1 1
    EXPECT client1.err "ipcbench: FAIL: ${mechanism}, 64 bytes: the reply to message 7 differs at byte 32 (from 0): sent 0x??, got 0x??"
    REJECT client1.out "${mechanism} *"
    REJECT client1.err "* replies checked *")
endforeach()

winipc_add_pair_test(bench.ipcbench_help
  CLIENT ipcbench --help
  EXPECT client1.out "Usage: ipcbench *"
  EXPECT client1.out "*(default 2000)"
  EXPECT client1.out "*(default 200)"
  EXPECT client1.out "*--flip-byte N*for tests*"
  EXPECT client1.out "*MB/s counts the bytes that crossed*")

winipc_add_pair_test(bench.ipcbench_bad_mechanism
  CLIENT ipcbench --mechanism carrier_pigeon
  EXIT client1 2
  EXPECT client1.err "ipcbench: no mechanism \"carrier_pigeon\""
  EXPECT client1.err "Usage: ipcbench *")
