/* client.c -- named_pipe_client: the report's listing 4 (and listing 5's network form), fixed.
 *
 * Connects to \\.\pipe\NAME (or \\HOST\pipe\NAME with --server), switches its end to message
 * mode and sends messages: those given as arguments or, with none, the lines typed at the
 * listing's "cmd>" prompt until "exit" or the end of input. Each reply is printed and checked
 * against what was sent. Server: server.c; protocol: named_pipe.h.
 *
 * Usage: named_pipe_client [--server HOST] [--pipe NAME] [MESSAGE...]
 *
 * What the listing got wrong, and what this program does instead:
 *  - TCHAR text against L"exit" and lstrlen on bytes: messages are UTF-8 with explicit lengths;
 *    typed lines arrive as UTF-8 (readLine).
 *  - A reply longer than the buffer was cut: ERROR_MORE_DATA is read on (named_pipe.h).
 *  - A busy server was an error: it waits for a free instance with WaitNamedPipe (at most
 *    NP_BUSY_WAIT_MS, the listing's 20 s). A missing server, or one gone mid-session, is named.
 *  - _getch() pauses: none; arguments make the client scriptable.
 *  - GENERIC_READ | GENERIC_WRITE asked for more than it uses, and more than a --remote server
 *    grants: it asks for NP_CLIENT_ACCESS.
 */
#include "named_pipe.h"
#include "args.h"

static const char usage[] =
    "Usage: named_pipe_client [--server HOST] [--pipe NAME] [MESSAGE...]\n"
    "Sends each MESSAGE to named_pipe_server and prints its reply; with no message, reads\n"
    "lines at a \"cmd>\" prompt until \"exit\" or the end of input.\n"
    "  --server HOST  the server's machine (default: this one, \".\")\n"
    "  --pipe NAME    the pipe's name (default " NP_DEFAULT_PIPE ")\n"
    "  --help         show this text\n";

static HANDLE connectToServer(const PipePath *path)
{
    ULONGLONG deadline = GetTickCount64() + NP_BUSY_WAIT_MS;
    HANDLE pipe;

    for (;;) {
        /* Exactly the rights we use (named_pipe.h): GENERIC_WRITE would include the one the
         * --remote DACL withholds. */
        pipe = CreateFileW(path->wide, NP_CLIENT_ACCESS, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (pipe != INVALID_HANDLE_VALUE)
            return pipe;
        if (GetLastError() == ERROR_FILE_NOT_FOUND)
            fatal("no server: %s does not exist", path->text);
        if (GetLastError() != ERROR_PIPE_BUSY)
            errExit("CreateFileW %s", path->text);
        /* Every instance is busy: wait for a free one, then try again (another client may
         * take it first). Never past the deadline. */
        if (GetTickCount64() >= deadline)
            fatal("%s stayed busy for %d s", path->text, NP_BUSY_WAIT_MS / 1000);
        if (!WaitNamedPipeW(path->wide, (DWORD)(deadline - GetTickCount64())) &&
            GetLastError() != ERROR_SEM_TIMEOUT && GetLastError() != ERROR_FILE_NOT_FOUND)
            errExit("WaitNamedPipeW %s", path->text);
    }
}

/* Sends one message, reads the reply, and checks that it is the same. */
static void exchange(HANDLE pipe, const char *message, DWORD length)
{
    static char reply[NP_MAX_MESSAGE];
    char shown[4 * 80 + 8];
    DWORD n;

    if (!WriteFile(pipe, message, length, &n, NULL)) {
        if (peerIsGone(GetLastError()))
            fatal("the server closed the pipe");
        errExit("WriteFile");
    }
    if (n != length) /* a message pipe takes a message whole */
        fatal("WriteFile wrote %lu of %lu bytes", n, length);
    if (!readMessage(pipe, NULL, reply, &n)) {
        if (GetLastError() == ERROR_MORE_DATA)
            fatal("the reply is over %d bytes", NP_MAX_MESSAGE);
        if (peerIsGone(GetLastError()))
            fatal("the server closed the pipe");
        errExit("ReadFile");
    }
    /* A reply is untrusted input: printable() (args.h) shows it safely, a long one cut. */
    say("Received from server: %s\n", printable(reply, n, shown, sizeof shown));
    if (n != length || memcmp(reply, message, length) != 0)
        fatal("the reply is not the message that was sent");
}

int main(int argc, char *argv[])
{
    const char *host = ".", *name = NP_DEFAULT_PIPE;
    static char line[NP_MAX_MESSAGE + 1];
    PipePath path;
    DWORD mode = PIPE_READMODE_MESSAGE;
    long sent = 0;
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
        else
            usageErr("unknown option \"%s\"", argv[i]);
    }
    if (!makePipePath(&path, host, name))
        usageErr("--server and --pipe want 1 to %d bytes without '\\'", NP_MAX_NAME);

    pipe = connectToServer(&path);
    if (!SetNamedPipeHandleState(pipe, &mode, NULL, NULL)) /* read messages as messages */
        errExit("SetNamedPipeHandleState");
    say("named_pipe_client: connected to %s\n", path.text);

    /* "exit" ends the session: the server disconnects after its echo. */
    if (i < argc) {
        for (; i < argc; i++) {
            exchange(pipe, argv[i], (DWORD)strlen(argv[i]));
            sent++;
            if (strcmp(argv[i], NP_EXIT_MESSAGE) == 0)
                break;
        }
    } else {
        while (readLine("cmd> ", line, sizeof line)) {
            exchange(pipe, line, (DWORD)strlen(line));
            sent++;
            if (strcmp(line, NP_EXIT_MESSAGE) == 0)
                break;
        }
    }
    say("named_pipe_client: %ld messages sent, %ld replies matched\n", sent, sent);
    if (!CloseHandle(pipe))
        errExit("CloseHandle");
    return 0;
}
