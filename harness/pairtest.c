/* pairtest.c -- the test harness (test-only): runs a server and its clients
 * as real processes and checks what each of them printed.
 *
 * CTest runs it for every scenario a mechanism's CMakeLists.txt declares with
 * winipc_add_pair_test() (cmake/winipc.cmake); the tour runs it with --show.
 * It is also a worked example of CreateProcess with redirected standard
 * handles, of reading several pipes at once (one thread per pipe), and of a
 * job object that ends a whole tree of processes.
 *
 * Usage: pairtest [OPTION...] [--server N EXE [ARG...]] [--client N EXE [ARG...]]...
 *
 * The options, their values and their help are rows of pairtest_options.h,
 * which builds our parser and --help, and winipc.cmake's keywords. The server
 * starts first; when one of its stdout lines matches --ready (at once without
 * --ready) the clients start, in order, at once -- but a client --after a
 * line of a stream starts only once that line has come, so that a scenario
 * can order what its processes do by cause rather than by chance. The run
 * ends when every process has exited and every output pipe has closed (a
 * grandchild may hold one). Then the checks: each process's exit code and
 * output, then each --same.
 *
 * ROLE is server, client (each client) or clientN (the Nth, from 1); --exit,
 * --input, --hold-stdin, --new-console, --ctrl-c, --after and --same want one
 * process, declared before them. STREAM is ROLE.out or ROLE.err. A PATTERN
 * matches a whole line (its \r\n removed): * matches any run of characters,
 * ? any one character, the rest themselves. --same pairs the lines of its
 * two streams that match their patterns, in order, and compares each pair
 * from where its pattern's first star stands to the end: "write message: *"
 * against "read message: *".
 * In a client's words, {ready} stands for what the server's ready line has
 * where the --ready pattern's first * is (with "... port * ready", the text
 * between the fixed parts), and {pid} for the server's process id.
 *
 * --ctrl-c presses Ctrl-C as a person at ROLE's console would, the way
 * signals/client.c does: attach to its console, send CTRL_C_EVENT to
 * everyone on it. ROLE must have a console of its own (--new-console), or
 * the event would reach everyone on ours -- under CTest on Windows, CTest
 * itself. The pressing is done by a copy of pairtest (--press-ctrl-c PID)
 * started with no console, because a process attached to another console
 * has lost its own for good, and with it, in the tour, our output.
 *
 * Exit status: 0 all checks met; 1 a check failed (each failure is listed,
 * then every process's whole output); 2 bad arguments.
 */
#include "args.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define DEFAULT_TIMEOUT_S 60
#define KILLED_WAIT_MS 10000   /* after the end, for what was killed to be gone */
#define STDIN_PIPE_BYTES 65536 /* --input must fit, so writing it never blocks */

typedef struct {
    char label[24]; /* "server.out" */
    HANDLE pipe;    /* our read end */
    HANDLE thread;  /* reads the pipe into text */
    char *text;     /* all output so far; only the thread writes it */
    size_t length, capacity;
    size_t scanned;        /* text before this offset has been shown/matched */
    HANDLE readyEvent;     /* set when a line matches readyPattern, or NULL */
    char readyValue[256];  /* the text at the ready pattern's first '*' */
    struct Process *owner; /* whose output: for its --kill and --ctrl-c */
    struct Process *after; /* the processes --after a line of this stream, by nextAfter */
} Output;

typedef struct Process {
    char name[16]; /* "server", "client1", ... */
    char **words;  /* the command: EXE and its arguments */
    int wordCount;
    const char *input; /* for stdin, or NULL */
    BOOL holdStdin, newConsole;
    BOOL expanded;            /* words is our own copy, with {ready} and {pid} filled in */
    const char *killPattern;  /* --kill: a matching line ends it */
    volatile LONG killed;     /* set to 1 once we have ended it */
    const char *ctrlCPattern; /* --ctrl-c: a matching line has Ctrl-C pressed in its console */
    const char *afterPattern; /* --after: it starts once a line of afterStream matches */
    Output *afterStream;
    HANDLE afterEvent; /* set by afterStream's reader when the line has come */
    struct Process *nextAfter;
    volatile LONG ctrlCPressed;
    char ctrlCError[512]; /* why pressing it failed, or "" */
    DWORD expectedExit, exitCode;
    HANDLE process, stdinWrite, job;
    Output out, err;
} Process;

/* OPT_SERVER, OPT_CLIENT, ...: a row of pairtest_options.h, and its index in options[]. */
typedef enum {
#define KEYWORD(name, option, values, valueNames, help) OPT_##name,
#define OPTION KEYWORD
#include "pairtest_options.h"
} OptionId;

static const struct {
    const char *name;       /* "--expect" */
    int values;             /* how many words follow it; -1: N, then N words */
    const char *valueNames; /* "STREAM PATTERN" */
} options[] = {
#define KEYWORD(name, option, values, valueNames, help) {option, values, valueNames},
#define OPTION KEYWORD
#include "pairtest_options.h"
};

typedef struct {
    OptionId kind; /* OPT_EXPECT, OPT_EXPECT_COUNT or OPT_REJECT */
    char role[16]; /* as written: "server", "client", "client2" */
    BOOL onStderr;
    long count; /* for --expect-count */
    const char *pattern;
} Check;

static const char usage[] =
    "Usage: pairtest [OPTION...] [--server N EXE [ARG...]] [--client N EXE [ARG...]]...\n"
    "\n"
#define KEYWORD(name, option, values, valueNames, help) \
    "  " option " " valueNames "\n      " help "\n"
#define OPTION KEYWORD
#include "pairtest_options.h"
    "\n"
    "ROLE: server, client (each) or clientN. STREAM: ROLE.out or ROLE.err.\n"
    "PATTERN: a whole line. * any run of characters, ? any one character.\n"
    "In a client's words, {ready} is the ready line's * and {pid} the server's\n"
    "process id. See the comment at the top of harness/pairtest.c for more.\n";

static CRITICAL_SECTION printLock; /* --show lines from many threads */
static CRITICAL_SECTION startLock; /* one process started at a time: see startProcess */
static BOOL show;
static const char *readyPattern;

/* ---- patterns and lines ---------------------------------------------- */

/* Does the whole of line[0..length) match pattern? On a mismatch after a
 * '*', let that '*' take one more character and try again from there. */
static BOOL matches(const char *pattern, const char *line, size_t length)
{
    const char *star = NULL;
    size_t i = 0, starAt = 0;

    while (i < length) {
        if (*pattern == '*') {
            star = ++pattern;
            starAt = i;
        } else if (*pattern != '\0' && (*pattern == '?' || *pattern == line[i])) {
            pattern++;
            i++;
        } else if (star != NULL) {
            pattern = star;
            i = ++starAt;
        } else {
            return FALSE;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

/* Steps through text a line at a time: returns the next line and its length
 * without "\r\n", or NULL at the end. A last line without '\n' counts. */
static const char *nextLine(const char *text, size_t length, size_t *at, size_t *lineLength)
{
    const char *line, *newline;

    if (*at >= length)
        return NULL; /* (text may be NULL: the process printed nothing) */
    line = text + *at;
    newline = memchr(line, '\n', length - *at);
    *lineLength = newline != NULL ? (size_t)(newline - line) : length - *at;
    *at += *lineLength + (newline != NULL ? 1 : 0);
    if (*lineLength > 0 && line[*lineLength - 1] == '\r')
        --*lineLength;
    return line;
}

/* Prints a line with control characters made visible: a transcript can hold
 * binary data (a client run alone writes its framed messages to stdout). */
static void printEscaped(const char *prefix, const char *line, size_t length)
{
    size_t i, at = 0;
    char *text = HeapAlloc(GetProcessHeap(), 0, strlen(prefix) + length * 4 + 2);

    if (text == NULL)
        fatal("HeapAlloc: no memory to print a line of %lu bytes", (unsigned long)length);
    for (i = 0; i < length; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            at += (size_t)snprintf(text + at, 5, "\\x%02X", c);
        else
            text[at++] = (char)c;
    }
    text[at] = '\0';
    say("%s%s\n", prefix, text);
    if (!HeapFree(GetProcessHeap(), 0, text))
        errExit("HeapFree");
}

/* ---- pressing Ctrl-C --------------------------------------------------- */

/* The event we send comes back to us too: we are on that console. */
static BOOL WINAPI swallowCtrlC(DWORD event)
{
    return event == CTRL_C_EVENT; /* TRUE: handled, we go on */
}

/* --press-ctrl-c PID: what the copy of pairtest that pressCtrlC() starts
 * does. It has no console (DETACHED_PROCESS), so it can attach to PID's; its
 * stdout and stderr are a pipe that pressCtrlC() reads. */
WINIPC_NORETURN static void pressCtrlCInConsoleOf(DWORD pid)
{
    if (!AttachConsole(pid))
        errExit("AttachConsole %lu", (unsigned long)pid);
    if (!SetConsoleCtrlHandler(swallowCtrlC, TRUE))
        errExit("SetConsoleCtrlHandler");
    if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) /* 0: everyone on the console */
        errExit("GenerateConsoleCtrlEvent");
    if (!FreeConsole())
        errExit("FreeConsole");
    exit(0);
}

/* --ctrl-c, from the thread that reads p's output: runs pairtest
 * --press-ctrl-c with p's process id, waits for it, and keeps what it said
 * if it failed, for checkAll(). */
static void pressCtrlC(Process *p)
{
    SECURITY_ATTRIBUTES inheritable = {sizeof(SECURITY_ATTRIBUTES), NULL, TRUE};
    wchar_t path[MAX_PATH], commandLine[MAX_PATH + 40];
    STARTUPINFOW startup;
    PROCESS_INFORMATION helper;
    HANDLE report, reportWrite;
    DWORD length = GetModuleFileNameW(NULL, path, MAX_PATH), n, exitCode;
    size_t at = 0;

    if (length == 0 || length == MAX_PATH)
        errExit("GetModuleFileNameW");
    swprintf(commandLine, sizeof commandLine / sizeof commandLine[0], L"\"%ls\" --press-ctrl-c %lu",
             path, (unsigned long)GetProcessId(p->process));
    EnterCriticalSection(&startLock);
    if (!CreatePipe(&report, &reportWrite, &inheritable, 0))
        errExit("CreatePipe");
    if (!SetHandleInformation(report, HANDLE_FLAG_INHERIT, 0))
        errExit("SetHandleInformation");
    ZeroMemory(&startup, sizeof startup);
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdOutput = reportWrite;
    startup.hStdError = reportWrite;
    /* In the job, like every process we start: a timeout ends it too. */
    if (!CreateProcessW(path, commandLine, NULL, NULL, TRUE, CREATE_SUSPENDED | DETACHED_PROCESS,
                        NULL, NULL, &startup, &helper))
        errExit("CreateProcessW (pairtest --press-ctrl-c)");
    if (!AssignProcessToJobObject(p->job, helper.hProcess))
        errExit("AssignProcessToJobObject");
    if (ResumeThread(helper.hThread) == (DWORD)-1)
        errExit("ResumeThread");
    if (!CloseHandle(helper.hThread) || !CloseHandle(reportWrite))
        errExit("CloseHandle");
    LeaveCriticalSection(&startLock);

    /* A line at most, and only if it failed; the pipe breaks when it exits. */
    while (at < sizeof p->ctrlCError - 1) {
        if (!ReadFile(report, p->ctrlCError + at, (DWORD)(sizeof p->ctrlCError - 1 - at), &n,
                      NULL)) {
            if (GetLastError() != ERROR_BROKEN_PIPE)
                errExit("ReadFile (pairtest --press-ctrl-c)");
            break;
        }
        at += n;
    }
    while (at > 0 && (p->ctrlCError[at - 1] == '\n' || p->ctrlCError[at - 1] == '\r'))
        at--;
    p->ctrlCError[at] = '\0';
    if (WaitForSingleObject(helper.hProcess, INFINITE) == WAIT_FAILED)
        errExit("WaitForSingleObject");
    if (!GetExitCodeProcess(helper.hProcess, &exitCode))
        errExit("GetExitCodeProcess");
    if (exitCode == 0)
        p->ctrlCError[0] = '\0';
    else if (at == 0)
        snprintf(p->ctrlCError, sizeof p->ctrlCError, "pairtest --press-ctrl-c exited with %lu",
                 (unsigned long)exitCode);
    if (!CloseHandle(helper.hProcess) || !CloseHandle(report))
        errExit("CloseHandle");
}

/* ---- reading a process's output -------------------------------------- */

/* Keeps the part of the ready line where the pattern's first '*' stands:
 * between the fixed text before it and, when the rest of the pattern is
 * fixed text too, the fixed text after it; else to the end of the line. */
static void captureReady(Output *o, const char *line, size_t length)
{
    const char *star = strchr(readyPattern, '*');
    size_t start, end = length;

    if (star == NULL)
        return;
    start = (size_t)(star - readyPattern);
    if (strpbrk(star + 1, "*?") == NULL && strlen(star + 1) <= length - start)
        end = length - strlen(star + 1);
    snprintf(o->readyValue, sizeof o->readyValue, "%.*s", (int)(end - start), line + start);
}

/* Handles the complete lines that arrived since the last call (at the end
 * of the stream, the unfinished one too): --show prints them, and the ready
 * line, or a line a process is --after, sets the event the main thread
 * waits on. */
static void takeLines(Output *o, BOOL atEnd)
{
    Process *p = o->owner, *q;
    size_t at = o->scanned, lineLength;
    const char *line;

    for (;;) {
        if (!atEnd && memchr(o->text + at, '\n', o->length - at) == NULL)
            break;
        line = nextLine(o->text, o->length, &at, &lineLength);
        if (line == NULL)
            break;
        if (show) {
            char prefix[40];
            snprintf(prefix, sizeof prefix, "[%-11s] ", o->label);
            EnterCriticalSection(&printLock);
            printEscaped(prefix, line, lineLength);
            LeaveCriticalSection(&printLock);
        }
        if (o->readyEvent != NULL && matches(readyPattern, line, lineLength)) {
            captureReady(o, line, lineLength);
            if (!SetEvent(o->readyEvent))
                errExit("SetEvent");
        }
        for (q = o->after; q != NULL; q = q->nextAfter)
            if (matches(q->afterPattern, line, lineLength) && !SetEvent(q->afterEvent))
                errExit("SetEvent");
        if (p->killPattern != NULL && matches(p->killPattern, line, lineLength) &&
            InterlockedExchange(&p->killed, 1) == 0) {
            if (show) {
                EnterCriticalSection(&printLock);
                say("[pairtest   ] killing %s\n", p->name);
                LeaveCriticalSection(&printLock);
            }
            if (!TerminateProcess(p->process, 1))
                errMsg("TerminateProcess (--kill)");
        }
        if (p->ctrlCPattern != NULL && matches(p->ctrlCPattern, line, lineLength) &&
            InterlockedExchange(&p->ctrlCPressed, 1) == 0) {
            if (show) {
                EnterCriticalSection(&printLock);
                say("[pairtest   ] pressing Ctrl-C in %s\n", p->name);
                LeaveCriticalSection(&printLock);
            }
            pressCtrlC(p);
        }
        o->scanned = at;
    }
}

static DWORD WINAPI readOutput(LPVOID param)
{
    Output *o = param;
    char chunk[4096];
    DWORD n;

    for (;;) {
        if (!ReadFile(o->pipe, chunk, sizeof chunk, &n, NULL)) {
            if (GetLastError() != ERROR_BROKEN_PIPE) /* broken: all writers closed */
                errMsg("ReadFile (%s)", o->label);
            break;
        }
        if (o->length + n + 1 > o->capacity) {
            size_t capacity = (o->capacity + n + 1) * 2;
            char *bigger = o->text == NULL ? HeapAlloc(GetProcessHeap(), 0, capacity)
                                           : HeapReAlloc(GetProcessHeap(), 0, o->text, capacity);
            if (bigger == NULL)
                fatal("no memory for %lu bytes of %s", (unsigned long)capacity, o->label);
            o->text = bigger;
            o->capacity = capacity;
        }
        memcpy(o->text + o->length, chunk, n);
        o->length += n;
        o->text[o->length] = '\0';
        takeLines(o, FALSE);
    }
    takeLines(o, TRUE);
    return 0;
}

/* ---- starting a process ---------------------------------------------- */

/* Appends word to line quoted so that the child's C runtime, or
 * CommandLineToArgvW, splits it back out exactly: inside quotes, backslashes
 * are literal unless they come before a '"' or the closing quote. */
static size_t appendQuoted(char *line, size_t at, const char *word)
{
    const char *p = word;

    if (*word != '\0' && strpbrk(word, " \t\n\v\"") == NULL) {
        memcpy(line + at, word, strlen(word));
        return at + strlen(word);
    }
    line[at++] = '"';
    for (;;) {
        size_t backslashes = 0;
        while (*p == '\\') {
            backslashes++;
            p++;
        }
        if (*p == '"' || *p == '\0')
            backslashes = backslashes * 2 + (*p == '"'); /* double them */
        while (backslashes-- > 0)
            line[at++] = '\\';
        if (*p == '\0')
            break;
        line[at++] = *p++;
    }
    line[at++] = '"';
    return at;
}

static wchar_t *buildCommandLine(char **words, int count)
{
    size_t bytes = 1, at = 0;
    char *line;
    wchar_t *wide;
    int i, n;

    for (i = 0; i < count; i++)
        bytes += strlen(words[i]) * 2 + 3;
    line = HeapAlloc(GetProcessHeap(), 0, bytes);
    if (line == NULL)
        fatal("no memory for a command line");
    for (i = 0; i < count; i++) {
        if (i > 0)
            line[at++] = ' ';
        at = appendQuoted(line, at, words[i]);
    }
    line[at] = '\0';
    n = MultiByteToWideChar(CP_UTF8, 0, line, -1, NULL, 0);
    wide = n > 0 ? HeapAlloc(GetProcessHeap(), 0, (size_t)n * sizeof(wchar_t)) : NULL;
    if (wide == NULL || MultiByteToWideChar(CP_UTF8, 0, line, -1, wide, n) == 0)
        errExit("MultiByteToWideChar (command line)");
    if (!HeapFree(GetProcessHeap(), 0, line))
        errExit("HeapFree");
    return wide;
}

/* Writes --input to the child's stdin, turning "\n" into a new line. */
static void writeInput(HANDLE pipe, const char *input)
{
    char c;
    DWORD written;

    for (; *input != '\0'; input++) {
        c = *input;
        if (c == '\\' && input[1] == 'n')
            c = '\n', input++;
        else if (c == '\\' && input[1] == '\\')
            input++;
        if (!WriteFile(pipe, &c, 1, &written, NULL))
            errExit("WriteFile (stdin)");
    }
}

/* CreateProcessW failed. Under Wine, ERROR_INTERNAL_ERROR (1359) means the
 * new process died before it finished starting: a signal from outside, or
 * Wine's loader giving up -- as wine64 without its preloader now and then
 * does ("failed to map the shared user data"; .ci/setup.sh installs the
 * preloader). What it wrote before it died is in its pipes: show it. */
WINIPC_NORETURN static void failedToStart(Process *p, HANDLE outWrite, HANDLE errWrite)
{
    DWORD error = GetLastError(), n;
    char text[4096];
    HANDLE pipes[2];
    int i;

    if (error == ERROR_INTERNAL_ERROR) {
        pipes[0] = p->out.pipe;
        pipes[1] = p->err.pipe;
        if (!CloseHandle(outWrite) || !CloseHandle(errWrite)) /* now only the dead wrote */
            errExit("CloseHandle");
        for (i = 0; i < 2; i++)
            while (ReadFile(pipes[i], text, sizeof text, &n, NULL) && n > 0)
                printEscaped(i == 0 ? "(its stdout) " : "(its stderr) ", text, n);
        SetLastError(error);
    }
    errExit("CreateProcessW %s%s", p->words[0],
            error == ERROR_INTERNAL_ERROR
                ? " (under Wine: it died while starting -- is wine64-preloader installed?)"
                : "");
}

static void startProcess(Process *p, HANDLE job)
{
    SECURITY_ATTRIBUTES inheritable = {sizeof(SECURITY_ATTRIBUTES), NULL, TRUE};
    HANDLE stdinRead, outWrite, errWrite;
    STARTUPINFOW startup;
    PROCESS_INFORMATION info;
    wchar_t *commandLine;
    char *c;

    /* CMake writes paths with '/', Windows with a backslash. (Under Wine a
     * path like \work\x.exe then means that folder on the current drive,
     * Z:, which Wine maps to the Linux root.) */
    for (c = p->words[0]; *c != '\0'; c++)
        if (*c == '/')
            *c = '\\';
    commandLine = buildCommandLine(p->words, p->wordCount);

    /* Each pipe is made inheritable, then our end is taken back out, so the
     * child inherits only its own three ends. We start processes one at a
     * time -- pressCtrlC() starts one too, from another thread: hence the
     * lock -- so no other child can inherit these by accident. */
    EnterCriticalSection(&startLock);
    if (!CreatePipe(&stdinRead, &p->stdinWrite, &inheritable, STDIN_PIPE_BYTES) ||
        !CreatePipe(&p->out.pipe, &outWrite, &inheritable, 0) ||
        !CreatePipe(&p->err.pipe, &errWrite, &inheritable, 0))
        errExit("CreatePipe");
    if (!SetHandleInformation(p->stdinWrite, HANDLE_FLAG_INHERIT, 0) ||
        !SetHandleInformation(p->out.pipe, HANDLE_FLAG_INHERIT, 0) ||
        !SetHandleInformation(p->err.pipe, HANDLE_FLAG_INHERIT, 0))
        errExit("SetHandleInformation");

    ZeroMemory(&startup, sizeof startup);
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = stdinRead;
    startup.hStdOutput = outWrite;
    startup.hStdError = errWrite;
    /* Suspended until it is in the job, so that any child it starts is in
     * the job too, and a timeout can end the whole tree. */
    if (!CreateProcessW(NULL, commandLine, NULL, NULL, TRUE,
                        CREATE_SUSPENDED | (p->newConsole ? CREATE_NEW_CONSOLE : 0), NULL, NULL,
                        &startup, &info))
        failedToStart(p, outWrite, errWrite);
    if (!AssignProcessToJobObject(job, info.hProcess))
        errExit("AssignProcessToJobObject");
    if (ResumeThread(info.hThread) == (DWORD)-1)
        errExit("ResumeThread");
    if (!CloseHandle(info.hThread) || !CloseHandle(stdinRead) || !CloseHandle(outWrite) ||
        !CloseHandle(errWrite))
        errExit("CloseHandle");
    LeaveCriticalSection(&startLock);
    if (!HeapFree(GetProcessHeap(), 0, commandLine))
        errExit("HeapFree");
    p->process = info.hProcess;
    p->job = job;
    p->out.owner = p->err.owner = p;

    if (p->input != NULL)
        writeInput(p->stdinWrite, p->input);
    if (!p->holdStdin) {
        if (!CloseHandle(p->stdinWrite))
            errExit("CloseHandle");
        p->stdinWrite = NULL;
    }
    p->out.thread = CreateThread(NULL, 0, readOutput, &p->out, 0, NULL);
    p->err.thread = CreateThread(NULL, 0, readOutput, &p->err, 0, NULL);
    if (p->out.thread == NULL || p->err.thread == NULL)
        errExit("CreateThread");
}

/* ---- checking what happened ------------------------------------------ */

static BOOL isRole(const char *role, const Process *p)
{
    return strcmp(role, p->name) == 0 ||
           (strcmp(role, "client") == 0 && strncmp(p->name, "client", 6) == 0);
}

/* Runs the checks on one stream of one process; returns how many failed.
 * Each check prints a line, "ok" or "FAIL", so a log shows what was tested
 * (the tour, --show, prints only the failures). */
static int checkOutput(const Process *p, const Output *o, BOOL onStderr, const Check *checks,
                       int checkCount)
{
    size_t cursor = 0, at, lineLength;
    long lineNumber, cursorLine = 0, found;
    const char *line;
    int i, failures = 0;

    for (i = 0; i < checkCount; i++) {
        const Check *c = &checks[i];
        if (c->onStderr != onStderr || !isRole(c->role, p))
            continue;
        /* An --expect searches on from the line the previous one matched. */
        at = c->kind == OPT_EXPECT ? cursor : 0;
        lineNumber = c->kind == OPT_EXPECT ? cursorLine : 0;
        found = 0;
        while ((line = nextLine(o->text, o->length, &at, &lineLength)) != NULL) {
            lineNumber++;
            if (!matches(c->pattern, line, lineLength))
                continue;
            found++;
            if (c->kind == OPT_EXPECT) {
                cursor = at;
                cursorLine = lineNumber;
                break;
            }
            if (c->kind == OPT_REJECT)
                break;
        }
        if (c->kind == OPT_EXPECT && found == 0) {
            say("pairtest: FAIL: %s: no line matches \"%s\"", o->label, c->pattern);
            if (cursorLine > 0)
                say(" after line %ld", cursorLine);
            say("\n");
        } else if (c->kind == OPT_EXPECT) {
            if (!show)
                say("pairtest: ok: %s line %ld matches \"%s\"\n", o->label, lineNumber, c->pattern);
        } else if (c->kind == OPT_REJECT && found > 0) {
            say("pairtest: FAIL: %s line %ld matches rejected \"%s\"\n", o->label, lineNumber,
                c->pattern);
        } else if (c->kind == OPT_REJECT) {
            if (!show)
                say("pairtest: ok: no line of %s matches \"%s\"\n", o->label, c->pattern);
        } else if (found != c->count) {
            say("pairtest: FAIL: %s: %ld lines match \"%s\", expected %ld\n", o->label, found,
                c->pattern, c->count);
        } else {
            if (!show)
                say("pairtest: ok: %s: %ld lines match \"%s\"\n", o->label, found, c->pattern);
        }
        if ((c->kind == OPT_EXPECT && found == 0) || (c->kind == OPT_REJECT && found > 0) ||
            (c->kind == OPT_EXPECT_COUNT && found != c->count))
            failures++;
    }
    return failures;
}

static void printTranscript(const Process *p)
{
    const Output *streams[2];
    size_t at, lineLength;
    const char *line;
    int s, i;

    streams[0] = &p->out;
    streams[1] = &p->err;
    say("==== %s:", p->name);
    for (i = 0; i < p->wordCount; i++)
        say(" %s", p->words[i]);
    say("\n     exit code %lu (0x%08lX)\n", (unsigned long)p->exitCode, (unsigned long)p->exitCode);
    for (s = 0; s < 2; s++) {
        say("---- %s ----\n", streams[s]->label);
        at = 0;
        while ((line = nextLine(streams[s]->text, streams[s]->length, &at, &lineLength)) != NULL)
            printEscaped("", line, lineLength);
    }
}

/* ---- the run ------------------------------------------------------------ */

typedef struct {
    Process *processes;
    int processCount, clientCount;
    Check *checks;
    int checkCount;
    int ctrlCCount; /* processes with a --ctrl-c */
    Check *same;    /* --same: pairs, same[2k] against same[2k+1] */
    int sameCount;  /* pairs */
    long timeoutSeconds;
    const char *title;
    ULONGLONG deadline;
    HANDLE job;
    const char *timedOutAt; /* what we were waiting for at the timeout */
    BOOL oneAtATime;
    BOOL endServer; /* --end-server */
} Run;

static Process *findRole(Run *run, const char *role)
{
    int i;

    for (i = 0; i < run->processCount; i++)
        if (strcmp(run->processes[i].name, role) == 0)
            return &run->processes[i];
    return NULL;
}

/* "client2.err" -> role "client2", on stderr. */
static void parseStream(const char *text, Check *c)
{
    const char *dot = strrchr(text, '.');
    size_t roleLength = dot != NULL ? (size_t)(dot - text) : 0;

    if (dot == NULL || roleLength == 0 || roleLength >= sizeof c->role ||
        (strcmp(dot, ".out") != 0 && strcmp(dot, ".err") != 0))
        usageErr("\"%s\" is not a stream (ROLE.out or ROLE.err)", text);
    memcpy(c->role, text, roleLength);
    c->role[roleLength] = '\0';
    c->onStderr = strcmp(dot, ".err") == 0;
}

/* An exit code in decimal, or in hex as Windows writes NTSTATUS values. */
static DWORD parseExitCode(const char *text)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 0);
    if (end == text || *end != '\0' || errno == ERANGE || value > 0xFFFFFFFFUL)
        usageErr("--exit wants an exit code (decimal or 0x hex), not \"%s\"", text);
    return (DWORD)value;
}

/* The row of options[] for word, or a usage error. */
static OptionId findOption(const char *word)
{
    size_t id;

    for (id = 0; id < sizeof options / sizeof options[0]; id++)
        if (strcmp(word, options[id].name) == 0)
            return (OptionId)id;
    usageErr("unknown argument \"%s\"", word);
}

/* The one process an option names, or a usage error. */
static Process *oneProcess(Run *run, const char *option, const char *role)
{
    Process *p = findRole(run, role);

    if (p == NULL)
        usageErr("%s %s: no such process (declare processes first)", option, role);
    return p;
}

static void addProcess(Run *run, OptionId id, char **words, int wordCount)
{
    Process *p = &run->processes[run->processCount++];

    p->words = words;
    p->wordCount = wordCount;
    if (id == OPT_CLIENT)
        snprintf(p->name, sizeof p->name, "client%d", ++run->clientCount);
    else if (run->processCount == 1)
        snprintf(p->name, sizeof p->name, "server");
    else
        usageErr("--server must come once, before any --client");
    snprintf(p->out.label, sizeof p->out.label, "%s.out", p->name);
    snprintf(p->err.label, sizeof p->err.label, "%s.err", p->name);
}

/* --after ROLE STREAM PATTERN: p waits, before it starts, for a line of a
 * stream of a process started before it. */
static void after(Run *run, Process *p, const char *stream, const char *pattern)
{
    Check c;
    Process *q;

    parseStream(stream, &c);
    q = oneProcess(run, "--after", c.role);
    if (q >= p)
        usageErr("--after %s %s: %s starts after %s, so it cannot wait for it", p->name, stream,
                 q->name, p->name);
    p->afterPattern = pattern;
    p->afterStream = c.onStderr ? &q->err : &q->out;
    p->nextAfter = p->afterStream->after;
    p->afterStream->after = p;
    p->afterEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (p->afterEvent == NULL)
        errExit("CreateEventW");
}

static void parseArguments(Run *run, int argc, char *argv[])
{
    int i, j, found;

    /* Every word is at most one process or one check: size the arrays so. */
    run->processes = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY,
                               (size_t)argc * sizeof *run->processes);
    run->checks = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, (size_t)argc * sizeof *run->checks);
    run->same = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, (size_t)argc * sizeof *run->same);
    if (run->processes == NULL || run->checks == NULL || run->same == NULL)
        fatal("no memory for %d arguments", argc);
    run->timeoutSeconds = DEFAULT_TIMEOUT_S;

    for (i = 1; i < argc; i++) {
        const char *option = argv[i];
        OptionId id = findOption(option);
        int n = options[id].values < 0 ? 1 : options[id].values;
        char **v = &argv[i + 1];                  /* its values */
        Check *c = &run->checks[run->checkCount]; /* the next, if this is one */

        if (argc - 1 - i < n)
            usageErr("%s needs %s", option, options[id].valueNames);
        i += n;
        switch (id) {
        case OPT_SERVER:
        case OPT_CLIENT:
            n = (int)getNumber(v[0], 1, argc - 1 - i, option);
            addProcess(run, id, &v[1], n);
            i += n;
            break;
        case OPT_EXPECT:
        case OPT_EXPECT_COUNT:
        case OPT_REJECT:
            c->kind = id;
            parseStream(v[0], c);
            if (id == OPT_EXPECT_COUNT)
                c->count = getNumber(v[1], 0, 100000000, option);
            c->pattern = v[n - 1];
            run->checkCount++;
            break;
        case OPT_SAME:
            c = &run->same[2 * run->sameCount++];
            parseStream(v[0], &c[0]);
            c[0].pattern = v[1];
            parseStream(v[2], &c[1]);
            c[1].pattern = v[3];
            if (findRole(run, c[0].role) == NULL || findRole(run, c[1].role) == NULL)
                usageErr("--same names %s and %s: each must be one process", c[0].role, c[1].role);
            break;
        case OPT_KILL:
            for (j = found = 0; j < run->processCount; j++)
                if (isRole(v[0], &run->processes[j])) {
                    run->processes[j].killPattern = v[1];
                    found++;
                }
            if (found == 0)
                usageErr("--kill %s: no such process (declare processes first)", v[0]);
            break;
        case OPT_EXIT: oneProcess(run, option, v[0])->expectedExit = parseExitCode(v[1]); break;
        case OPT_INPUT:
            if (strlen(v[1]) >= STDIN_PIPE_BYTES)
                usageErr("--input is limited to %d bytes", STDIN_PIPE_BYTES - 1);
            oneProcess(run, option, v[0])->input = v[1];
            break;
        case OPT_HOLD_STDIN: oneProcess(run, option, v[0])->holdStdin = TRUE; break;
        case OPT_NEW_CONSOLE: oneProcess(run, option, v[0])->newConsole = TRUE; break;
        case OPT_AFTER: after(run, oneProcess(run, option, v[0]), v[1], v[2]); break;
        case OPT_CTRL_C:
            oneProcess(run, option, v[0])->ctrlCPattern = v[1];
            run->ctrlCCount++;
            break;
        case OPT_PRESS_CTRL_C: /* we are the copy --ctrl-c starts: press, and exit */
            pressCtrlCInConsoleOf((DWORD)getNumber(v[0], 1, LONG_MAX, option));
        case OPT_READY: readyPattern = v[0]; break;
        case OPT_TIMEOUT: run->timeoutSeconds = getNumber(v[0], 1, 86400, option); break;
        case OPT_ONE_AT_A_TIME: run->oneAtATime = TRUE; break;
        case OPT_END_SERVER: run->endServer = TRUE; break;
        case OPT_SHOW: show = TRUE; break;
        case OPT_TITLE: run->title = v[0]; break;
        case OPT_HELP: showHelp();
        }
    }
    if (run->processCount == 0)
        usageErr("nothing to run: give a --server or a --client");
    if (readyPattern != NULL && strcmp(run->processes[0].name, "server") != 0)
        usageErr("--ready needs a --server");
    for (i = 0; i < run->processCount; i++)
        if (run->processes[i].ctrlCPattern != NULL && !run->processes[i].newConsole)
            usageErr("--ctrl-c %s needs --new-console %s: Ctrl-C reaches every process on a "
                     "console, and without one of its own %s is on ours",
                     run->processes[i].name, run->processes[i].name, run->processes[i].name);
    for (i = 0; i < run->checkCount; i++)
        if (strcmp(run->checks[i].role, "client") != 0 &&
            findRole(run, run->checks[i].role) == NULL)
            usageErr("a check names %s, which is not one of the processes", run->checks[i].role);
}

static DWORD remainingMs(const Run *run)
{
    ULONGLONG now = GetTickCount64();

    return now >= run->deadline ? 0 : (DWORD)(run->deadline - now);
}

/* A client's words with {ready} and {pid} filled in, in a heap block of
 * its own (the pointers, then the strings). */
static void expandWords(Process *p, const char *ready, const char *pid)
{
    size_t bytes = (size_t)p->wordCount * sizeof(char *), longest = strlen(ready) + strlen(pid);
    char **words, *at;
    const char *from, *token;
    int w;

    for (w = 0; w < p->wordCount; w++)
        bytes += strlen(p->words[w]) * (longest + 1) + 1; /* a token per byte, at worst */
    words = HeapAlloc(GetProcessHeap(), 0, bytes);
    if (words == NULL)
        fatal("no memory for %s's command", p->name);
    at = (char *)(words + p->wordCount);
    for (w = 0; w < p->wordCount; w++) {
        words[w] = at;
        for (from = p->words[w]; *from != '\0';) {
            if (strncmp(from, "{ready}", 7) == 0)
                token = ready;
            else if (strncmp(from, "{pid}", 5) == 0)
                token = pid;
            else
                token = NULL;
            if (token == NULL) {
                *at++ = *from++;
                continue;
            }
            memcpy(at, token, strlen(token));
            at += strlen(token);
            from += token == ready ? 7 : 5;
        }
        *at++ = '\0';
    }
    p->words = words;
    p->expanded = TRUE;
}

/* Waits for a line of o that matches pattern, whose reader sets event when
 * it comes: the server's ready line, or the line a process is --after
 * (option says which; waiter is the process held back, or NULL for all the
 * clients). FALSE when it does not come: o ended without it (said here), or
 * the time is up (run->timedOutAt says so). */
static BOOL waitForLine(Run *run, HANDLE event, const Output *o, const char *option,
                        const char *pattern, const char *waiter)
{
    static char waitingFor[300]; /* for the timeout's message */
    HANDLE waitFor[2];
    DWORD which;

    /* o's reader sets the event before it ends, and of two signalled
     * objects the wait reports the first: a line, then the end, is a line. */
    waitFor[0] = event;
    waitFor[1] = o->thread;
    which = WaitForMultipleObjects(2, waitFor, FALSE, remainingMs(run));
    if (which == WAIT_OBJECT_0)
        return TRUE;
    if (which == WAIT_TIMEOUT) {
        snprintf(waitingFor, sizeof waitingFor, "a line of %s matching %s \"%s\" (for %s)",
                 o->label, option, pattern, waiter != NULL ? waiter : "the clients");
        run->timedOutAt = waitingFor;
    } else if (which == WAIT_OBJECT_0 + 1 && waiter == NULL) {
        say("pairtest: FAIL: %s closed with no line matching %s \"%s\"\n", o->label, option,
            pattern);
    } else if (which == WAIT_OBJECT_0 + 1) {
        say("pairtest: FAIL: %s closed with no line matching %s \"%s\", so %s never started\n",
            o->label, option, pattern, waiter);
    } else {
        errExit("WaitForMultipleObjects");
    }
    return FALSE;
}

/* Starts the server, waits for its ready line, then starts the clients,
 * each --after one once its line has come. Returns the number of failures
 * (0 or 1: no ready line, or a stream ended without a line --after wants). */
static int startAll(Run *run)
{
    int i;

    char pid[16] = "";

    for (i = 0; i < run->processCount && run->timedOutAt == NULL; i++) {
        Process *p = &run->processes[i];
        if (p->afterEvent != NULL &&
            !waitForLine(run, p->afterEvent, p->afterStream, "--after", p->afterPattern, p->name))
            return run->timedOutAt == NULL;
        if (i > 0)
            expandWords(p, run->processes[0].out.readyValue, pid);
        if (show) {
            const char *exe = strrchr(p->words[0], '/');
            const char *backslash = strrchr(p->words[0], '\\');
            int w;
            if (backslash != NULL && (exe == NULL || backslash > exe))
                exe = backslash;
            EnterCriticalSection(&printLock); /* one line, whatever the readers print */
            say("[pairtest   ] starting %s: %s", p->name, exe != NULL ? exe + 1 : p->words[0]);
            for (w = 1; w < p->wordCount; w++)
                say(" %s", p->words[w]);
            say("\n");
            LeaveCriticalSection(&printLock);
        }
        if (i == 0 && readyPattern != NULL) {
            p->out.readyEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
            if (p->out.readyEvent == NULL)
                errExit("CreateEventW");
        }
        startProcess(p, run->job);
        if (i == 0 && strcmp(p->name, "server") == 0)
            snprintf(pid, sizeof pid, "%lu", (unsigned long)GetProcessId(p->process));
        if (run->oneAtATime && strcmp(p->name, "server") != 0 &&
            WaitForSingleObject(p->process, remainingMs(run)) == WAIT_TIMEOUT) {
            run->timedOutAt = p->name;
            return 0;
        }
        if (p->out.readyEvent != NULL &&
            !waitForLine(run, p->out.readyEvent, &p->out, "--ready", readyPattern, NULL))
            return run->timedOutAt == NULL;
    }
    return 0;
}

/* Waits for every process to exit and every output pipe to close; past the
 * deadline, kills the whole tree. Then collects the exit codes. */
static void waitAll(Run *run)
{
    Process *server = &run->processes[0];
    int i;

    /* With --end-server, the clients first; then the server is ended. */
    for (i = run->endServer ? 1 : 0; i < run->processCount && run->timedOutAt == NULL; i++) {
        Process *p = &run->processes[i];
        if (p->process != NULL && WaitForSingleObject(p->process, remainingMs(run)) == WAIT_TIMEOUT)
            run->timedOutAt = p->name;
    }
    if (run->endServer && run->timedOutAt == NULL && server->process != NULL &&
        InterlockedExchange(&server->killed, 1) == 0) {
        if (show) {
            EnterCriticalSection(&printLock);
            say("[pairtest   ] every client has exited: ending the server\n");
            LeaveCriticalSection(&printLock);
        }
        if (!TerminateProcess(server->process, 1))
            errExit("TerminateProcess (--end-server)");
    }
    if (run->endServer && run->timedOutAt == NULL && server->process != NULL &&
        WaitForSingleObject(server->process, remainingMs(run)) == WAIT_TIMEOUT)
        run->timedOutAt = server->name;
    for (i = 0; i < run->processCount && run->timedOutAt == NULL; i++) {
        Process *p = &run->processes[i];
        if (p->process != NULL &&
            (WaitForSingleObject(p->out.thread, remainingMs(run)) == WAIT_TIMEOUT ||
             WaitForSingleObject(p->err.thread, remainingMs(run)) == WAIT_TIMEOUT))
            run->timedOutAt = "the output pipes to close (a child still running?)";
    }
    if (run->timedOutAt != NULL) {
        say("pairtest: FAIL: timed out after %ld s waiting for %s, killing every "
            "process\n",
            run->timeoutSeconds, run->timedOutAt);
        if (!TerminateJobObject(run->job, 1))
            errExit("TerminateJobObject");
    }
    /* Everything has ended now, or been killed: these waits are short. Not
     * endless, though: a process outside the job (Wine does not always put
     * a grandchild in it) may still hold an output pipe open. */
    for (i = 0; i < run->processCount; i++) {
        Process *p = &run->processes[i];
        if (p->process == NULL)
            continue;
        if (WaitForSingleObject(p->process, KILLED_WAIT_MS) != WAIT_OBJECT_0 ||
            WaitForSingleObject(p->out.thread, KILLED_WAIT_MS) != WAIT_OBJECT_0 ||
            WaitForSingleObject(p->err.thread, KILLED_WAIT_MS) != WAIT_OBJECT_0)
            fatal("FAIL: %s or a process it started is still running %d s after the end; "
                  "its output so far is lost",
                  p->name, KILLED_WAIT_MS / 1000);
        if (!GetExitCodeProcess(p->process, &p->exitCode))
            errExit("GetExitCodeProcess");
    }
}

/* Finds the next line of o that matches pattern, from *at; returns it, or
 * NULL. *lineNumber counts the lines passed. */
static const char *nextMatch(const Output *o, const char *pattern, size_t *at, long *lineNumber,
                             size_t *lineLength)
{
    const char *line;

    while ((line = nextLine(o->text, o->length, at, lineLength)) != NULL) {
        ++*lineNumber;
        if (matches(pattern, line, *lineLength))
            return line;
    }
    return NULL;
}

static Output *streamOf(Run *run, const Check *c)
{
    Process *p = findRole(run, c->role);
    return c->onStderr ? &p->err : &p->out;
}

/* --same: walks the two streams' matching lines side by side. */
static int checkSame(Run *run, const Check *a, const Check *b)
{
    const Output *oa = streamOf(run, a), *ob = streamOf(run, b);
    size_t atA = 0, atB = 0, lengthA, lengthB;
    size_t skipA = strcspn(a->pattern, "*"), skipB = strcspn(b->pattern, "*");
    long lineA = 0, lineB = 0, items = 0;
    const char *x, *y;

    for (;;) {
        x = nextMatch(oa, a->pattern, &atA, &lineA, &lengthA);
        y = nextMatch(ob, b->pattern, &atB, &lineB, &lengthB);
        if (x == NULL || y == NULL)
            break;
        items++;
        if (lengthA < skipA || lengthB < skipB || lengthA - skipA != lengthB - skipB ||
            memcmp(x + skipA, y + skipB, lengthA - skipA) != 0) {
            say("pairtest: FAIL: item %ld differs: %s line %ld \"%.*s\", %s line %ld "
                "\"%.*s\"\n",
                items, oa->label, lineA, (int)lengthA, x, ob->label, lineB, (int)lengthB, y);
            return 1;
        }
    }
    if (x != NULL || y != NULL) {
        say("pairtest: FAIL: %s has %s lines matching \"%s\" than %s has matching "
            "\"%s\" (the same up to item %ld)\n",
            oa->label, x != NULL ? "more" : "fewer", a->pattern, ob->label, b->pattern, items);
        return 1;
    }
    if (!show)
        say("pairtest: ok: the %ld lines of %s matching \"%s\" and of %s matching \"%s\" "
            "are the same\n",
            items, oa->label, a->pattern, ob->label, b->pattern);
    return 0;
}

/* Exit codes and output checks; returns the number of failures. */
static int checkAll(Run *run)
{
    int i, failures = 0;

    for (i = 0; i < run->processCount; i++) {
        const Process *p = &run->processes[i];
        if (p->process == NULL)
            continue; /* never started */
        if (run->timedOutAt != NULL) {
            /* killed: its exit code says nothing */
        } else if (p->killPattern != NULL && !p->killed) {
            say("pairtest: FAIL: %s printed no line matching --kill \"%s\"\n", p->name,
                p->killPattern);
            failures++;
        } else if (p->killed) {
            if (!show)
                say("pairtest: ok: %s was ended by %s, as asked\n", p->name,
                    p->killPattern != NULL ? "--kill" : "--end-server");
        } else if (p->exitCode != p->expectedExit) {
            say("pairtest: FAIL: %s exited with code %lu, expected %lu\n", p->name,
                (unsigned long)p->exitCode, (unsigned long)p->expectedExit);
            failures++;
        } else {
            if (!show)
                say("pairtest: ok: %s exited with code %lu\n", p->name, (unsigned long)p->exitCode);
        }
        if (p->ctrlCPattern != NULL && !p->ctrlCPressed) {
            say("pairtest: FAIL: %s printed no line matching --ctrl-c \"%s\"\n", p->name,
                p->ctrlCPattern);
            failures++;
        } else if (p->ctrlCPattern != NULL && p->ctrlCError[0] != '\0') {
            say("pairtest: FAIL: could not press Ctrl-C in %s: %s\n", p->name, p->ctrlCError);
            failures++;
        } else if (p->ctrlCPattern != NULL && !show) {
            say("pairtest: ok: Ctrl-C was pressed in %s's console\n", p->name);
        }
        failures += checkOutput(p, &p->out, FALSE, run->checks, run->checkCount);
        failures += checkOutput(p, &p->err, TRUE, run->checks, run->checkCount);
    }
    for (i = 0; i < run->sameCount; i++)
        failures += checkSame(run, &run->same[2 * i], &run->same[2 * i + 1]);
    return failures;
}

static void release(Run *run)
{
    int i;

    for (i = 0; i < run->processCount; i++) {
        Process *p = &run->processes[i];
        if (p->process != NULL &&
            (!CloseHandle(p->process) || !CloseHandle(p->out.pipe) || !CloseHandle(p->err.pipe) ||
             !CloseHandle(p->out.thread) || !CloseHandle(p->err.thread) ||
             (p->stdinWrite != NULL && !CloseHandle(p->stdinWrite)) ||
             (p->out.readyEvent != NULL && !CloseHandle(p->out.readyEvent))))
            errExit("CloseHandle");
        if (p->afterEvent != NULL && !CloseHandle(p->afterEvent))
            errExit("CloseHandle");
        if ((p->expanded && !HeapFree(GetProcessHeap(), 0, p->words)) ||
            (p->out.text != NULL && !HeapFree(GetProcessHeap(), 0, p->out.text)) ||
            (p->err.text != NULL && !HeapFree(GetProcessHeap(), 0, p->err.text)))
            errExit("HeapFree");
    }
    if (!CloseHandle(run->job))
        errExit("CloseHandle");
    if (!HeapFree(GetProcessHeap(), 0, run->processes) ||
        !HeapFree(GetProcessHeap(), 0, run->checks) || !HeapFree(GetProcessHeap(), 0, run->same))
        errExit("HeapFree");
}

int main(int argc, char *argv[])
{
    Run run;
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
    int failures, checks, i;

    initProgram(&argc, &argv, usage);
    ZeroMemory(&run, sizeof run);
    parseArguments(&run, argc, argv);
    InitializeCriticalSection(&printLock);
    InitializeCriticalSection(&startLock);

    /* When our last handle to the job closes -- when we exit, however we
     * exit -- every process still in it is killed: nothing outlives a test. */
    run.job = CreateJobObjectW(NULL, NULL);
    if (run.job == NULL)
        errExit("CreateJobObjectW");
    ZeroMemory(&limits, sizeof limits);
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!SetInformationJobObject(run.job, JobObjectExtendedLimitInformation, &limits,
                                 sizeof limits))
        errExit("SetInformationJobObject");

    if (show && run.title != NULL)
        say("\n=== %s ===\n", run.title);
    run.deadline = GetTickCount64() + (ULONGLONG)run.timeoutSeconds * 1000;
    failures = startAll(&run);
    waitAll(&run);
    failures += (run.timedOutAt != NULL) + checkAll(&run);

    if (failures > 0)
        for (i = 0; i < run.processCount; i++)
            if (run.processes[i].process != NULL)
                printTranscript(&run.processes[i]);
    checks = run.checkCount + run.sameCount + run.processCount + run.ctrlCCount;
    say("pairtest: %s: %d process%s, %d check%s, %d failed\n", failures == 0 ? "PASS" : "FAIL",
        run.processCount, run.processCount == 1 ? "" : "es", checks, checks == 1 ? "" : "s",
        failures);
    release(&run);
    DeleteCriticalSection(&printLock);
    DeleteCriticalSection(&startLock);
    return failures == 0 ? 0 : 1;
}
