/* server.c -- named_pipe_server: the report's listings 3 and 5, fixed.
 *
 * Keeps NP_LISTENING instances of the named pipe \\.\pipe\NAME (message
 * mode) waiting for clients, and serves each client that connects in a
 * thread of its own (thread per client, as in the listing): every message
 * received is logged and written back unchanged; "exit" ends that client's
 * session. The client is in client.c, the protocol and the security
 * choices in named_pipe.h.
 *
 * Usage: named_pipe_server [--pipe NAME] [--remote] [--max-clients N]
 *
 * What the listings got wrong, and what this program does instead:
 *  - Wide and narrow text were mixed (TCHAR buffers compared with L"exit",
 *    lstrlen on received bytes). Here messages are UTF-8 bytes with a
 *    length -- the bytes ReadFile returned, which is also what is echoed.
 *  - A message larger than the buffer was cut; ReadFile's ERROR_MORE_DATA
 *    now means "more of this message", read on (up to NP_MAX_MESSAGE).
 *  - HeapFree was called on the pipe handle; the handle is closed, the
 *    buffer freed, in every session however it ends.
 *  - Listing 5 passed a NULL DACL to the client's CreateFile, where it means
 *    nothing, and left the pipe itself with the default DACL. --remote gives
 *    the pipe a minimal SDDL DACL instead; by default remote clients are
 *    rejected and the name is guarded against squatting (named_pipe.h).
 *  - One instance listened at a time, so clients arriving together met
 *    ERROR_PIPE_BUSY and queued. NP_LISTENING instances wait at once.
 *  - ConnectNamedPipe failing was the end of the server. A client that
 *    opened the pipe and closed it before the server looked (ERROR_NO_DATA)
 *    is a normal event: that instance is freed and listens again.
 *  - _getch() pauses and a loop with no way out: it now stops on Ctrl-C
 *    (the handler only signals an event; the main loop cancels the pending
 *    ConnectNamedPipe calls) or after --max-clients sessions.
 */
#include "named_pipe.h"
#include "args.h"

#include <sddl.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: named_pipe_server [--pipe NAME] [--remote] [--max-clients N]\n"
    "\n"
    "Serves clients on \\\\.\\pipe\\NAME in message mode, a thread per client;\n"
    "writes each message back. Stops on Ctrl-C, or after N client sessions.\n"
    "\n"
    "  --pipe NAME      the pipe's name (default " NP_DEFAULT_PIPE ")\n"
    "  --remote         accept clients from other machines (explicit DACL)\n"
    "  --max-clients N  serve N clients, wait for their sessions, then exit\n"
    "  --help           show this text\n";

typedef struct {
    HANDLE pipe, event; /* the event: for the session's overlapped I/O */
    long number;
} Session;

typedef struct {
    HANDLE pipe;        /* an instance waiting for a client */
    OVERLAPPED connect; /* its ConnectNamedPipe; hEvent is set when a client comes */
    BOOL early;         /* the client came before ConnectNamedPipe was called */
} Listener;

static HANDLE stopEvent;               /* Ctrl-C */
static volatile LONG sessionsLeft = 1; /* running sessions, +1 for main */
static HANDLE sessionsDone;            /* set when sessionsLeft reaches 0 */

static BOOL WINAPI onControl(DWORD event)
{
    if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT)
        return FALSE;
    return SetEvent(stopEvent); /* the only safe thing here: wake main */
}

/* The instance was created for overlapped I/O (so that main can cancel
 * ConnectNamedPipe), so a session's reads and writes are overlapped too:
 * each is started, then waited for. ERROR_MORE_DATA shows in the result. */
static BOOL readPart(Session *s, char *buffer, DWORD size, DWORD *got)
{
    OVERLAPPED io;

    ZeroMemory(&io, sizeof io);
    io.hEvent = s->event;
    if (!ReadFile(s->pipe, buffer, size, NULL, &io) && GetLastError() != ERROR_IO_PENDING &&
        GetLastError() != ERROR_MORE_DATA)
        return FALSE;
    return GetOverlappedResult(s->pipe, &io, got, TRUE);
}

static BOOL writeMessage(Session *s, const char *message, DWORD length)
{
    OVERLAPPED io;
    DWORD written;

    ZeroMemory(&io, sizeof io);
    io.hEvent = s->event;
    if (!WriteFile(s->pipe, message, length, NULL, &io) && GetLastError() != ERROR_IO_PENDING)
        return FALSE;
    return GetOverlappedResult(s->pipe, &io, &written, TRUE) && written == length;
}

static DWORD WINAPI serveClient(LPVOID param)
{
    Session *s = param;
    char *message = HeapAlloc(GetProcessHeap(), 0, NP_MAX_MESSAGE + 1);
    const char *ending = "the client closed the pipe";
    long count = 0;
    DWORD length, n, error;
    BOOL ok;

    if (message == NULL)
        fatal("HeapAlloc: no memory for client %ld's messages", s->number);
    for (;;) {
        /* A message longer than one read comes in parts: ERROR_MORE_DATA. */
        length = 0;
        do {
            DWORD room = NP_MAX_MESSAGE - length;
            ok = readPart(s, message + length, room < NP_BUFFER_BYTES ? room : NP_BUFFER_BYTES, &n);
            length += n;
        } while (!ok && GetLastError() == ERROR_MORE_DATA && length < NP_MAX_MESSAGE);
        if (!ok) {
            error = GetLastError();
            if (error == ERROR_MORE_DATA) {
                ending = "a message over the size limit";
            } else if (error != ERROR_BROKEN_PIPE && error != ERROR_PIPE_NOT_CONNECTED) {
                errMsg("ReadFile (client %ld)", s->number);
                ending = "a read failed";
            }
            break;
        }
        count++;
        showMessage("Get client msg: ", message, length);
        if (!writeMessage(s, message, length)) {
            error = GetLastError();
            if (error == ERROR_NO_DATA || error == ERROR_BROKEN_PIPE ||
                error == ERROR_PIPE_NOT_CONNECTED) {
                ending = "the client closed the pipe before its reply";
            } else {
                errMsg("WriteFile (client %ld)", s->number);
                ending = "a reply could not be written";
            }
            break;
        }
        if (length == strlen(NP_EXIT_MESSAGE) && memcmp(message, NP_EXIT_MESSAGE, length) == 0) {
            ending = "the client sent " NP_EXIT_MESSAGE;
            /* Let the client read the echo before we disconnect it. */
            if (!FlushFileBuffers(s->pipe))
                errMsg("FlushFileBuffers (client %ld)", s->number);
            break;
        }
    }
    say("client %ld: session ended after %ld messages: %s\n", s->number, count, ending);
    if (!DisconnectNamedPipe(s->pipe) && GetLastError() != ERROR_PIPE_NOT_CONNECTED)
        errMsg("DisconnectNamedPipe (client %ld)", s->number);
    if (!CloseHandle(s->pipe))
        errMsg("CloseHandle (client %ld's pipe)", s->number);
    if (!CloseHandle(s->event))
        errMsg("CloseHandle (client %ld's event)", s->number);
    if (!HeapFree(GetProcessHeap(), 0, message) || !HeapFree(GetProcessHeap(), 0, s))
        errMsg("HeapFree (client %ld)", s->number);
    if (InterlockedDecrement(&sessionsLeft) == 0 && !SetEvent(sessionsDone))
        errExit("SetEvent");
    return 0;
}

/* A session thread owns the connected instance from now on. */
static void startSession(HANDLE pipe, long number)
{
    Session *s = HeapAlloc(GetProcessHeap(), 0, sizeof *s);
    HANDLE thread;

    if (s == NULL)
        fatal("HeapAlloc: no memory for a session");
    s->pipe = pipe;
    s->number = number;
    s->event = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (s->event == NULL)
        errExit("CreateEventW");
    InterlockedIncrement(&sessionsLeft);
    thread = CreateThread(NULL, 0, serveClient, s, 0, NULL);
    if (thread == NULL)
        errExit("CreateThread");
    if (!CloseHandle(thread)) /* the session cleans up after itself */
        errExit("CloseHandle");
}

/* Waits for a client on l's instance. The usual outcome is "pending": the
 * event is set when one connects. A client may also have come first: still
 * there (ERROR_PIPE_CONNECTED), or come and gone already (ERROR_NO_DATA),
 * which is no error -- disconnect it, and wait for the next. */
static void awaitClient(Listener *l)
{
    HANDLE event = l->connect.hEvent;

    for (;;) {
        ZeroMemory(&l->connect, sizeof l->connect);
        l->connect.hEvent = event;
        l->early = FALSE;
        if (!ResetEvent(event))
            errExit("ResetEvent");
        if (ConnectNamedPipe(l->pipe, &l->connect) || GetLastError() == ERROR_PIPE_CONNECTED) {
            l->early = TRUE;
            if (!SetEvent(event)) /* main handles it like any other client */
                errExit("SetEvent");
            return;
        }
        if (GetLastError() == ERROR_IO_PENDING)
            return;
        if (GetLastError() != ERROR_NO_DATA)
            errExit("ConnectNamedPipe");
        if (!DisconnectNamedPipe(l->pipe))
            errExit("DisconnectNamedPipe");
    }
}

/* A new instance of the pipe. The very first one is made with
 * FILE_FLAG_FIRST_PIPE_INSTANCE: it fails if the name is taken. */
static HANDLE newInstance(const wchar_t *widePath, const char *path, BOOL first,
                          SECURITY_ATTRIBUTES *security)
{
    HANDLE pipe = CreateNamedPipeW(
        widePath,
        PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
        PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT |
            (security != NULL ? PIPE_ACCEPT_REMOTE_CLIENTS : PIPE_REJECT_REMOTE_CLIENTS),
        PIPE_UNLIMITED_INSTANCES, NP_BUFFER_BYTES, NP_BUFFER_BYTES, 0, security);

    if (pipe == INVALID_HANDLE_VALUE && first && GetLastError() == ERROR_ACCESS_DENIED)
        fatal("%s is already taken: another server is listening there", path);
    if (pipe == INVALID_HANDLE_VALUE)
        errExit("CreateNamedPipeW %s", path);
    return pipe;
}

int main(int argc, char *argv[])
{
    const char *name = NP_DEFAULT_PIPE;
    BOOL remote = FALSE, stopped = FALSE;
    long maxClients = 0, served = 0;
    char path[NP_MAX_NAME + 16];
    wchar_t widePath[NP_MAX_NAME + 16];
    SECURITY_ATTRIBUTES security = {sizeof(SECURITY_ATTRIBUTES), NULL, FALSE};
    PSECURITY_DESCRIPTOR descriptor = NULL;
    Listener listeners[NP_LISTENING], *l;
    HANDLE waitFor[1 + NP_LISTENING];
    DWORD n, wait;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--pipe") == 0)
            name = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--remote") == 0)
            remote = TRUE;
        else if (strcmp(argv[i], "--max-clients") == 0)
            maxClients = getNumber(optionValue(argc, argv, &i), 1, 1000000, "--max-clients");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    if (name[0] == '\0' || strchr(name, '\\') != NULL || strlen(name) > NP_MAX_NAME)
        usageErr("--pipe wants a name of 1 to %d characters without '\\'", NP_MAX_NAME);
    snprintf(path, sizeof path, "\\\\.\\pipe\\%s", name);
    if (MultiByteToWideChar(CP_UTF8, 0, path, -1, widePath, NP_MAX_NAME + 16) == 0)
        errExit("MultiByteToWideChar");

    if (remote) {
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
                NP_REMOTE_SDDL, SDDL_REVISION_1, &descriptor, NULL))
            errExit("ConvertStringSecurityDescriptorToSecurityDescriptorW");
        security.lpSecurityDescriptor = descriptor;
    }
    /* FILE_FLAG_FIRST_PIPE_INSTANCE (newInstance) is the real guard against a
     * squatter. Asking first also works where that flag is not enforced
     * (Wine): a name that exists answers WaitNamedPipe with TRUE or a
     * timeout, a free one with ERROR_FILE_NOT_FOUND. */
    if (WaitNamedPipeW(widePath, 1) || GetLastError() != ERROR_FILE_NOT_FOUND)
        fatal("%s is already taken: another server is listening there", path);

    stopEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    sessionsDone = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (stopEvent == NULL || sessionsDone == NULL)
        errExit("CreateEventW");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");
    waitFor[0] = stopEvent; /* first: Ctrl-C wins over any number of clients */
    for (i = 0; i < NP_LISTENING; i++) {
        l = &listeners[i];
        l->connect.hEvent = waitFor[1 + i] = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (l->connect.hEvent == NULL)
            errExit("CreateEventW");
        l->pipe = newInstance(widePath, path, i == 0, remote ? &security : NULL);
        awaitClient(l);
    }
    say("named_pipe_server: listening on %s (%s)\n", path,
        remote ? "local and network clients" : "local clients only");

    while (maxClients == 0 || served < maxClients) {
        wait = WaitForMultipleObjects(1 + NP_LISTENING, waitFor, FALSE, INFINITE);
        if (wait == WAIT_OBJECT_0) {
            stopped = TRUE; /* Ctrl-C */
            break;
        }
        if (wait <= WAIT_OBJECT_0 || wait > WAIT_OBJECT_0 + NP_LISTENING)
            errExit("WaitForMultipleObjects");
        l = &listeners[wait - WAIT_OBJECT_0 - 1];
        if (!l->early && !GetOverlappedResult(l->pipe, &l->connect, &n, FALSE)) {
            if (GetLastError() != ERROR_NO_DATA && GetLastError() != ERROR_BROKEN_PIPE)
                errExit("ConnectNamedPipe (completion)");
            if (!DisconnectNamedPipe(l->pipe)) /* came and went: listen again */
                errExit("DisconnectNamedPipe");
            awaitClient(l);
            continue;
        }
        startSession(l->pipe, ++served);
        l->pipe = newInstance(widePath, path, FALSE, remote ? &security : NULL);
        awaitClient(l);
    }

    /* No more clients: stop listening, then wait for the sessions to end. */
    for (i = 0; i < NP_LISTENING; i++) {
        l = &listeners[i];
        if (!CancelIoEx(l->pipe, &l->connect) && GetLastError() != ERROR_NOT_FOUND)
            errMsg("CancelIoEx");
        (void)GetOverlappedResult(l->pipe, &l->connect, &n, TRUE); /* let it finish */
        if (!CloseHandle(l->pipe))
            errExit("CloseHandle (a listening instance)");
        if (!CloseHandle(l->connect.hEvent))
            errExit("CloseHandle (an instance's event)");
    }
    if (InterlockedDecrement(&sessionsLeft) == 0 && !SetEvent(sessionsDone))
        errExit("SetEvent");
    wait = WaitForSingleObject(sessionsDone, stopped ? NP_STOP_WAIT_MS : INFINITE);
    if (wait == WAIT_TIMEOUT)
        say("named_pipe_server: %ld sessions still open, ending them\n", sessionsLeft);
    else if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    say("named_pipe_server: %s, %ld clients served\n", stopped ? "stopped by Ctrl-C" : "done",
        served);
    if (!CloseHandle(stopEvent))
        errExit("CloseHandle");
    if (wait == WAIT_OBJECT_0 && !CloseHandle(sessionsDone)) /* else still in use */
        errExit("CloseHandle");
    if (descriptor != NULL && LocalFree(descriptor) != NULL)
        errExit("LocalFree");
    return 0;
}
