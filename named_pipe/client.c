/* client.c -- named_pipe_client: the report's listing 4 (and listing 5's
 * network form), fixed.
 *
 * Connects to \\.\pipe\NAME (or \\HOST\pipe\NAME with --server), switches
 * its end to message mode, and sends messages: those given as arguments, one
 * generated message of --size bytes, or -- with neither -- the lines typed
 * at the listing's "cmd>" prompt until "exit" or the end of input. Every
 * reply is printed and checked against what was sent. The server is in
 * server.c, the protocol in named_pipe.h.
 *
 * Usage: named_pipe_client [--server HOST] [--pipe NAME] [--size BYTES] [MESSAGE...]
 *
 * What the listing got wrong, and what this program does instead:
 *  - TCHAR text against L"exit" and lstrlen on bytes: messages are UTF-8
 *    with explicit lengths, typed lines arrive as UTF-8 (readLine).
 *  - A reply larger than the buffer was cut: ERROR_MORE_DATA is read on.
 *  - A busy server was an error: now it waits for a free instance with
 *    WaitNamedPipe (at most NP_BUSY_WAIT_MS, as the listing's 20 s) and
 *    tries again; a missing server is named, and a server that goes away
 *    mid-session is reported, both with exit code 1.
 *  - _getch() pauses: none; arguments make the client scriptable.
 *  - It opened the pipe for GENERIC_READ | GENERIC_WRITE: more than it uses,
 *    and more than a --remote server grants. It asks for NP_CLIENT_ACCESS.
 */
#include "named_pipe.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: named_pipe_client [--server HOST] [--pipe NAME] [--size BYTES] [MESSAGE...]\n"
    "\n"
    "Sends each MESSAGE to named_pipe_server and prints its reply; with no\n"
    "message, reads lines at a \"cmd>\" prompt until \"exit\" or end of input.\n"
    "\n"
    "  --server HOST  the server's machine (default: this one, \".\")\n"
    "  --pipe NAME    the pipe's name (default " NP_DEFAULT_PIPE ")\n"
    "  --size BYTES   send one generated message of BYTES bytes instead\n"
    "  --help         show this text\n";

static char reply[NP_MAX_MESSAGE + 1];

static HANDLE connectToServer(const wchar_t *widePath, const char *path)
{
    ULONGLONG deadline = GetTickCount64() + NP_BUSY_WAIT_MS;
    HANDLE pipe;
    DWORD error;

    for (;;) {
        /* Exactly the rights we use (named_pipe.h): GENERIC_WRITE would
         * include the one the --remote DACL withholds. */
        pipe = CreateFileW(widePath, NP_CLIENT_ACCESS, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (pipe != INVALID_HANDLE_VALUE)
            return pipe;
        error = GetLastError();
        if (error == ERROR_FILE_NOT_FOUND)
            fatal("no server: %s does not exist", path);
        if (error != ERROR_PIPE_BUSY)
            errExit("CreateFileW %s", path);
        /* Every instance is busy: wait for one to be free, then try again
         * (another client may take it first). Never past the deadline. */
        if (GetTickCount64() >= deadline)
            fatal("%s stayed busy for %d s", path, NP_BUSY_WAIT_MS / 1000);
        if (!WaitNamedPipeW(widePath, (DWORD)(deadline - GetTickCount64())) &&
            GetLastError() != ERROR_SEM_TIMEOUT && GetLastError() != ERROR_FILE_NOT_FOUND)
            errExit("WaitNamedPipeW %s", path);
    }
}

static BOOL serverIsGone(DWORD error)
{
    return error == ERROR_BROKEN_PIPE || error == ERROR_NO_DATA ||
           error == ERROR_PIPE_NOT_CONNECTED;
}

/* Sends one message, reads the reply whole, and checks it is the same. */
static void exchange(HANDLE pipe, const char *message, DWORD length)
{
    DWORD n, got = 0;
    BOOL ok;

    if (!WriteFile(pipe, message, length, &n, NULL) || n != length) {
        if (serverIsGone(GetLastError()))
            fatal("the server closed the pipe");
        errExit("WriteFile");
    }
    do {
        DWORD room = NP_MAX_MESSAGE - got;
        ok = ReadFile(pipe, reply + got, room < NP_BUFFER_BYTES ? room : NP_BUFFER_BYTES,
                      &n, NULL);
        got += n;
    } while (!ok && GetLastError() == ERROR_MORE_DATA && got < NP_MAX_MESSAGE);
    if (!ok && GetLastError() == ERROR_MORE_DATA)
        fatal("the reply is over %d bytes", NP_MAX_MESSAGE);
    if (!ok && serverIsGone(GetLastError()))
        fatal("the server closed the pipe");
    if (!ok)
        errExit("ReadFile");
    showMessage("Received from server: ", reply, got);
    if (got != length || memcmp(reply, message, length) != 0)
        fatal("the reply is not the message that was sent");
}

static BOOL isExit(const char *message)
{
    return strcmp(message, NP_EXIT_MESSAGE) == 0;
}

int main(int argc, char *argv[])
{
    const char *host = ".", *name = NP_DEFAULT_PIPE;
    static char line[NP_MAX_MESSAGE + 1];
    char path[2 * NP_MAX_NAME + 16];
    wchar_t widePath[2 * NP_MAX_NAME + 16];
    long size = 0, sent = 0;
    DWORD mode = PIPE_READMODE_MESSAGE;
    HANDLE pipe;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--server") == 0)
            host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--pipe") == 0)
            name = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--size") == 0)
            size = getNumber(optionValue(argc, argv, &i), 1, NP_MAX_MESSAGE, "--size");
        else
            usageErr("unknown option \"%s\"", argv[i]);
    }
    if (strlen(host) > NP_MAX_NAME || strlen(name) > NP_MAX_NAME)
        usageErr("--server and --pipe take at most %d characters", NP_MAX_NAME);
    snprintf(path, sizeof path, "\\\\%s\\pipe\\%s", host, name);
    if (MultiByteToWideChar(CP_UTF8, 0, path, -1, widePath, 2 * NP_MAX_NAME + 16) == 0)
        errExit("MultiByteToWideChar");

    pipe = connectToServer(widePath, path);
    /* The server writes messages; read them as messages too. */
    if (!SetNamedPipeHandleState(pipe, &mode, NULL, NULL))
        errExit("SetNamedPipeHandleState");
    say("named_pipe_client: connected to %s\n", path);

    if (size > 0) {
        for (i = 0; i < size; i++)
            line[i] = (char)('0' + i % 10);
        exchange(pipe, line, (DWORD)size);
        sent = 1;
    } else if (i < argc) {
        for (; i < argc; i++) {
            exchange(pipe, argv[i], (DWORD)strlen(argv[i]));
            sent++;
            if (isExit(argv[i]))
                break; /* the server has ended the session */
        }
    } else {
        for (;;) {
            if (!readLine("cmd> ", line, sizeof line))
                break;
            exchange(pipe, line, (DWORD)strlen(line));
            sent++;
            if (isExit(line))
                break;
        }
    }
    say("named_pipe_client: %ld messages sent, %ld replies matched\n", sent, sent);
    if (!CloseHandle(pipe))
        errExit("CloseHandle");
    return 0;
}
