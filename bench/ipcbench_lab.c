/* ipcbench_lab.c -- --lab-server: the lab's named_pipe_server (named_pipe/server.c) as the peer,
 * so that a lab server can be held to ipcbench's raw figure for its mechanism (issue #10).
 *
 * The bench starts `named_pipe_server --pipe NAME --max-clients 1`, with its stdout on a pipe of
 * ours, waits for its "listening" line, connects as a client (openServerLink), ping-pongs as
 * with every mechanism, sends "exit" (the server echoes it and ends the session, then exits, its
 * one client served), and checks the line the server logged when the session ended: it must
 * have counted every message. The server logs a line per message, so a thread reads its stdout
 * for the whole run: a server whose stdout pipe filled up would block in the middle of a reply.
 */
#include "ipcbench.h"
#include "args.h"
#include "named_pipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READY_TEXT "named_pipe_server: listening on "
#define SESSION_TEXT "client 1: session ended "

/* The running server, for endWithUs() only: whatever ends the bench (fatal() calls exit), the
 * server must not outlive it, waiting for ever for its one client. A global: atexit() passes no
 * argument. */
static HANDLE runningServer;
static BOOL endWithUsRegistered; /* endWithUs() is registered */

static void endWithUs(void)
{
    if (runningServer != NULL && WaitForSingleObject(runningServer, 0) == WAIT_TIMEOUT &&
        !TerminateProcess(runningServer, 1))
        errMsg("TerminateProcess (named_pipe_server)");
}

/* One whole line of the server's output (without its line end): keep what we look for. */
static void noteLine(LabServer *lab, const char *line)
{
    if (strncmp(line, SESSION_TEXT, strlen(SESSION_TEXT)) == 0)
        snprintf(lab->session, sizeof lab->session, "%s", line);
    if (strncmp(line, READY_TEXT, strlen(READY_TEXT)) == 0 && lab->isReady == 0) {
        InterlockedExchange(&lab->isReady, 1);
        if (!SetEvent(lab->listening))
            errExit("SetEvent (the server listens)");
    }
}

/* Splits what came into lines; a line longer than IB_LAB_LINE is kept cut. */
static void takeOutput(LabServer *lab, const char *data, DWORD size)
{
    DWORD i;

    for (i = 0; i < size; i++) {
        if (data[i] == '\n') {
            if (lab->lineUsed > 0 && lab->line[lab->lineUsed - 1] == '\r')
                lab->lineUsed--;
            lab->line[lab->lineUsed] = '\0';
            noteLine(lab, lab->line);
            lab->lineUsed = 0;
        } else if (lab->lineUsed < sizeof lab->line - 1) {
            lab->line[lab->lineUsed++] = data[i];
        }
    }
}

/* The reader thread: until the server's stdout ends (ERROR_BROKEN_PIPE: it has exited). */
static DWORD WINAPI readOutput(void *parameter)
{
    LabServer *lab = parameter;
    char data[4096];
    DWORD got;

    while (ReadFile(lab->output, data, sizeof data, &got, NULL))
        takeOutput(lab, data, got);
    if (GetLastError() != ERROR_BROKEN_PIPE)
        errExit("ReadFile (named_pipe_server's stdout)");
    if (!SetEvent(lab->listening)) /* if it never said it listens, the bench must not wait */
        errExit("SetEvent (the server's output ended)");
    return 0;
}

/* `"PATH" --pipe NAME --max-clients 1`. CMake writes paths with '/': CreateProcessW wants '\'
 * (under Wine a path like \tmp\x.exe means that folder on the current drive, Z:, Linux's root). */
static void startServer(LabServer *lab, const char *path, const RunSpec *spec, HANDLE stdoutEnd)
{
    STARTUPINFOW startup = {.cb = sizeof startup, .dwFlags = STARTF_USESTDHANDLES};
    char text[MAX_PATH + 200], *c;
    wchar_t commandLine[MAX_PATH + 200];

    snprintf(text, sizeof text, "\"%s\" --pipe %s --max-clients 1", path, spec->name);
    for (c = text; *c != '\0' && *c != ' '; c++)
        if (*c == '/')
            *c = '\\';
    if (MultiByteToWideChar(CP_UTF8, 0, text, -1, commandLine, ARRAYSIZE(commandLine)) == 0)
        errExit("MultiByteToWideChar %s", text);
    startup.hStdOutput = stdoutEnd;
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE); /* its errors show as ours */
    if (startup.hStdError == INVALID_HANDLE_VALUE)
        errExit("GetStdHandle");
    if (!CreateProcessW(NULL, commandLine, NULL, NULL, TRUE, 0, NULL, NULL, &startup,
                        &lab->process))
        errExit("CreateProcessW %s", path);
}

/* Until it says it listens. Its output ends when it exits (only it holds the other end), so
 * the event comes either way, unless it hangs. */
static void awaitListening(LabServer *lab)
{
    DWORD wait = WaitForSingleObject(lab->listening, IB_IDLE_LIMIT_MS), code;

    if (wait == WAIT_TIMEOUT)
        fatal("named_pipe_server did not say it listens within %d s", IB_IDLE_LIMIT_MS / 1000);
    if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject (named_pipe_server listening)");
    if (lab->isReady)
        return;
    wait = WaitForSingleObject(lab->process.hProcess, IB_GRACE_MS);
    if (wait == WAIT_TIMEOUT)
        fatal("named_pipe_server closed its stdout before it said it listens");
    if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject (named_pipe_server)");
    if (!GetExitCodeProcess(lab->process.hProcess, &code))
        errExit("GetExitCodeProcess (named_pipe_server)");
    fatal("named_pipe_server exited (exit code %lu) before it said it listens", code);
}

void startLabServer(LabServer *lab, const char *path, const RunSpec *spec)
{
    HANDLE stdoutEnd;

    memset(lab, 0, sizeof *lab);
    if (!endWithUsRegistered && atexit(endWithUs) != 0)
        fatal("atexit failed");
    endWithUsRegistered = TRUE;
    lab->listening = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (lab->listening == NULL)
        errExit("CreateEventW");
    if (!CreatePipe(&lab->output, &stdoutEnd, NULL, 0))
        errExit("CreatePipe (named_pipe_server's stdout)");
    /* Only its end is inheritable: holding it, we would never see the output end. */
    if (!SetHandleInformation(stdoutEnd, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT))
        errExit("SetHandleInformation (named_pipe_server's stdout)");
    startServer(lab, path, spec, stdoutEnd);
    runningServer = lab->process.hProcess;
    if (!CloseHandle(stdoutEnd))
        errExit("CloseHandle (named_pipe_server's stdout)");
    lab->reader = CreateThread(NULL, 0, readOutput, lab, 0, NULL);
    if (lab->reader == NULL)
        errExit("CreateThread (named_pipe_server's stdout)");
    awaitListening(lab);
}

/* The end of the session, as named_pipe.h's protocol has it: "exit", echoed. */
void sayExit(Link *link)
{
    const unsigned char *bye = (const unsigned char *)NP_EXIT_MESSAGE;
    unsigned char echo[sizeof NP_EXIT_MESSAGE - 1];

    link->send(link, bye, sizeof echo);
    if (!link->receive(link, echo, sizeof echo))
        fatal("named_pipe_server closed the pipe before it echoed \"" NP_EXIT_MESSAGE "\"");
    if (memcmp(echo, bye, sizeof echo) != 0)
        fatal("named_pipe_server's reply to \"" NP_EXIT_MESSAGE "\" differs");
}

/* The server has exited: its output ends; its session line must count every message, "exit"
 * included, and give "exit" as the reason it ended. */
void endLabServer(LabServer *lab, const RunSpec *spec)
{
    char expected[IB_LAB_LINE];
    DWORD wait = WaitForSingleObject(lab->reader, IB_GRACE_MS);

    runningServer = NULL; /* it has exited */
    if (wait == WAIT_TIMEOUT)
        fatal("named_pipe_server's stdout did not end within %d s of its exit", IB_GRACE_MS / 1000);
    if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject (the reader thread)");
    snprintf(expected, sizeof expected,
             SESSION_TEXT "after %ld messages: the client sent " NP_EXIT_MESSAGE, spec->total + 1);
    if (strcmp(lab->session, expected) != 0)
        fatal("named_pipe_server logged \"%s\", not \"%s\"",
              lab->session[0] != '\0' ? lab->session : "no end of session", expected);
    if (!CloseHandle(lab->reader))
        errExit("CloseHandle (the reader thread)");
    if (!CloseHandle(lab->output))
        errExit("CloseHandle (named_pipe_server's stdout)");
    if (!CloseHandle(lab->listening))
        errExit("CloseHandle (the listening event)");
    if (!CloseHandle(lab->process.hThread))
        errExit("CloseHandle (named_pipe_server's thread)");
    if (!CloseHandle(lab->process.hProcess))
        errExit("CloseHandle (named_pipe_server)");
}
