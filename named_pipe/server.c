/* server.c -- named_pipe_server: the report's listings 3 and 5, fixed.
 *
 * Creates instances of the named pipe \\.\pipe\NAME in message mode and
 * serves each client that connects in a thread of its own (thread per
 * client, as in the listing): every message received is logged and written
 * back unchanged; "exit" ends that client's session. The client is in
 * client.c, the protocol and the security choices in named_pipe.h.
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
 *  - Listing 5 gave everyone full access with a NULL DACL. --remote uses a
 *    minimal SDDL DACL instead; by default remote clients are rejected and
 *    the name is guarded against squatting (named_pipe.h).
 *  - _getch() pauses and a loop with no way out: it now stops on Ctrl-C
 *    (the handler only signals an event; the main loop cancels the pending
 *    ConnectNamedPipe) or after --max-clients sessions.
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
    HANDLE pipe;
    long number;
} Session;

static HANDLE stopEvent;             /* Ctrl-C */
static volatile LONG sessionsLeft = 1; /* running sessions, +1 for main */
static HANDLE sessionsDone;          /* set when sessionsLeft reaches 0 */

static BOOL WINAPI onControl(DWORD event)
{
    if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT)
        return FALSE;
    return SetEvent(stopEvent); /* the only safe thing here: wake main */
}

/* The handle is overlapped (so main can cancel ConnectNamedPipe); a session
 * simply waits for each of its own reads and writes to finish. */
static BOOL transfer(HANDLE pipe, BOOL writing, char *buffer, DWORD size,
                     DWORD *done, HANDLE event)
{
    OVERLAPPED io;
    BOOL ok;

    ZeroMemory(&io, sizeof io);
    io.hEvent = event;
    ok = writing ? WriteFile(pipe, buffer, size, NULL, &io)
                 : ReadFile(pipe, buffer, size, NULL, &io);
    if (!ok && GetLastError() != ERROR_IO_PENDING && GetLastError() != ERROR_MORE_DATA)
        return FALSE;
    return GetOverlappedResult(pipe, &io, done, TRUE); /* MORE_DATA shows here */
}

static DWORD WINAPI serveClient(LPVOID param)
{
    Session *s = param;
    char *message = HeapAlloc(GetProcessHeap(), 0, NP_MAX_MESSAGE + 1);
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);
    const char *ending = "the client closed the pipe";
    long count = 0;
    DWORD length, n, error;
    BOOL ok;

    if (message == NULL || event == NULL)
        errExit("HeapAlloc or CreateEventW");
    for (;;) {
        /* A message longer than one read comes in parts: ERROR_MORE_DATA. */
        length = 0;
        do {
            DWORD room = NP_MAX_MESSAGE - length;
            ok = transfer(s->pipe, FALSE, message + length,
                          room < NP_BUFFER_BYTES ? room : NP_BUFFER_BYTES, &n, event);
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
        if (!transfer(s->pipe, TRUE, message, length, &n, event) || n != length) {
            errMsg("WriteFile (client %ld)", s->number);
            ending = "a reply could not be written";
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
    if (!CloseHandle(s->pipe) || !CloseHandle(event))
        errMsg("CloseHandle (client %ld)", s->number);
    if (!HeapFree(GetProcessHeap(), 0, message) || !HeapFree(GetProcessHeap(), 0, s))
        errMsg("HeapFree (client %ld)", s->number);
    if (InterlockedDecrement(&sessionsLeft) == 0 && !SetEvent(sessionsDone))
        errExit("SetEvent");
    return 0;
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
    HANDLE connected, pipe, thread, waitFor[2];
    Session *session;
    OVERLAPPED io;
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
    /* FILE_FLAG_FIRST_PIPE_INSTANCE (below) is the real guard against a
     * squatter. Asking first also works where that flag is not enforced
     * (Wine): a name that exists answers WaitNamedPipe with TRUE or a
     * timeout, a free one with ERROR_FILE_NOT_FOUND. */
    if (WaitNamedPipeW(widePath, 1) || GetLastError() != ERROR_FILE_NOT_FOUND)
        fatal("%s is already taken: another server is listening there", path);

    stopEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    sessionsDone = CreateEventW(NULL, TRUE, FALSE, NULL);
    connected = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (stopEvent == NULL || sessionsDone == NULL || connected == NULL)
        errExit("CreateEventW");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");

    while (maxClients == 0 || served < maxClients) {
        pipe = CreateNamedPipeW(
            widePath,
            PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
                (served == 0 ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
            PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT |
                (remote ? PIPE_ACCEPT_REMOTE_CLIENTS : PIPE_REJECT_REMOTE_CLIENTS),
            PIPE_UNLIMITED_INSTANCES, NP_BUFFER_BYTES, NP_BUFFER_BYTES, 0,
            remote ? &security : NULL);
        if (pipe == INVALID_HANDLE_VALUE && served == 0 && GetLastError() == ERROR_ACCESS_DENIED)
            fatal("%s is already taken: another server is listening there", path);
        if (pipe == INVALID_HANDLE_VALUE)
            errExit("CreateNamedPipeW %s", path);
        if (served == 0)
            say("named_pipe_server: listening on %s (%s)\n", path,
                   remote ? "local and network clients" : "local clients only");

        /* Wait for a client or for Ctrl-C, whichever comes first. */
        ZeroMemory(&io, sizeof io);
        io.hEvent = connected;
        if (!ResetEvent(connected))
            errExit("ResetEvent");
        if (!ConnectNamedPipe(pipe, &io) && GetLastError() == ERROR_IO_PENDING) {
            waitFor[0] = connected;
            waitFor[1] = stopEvent;
            wait = WaitForMultipleObjects(2, waitFor, FALSE, INFINITE);
            if (wait == WAIT_OBJECT_0 + 1) {
                if (!CancelIoEx(pipe, &io) && GetLastError() != ERROR_NOT_FOUND)
                    errMsg("CancelIoEx");
                (void)GetOverlappedResult(pipe, &io, &n, TRUE); /* let it finish */
                if (!CloseHandle(pipe))
                    errExit("CloseHandle");
                stopped = TRUE;
                break;
            }
            if (wait != WAIT_OBJECT_0)
                errExit("WaitForMultipleObjects");
            if (!GetOverlappedResult(pipe, &io, &n, FALSE))
                errExit("ConnectNamedPipe (completion)");
        } else if (GetLastError() != ERROR_PIPE_CONNECTED) {
            errExit("ConnectNamedPipe"); /* (a client that came first counts) */
        }

        served++;
        session = HeapAlloc(GetProcessHeap(), 0, sizeof *session);
        if (session == NULL)
            fatal("HeapAlloc: no memory for a session");
        session->pipe = pipe;
        session->number = served;
        InterlockedIncrement(&sessionsLeft);
        thread = CreateThread(NULL, 0, serveClient, session, 0, NULL);
        if (thread == NULL)
            errExit("CreateThread");
        if (!CloseHandle(thread)) /* the session cleans up after itself */
            errExit("CloseHandle");
    }

    /* No more clients: drop main's count, wait for the sessions to end. */
    if (InterlockedDecrement(&sessionsLeft) == 0 && !SetEvent(sessionsDone))
        errExit("SetEvent");
    wait = WaitForSingleObject(sessionsDone, stopped ? NP_STOP_WAIT_MS : INFINITE);
    if (wait == WAIT_TIMEOUT)
        say("named_pipe_server: %ld sessions still open, ending them\n", sessionsLeft);
    say("named_pipe_server: %s, %ld clients served\n",
           stopped ? "stopped by Ctrl-C" : "done", served);
    if (!CloseHandle(connected) || !CloseHandle(stopEvent) ||
        (wait == WAIT_OBJECT_0 && !CloseHandle(sessionsDone))) /* else still in use */
        errExit("CloseHandle");
    if (descriptor != NULL && LocalFree(descriptor) != NULL)
        errExit("LocalFree");
    return 0;
}
