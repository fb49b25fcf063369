/* server.c -- signals_server: the report's listing 13, fixed.
 *
 * Installs a console control handler and waits, printing the name of each
 * event it receives. As in the listing, Ctrl-C is handled and the program
 * keeps running; every other event (Ctrl-Break, the console closing, logoff,
 * shutdown) is reported and passed on, so the default handler ends the
 * process. Events are sent by pressing the keys in its console, or by
 * signals_client (client.c). What both share is in signals.h.
 *
 * Usage: signals_server [--count N]
 *
 * What the listing got wrong, and what this program does instead:
 *  - It waited in while (1) {}, one core at 100% doing nothing. The handler
 *    now releases a semaphore and main sleeps in WaitForSingleObject on it:
 *    no CPU while idle, and no Ctrl-C lost when two come close together.
 *  - It coloured its output with SetConsoleTextAttribute whether or not
 *    stdout was a console; redirected to a file or a pipe, that call fails
 *    (error 6). Colours are used only when stdout is a console.
 *  - It could only be killed; --count N makes it exit cleanly (code 0) after
 *    N Ctrl-C events, so a script can drive it.
 */
#include "signals.h"
#include "args.h"

#include <limits.h>
#include <string.h>

static const char usage[] =
    "Usage: signals_server [--count N]\n"
    "\n"
    "Waits for console control events and prints each one. Ctrl-C is handled\n"
    "and the server goes on; Ctrl-Break (and close, logoff, shutdown) is passed\n"
    "on to the default handler, which ends the process. Send events with the\n"
    "keys, or with signals_client PID c|break.\n"
    "\n"
    "  --count N  exit after handling N Ctrl-C events (default: never)\n"
    "  --help     show this text\n";

static HANDLE ctrlC;  /* a semaphore: one count per Ctrl-C */
static HANDLE screen; /* stdout, when it is a console; else NULL */
static WORD normalColours;

static void paint(WORD colours)
{
    if (screen != NULL && !SetConsoleTextAttribute(screen, colours))
        errMsg("SetConsoleTextAttribute");
}

/* Runs on a thread of its own, once per event. */
static BOOL WINAPI onControl(DWORD event)
{
    if (event == CTRL_C_EVENT)
        return ReleaseSemaphore(ctrlC, 1, NULL); /* main reports it */
    paint(FOREGROUND_RED | FOREGROUND_INTENSITY);
    say("%s: passing it on (the default handler ends the process)\n", eventName(event));
    paint(normalColours);
    return FALSE;
}

int main(int argc, char *argv[])
{
    CONSOLE_SCREEN_BUFFER_INFO info;
    long count = 0, handled = 0;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--count") == 0)
            count = getNumber(optionValue(argc, argv, &i), 1, 1000000, "--count");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }

    /* Colour only a console: GetConsoleScreenBufferInfo fails on a pipe. */
    if (GetConsoleScreenBufferInfo(GetStdHandle(STD_OUTPUT_HANDLE), &info)) {
        screen = GetStdHandle(STD_OUTPUT_HANDLE);
        normalColours = info.wAttributes;
        if (!SetConsoleTitleW(L"signals_server"))
            errMsg("SetConsoleTitleW");
    }
    ctrlC = CreateSemaphoreW(NULL, 0, LONG_MAX, NULL);
    if (ctrlC == NULL)
        errExit("CreateSemaphoreW");
    /* "Ignore Ctrl-C" is inherited from the parent, and some (CI runners,
     * other shells' children) set it: turn normal Ctrl-C processing back on,
     * or our handler would never be called. */
    if (!SetConsoleCtrlHandler(NULL, FALSE))
        errExit("SetConsoleCtrlHandler NULL");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");
    say("%s %lu\n", SG_READY, (unsigned long)GetCurrentProcessId());

    while (count == 0 || handled < count) {
        if (WaitForSingleObject(ctrlC, INFINITE) != WAIT_OBJECT_0)
            errExit("WaitForSingleObject");
        handled++;
        paint(FOREGROUND_GREEN | FOREGROUND_RED | FOREGROUND_INTENSITY);
        say("Ctrl-C #%ld: handled, still running\n", handled);
        paint(normalColours);
    }
    say("signals_server: %ld Ctrl-C events handled, exiting\n", handled);
    if (!SetConsoleCtrlHandler(onControl, FALSE))
        errExit("SetConsoleCtrlHandler");
    if (!CloseHandle(ctrlC))
        errExit("CloseHandle");
    return 0;
}
