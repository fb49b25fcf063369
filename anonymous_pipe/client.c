/* client.c -- anonymous_pipe_client: the report's listing 2, fixed.
 *
 * Started by anonymous_pipe_server with stdin and stdout on two anonymous pipes, it sends
 * "message num 1" ... "message num N" and checks each reply is the message it sent; its report
 * goes to stderr (--console: its own window). Server: server.c; framing: anonymous_pipe.h.
 *
 * Usage: anonymous_pipe_client [--count N] [--console [--pause]]
 *
 * What the listing got wrong, and what this program does instead:
 *  - Each ReadFile was taken for one whole message; now messages are framed and read whole.
 *  - End of data and a broken pipe were taken for errors; now a server gone is named as such.
 *  - Started by hand, it waited on the keyboard; now a console on stdin or stdout is refused.
 *  - It always paused with getchar(); now only with --pause, which reads its own console.
 */
#include "anonymous_pipe.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: anonymous_pipe_client [--count N] [--console [--pause]]\n"
    "anonymous_pipe_server starts it with stdin and stdout on pipes: run the server.\n"
    "  --count N  messages to send (default 10)\n"
    "  --console  report to this process's console window, not to stderr\n"
    "  --pause    with --console: wait for Enter before exiting\n"
    "  --help     show this text\n";

/* Writes a line of the report to stderr or the console window (as UTF-16, to a console). */
static void report(HANDLE to, const char *line)
{
    const char *failed = writeText(to, line, strlen(line));

    if (failed != NULL)
        errExit("%s (report)", failed);
}

int main(int argc, char *argv[])
{
    long count = AP_DEFAULT_COUNT, i;
    BOOL console = FALSE, pause = FALSE;
    HANDLE in, out, reportTo, screen, keyboard;
    char message[AP_MAX_MESSAGE + 1], reply[AP_MAX_MESSAGE + 1], line[AP_MAX_MESSAGE + 64];
    MessageResult result;
    DWORD length, replyLength, mode, n;
    int arg;

    initProgram(&argc, &argv, usage);
    for (arg = 1; arg < argc; arg++) {
        if (strcmp(argv[arg], "--help") == 0)
            showHelp();
        else if (strcmp(argv[arg], "--count") == 0)
            count = getNumber(optionValue(argc, argv, &arg), 1, AP_MAX_COUNT, "--count");
        else if (strcmp(argv[arg], "--console") == 0)
            console = TRUE;
        else if (strcmp(argv[arg], "--pause") == 0)
            pause = TRUE;
        else
            usageErr("unknown argument \"%s\"", argv[arg]);
    }
    if (pause && !console)
        usageErr("--pause needs --console: stdin is the pipe, not the keyboard");
    in = GetStdHandle(STD_INPUT_HANDLE);
    out = GetStdHandle(STD_OUTPUT_HANDLE);
    if (in == INVALID_HANDLE_VALUE || out == INVALID_HANDLE_VALUE)
        errExit("GetStdHandle");
    if (in == NULL || out == NULL || GetFileType(in) == FILE_TYPE_CHAR ||
        GetFileType(out) == FILE_TYPE_CHAR)
        usageErr("stdin and stdout must be pipes: run anonymous_pipe_server, which starts this");
    reportTo = GetStdHandle(STD_ERROR_HANDLE);
    if (console) { /* our own window, whatever stderr is (under Wine with no display: unusable) */
        screen = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
        if (screen == INVALID_HANDLE_VALUE) {
            errMsg("CreateFileW CONOUT$ (so reporting on stderr)");
            console = pause = FALSE;
        } else if (!GetConsoleMode(screen, &mode)) {
            errMsg("GetConsoleMode CONOUT$ (so reporting on stderr)");
            if (!CloseHandle(screen))
                errExit("CloseHandle");
            console = pause = FALSE;
        } else {
            reportTo = screen;
            if (!SetConsoleTitleW(L"anonymous_pipe_client"))
                errMsg("SetConsoleTitleW");
        }
    }

    for (i = 1; i <= count; i++) {
        length = (DWORD)snprintf(message, sizeof message, "message num %ld", i);
        result = writeMessage(out, message, length);
        if (result == MESSAGE_END)
            fatal("the server closed the pipe before message %ld", i);
        if (result != MESSAGE_OK)
            errExit("WriteFile (message %ld)", i);
        result = readMessage(in, reply, sizeof reply, &replyLength);
        if (result == MESSAGE_END)
            fatal("the server closed the pipe before replying to message %ld "
                  "(is anonymous_pipe_server running this client?)",
                  i);
        if (result == MESSAGE_CUT)
            fatal("the server closed the pipe in the middle of reply %ld", i);
        if (result == MESSAGE_TOO_LONG)
            fatal("reply %ld is longer than %d bytes", i, AP_MAX_MESSAGE);
        if (result != MESSAGE_OK)
            errExit("ReadFile (reply %ld)", i);
        if (replyLength != length || memcmp(reply, message, length) != 0)
            fatal("reply %ld is \"%s\", expected \"%s\"", i, reply, message);
        snprintf(line, sizeof line, "get from server: \"%s\"\n", reply);
        report(reportTo, line);
    }
    snprintf(line, sizeof line, "client: %ld replies received, all matched\n", count);
    report(reportTo, line);
    if (pause) { /* stdin is the pipe: the keyboard is our console's input, CONIN$ */
        keyboard = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, NULL,
                               OPEN_EXISTING, 0, NULL);
        if (keyboard == INVALID_HANDLE_VALUE)
            errExit("CreateFileW CONIN$");
        report(reportTo, "Press Enter to exit.\n");
        if (!ReadFile(keyboard, line, sizeof line, &n, NULL))
            errMsg("ReadFile CONIN$");
        if (!CloseHandle(keyboard))
            errExit("CloseHandle");
    }
    if (console && !CloseHandle(reportTo))
        errExit("CloseHandle");
    return 0;
}
