/* pairtest_options.h -- pairtest's options, stated once (test-only).
 *
 * One row per option. pairtest.c includes this file to build its parser and
 * its --help text; cmake/winipc.cmake reads the KEYWORD rows with
 * file(STRINGS) to get winipc_add_pair_test()'s keywords. A KEYWORD row is
 * an option a scenario gives by its keyword (EXPECT_COUNT for --expect-count);
 * an OPTION row has no keyword (the tour passes --show and --title itself).
 *
 *   KEYWORD or OPTION(NAME, "--option", VALUES, "VALUE NAMES", "help")
 *
 * VALUES is how many words follow the option, or -1 for a command: a count
 * N, then N words, EXE first -- so a command may hold any words at all, even
 * another pairtest's. (In CMake a command keyword takes every word up to the
 * next keyword and counts them itself.) For CMake, keep NAME, the option and
 * VALUES on the row's first line, and no semicolon on that line.
 *
 * No include guard: each inclusion defines KEYWORD and OPTION to make
 * something of the rows, and the end of this file undefines them.
 */
KEYWORD(SERVER, "--server", -1, "N EXE [ARG...]",
        "the server, if any: one, before any --client, and it starts first")
KEYWORD(CLIENT, "--client", -1, "N EXE [ARG...]",
        "a client (client1, client2...): they start once the server is ready")
KEYWORD(READY, "--ready", 1, "PATTERN",
        "the server is ready when it prints a line matching this on stdout")
KEYWORD(TIMEOUT, "--timeout", 1, "SECONDS",
        "for the whole run (default 60): then the whole process tree is killed")
KEYWORD(EXPECT, "--expect", 2, "STREAM PATTERN",
        "some line of STREAM matches: several on one stream match in this order")
KEYWORD(EXPECT_COUNT, "--expect-count", 3, "STREAM N PATTERN", "exactly N lines of STREAM match")
KEYWORD(REJECT, "--reject", 2, "STREAM PATTERN", "no line of STREAM matches")
KEYWORD(SAME, "--same", 4, "STREAM PATTERN STREAM2 PATTERN2",
        "the lines that match are as many, and pair by pair alike from the first *")
KEYWORD(EXIT, "--exit", 2, "ROLE CODE",
        "ROLE's exit code (default 0), decimal or 0x hex (0xC000013A)")
KEYWORD(INPUT, "--input", 2, "ROLE TEXT",
        "write TEXT (\\n: a new line) to ROLE's stdin, then close it")
KEYWORD(HOLD_STDIN, "--hold-stdin", 1, "ROLE",
        "keep ROLE's stdin open, and empty, to the end (without it, closed at once)")
KEYWORD(KILL, "--kill", 2, "ROLE PATTERN",
        "end ROLE when it prints a matching line (its exit code is not checked)")
KEYWORD(AFTER, "--after", 3, "ROLE STREAM PATTERN",
        "start ROLE only once some line of STREAM (of a process started before) matches")
KEYWORD(ONE_AT_A_TIME, "--one-at-a-time", 0, "", "start each client when the one before has exited")
KEYWORD(END_SERVER, "--end-server", 0, "",
        "end the server once every client has exited (its exit code is not checked)")
KEYWORD(NEW_CONSOLE, "--new-console", 1, "ROLE",
        "give ROLE a console of its own, output still piped (Wine: needs a display)")
KEYWORD(CTRL_C, "--ctrl-c", 2, "ROLE PATTERN",
        "press Ctrl-C in ROLE's console once ROLE prints a matching line (needs --new-console)")
OPTION(SHOW, "--show", 0, "",
       "print every line as it arrives, labelled, and only the failed checks")
OPTION(TITLE, "--title", 1, "TEXT", "with --show, print TEXT first")
OPTION(PRESS_CTRL_C, "--press-ctrl-c", 1, "PID",
       "what --ctrl-c runs, a copy of pairtest with no console: press Ctrl-C in PID's, exit")
OPTION(HELP, "--help", 0, "", "show this text")

#undef KEYWORD
#undef OPTION
