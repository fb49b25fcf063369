/* subject.c -- pairtest_subject, test-only: the program pairtest's own
 * self-tests run (harness/CMakeLists.txt), so that they test the harness
 * without any lab program.
 *
 * It prints "line 1".."line N" on stdout and "note 1".."note N" on stderr,
 * then its completion line, and exits 0. --pause waits for Enter first: a
 * process that only a --kill or the timeout ends when pairtest holds its
 * stdin open. --child makes a process tree: a copy of this program, paused,
 * that shares our standard handles, so it holds our output pipes open too.
 * --wait-ctrl-c waits for a Ctrl-C in its console, for --ctrl-c's tests:
 * only a Ctrl-C that arrives, or the timeout, ends it.
 *
 * Usage: pairtest_subject [--count N] [--pause] [--child] [--wait-ctrl-c]
 */
#include "args.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

static const char usage[] =
    "Usage: pairtest_subject [--count N] [--pause] [--child] [--wait-ctrl-c]\n"
    "\n"
    "Test-only, for pairtest's self-tests: prints \"line 1\"..\"line N\" on stdout\n"
    "and \"note 1\"..\"note N\" on stderr, then \"pairtest_subject: N lines\".\n"
    "\n"
    "  --count N      how many lines (default 3)\n"
    "  --pause        before the last line, print \"Press Enter to exit.\" and\n"
    "                 wait for a line, or the end, on stdin\n"
    "  --child        first start a copy of this program with --pause --count 0\n"
    "                 that shares our stdin, stdout and stderr\n"
    "  --wait-ctrl-c  before the last line, print \"pairtest_subject: waiting for\n"
    "                 Ctrl-C\" and wait for one, then print \"pairtest_subject:\n"
    "                 Ctrl-C\" (for pairtest --ctrl-c, in a console of our own)\n"
    "  --help         show this text\n";

static HANDLE ctrlC; /* --wait-ctrl-c: set by the handler */

/* Runs on a thread of its own; main reports the event. */
static BOOL WINAPI onCtrlC(DWORD event)
{
    return event == CTRL_C_EVENT && SetEvent(ctrlC); /* TRUE: handled, we go on */
}

/* "note N" on stderr, as one write. */
static void note(long n)
{
    char text[32];
    int length = snprintf(text, sizeof text, "note %ld\n", n);
    const char *failed = writeText(GetStdHandle(STD_ERROR_HANDLE), text, (size_t)length);

    if (failed != NULL)
        errExit("%s (stderr)", failed);
}

/* The child shares our standard handles: pairtest made them inheritable. */
static HANDLE startChild(void)
{
    wchar_t path[MAX_PATH], commandLine[MAX_PATH + 32];
    STARTUPINFOW startup;
    PROCESS_INFORMATION child;
    DWORD length = GetModuleFileNameW(NULL, path, MAX_PATH);

    if (length == 0 || length == MAX_PATH)
        errExit("GetModuleFileNameW");
    swprintf(commandLine, sizeof commandLine / sizeof commandLine[0], L"\"%ls\" --pause --count 0",
             path);
    ZeroMemory(&startup, sizeof startup);
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    if (!CreateProcessW(path, commandLine, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &child))
        errExit("CreateProcessW");
    if (!CloseHandle(child.hThread))
        errExit("CloseHandle");
    return child.hProcess;
}

int main(int argc, char *argv[])
{
    long count = 3, n;
    BOOL pause = FALSE, waitCtrlC = FALSE;
    HANDLE child = NULL;
    char line[256];
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--count") == 0)
            count = getNumber(optionValue(argc, argv, &i), 0, 1000000, "--count");
        else if (strcmp(argv[i], "--pause") == 0)
            pause = TRUE;
        else if (strcmp(argv[i], "--child") == 0)
            child = startChild();
        else if (strcmp(argv[i], "--wait-ctrl-c") == 0)
            waitCtrlC = TRUE;
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }

    for (n = 1; n <= count; n++) {
        say("line %ld\n", n);
        note(n);
    }
    /* The handler is in place before the line that says we wait: pairtest
     * presses Ctrl-C as soon as it reads that line. */
    if (waitCtrlC) {
        ctrlC = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (ctrlC == NULL)
            errExit("CreateEventW");
        if (!SetConsoleCtrlHandler(onCtrlC, TRUE))
            errExit("SetConsoleCtrlHandler");
        say("pairtest_subject: waiting for Ctrl-C\n");
        if (WaitForSingleObject(ctrlC, INFINITE) == WAIT_FAILED)
            errExit("WaitForSingleObject");
        say("pairtest_subject: Ctrl-C\n");
        if (!CloseHandle(ctrlC))
            errExit("CloseHandle");
    }
    if (pause) {
        say("Press Enter to exit.\n");
        (void)readLine("", line, sizeof line);
    }
    if (child != NULL && !CloseHandle(child))
        errExit("CloseHandle");
    say("pairtest_subject: %ld lines\n", count);
    return 0;
}
