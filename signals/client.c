/* client.c -- signals_client: sends Ctrl-C or Ctrl-Break to the console of
 * another process, as if its keys had been pressed there (the report's
 * listing 13 relied on a person at the keyboard; this is the scriptable way).
 * The server is in server.c; signals.h explains why it works this way.
 *
 * Usage: signals_client PID c|break
 *
 * A process can send console control events only to the console it is
 * attached to. So: leave our own console, if we have one (FreeConsole);
 * attach to the target's (AttachConsole); install a handler that swallows
 * the event, since it reaches every process on that console, us included;
 * send it to process group 0, everyone on the console; detach.
 *
 * Why a handler, and not SetConsoleCtrlHandler(NULL, TRUE): that ignores
 * Ctrl-C only. Ctrl-Break always reaches the handlers, and with none of our
 * own the default one would end this program with STATUS_CONTROL_C_EXIT
 * (0xC000013A) -- the sender killed by its own signal.
 */
#include "signals.h"
#include "args.h"

#include <limits.h>
#include <string.h>

static const char usage[] =
    "Usage: signals_client PID c|break\n"
    "\n"
    "Sends Ctrl-C (c) or Ctrl-Break (break) to the console of process PID,\n"
    "e.g. a signals_server, which prints its PID when it starts.\n"
    "\n"
    "  --help  show this text\n";

/* Runs on a thread of its own when the event we sent comes back to us. */
static BOOL WINAPI swallowEvent(DWORD event)
{
    return event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT; /* TRUE: handled */
}

int main(int argc, char *argv[])
{
    DWORD pid, event;
    HANDLE process;

    initProgram(&argc, &argv, usage);
    if (argc == 2 && strcmp(argv[1], "--help") == 0)
        showHelp();
    if (argc != 3)
        usageErr("wants two arguments, a PID and c or break");
    pid = (DWORD)getNumber(argv[1], 1, LONG_MAX, "PID");
    if (strcmp(argv[2], "c") == 0)
        event = CTRL_C_EVENT;
    else if (strcmp(argv[2], "break") == 0)
        event = CTRL_BREAK_EVENT;
    else
        usageErr("the event is c or break, not \"%s\"", argv[2]);

    /* A clear message for the commonest mistake, before AttachConsole's. */
    process = OpenProcess(SYNCHRONIZE, FALSE, pid);
    if (process == NULL && GetLastError() == ERROR_INVALID_PARAMETER)
        fatal("there is no process with id %lu", (unsigned long)pid);
    if (process == NULL)
        errExit("OpenProcess %lu", (unsigned long)pid);
    if (!CloseHandle(process))
        errExit("CloseHandle");

    say("signals_client: sending %s to the console of process %lu\n", eventName(event),
        (unsigned long)pid);
    if (!FreeConsole() && GetLastError() != ERROR_INVALID_PARAMETER) /* had none */
        errExit("FreeConsole");
    if (!AttachConsole(pid))
        errExit("AttachConsole %lu (does that process have a console?)", (unsigned long)pid);
    if (!SetConsoleCtrlHandler(swallowEvent, TRUE))
        errExit("SetConsoleCtrlHandler");
    if (!GenerateConsoleCtrlEvent(event, 0))
        errExit("GenerateConsoleCtrlEvent %s", eventName(event));
    if (!FreeConsole())
        errExit("FreeConsole");
    say("signals_client: sent %s to the console of process %lu\n", eventName(event),
        (unsigned long)pid);
    return 0;
}
