/* client.c -- anonymous_pipe_client: the report's listing 2, fixed.
 *
 * anonymous_pipe_server starts this program with its stdin and stdout
 * connected to two anonymous pipes. It sends "message num 1" ... "message num
 * N" on stdout, reads each reply from stdin and checks that it is the message
 * it sent. stdout is the pipe, so what a person should read goes to stderr
 * (or, with --console, to the client's own console window). The server is in
 * server.c; the message framing in anonymous_pipe.h.
 *
 * Usage: anonymous_pipe_client [--count N] [--console [--pause]]
 *        (anonymous_pipe_server runs it; run that instead)
 *
 * What the listing got wrong, and what this program does instead:
 *  - Each ReadFile was taken to be one whole message; the pipe is a byte
 *    stream, so messages are framed and read whole (anonymous_pipe.h).
 *  - End of data and a broken pipe were not told apart from errors, and a
 *    client started by hand sat waiting on the keyboard. Now a terminal on
 *    stdin or stdout is refused at once, and a server that is gone is named
 *    as the reason the client stops.
 *  - It always paused with getchar(); now only with --pause, which reads the
 *    client's own console (its stdin is the pipe, not the keyboard).
 */
#include "anonymous_pipe.h"
#include "args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: anonymous_pipe_client [--count N] [--console [--pause]]\n"
    "\n"
    "The client half of the anonymous pipe pair. anonymous_pipe_server starts\n"
    "it with stdin and stdout connected to pipes: run the server, not this.\n"
    "\n"
    "  --count N  messages to send (default 10)\n"
    "  --console  write the report to this process's console window (the\n"
    "             server passes it with --new-console), not to stderr\n"
    "  --pause    with --console: wait for Enter before exiting\n"
    "  --help     show this text\n";

/* Writes a line of the report: stderr, or the console window. */
static void report(HANDLE to, const char *format, ...)
{
    char line[AP_MAX_MESSAGE + 128];
    const char *failed;
    va_list args;

    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    failed = writeText(to, line, strlen(line)); /* UTF-16 to a console */
    if (failed != NULL)
        errExit("%s (report)", failed);
}

int main(int argc, char *argv[])
{
    long count = AP_DEFAULT_COUNT, i;
    BOOL console = FALSE, pause = FALSE;
    HANDLE in, out, reportTo;
    char message[AP_MAX_MESSAGE + 1], reply[AP_MAX_MESSAGE + 1];
    DWORD length, replyLength;
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
        usageErr("stdin and stdout must be pipes: anonymous_pipe_server starts "
                 "this program (run the server instead)");

    reportTo = GetStdHandle(STD_ERROR_HANDLE);
    if (console) {
        /* Our own console: CONOUT$ is its screen, whatever stderr is. Wine
         * with no display gives a console that cannot be written: then say
         * so and report on stderr, rather than stop in mid-conversation. */
        HANDLE screen = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
                                    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                                    OPEN_EXISTING, 0, NULL);
        DWORD mode;
        if (screen == INVALID_HANDLE_VALUE || !GetConsoleMode(screen, &mode)) {
            errMsg("no usable console window (CONOUT$), reporting on stderr");
            if (screen != INVALID_HANDLE_VALUE && !CloseHandle(screen))
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
        switch (writeMessage(out, message, length)) {
        case MESSAGE_OK:
            break;
        case MESSAGE_END:
            fatal("the server closed the pipe before message %ld", i);
        default:
            errExit("WriteFile (message %ld)", i);
        }
        switch (readMessage(in, reply, sizeof reply, &replyLength)) {
        case MESSAGE_OK:
            break;
        case MESSAGE_END:
            fatal("the server closed the pipe before replying to message %ld "
                  "(is anonymous_pipe_server running this client?)", i);
        case MESSAGE_CUT:
            fatal("the server closed the pipe in the middle of reply %ld", i);
        case MESSAGE_TOO_LONG:
            fatal("reply %ld is longer than %d bytes", i, AP_MAX_MESSAGE);
        default:
            errExit("ReadFile (reply %ld)", i);
        }
        if (replyLength != length || memcmp(reply, message, length) != 0)
            fatal("reply %ld is \"%s\", expected \"%s\"", i, reply, message);
        report(reportTo, "get from server: \"%s\"\n", reply);
    }
    report(reportTo, "client: %ld replies received, all matched\n", count);

    if (console) {
        if (pause) {
            HANDLE keyboard = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE,
                                          FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
            char line[16];
            DWORD n;
            if (keyboard == INVALID_HANDLE_VALUE)
                errExit("CreateFileW CONIN$");
            report(reportTo, "Press Enter to exit.\n");
            if (!ReadFile(keyboard, line, sizeof line, &n, NULL))
                errMsg("ReadFile CONIN$");
            if (!CloseHandle(keyboard))
                errExit("CloseHandle");
        }
        if (!CloseHandle(reportTo))
            errExit("CloseHandle");
    }
    return 0;
}
