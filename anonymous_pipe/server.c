/* server.c -- anonymous_pipe_server: the report's listing 1, fixed.
 *
 * Starts anonymous_pipe_client with its stdin and stdout on two anonymous pipes (inherited
 * handles, no names: how a parent talks to a child it starts) and echoes each message the
 * client sends until it closes its end. Client: client.c; message framing: anonymous_pipe.h.
 *
 * Usage: anonymous_pipe_server [--count N] [--pause] [--new-console]
 *
 * What the listing got wrong, and what this program does instead:
 *  - The client inherited all four pipe ends, the server's too, so it never saw end of data; now
 *    it inherits only its own two, and the server closes those once the client runs.
 *  - The client was looked for in the current directory; now next to this program's .exe.
 *  - Its getchar() pauses and the client's new console were always on; now --pause, --new-console.
 *  - Each ReadFile was taken for one whole message; pipes are byte streams, so messages are framed.
 *  - End of data and a broken pipe were taken for errors; now the session ends saying which.
 */
#include "anonymous_pipe.h"
#include "args.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

static const char usage[] =
    "Usage: anonymous_pipe_server [--count N] [--pause] [--new-console]\n"
    "Runs anonymous_pipe_client (from this program's folder) and echoes its messages.\n"
    "  --count N      messages the client sends (default 10)\n"
    "  --pause        wait for Enter at the end (with --new-console, the client too)\n"
    "  --new-console  give the client its own console window for its output\n"
    "  --help         show this text\n";

int main(int argc, char *argv[])
{
    long count = AP_DEFAULT_COUNT, received = 0;
    BOOL pause = FALSE, newConsole = FALSE;
    wchar_t path[MAX_PATH], commandLine[MAX_PATH + 64];
    char pathUtf8[MAX_PATH * 3], message[AP_MAX_MESSAGE + 1];
    HANDLE toClientRead, toClientWrite, fromClientRead, fromClientWrite;
    STARTUPINFOW startup = {.cb = sizeof startup, .dwFlags = STARTF_USESTDHANDLES};
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
    if (!pathBesideProgram(AP_CLIENT_FILE, path, MAX_PATH))
        errExit("GetModuleFileNameW");
    if (WideCharToMultiByte(CP_UTF8, 0, path, -1, pathUtf8, (int)sizeof pathUtf8, NULL, NULL) == 0)
        errExit("WideCharToMultiByte");

    /* Only the client's two ends are inheritable: holding ours, it would never see end of data. */
    if (!CreatePipe(&toClientRead, &toClientWrite, NULL, 0))
        errExit("CreatePipe (server to client)");
    if (!CreatePipe(&fromClientRead, &fromClientWrite, NULL, 0))
        errExit("CreatePipe (client to server)");
    if (!SetHandleInformation(toClientRead, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT) ||
        !SetHandleInformation(fromClientWrite, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT))
        errExit("SetHandleInformation");
    startup.hStdInput = toClientRead;
    startup.hStdOutput = fromClientWrite;
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE); /* may be NULL: none */
    if (startup.hStdError == INVALID_HANDLE_VALUE)
        errExit("GetStdHandle");
    swprintf(commandLine, ARRAYSIZE(commandLine), L"\"%ls\" --count %ld%ls%ls", path, count,
             newConsole ? L" --console" : L"", newConsole && pause ? L" --pause" : L"");
    if (!CreateProcessW(path, commandLine, NULL, NULL, TRUE, newConsole ? CREATE_NEW_CONSOLE : 0,
                        NULL, NULL, &startup, &client))
        errExit("CreateProcessW %s", pathUtf8);
    if (!CloseHandle(client.hThread) || !CloseHandle(toClientRead) || !CloseHandle(fromClientWrite))
        errExit("CloseHandle");

    while (sent == MESSAGE_OK &&
           (result = readMessage(fromClientRead, message, sizeof message, &length)) == MESSAGE_OK) {
        say("get from client: \"%s\"\n", message);
        received++;
        sent = writeMessage(toClientWrite, message, length);
    }
    if (sent == MESSAGE_END)
        warn("the client went away before reading reply %ld", received);
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

    /* Its pipes closed, the client should exit now. Never wait for ever. */
    wait = WaitForSingleObject(client.hProcess, AP_CLIENT_EXIT_WAIT_MS);
    if (wait == WAIT_TIMEOUT) {
        warn("the client did not exit within %d ms; ending it", AP_CLIENT_EXIT_WAIT_MS);
        if (!TerminateProcess(client.hProcess, 1))
            errExit("TerminateProcess");
        wait = WaitForSingleObject(client.hProcess, INFINITE); /* it is ending: not long */
    }
    if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    if (!GetExitCodeProcess(client.hProcess, &exitCode))
        errExit("GetExitCodeProcess");
    if (!CloseHandle(client.hProcess))
        errExit("CloseHandle");
    say("server: %ld of %ld messages echoed, client exited with code %lu\n", received, count,
        (unsigned long)exitCode);
    if (pause) {
        say("Press Enter to exit.\n");
        (void)getchar();
    }
    return result == MESSAGE_END && received == count && exitCode == 0 ? 0 : 1;
}
