# winipc.cmake -- what every mechanism folder uses to declare its tests.
#
# winipc_add_pair_test(NAME [KEYWORD VALUE...]... [DISPLAY] [TOUR "title"])
#
# Declares one scenario: CTest runs the harness, pairtest (harness/pairtest.c),
# with these processes and checks. Each KEYWORD is one of pairtest's options,
# with the same values: the KEYWORD rows of harness/pairtest_options.h, read
# below, say which (EXPECT_COUNT is --expect-count STREAM N PATTERN). A
# command keyword (SERVER, CLIENT) takes every word up to the next keyword; a
# first word that is not a path names a target, and becomes its .exe. The
# test's label is the folder's name, so `ctest -L anonymous_pipe` runs that
# folder's tests. Words cannot hold a ";" (CMake would split the argument
# there) or end in a backslash (CMake would read "\;" as an escaped separator).
# TOUR also puts the scenario in the `tour` build target, which runs each such
# scenario live with --show. DISPLAY: the scenario needs real consoles
# (NEW_CONSOLE); under Wine that takes an X display, so it runs under
# xvfb-run (Debian: xvfb, xauth), one such test at a time, and is reported
# as skipped where xvfb-run is missing.
#
# Cross-compiling on Linux, tests run under Wine through build/wine-run
# (cmake/wine-run.in), with a prefix private to the build tree.

if(CMAKE_CROSSCOMPILING AND CMAKE_HOST_UNIX AND NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(WINIPC_WINE wine)
  find_program(WINIPC_WINESERVER wineserver)
  find_program(WINIPC_XVFB_RUN xvfb-run)
  if(NOT WINIPC_WINE OR NOT WINIPC_WINESERVER)
    message(WARNING "wine not found: the programs build, but tests cannot run "
                    "(Debian: apt-get install wine wine64)")
  endif()
  set(WINIPC_WINEPREFIX "${CMAKE_BINARY_DIR}/wineprefix")
  configure_file(${CMAKE_CURRENT_LIST_DIR}/wine-run.in ${CMAKE_BINARY_DIR}/wine-run
                 @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                 GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_BINARY_DIR}/wine-run)
  set(WINIPC_UNDER_WINE TRUE)
endif()

# pairtest's options, from their one statement: for each row
#   KEYWORD(NAME, "--option", VALUES, ...)
# NAME is a keyword, _winipc_option_NAME its option and _winipc_values_NAME
# how many values it takes (-1: a command). DISPLAY and TOUR are our own.
cmake_path(SET _winipc_options_file NORMALIZE
           "${CMAKE_CURRENT_LIST_DIR}/../harness/pairtest_options.h")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_winipc_options_file})
file(STRINGS ${_winipc_options_file} _winipc_rows REGEX "^KEYWORD\\(")
set(_winipc_keywords DISPLAY TOUR)
foreach(row IN LISTS _winipc_rows)
  if(NOT row MATCHES "^KEYWORD\\(([A-Z_]+), *\"(--[a-z-]+)\", *(-1|[0-9]+),")
    message(FATAL_ERROR "${_winipc_options_file}: cannot read the row: ${row}")
  endif()
  list(APPEND _winipc_keywords ${CMAKE_MATCH_1})
  set(_winipc_option_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
  set(_winipc_values_${CMAKE_MATCH_1} ${CMAKE_MATCH_3})
endforeach()

function(winipc_add_pair_test name)
  set(processes "")   # --server/--client words; they must come first
  set(options "")     # everything else
  set(timeout 60)
  set(tour "")
  set(display FALSE)
  set(args ${ARGN})
  list(LENGTH args count)
  # In a CMake list, a "[" with no "]" after it in the same word protects
  # every ";" up to the next "]": the rest of the scenario becomes one word,
  # its checks vanish, and the test passes for nothing. Refuse it.
  foreach(word IN LISTS args)
    if("${word}" MATCHES ";")
      message(FATAL_ERROR "winipc_add_pair_test(${name}): a word with an unclosed \"[\" "
                          "swallowed the words after it: ${word}")
    endif()
  endforeach()
  set(i 0)
  while(i LESS count)
    list(GET args ${i} keyword)
    math(EXPR i "${i} + 1")
    if(NOT keyword IN_LIST _winipc_keywords)
      message(FATAL_ERROR "winipc_add_pair_test(${name}): unknown keyword ${keyword}")
    elseif(keyword STREQUAL "DISPLAY")
      set(display TRUE)
      continue()
    elseif(keyword STREQUAL "TOUR")
      set(arity 1)
    elseif(_winipc_values_${keyword} EQUAL -1)
      set(words "")
      while(i LESS count)
        list(GET args ${i} word)
        if(word IN_LIST _winipc_keywords)
          break()
        endif()
        # A first word with no path in it is a target (which may be defined
        # in a folder added later): its .exe, wherever the generator puts it.
        if(NOT words AND NOT word MATCHES "[/\\.$]")
          set(word "$<TARGET_FILE:${word}>")
        endif()
        list(APPEND words "${word}")
        math(EXPR i "${i} + 1")
      endwhile()
      list(LENGTH words n)
      list(APPEND processes ${_winipc_option_${keyword}} ${n} ${words})
      continue()
    elseif(_winipc_values_${keyword} EQUAL 0)
      list(APPEND options ${_winipc_option_${keyword}})
      continue()
    else()
      set(arity ${_winipc_values_${keyword}})
    endif()
    math(EXPR last "${i} + ${arity} - 1")
    if(last GREATER_EQUAL count)
      message(FATAL_ERROR "winipc_add_pair_test(${name}): ${keyword} needs ${arity} values")
    endif()
    set(values "")
    foreach(j RANGE ${i} ${last})
      list(GET args ${j} value)
      list(APPEND values "${value}")
    endforeach()
    math(EXPR i "${last} + 1")
    if(keyword STREQUAL "TIMEOUT")
      set(timeout ${values})
    elseif(keyword STREQUAL "TOUR")
      set(tour "${values}")
    else()
      list(APPEND options ${_winipc_option_${keyword}} ${values})
    endif()
  endwhile()

  set(harness_args --timeout ${timeout} ${processes} ${options})
  # The test holds a lock of its own name, so that a run of its scenario
  # elsewhere (report/transcripts.sh --check) never shares its port or pipe.
  set(locks ${name})
  if(display AND WINIPC_UNDER_WINE AND NOT WINIPC_XVFB_RUN)
    winipc_add_skipped_test(${name}
      "needs xvfb-run for Wine's consoles (Debian: apt-get install xvfb xauth)")
    return()
  elseif(display AND WINIPC_UNDER_WINE)
    set(command ${WINIPC_XVFB_RUN} -a ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:pairtest>)
    list(APPEND locks x_display)
  else()
    set(command ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:pairtest>)
  endif()
  add_test(NAME ${name} COMMAND ${command} ${harness_args})
  winipc_set_test_properties(${name} ${timeout})
  set_tests_properties(${name} PROPERTIES RESOURCE_LOCK "${locks}")
  set_property(GLOBAL PROPERTY WINIPC_LOCKS_${name} ${locks})
  # The scenario as one command, a word a line, with --show: what
  # report/transcripts.sh (bash: a Linux host's) runs to make the report's
  # transcript of this test. One file, so one configuration: not for a
  # multi-configuration generator such as Visual Studio's.
  get_property(multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  if(CMAKE_HOST_UNIX AND NOT multi_config)
    list(JOIN harness_args "\n" words)
    list(JOIN command "\n" launcher)
    file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/scenarios/${name}.txt
         CONTENT "${launcher}\n--show\n${words}\n")
  endif()
  # A pass is pairtest's own last line saying so, not just an exit code of 0:
  # under Wine a program that never ran can exit 0 (a wineserver that died
  # under a test once made one "pass" in 20 ms, printing nothing).
  set_tests_properties(${name} PROPERTIES
                       PASS_REGULAR_EXPRESSION "pairtest: PASS: [^\n]*[\r\n]*$")
  if(tour AND display AND WINIPC_UNDER_WINE)
    set_property(GLOBAL APPEND PROPERTY WINIPC_TOUR
                 "COMMAND;${WINIPC_XVFB_RUN};-a;${CMAKE_CROSSCOMPILING_EMULATOR}"
                 "$<TARGET_FILE:pairtest>;--show;--title;${tour};${harness_args}")
  elseif(tour)
    set_property(GLOBAL APPEND PROPERTY WINIPC_TOUR
                 "COMMAND;pairtest;--show;--title;${tour};${harness_args}")
  endif()
endfunction()

# Label = the folder's name; CTest's own timeout is a backstop behind the
# harness's, which kills the process tree and prints what happened.
function(winipc_set_test_properties name timeout)
  get_filename_component(label ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  math(EXPR backstop "${timeout} + 60")
  set_tests_properties(${name} PROPERTIES LABELS ${label} TIMEOUT ${backstop})
  if(WINIPC_UNDER_WINE)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED wine)
  endif()
endfunction()

# The Wine prefix and a wineserver for the whole test run, set up once.
function(winipc_add_wine_fixture)
  if(NOT WINIPC_UNDER_WINE)
    return()
  endif()
  add_test(NAME wine.start COMMAND ${CMAKE_CROSSCOMPILING_EMULATOR} --start)
  add_test(NAME wine.stop COMMAND ${CMAKE_CROSSCOMPILING_EMULATOR} --stop)
  set_tests_properties(wine.start PROPERTIES FIXTURES_SETUP wine TIMEOUT 300)
  set_tests_properties(wine.stop PROPERTIES FIXTURES_CLEANUP wine TIMEOUT 60)
endfunction()

# `cmake --build --preset ... --target tour`: every TOUR scenario, shown live.
function(winipc_add_tour)
  get_property(commands GLOBAL PROPERTY WINIPC_TOUR)
  if(NOT commands)
    return()
  endif()
  add_custom_target(tour ${commands} USES_TERMINAL VERBATIM)
endfunction()

# winipc_add_reliability_test(NAME <scenario...>)
# A scenario as winipc_add_pair_test declares it, labelled `reliability` as
# well as with its folder: `ctest -L reliability` runs every test that shows
# a server surviving its clients (churn, fuzz, floods, untrusted data).
function(winipc_add_reliability_test name)
  winipc_add_pair_test(${name} ${ARGN})
  set_property(TEST ${name} APPEND PROPERTY LABELS reliability)
endfunction()

# winipc_add_windows_only_test(NAME "why Wine cannot run it" <scenario...>)
# On Windows, the scenario as winipc_add_pair_test declares it. Under Wine, a
# test that CTest reports as skipped, printing the reason, so every run's
# output says what only Windows covers.
function(winipc_add_windows_only_test name reason)
  if(NOT WINIPC_UNDER_WINE)
    winipc_add_pair_test(${name} ${ARGN})
    return()
  endif()
  winipc_add_skipped_test(${name} "covered only on Windows: ${reason}")
endfunction()

# winipc_add_wine_script_test(NAME TIMEOUT "why not on Windows" SCRIPT [ARG...])
# A bash script that drives the programs from the Linux host -- network
# namespaces, a host kill -INT -- for what the harness cannot do. Under Wine
# it runs as `bash SCRIPT <wine-run> ARG...`, and its exit code 77 means
# "cannot run here" (CTest: skipped); on Windows it is a skip with the reason.
function(winipc_add_wine_script_test name timeout reason script)
  if(NOT WINIPC_UNDER_WINE)
    winipc_add_skipped_test(${name} "${reason}")
    return()
  endif()
  add_test(NAME ${name} COMMAND bash ${script} ${CMAKE_CROSSCOMPILING_EMULATOR} ${ARGN})
  winipc_set_test_properties(${name} ${timeout})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77)
endfunction()

# A test that only says why it cannot run here; CTest reports it as skipped
# and shows the reason with --verbose or in the log.
function(winipc_add_skipped_test name reason)
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -E echo "skipped: ${reason}")
  get_filename_component(label ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  set_tests_properties(${name} PROPERTIES LABELS ${label}
                       SKIP_REGULAR_EXPRESSION "^skipped: ")
endfunction()
