/* probe.c -- named_pipe_probe: test-only. Not one of the report's listings,
 * and nothing a student needs to read: clients that behave as no lab client
 * would, to show that named_pipe_server survives them. The reliability
 * tests run it; each mode ends with a line that says whether the server
 * held.
 *
 * Usage: named_pipe_probe MODE [--pipe NAME] [OPTION...]
 *   churn --cycles N [--server-pid PID]
 *       N connect/exchange/disconnect cycles, half of them abrupt: opened
 *       and closed at once, closed in the middle of a message, closed
 *       before the reply, a named_pipe_client killed mid-session. Then a
 *       normal exchange, and (with the server's PID) its handles and memory
 *       back within a slack.
 *   come-and-go --clients N --rounds R
 *       N threads at once, each opening the pipe and closing it again R
 *       times, as fast as they can: clients the server finds gone when it
 *       looks (ERROR_NO_DATA). Then a normal exchange.
 *   burst --clients N [--first-try]
 *       N clients released at the same moment, each exchanging a message;
 *       every one must be served. --first-try: each holds its connection
 *       until all have one, and none may meet ERROR_PIPE_BUSY (for N up to
 *       the server's NP_LISTENING instances).
 *   fuzz --inputs N [--seed S]
 *       N random messages -- empty, binary, NULs, invalid UTF-8, up to past
 *       NP_MAX_MESSAGE, and "exit" -- each echo checked byte for byte, and
 *       each over-long one answered by the end of the session.
 *   big --bytes N
 *       One message of N bytes ("0123456789..."), more than the pipe's
 *       buffer, so the server reads it in parts (ERROR_MORE_DATA); its echo
 *       checked byte for byte and shown as named_pipe_client shows a reply.
 * Exit status 0: the server held; 1: it did not (or a call failed); 2: usage.
 */
#include "named_pipe.h"
#include "testkit.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define HANDLE_SLACK 16 /* churn: resources allowed to stay */
#define BYTE_SLACK (2 * 1024 * 1024)
#define SETTLE_MS 10000
#define MAX_BURST 1000
#define WATCHDOG_MS 40000 /* a step this long is stuck (a busy pipe waits 20 s) */

static const char usage[] =
    "Usage: named_pipe_probe churn|come-and-go|burst|fuzz|big [--pipe NAME] [OPTION...]\n"
    "  churn --cycles N [--server-pid PID]\n"
    "  come-and-go --clients N --rounds R\n"
    "  burst --clients N [--first-try]\n"
    "  fuzz --inputs N [--seed S]\n"
    "  big --bytes N\n"
    "Test-only: see the top of named_pipe/probe.c.\n";

static wchar_t widePath[NP_MAX_NAME + 16];
static char path[NP_MAX_NAME + 16];

/* Opens the pipe as named_pipe_client does: a busy pipe is waited for
 * (WaitNamedPipe), never past NP_BUSY_WAIT_MS. *busy counts the waits. */
static HANDLE openPipe(DWORD flags, volatile LONG *busy)
{
    ULONGLONG deadline = GetTickCount64() + NP_BUSY_WAIT_MS;
    DWORD mode = PIPE_READMODE_MESSAGE;
    HANDLE pipe;

    for (;;) {
        progress("opening the pipe", -1);
        pipe = CreateFileW(widePath, NP_CLIENT_ACCESS, 0, NULL, OPEN_EXISTING, flags, NULL);
        if (pipe != INVALID_HANDLE_VALUE)
            break;
        if (GetLastError() == ERROR_FILE_NOT_FOUND)
            fatal("FAIL: %s does not exist: the server is gone", path);
        if (GetLastError() != ERROR_PIPE_BUSY)
            errExit("CreateFileW %s", path);
        if (busy != NULL)
            InterlockedIncrement(busy);
        if (GetTickCount64() >= deadline)
            fatal("FAIL: %s stayed busy for %d s", path, NP_BUSY_WAIT_MS / 1000);
        if (!WaitNamedPipeW(widePath, (DWORD)(deadline - GetTickCount64())) &&
            GetLastError() != ERROR_SEM_TIMEOUT && GetLastError() != ERROR_FILE_NOT_FOUND)
            errExit("WaitNamedPipeW %s", path);
    }
    if (!SetNamedPipeHandleState(pipe, &mode, NULL, NULL))
        errExit("SetNamedPipeHandleState");
    return pipe;
}

static void closePipe(HANDLE pipe)
{
    if (!CloseHandle(pipe))
        errExit("CloseHandle");
}

/* Reads one whole message into buffer (size bytes); FALSE when the server
 * ended the session. */
static BOOL readReply(HANDLE pipe, char *buffer, DWORD size, DWORD *length)
{
    DWORD n;
    BOOL ok;

    *length = 0;
    do {
        ok = ReadFile(pipe, buffer + *length, size - *length, &n, NULL);
        *length += n;
    } while (!ok && GetLastError() == ERROR_MORE_DATA && *length < size);
    if (ok)
        return TRUE;
    if (GetLastError() == ERROR_BROKEN_PIPE || GetLastError() == ERROR_PIPE_NOT_CONNECTED)
        return FALSE;
    if (GetLastError() == ERROR_MORE_DATA)
        fatal("FAIL: a reply over %lu bytes", (unsigned long)size);
    errExit("ReadFile");
}

/* FALSE when the server has ended the session. */
static BOOL sendMessage(HANDLE pipe, const char *message, DWORD length)
{
    DWORD written;

    if (WriteFile(pipe, message, length, &written, NULL))
        return TRUE;
    if (GetLastError() == ERROR_NO_DATA || GetLastError() == ERROR_BROKEN_PIPE ||
        GetLastError() == ERROR_PIPE_NOT_CONNECTED)
        return FALSE;
    errExit("WriteFile");
}

/* Sends a message and checks that the reply is the same bytes. */
static void exchange(HANDLE pipe, const char *message, DWORD length)
{
    char reply[NP_MAX_MESSAGE + 1]; /* on the stack: threads call this at once */
    DWORD got;

    progress("sending a message", -1);
    if (!sendMessage(pipe, message, length))
        fatal("FAIL: the server closed the pipe before a message");
    progress("waiting for the reply", -1);
    if (!readReply(pipe, reply, sizeof reply, &got))
        fatal("FAIL: the server closed the pipe instead of replying");
    if (got != length || memcmp(reply, message, length) != 0)
        fatal("FAIL: the reply (%lu bytes) is not the message (%lu bytes)", (unsigned long)got,
              (unsigned long)length);
}

static void normalSession(long i)
{
    char text[64];
    HANDLE pipe = openPipe(0, NULL);

    snprintf(text, sizeof text, "churn %ld", i);
    exchange(pipe, text, (DWORD)strlen(text));
    closePipe(pipe);
}

/* Starts writing a message too big for the pipe's buffer, and closes the
 * pipe while the write is still under way: the server has read part. */
static void closeMidMessage(void)
{
    static char big[NP_MAX_MESSAGE];
    HANDLE pipe = openPipe(FILE_FLAG_OVERLAPPED, NULL);
    OVERLAPPED io;

    ZeroMemory(&io, sizeof io);
    io.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (io.hEvent == NULL)
        errExit("CreateEventW");
    memset(big, 'm', sizeof big);
    if (!WriteFile(pipe, big, sizeof big, NULL, &io) && GetLastError() != ERROR_IO_PENDING)
        errExit("WriteFile");
    progress("cancelling a write under way", -1);
    if (!CancelIoEx(pipe, &io) && GetLastError() != ERROR_NOT_FOUND)
        errExit("CancelIoEx");
    if (WaitForSingleObject(io.hEvent, INFINITE) != WAIT_OBJECT_0) /* cancelled, or done */
        errExit("WaitForSingleObject");
    closePipe(pipe);
    if (!CloseHandle(io.hEvent))
        errExit("CloseHandle");
}

static void churn(long cycles, DWORD serverPid, const wchar_t *name)
{
    long i, kinds[12] = {0};
    wchar_t client[MAX_PATH], command[2 * MAX_PATH];
    Resources before;
    HANDLE pipe;

    if (!pathBesideProgram(L"named_pipe_client.exe", client, MAX_PATH))
        errExit("GetModuleFileNameW");
    swprintf(command, sizeof command / sizeof command[0], L"\"%ls\" --pipe \"%ls\"", client, name);
    for (i = 0; i < 12; i++) /* warm up: the server's first sessions allocate for good */
        normalSession(i);
    if (serverPid != 0)
        readResources(serverPid, &before);
    for (i = 0; i < cycles; i++) {
        progress("in churn cycle", i);
        switch (i % 12) {
        case 6:
        case 7: /* opened and closed at once */ closePipe(openPipe(0, NULL)); break;
        case 8:
        case 9: closeMidMessage(); break;
        case 10: /* a message, then gone before the reply */
            pipe = openPipe(0, NULL);
            (void)sendMessage(pipe, "never read", 10);
            closePipe(pipe);
            break;
        case 11: /* a real client killed at its prompt */
            if (!runAndKill(command, "named_pipe_client: connected"))
                fatal("FAIL: named_pipe_client did not connect");
            break;
        case 5: /* "exit": the server ends the session after the echo */
            pipe = openPipe(0, NULL);
            exchange(pipe, NP_EXIT_MESSAGE, (DWORD)strlen(NP_EXIT_MESSAGE));
            closePipe(pipe);
            break;
        default: normalSession(i);
        }
        kinds[i % 12]++;
    }
    normalSession(cycles);
    say("churn: %ld cycles, %ld abrupt (%ld opened and closed at once, %ld closed mid-message, "
        "%ld gone before the reply, %ld clients killed), then a normal client was served\n",
        cycles, kinds[6] + kinds[7] + kinds[8] + kinds[9] + kinds[10] + kinds[11],
        kinds[6] + kinds[7], kinds[8] + kinds[9], kinds[10], kinds[11]);
    if (serverPid != 0 && !resourcesSettle(serverPid, &before, HANDLE_SLACK, BYTE_SLACK, SETTLE_MS))
        fatal("FAIL: the server kept what its clients cost");
}

/* ---- many clients at once --------------------------------------------- */

typedef struct {
    long number, rounds;
    BOOL hold;
} Client;

static HANDLE ready, go, allIn; /* manual-reset: all at the start line; start; all in */
static volatile LONG waiting, connected, busyWaits;
static long clientCount;

static DWORD WINAPI burstClient(LPVOID param)
{
    Client *c = param;
    long round;
    char text[64];
    HANDLE pipe;

    if (InterlockedIncrement(&waiting) == clientCount && !SetEvent(ready))
        errExit("SetEvent");
    if (WaitForSingleObject(go, INFINITE) != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    for (round = 0; round < c->rounds; round++) { /* come and go */
        pipe = openPipe(0, NULL);
        closePipe(pipe);
    }
    if (c->rounds > 0)
        return 0;
    pipe = openPipe(0, &busyWaits);
    if (c->hold && InterlockedIncrement(&connected) == clientCount && !SetEvent(allIn))
        errExit("SetEvent");
    if (c->hold && WaitForSingleObject(allIn, NP_BUSY_WAIT_MS) != WAIT_OBJECT_0)
        fatal("FAIL: not every client got a connection at the first try");
    snprintf(text, sizeof text, "burst %ld", c->number);
    exchange(pipe, text, (DWORD)strlen(text));
    closePipe(pipe);
    return 0;
}

/* Starts count threads, lets them all go at the same moment, waits. */
static void crowd(long count, long rounds, BOOL hold)
{
    static Client clients[MAX_BURST];
    static HANDLE threads[MAX_BURST];
    long i;

    clientCount = count;
    ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (ready == NULL)
        errExit("CreateEventW (ready)");
    go = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (go == NULL)
        errExit("CreateEventW (go)");
    allIn = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (allIn == NULL)
        errExit("CreateEventW (all in)");
    for (i = 0; i < count; i++) {
        clients[i].number = i + 1;
        clients[i].rounds = rounds;
        clients[i].hold = hold;
        threads[i] = CreateThread(NULL, 0, burstClient, &clients[i], 0, NULL);
        if (threads[i] == NULL)
            errExit("CreateThread");
    }
    if (WaitForSingleObject(ready, INFINITE) != WAIT_OBJECT_0) /* all at the line */
        errExit("WaitForSingleObject");
    if (!SetEvent(go))
        errExit("SetEvent");
    for (i = 0; i < count; i++) {
        if (WaitForSingleObject(threads[i], INFINITE) != WAIT_OBJECT_0)
            errExit("WaitForSingleObject");
        if (!CloseHandle(threads[i]))
            errExit("CloseHandle");
    }
    if (!CloseHandle(ready))
        errExit("CloseHandle (ready)");
    if (!CloseHandle(go))
        errExit("CloseHandle (go)");
    if (!CloseHandle(allIn))
        errExit("CloseHandle (all in)");
}

/* ---- fuzz -------------------------------------------------------------- */

static void fuzz(long inputs, DWORD seed)
{
    static char message[NP_MAX_MESSAGE + 200], reply[NP_MAX_MESSAGE + 1];
    static const char *const pieces[] = {"привет",  "\xff", "\xc0\xaf", "\xed\xa0\x80", "\n",
                                         "\x1b[2J", "\r",   "exit",     "\t",           "ёжик"};
    DWORD r = seed, length, got, kind, i;
    HANDLE pipe = NULL;
    long n, sessions = 0, echoes = 0, tooLong = 0;

    say("fuzz: seed %lu (replay with --seed %lu)\n", (unsigned long)seed, (unsigned long)seed);
    for (n = 0; n < inputs; n++) {
        progress("at fuzz input", n);
        if (pipe == NULL) {
            pipe = openPipe(0, NULL);
            sessions++;
        }
        kind = randomBelow(&r, 100);
        if (kind < 5) { /* empty */
            length = 0;
        } else if (kind < 8) { /* exit */
            length = (DWORD)strlen(NP_EXIT_MESSAGE);
            memcpy(message, NP_EXIT_MESSAGE, length);
        } else if (kind < 12) { /* around the limit, either side */
            length = NP_MAX_MESSAGE - 100 + randomBelow(&r, 200);
            memset(message, 'z', length);
        } else if (kind < 50) { /* random bytes, NULs among them */
            length = randomBelow(&r, 5000);
            for (i = 0; i < length; i++)
                message[i] = (char)randomBelow(&r, 256);
        } else { /* pieces of text, bad UTF-8 and control characters */
            length = 0;
            for (i = randomBelow(&r, 12); i > 0; i--) {
                const char *piece = pieces[randomBelow(&r, sizeof pieces / sizeof pieces[0])];
                memcpy(message + length, piece, strlen(piece));
                length += (DWORD)strlen(piece);
            }
        }
        progress("sending a fuzz message", -1);
        if (!sendMessage(pipe, message, length) && length <= NP_MAX_MESSAGE)
            fatal("FAIL (seed %lu): the server ended the session before message %ld",
                  (unsigned long)seed, n + 1);
        if (length > NP_MAX_MESSAGE) { /* the server ends the session, unanswered */
            if (readReply(pipe, reply, sizeof reply, &got))
                fatal("FAIL (seed %lu): a reply to a message over the limit", (unsigned long)seed);
            tooLong++;
        } else {
            if (!readReply(pipe, reply, sizeof reply, &got))
                fatal("FAIL (seed %lu): the server ended the session at message %ld",
                      (unsigned long)seed, n + 1);
            if (got != length || memcmp(reply, message, length) != 0)
                fatal("FAIL (seed %lu): the echo of message %ld differs", (unsigned long)seed,
                      n + 1);
            echoes++;
            if (length != strlen(NP_EXIT_MESSAGE) || memcmp(message, NP_EXIT_MESSAGE, length) != 0)
                continue;
            if (readReply(pipe, reply, sizeof reply, &got)) /* after exit: the end */
                fatal("FAIL (seed %lu): the session went on after exit", (unsigned long)seed);
        }
        closePipe(pipe);
        pipe = NULL;
    }
    if (pipe != NULL)
        closePipe(pipe);
    normalSession(inputs);
    say("fuzz: %ld messages in %ld sessions: %ld echoed byte for byte, %ld over the limit "
        "ended their session, then a normal client was served\n",
        inputs, sessions, echoes, tooLong);
}

/* One message longer than the pipe's buffer; shown as its beginning and its length. */
static void bigMessage(long bytes)
{
    static char message[NP_MAX_MESSAGE];
    HANDLE pipe = openPipe(0, NULL);
    long i;

    for (i = 0; i < bytes; i++)
        message[i] = (char)('0' + i % 10);
    exchange(pipe, message, (DWORD)bytes);
    closePipe(pipe);
    say("Received from server: %.60s... (%ld bytes)\n", message, bytes);
    say("named_pipe_probe: 1 messages sent, 1 replies matched\n");
}

int main(int argc, char *argv[])
{
    const char *name = NP_DEFAULT_PIPE, *mode;
    wchar_t wideName[NP_MAX_NAME + 1];
    ProbeOptions options = {0, 0, 0, 0};
    long clients = 0, rounds = 0, bytes = 0;
    BOOL firstTry = FALSE;
    int i;

    initProgram(&argc, &argv, usage);
    if (argc < 2)
        usageErr("which mode?");
    if (strcmp(argv[1], "--help") == 0)
        showHelp();
    mode = argv[1];
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--pipe") == 0)
            name = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--clients") == 0)
            clients = getNumber(optionValue(argc, argv, &i), 1, MAX_BURST, "--clients");
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = getNumber(optionValue(argc, argv, &i), 1, 1000000, "--rounds");
        else if (strcmp(argv[i], "--bytes") == 0)
            bytes = getNumber(optionValue(argc, argv, &i), 100, NP_MAX_MESSAGE, "--bytes");
        else if (strcmp(argv[i], "--first-try") == 0)
            firstTry = TRUE;
        else if (!takeProbeOption(argc, argv, &i, &options))
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    finishProbeOptions(&options);
    startWatchdog(WATCHDOG_MS);
    if (name[0] == '\0' || strchr(name, '\\') != NULL || strlen(name) > NP_MAX_NAME)
        usageErr("--pipe wants a name of 1 to %d characters without '\\'", NP_MAX_NAME);
    snprintf(path, sizeof path, "\\\\.\\pipe\\%s", name);
    if (MultiByteToWideChar(CP_UTF8, 0, path, -1, widePath, NP_MAX_NAME + 16) == 0)
        errExit("MultiByteToWideChar (path)");
    if (MultiByteToWideChar(CP_UTF8, 0, name, -1, wideName, NP_MAX_NAME + 1) == 0)
        errExit("MultiByteToWideChar (name)");

    if (strcmp(mode, "churn") == 0 && options.cycles > 0) {
        churn(options.cycles, options.serverPid, wideName);
    } else if (strcmp(mode, "come-and-go") == 0 && clients > 0 && rounds > 0) {
        crowd(clients, rounds, FALSE);
        normalSession(0);
        say("come-and-go: %ld clients opened and closed the pipe %ld times each, all at "
            "once, then a normal client was served\n",
            clients, rounds);
    } else if (strcmp(mode, "burst") == 0 && clients > 0) {
        crowd(clients, 0, firstTry);
        say("burst: %ld clients at the same moment, all served, %ld times a client found "
            "every instance busy and waited\n",
            clients, (long)busyWaits);
        if (firstTry && busyWaits > 0)
            fatal("FAIL: with --first-try no client may find the pipe busy");
    } else if (strcmp(mode, "fuzz") == 0 && options.inputs > 0) {
        fuzz(options.inputs, options.seed);
    } else if (strcmp(mode, "big") == 0 && bytes > 0) {
        bigMessage(bytes);
    } else {
        usageErr("\"%s\": a mode and its counts (--cycles, --clients, --rounds, --inputs, --bytes)",
                 mode);
    }
    say("named_pipe_probe: %s: the server held\n", mode);
    return 0;
}
