/* testkit.c -- test-only: the helpers declared in testkit.h. */
#include "testkit.h"

#include <psapi.h>
#include <string.h>
#include <wchar.h>

#define SETTLE_POLL_MS 50 /* how often resourcesSettle looks again */

static volatile LONG steps; /* progress() calls so far */
static const char *volatile stepName = "starting";
static volatile LONG stepNumber;

void progress(const char *step, long number)
{
    stepName = step;
    if (number >= 0) /* -1: a step within the last numbered one */
        InterlockedExchange(&stepNumber, number);
    InterlockedIncrement(&steps);
}

static DWORD WINAPI watch(LPVOID param)
{
    DWORD quietMs = (DWORD)(ULONG_PTR)param;
    LONG seen = -1;

    for (;;) {
        Sleep(quietMs); /* a step that takes this long is stuck */
        if (steps == seen)
            fatal("FAIL: no progress for %lu s: stuck %s (in step %ld)",
                  (unsigned long)(quietMs / 1000), stepName, (long)stepNumber);
        seen = steps;
    }
}

void startWatchdog(DWORD quietMs)
{
    HANDLE thread = CreateThread(NULL, 0, watch, (LPVOID)(ULONG_PTR)quietMs, 0, NULL);

    if (thread == NULL)
        errExit("CreateThread (watchdog)");
    if (!CloseHandle(thread))
        errExit("CloseHandle");
}

BOOL takeProbeOption(int argc, char *argv[], int *i, ProbeOptions *options)
{
    const char *option = argv[*i];

    if (strcmp(option, "--cycles") == 0)
        options->cycles = getNumber(optionValue(argc, argv, i), 1, 10000000, option);
    else if (strcmp(option, "--inputs") == 0)
        options->inputs = getNumber(optionValue(argc, argv, i), 1, 100000000, option);
    else if (strcmp(option, "--server-pid") == 0)
        options->serverPid = (DWORD)getNumber(optionValue(argc, argv, i), 1, 0x7FFFFFFF, option);
    else if (strcmp(option, "--seed") == 0)
        options->seed = (DWORD)getNumber(optionValue(argc, argv, i), 1, 0x7FFFFFFF, option);
    else
        return FALSE;
    return TRUE;
}

void finishProbeOptions(ProbeOptions *options)
{
    if (options->seed == 0) /* a new sequence each run; the fuzzers print it */
        options->seed = (GetTickCount() ^ GetCurrentProcessId()) % 0x7FFFFFFF + 1;
}

DWORD nextRandom(DWORD *state)
{
    DWORD x = *state;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

DWORD randomBelow(DWORD *state, DWORD n)
{
    return nextRandom(state) % n;
}

void readResources(DWORD pid, Resources *now)
{
    HANDLE process = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, pid);
    PROCESS_MEMORY_COUNTERS memory;

    if (process == NULL)
        errExit("OpenProcess %lu", (unsigned long)pid);
    now->handles = 0;
    if (!GetProcessHandleCount(process, &now->handles))
        errExit("GetProcessHandleCount");
    /* Wine succeeds and leaves the count alone. (Its system handle table, which
     * NtQuerySystemInformation reads, would have the count -- but reading it while other
     * processes exit crashes Wine 8's wineserver, and every program of the prefix with it.) */
    now->counted = now->handles != 0;
    ZeroMemory(&memory, sizeof memory);
    memory.cb = sizeof memory;
    if (!GetProcessMemoryInfo(process, &memory, sizeof memory))
        errExit("GetProcessMemoryInfo");
    now->privateBytes = memory.PagefileUsage;
    if (!CloseHandle(process))
        errExit("CloseHandle");
}

BOOL resourcesSettle(DWORD pid, const Resources *before, DWORD handleSlack, SIZE_T byteSlack,
                     DWORD waitMs)
{
    ULONGLONG deadline = GetTickCount64() + waitMs;
    Resources now;
    BOOL settled;

    for (;;) {
        readResources(pid, &now);
        settled = (!before->counted || now.handles <= before->handles + handleSlack) &&
                  now.privateBytes <= before->privateBytes + byteSlack;
        if (settled || GetTickCount64() >= deadline)
            break;
        Sleep(SETTLE_POLL_MS); /* nothing signals "the server has cleaned up" */
    }
    if (before->counted)
        say("resources: %s: handles %lu -> %lu (slack %lu), private bytes %lu KiB -> %lu KiB "
            "(slack %lu KiB)\n",
            settled ? "ok" : "FAIL", (unsigned long)before->handles, (unsigned long)now.handles,
            (unsigned long)handleSlack, (unsigned long)(before->privateBytes / 1024),
            (unsigned long)(now.privateBytes / 1024), (unsigned long)(byteSlack / 1024));
    else
        say("resources: %s: handles not counted (Wine), private bytes %lu KiB -> %lu KiB "
            "(slack %lu KiB)\n",
            settled ? "ok" : "FAIL", (unsigned long)(before->privateBytes / 1024),
            (unsigned long)(now.privateBytes / 1024), (unsigned long)(byteSlack / 1024));
    return settled;
}

/* Our standard handle stops being inheritable, if it was. */
static void notInherited(DWORD stream)
{
    HANDLE handle = GetStdHandle(stream);
    DWORD flags;

    if (handle != NULL && handle != INVALID_HANDLE_VALUE && GetHandleInformation(handle, &flags) &&
        (flags & HANDLE_FLAG_INHERIT) != 0 && !SetHandleInformation(handle, HANDLE_FLAG_INHERIT, 0))
        errExit("SetHandleInformation");
}

BOOL runAndKill(wchar_t *commandLine, const char *marker)
{
    SECURITY_ATTRIBUTES inheritable = {sizeof(SECURITY_ATTRIBUTES), NULL, TRUE};
    HANDLE inRead, inWrite, outRead, outWrite;
    STARTUPINFOW startup;
    PROCESS_INFORMATION child;
    char text[8192] = "", command[4096];
    DWORD used = 0, n;
    BOOL seen = FALSE;
    char *line, *end;

    if (WideCharToMultiByte(CP_UTF8, 0, commandLine, -1, command, (int)sizeof command, NULL,
                            NULL) == 0)
        errExit("WideCharToMultiByte");

    /* The child gets these pipes, and nothing else of ours: not our own
     * standard handles, which the harness reads until every copy is closed. */
    notInherited(STD_INPUT_HANDLE);
    notInherited(STD_OUTPUT_HANDLE);
    notInherited(STD_ERROR_HANDLE);
    if (!CreatePipe(&inRead, &inWrite, &inheritable, 0))
        errExit("CreatePipe (stdin)");
    if (!CreatePipe(&outRead, &outWrite, &inheritable, 0))
        errExit("CreatePipe (stdout)");
    if (!SetHandleInformation(inWrite, HANDLE_FLAG_INHERIT, 0) ||
        !SetHandleInformation(outRead, HANDLE_FLAG_INHERIT, 0))
        errExit("SetHandleInformation");
    ZeroMemory(&startup, sizeof startup);
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = inRead;
    startup.hStdOutput = startup.hStdError = outWrite;
    if (!CreateProcessW(NULL, commandLine, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &child)) {
        /* Under Wine 1359 means it died while starting: show what it said. */
        DWORD error = GetLastError();
        if (CloseHandle(outWrite) && ReadFile(outRead, text, sizeof text - 1, &n, NULL))
            text[n] = '\0';
        SetLastError(error);
        errExit("CreateProcessW %s%s%s", command, text[0] != '\0' ? "; it said: " : "", text);
    }
    if (!CloseHandle(child.hThread) || !CloseHandle(inRead) || !CloseHandle(outWrite))
        errExit("CloseHandle");

    progress("waiting for a client we started to print its line", -1);
    /* Its stdout, a line at a time, until the marker (or its end). */
    while (!seen && used < sizeof text - 1 &&
           ReadFile(outRead, text + used, (DWORD)(sizeof text - 1 - used), &n, NULL) && n > 0) {
        used += n;
        text[used] = '\0';
        for (line = text; !seen && (end = strchr(line, '\n')) != NULL; line = end + 1)
            seen = strncmp(line, marker, strlen(marker)) == 0;
    }
    progress("killing a client we started", -1);
    if (seen && !TerminateProcess(child.hProcess, 1))
        errExit("TerminateProcess");
    if (WaitForSingleObject(child.hProcess, INFINITE) != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    if (!seen)
        warn("%s ended before printing \"%s\"; it said: %s", command, marker, text);
    if (!CloseHandle(child.hProcess) || !CloseHandle(inWrite) || !CloseHandle(outRead))
        errExit("CloseHandle");
    return seen;
}
