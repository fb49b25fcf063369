/* server.c -- named_pipe_server: the report's listings 3 and 5, fixed.
 *
 * Echoes each message of each client of \\.\pipe\NAME (message mode), a thread per client as in
 * the listing; "exit" ends a session. NP_LISTENING instances wait, each in a thread that, when a
 * client connects, has a new one wait in its place. Client: client.c; protocol: named_pipe.h.
 *
 * Usage: named_pipe_server [--pipe NAME] [--remote] [--max-clients N]
 *
 * What the listings got wrong, and what this program does instead:
 *  - TCHAR text against L"exit", lstrlen on bytes: messages are UTF-8 bytes with a length.
 *  - A message longer than the buffer was cut: ERROR_MORE_DATA is read on (named_pipe.h).
 *  - HeapFree on the pipe handle: a session frees what it holds, however it ends.
 *  - A NULL DACL given to the client's CreateFile, which ignores it: --remote gives the pipe an
 *    explicit DACL; by default remote clients are rejected and the name is guarded.
 *  - One instance listened at a time, so clients arriving together met ERROR_PIPE_BUSY.
 *  - A client gone before ConnectNamedPipe (ERROR_NO_DATA) ended the server; now it listens again.
 *  - _getch() and an endless loop: Ctrl-C ends it (the handler signals an event; each waiting
 *    instance cancels its ConnectNamedPipe), or --max-clients.
 */
#include "named_pipe.h"
#include "args.h"

#include <sddl.h>

static const char usage[] =
    "Usage: named_pipe_server [--pipe NAME] [--remote] [--max-clients N]\n"
    "Writes back each message of each client of \\\\.\\pipe\\NAME until Ctrl-C.\n"
    "  --pipe NAME      the pipe's name (default " NP_DEFAULT_PIPE ")\n"
    "  --remote         accept clients from other machines (explicit DACL)\n"
    "  --max-clients N  serve N clients, wait for their sessions, then exit\n"
    "  --help           show this text\n";

typedef struct {
    PipePath path;
    SECURITY_ATTRIBUTES *security;  /* NULL: local clients only */
    long maxClients;                /* 0: until Ctrl-C */
    volatile LONG clients, running; /* clients so far; instance threads, +1 for main */
    HANDLE allDone;                 /* set when running reaches 0 */
} Server;

typedef struct {
    Server *server;
    HANDLE pipe, event; /* the instance, and an event for its overlapped calls */
    char message[NP_MAX_MESSAGE];
} Instance;

static HANDLE stopEvent; /* wait for no more clients; a global: onControl takes no argument */

static BOOL WINAPI onControl(DWORD event)
{
    if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT)
        return FALSE;
    return SetEvent(stopEvent); /* the only safe thing here: wake the waiting threads */
}

static void leave(Server *server)
{
    if (InterlockedDecrement(&server->running) == 0 && !SetEvent(server->allDone))
        errExit("SetEvent");
}

/* Waits for a client, or for stopEvent (FALSE): the instance is overlapped so that this can end.
 * A client may come first: still there (ERROR_PIPE_CONNECTED) or gone (ERROR_NO_DATA: no error). */
static BOOL awaitClient(Instance *p)
{
    HANDLE waitFor[2];
    OVERLAPPED io;
    DWORD n, wait;

    waitFor[0] = stopEvent;
    waitFor[1] = p->event;
    for (;;) {
        ZeroMemory(&io, sizeof io);
        io.hEvent = p->event;
        if (ConnectNamedPipe(p->pipe, &io) || GetLastError() == ERROR_PIPE_CONNECTED)
            return TRUE;
        if (GetLastError() == ERROR_IO_PENDING) {
            wait = WaitForMultipleObjects(2, waitFor, FALSE, INFINITE);
            if (wait == WAIT_OBJECT_0) {
                if (!CancelIoEx(p->pipe, &io) && GetLastError() != ERROR_NOT_FOUND)
                    errMsg("CancelIoEx");
                (void)GetOverlappedResult(p->pipe, &io, &n, TRUE); /* cancelled, or done */
                return FALSE;
            }
            if (wait != WAIT_OBJECT_0 + 1)
                errExit("WaitForMultipleObjects");
            if (GetOverlappedResult(p->pipe, &io, &n, FALSE))
                return TRUE;
        }
        if (GetLastError() != ERROR_NO_DATA && GetLastError() != ERROR_BROKEN_PIPE)
            errExit("ConnectNamedPipe");
        if (!DisconnectNamedPipe(p->pipe))
            errExit("DisconnectNamedPipe");
    }
}

static BOOL writeMessage(Instance *p, DWORD length)
{
    OVERLAPPED io = {0};
    DWORD written;

    io.hEvent = p->event;
    if (!WriteFile(p->pipe, p->message, length, NULL, &io) && GetLastError() != ERROR_IO_PENDING)
        return FALSE;
    if (!GetOverlappedResult(p->pipe, &io, &written, TRUE))
        return FALSE;
    if (written != length) /* a message pipe takes a message whole: this is no success */
        SetLastError(ERROR_WRITE_FAULT);
    return written == length;
}

/* Writes back the client's messages until the session ends; returns why it ended. */
static const char *echo(Instance *p, long number, long *count)
{
    char shown[4 * 80 + 8];
    DWORD length;

    for (;;) {
        if (!readMessage(p->pipe, p->event, p->message, &length)) {
            if (GetLastError() == ERROR_MORE_DATA)
                return "a message over the size limit";
            if (peerIsGone(GetLastError()))
                return "the client closed the pipe";
            errMsg("ReadFile (client %ld)", number);
            return "a read failed";
        }
        ++*count;
        /* Untrusted input, shown by printable() (args.h); a long one cut, with its length. */
        if (length <= 80)
            say("Get client msg: %s\n", printable(p->message, length, shown, sizeof shown));
        else
            say("Get client msg: %s (%lu bytes)\n", printable(p->message, length, shown, 68),
                (unsigned long)length);
        if (!writeMessage(p, length)) {
            if (peerIsGone(GetLastError()))
                return "the client closed the pipe before its reply";
            errMsg("WriteFile (client %ld)", number);
            return "a reply could not be written";
        }
        if (length == strlen(NP_EXIT_MESSAGE) && memcmp(p->message, NP_EXIT_MESSAGE, length) == 0) {
            if (!FlushFileBuffers(p->pipe)) /* the client reads the echo, then we disconnect */
                errMsg("FlushFileBuffers (client %ld)", number);
            return "the client sent " NP_EXIT_MESSAGE;
        }
    }
}

static void startInstance(Server *server, BOOL first);

/* An instance's thread: when a client connects, a new instance waits in its place, and this thread
 * serves the client -- unless --max-clients are served: the last one stops the others waiting,
 * and one that came with it is not served. */
static DWORD WINAPI runInstance(LPVOID param)
{
    Instance *p = param;
    Server *server = p->server;
    const char *ending;
    long number = 0, count = 0;

    if (awaitClient(p)) {
        number = InterlockedIncrement(&server->clients);
        if (number == server->maxClients && !SetEvent(stopEvent))
            errExit("SetEvent");
        if (server->maxClients == 0 || number < server->maxClients)
            startInstance(server, FALSE);
    }
    if (number != 0 && (server->maxClients == 0 || number <= server->maxClients)) {
        ending = echo(p, number, &count);
        say("client %ld: session ended after %ld messages: %s\n", number, count, ending);
        if (!DisconnectNamedPipe(p->pipe) && GetLastError() != ERROR_PIPE_NOT_CONNECTED)
            errMsg("DisconnectNamedPipe (client %ld)", number);
    }
    if (!CloseHandle(p->pipe))
        errMsg("CloseHandle (an instance)");
    if (!CloseHandle(p->event))
        errMsg("CloseHandle (an instance's event)");
    if (!HeapFree(GetProcessHeap(), 0, p))
        errMsg("HeapFree (an instance)");
    leave(server);
    return 0;
}

/* The first instance guards the name from squatters: FILE_FLAG_FIRST_PIPE_INSTANCE fails if it is
 * taken. Asking WaitNamedPipe first works also where that flag is not enforced (Wine). */
static void startInstance(Server *server, BOOL first)
{
    Instance *p = HeapAlloc(GetProcessHeap(), 0, sizeof *p);
    HANDLE thread;

    if (p == NULL) /* HeapAlloc sets no last error */
        fatal("HeapAlloc: no memory for a pipe instance");
    if (first && (WaitNamedPipeW(server->path.wide, 1) || GetLastError() != ERROR_FILE_NOT_FOUND))
        fatal("%s is already taken: another server is listening there", server->path.text);
    p->server = server;
    p->pipe = CreateNamedPipeW(
        server->path.wide,
        PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
        PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT |
            (server->security != NULL ? PIPE_ACCEPT_REMOTE_CLIENTS : PIPE_REJECT_REMOTE_CLIENTS),
        PIPE_UNLIMITED_INSTANCES, NP_BUFFER_BYTES, NP_BUFFER_BYTES, 0, server->security);
    if (p->pipe == INVALID_HANDLE_VALUE)
        errExit("CreateNamedPipeW %s", server->path.text);
    p->event = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (p->event == NULL)
        errExit("CreateEventW");
    InterlockedIncrement(&server->running);
    thread = CreateThread(NULL, 0, runInstance, p, 0, NULL);
    if (thread == NULL)
        errExit("CreateThread");
    if (!CloseHandle(thread)) /* the thread cleans up after itself */
        errExit("CloseHandle");
}

int main(int argc, char *argv[])
{
    const char *name = NP_DEFAULT_PIPE;
    SECURITY_ATTRIBUTES remote = {sizeof(SECURITY_ATTRIBUTES), NULL, FALSE};
    Server server = {{"", L""}, NULL, 0, 0, 1, NULL};
    BOOL stopped;
    DWORD wait;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--pipe") == 0)
            name = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--remote") == 0)
            server.security = &remote;
        else if (strcmp(argv[i], "--max-clients") == 0)
            server.maxClients = getNumber(optionValue(argc, argv, &i), 1, 1000000, "--max-clients");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    if (!makePipePath(&server.path, ".", name))
        usageErr("--pipe wants 1 to %d bytes without '\\'", NP_MAX_NAME);
    if (server.security != NULL &&
        !ConvertStringSecurityDescriptorToSecurityDescriptorW(NP_REMOTE_SDDL, SDDL_REVISION_1,
                                                              &remote.lpSecurityDescriptor, NULL))
        errExit("ConvertStringSecurityDescriptorToSecurityDescriptorW");

    stopEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (stopEvent == NULL)
        errExit("CreateEventW");
    server.allDone = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (server.allDone == NULL)
        errExit("CreateEventW");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");
    for (i = 0; i < NP_LISTENING; i++)
        startInstance(&server, i == 0);
    say("named_pipe_server: listening on %s (%s)\n", server.path.text,
        server.security != NULL ? "local and network clients" : "local clients only");

    /* Until Ctrl-C or the last client; then the sessions may end, on Ctrl-C within a limit. */
    if (WaitForSingleObject(stopEvent, INFINITE) != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    stopped = server.maxClients == 0 || server.clients < server.maxClients;
    leave(&server);
    wait = WaitForSingleObject(server.allDone, stopped ? NP_STOP_WAIT_MS : INFINITE);
    if (wait == WAIT_TIMEOUT)
        say("named_pipe_server: %ld sessions still open, ending them\n", server.running);
    else if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    say("named_pipe_server: %s, %ld clients served\n", stopped ? "stopped by Ctrl-C" : "done",
        stopped ? server.clients : server.maxClients);
    if (!CloseHandle(stopEvent))
        errExit("CloseHandle");
    if (wait == WAIT_OBJECT_0 && !CloseHandle(server.allDone)) /* else still in use */
        errExit("CloseHandle");
    if (server.security != NULL && LocalFree(remote.lpSecurityDescriptor) != NULL)
        errExit("LocalFree");
    return 0;
}
