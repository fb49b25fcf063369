/* server.c -- anonymous_pipe_server: the report's listing 1, fixed.
 *
 * Creates two anonymous pipes, starts anonymous_pipe_client with its stdin and
 * stdout connected to them by handle inheritance, and writes back every
 * message the client sends until the client closes its end. Anonymous pipes
 * are how a parent talks to a child it starts: no names, only handles. The
 * client is in client.c; the message framing in anonymous_pipe.h.
 *
 * Usage: anonymous_pipe_server [--count N] [--pause] [--new-console]
 *
 * What the listing got wrong, and what this program does instead:
 *  - The pipes were created inheritable and the client inherited all four
 *    ends, the server's too: a client that holds the write end of its own
 *    input never sees end of data. Here the server's ends are made
 *    non-inheritable, and the server closes the client's ends once the
 *    client has them, so each side sees end of data when the other exits.
 *  - The client was looked for in the current directory; we look next to
 *    this program's .exe, so the pair runs from anywhere.
 *  - getchar() pauses and a new console for the client were always on; now
 *    they are --pause and --new-console, so a script sees both sides.
 *  - Each ReadFile was taken to be one whole message; pipes are byte streams,
 *    so messages are framed and read whole (anonymous_pipe.h).
 *  - End of data and a broken pipe were not told apart from errors; now the
 *    session ends with a message that says which.
 */
#include "anonymous_pipe.h"
#include "args.h"

#include <stdio.h>
#include <wchar.h>

static const char usage[] =
    "Usage: anonymous_pipe_server [--count N] [--pause] [--new-console]\n"
    "\n"
    "Starts anonymous_pipe_client (from this program's folder) with its stdin\n"
    "and stdout connected to two anonymous pipes. The client sends N messages;\n"
    "the server prints each one and writes it back; the client prints the\n"
    "replies on stderr.\n"
    "\n"
    "  --count N      messages the client sends (default 10)\n"
    "  --pause        wait for Enter before exiting (the client too, with\n"
    "                 --new-console)\n"
    "  --new-console  give the client its own console window for its output\n"
    "  --help         show this text\n";

int main(int argc, char *argv[])
{
    long count = AP_DEFAULT_COUNT, received = 0;
    BOOL pause = FALSE, newConsole = FALSE;
    wchar_t clientPath[MAX_PATH], commandLine[MAX_PATH + 64], *slash;
    char clientName[MAX_PATH * 3], message[AP_MAX_MESSAGE + 1];
    SECURITY_ATTRIBUTES inheritable = {sizeof(SECURITY_ATTRIBUTES), NULL, TRUE};
    HANDLE toClientRead, toClientWrite, fromClientRead, fromClientWrite;
    STARTUPINFOW startup;
    PROCESS_INFORMATION client;
    MessageResult result = MESSAGE_END, sent = MESSAGE_OK;
    DWORD length, wait, exitCode;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--count") == 0)
            count = getNumber(optionValue(argc, argv, &i), 1, AP_MAX_COUNT, "--count");
        else if (strcmp(argv[i], "--pause") == 0)
            pause = TRUE;
        else if (strcmp(argv[i], "--new-console") == 0)
            newConsole = TRUE;
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }

    /* The client lives next to us: replace our file name with its name. */
    length = GetModuleFileNameW(NULL, clientPath, MAX_PATH);
    if (length == 0 || length == MAX_PATH)
        errExit("GetModuleFileNameW");
    slash = wcsrchr(clientPath, L'\\');
    slash = slash != NULL ? slash + 1 : clientPath;
    if (wcslen(AP_CLIENT_FILE) >= (size_t)(MAX_PATH - (slash - clientPath)))
        fatal("the path of this program's folder is too long");
    wcscpy_s(slash, (size_t)(MAX_PATH - (slash - clientPath)), AP_CLIENT_FILE);
    if (WideCharToMultiByte(CP_UTF8, 0, clientPath, -1, clientName,
                            (int)sizeof clientName, NULL, NULL) == 0)
        errExit("WideCharToMultiByte");

    /* Both pipes are created inheritable, then the server's own ends are
     * taken back out: the client must inherit only the ends it uses. */
    if (!CreatePipe(&toClientRead, &toClientWrite, &inheritable, 0))
        errExit("CreatePipe (server to client)");
    if (!CreatePipe(&fromClientRead, &fromClientWrite, &inheritable, 0))
        errExit("CreatePipe (client to server)");
    if (!SetHandleInformation(toClientWrite, HANDLE_FLAG_INHERIT, 0) ||
        !SetHandleInformation(fromClientRead, HANDLE_FLAG_INHERIT, 0))
        errExit("SetHandleInformation");

    ZeroMemory(&startup, sizeof startup);
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = toClientRead;
    startup.hStdOutput = fromClientWrite;
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE); /* may be NULL: none */
    if (startup.hStdError == INVALID_HANDLE_VALUE)
        errExit("GetStdHandle");
    swprintf(commandLine, sizeof commandLine / sizeof commandLine[0],
             L"\"%ls\" --count %ld%ls", clientPath, count,
             !newConsole ? L"" : pause ? L" --console --pause" : L" --console");
    if (!CreateProcessW(clientPath, commandLine, NULL, NULL, TRUE,
                        newConsole ? CREATE_NEW_CONSOLE : 0, NULL, NULL,
                        &startup, &client))
        errExit("CreateProcessW %s", clientName);
    if (!CloseHandle(client.hThread) || !CloseHandle(toClientRead) ||
        !CloseHandle(fromClientWrite))
        errExit("CloseHandle");

    /* Echo until the client closes its end (or something goes wrong). */
    while (sent == MESSAGE_OK &&
           (result = readMessage(fromClientRead, message, sizeof message,
                                 &length)) == MESSAGE_OK) {
        received++;
        say("get from client: \"%s\"\n", message);
        sent = writeMessage(toClientWrite, message, length);
    }
    if (sent == MESSAGE_END)
        warn("the client went away before reading reply %ld",
                received);
    else if (sent == MESSAGE_FAILED)
        errMsg("WriteFile (reply %ld)", received);
    else if (result == MESSAGE_CUT)
        warn("the client closed the pipe in the middle of a message");
    else if (result == MESSAGE_TOO_LONG)
        warn("the client sent a message over %d bytes", AP_MAX_MESSAGE);
    else if (result == MESSAGE_FAILED)
        errMsg("ReadFile (message %ld)", received + 1);
    if (!CloseHandle(toClientWrite) || !CloseHandle(fromClientRead))
        errExit("CloseHandle");

    /* The client's pipe is closed; it should exit now. Never wait forever. */
    wait = WaitForSingleObject(client.hProcess, AP_CLIENT_EXIT_WAIT_MS);
    if (wait == WAIT_TIMEOUT) {
        warn("the client did not exit within %d ms; ending it",
                AP_CLIENT_EXIT_WAIT_MS);
        if (!TerminateProcess(client.hProcess, 1))
            errMsg("TerminateProcess");
        wait = WaitForSingleObject(client.hProcess, AP_CLIENT_EXIT_WAIT_MS);
    }
    if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject (client process)");
    if (!GetExitCodeProcess(client.hProcess, &exitCode))
        errExit("GetExitCodeProcess");
    if (!CloseHandle(client.hProcess))
        errExit("CloseHandle");

    say("server: %ld of %ld messages echoed, client exited with code %lu\n",
           received, count, (unsigned long)exitCode);
    if (pause) {
        say("Press Enter to exit.\n");
        (void)getchar();
    }
    return sent == MESSAGE_OK && result == MESSAGE_END && received == count && exitCode == 0 ? 0 : 1;
}
