/* server.c -- mailslot_server: the report's listing 7, fixed (captioned there as the client).
 *
 * The reader, so the slot's server: creates \\.\mailslot\NAME and prints each message written
 * to it as it arrives, with how many more wait behind it. A slot has one reader, its creator: a
 * second CreateMailslotW on the name fails. Writer: client.c; name, limits, timeout: mailslot.h.
 *
 * Usage: mailslot_server [--slot NAME] [--count N]
 *
 * What the listing got wrong, and what this program does instead:
 *  - It polled with Sleep(3000), so a message waited up to 3 s; now ReadFile waits for it (up
 *    to MS_READ_TIMEOUT_MS, which only lets an idle reader notice Ctrl-C).
 *  - It read a handle not opened for overlapped I/O through an OVERLAPPED with an event it
 *    never closed; now it uses a plain blocking ReadFile, with no event to leak.
 *  - Nothing handled a message over the slot's maximum; that is now MS_MAX_MESSAGE, which the
 *    writer checks every message against before it sends any (Wine does not enforce it).
 *  - It ran until killed; now --count N ends it, and Ctrl-C ends it cleanly.
 *  - It printed messages raw; anyone may write to a slot, so control characters now show as
 *    \xNN (printable, args.h) and a newline in a message cannot forge a line of the log.
 */
#include "mailslot.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: mailslot_server [--slot NAME] [--count N]\n"
    "Creates the mailslot \\\\.\\mailslot\\NAME and prints each message written to it\n"
    "(by mailslot_client) as it arrives.\n"
    "  --slot NAME  the slot's name (default " MS_DEFAULT_SLOT ")\n"
    "  --count N    exit after N messages (default: run until Ctrl-C; Ctrl-C\n"
    "               before the Nth message ends it with exit status 1)\n"
    "  --help       show this text\n";

static volatile LONG stopRequested; /* set by the console control handler */

/* Runs on a thread of its own: it only raises the flag; the read loop stops at its timeout. */
static BOOL WINAPI onControl(DWORD event)
{
    if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT)
        return FALSE; /* closing, logoff, shutdown: the default handling */
    InterlockedExchange(&stopRequested, 1);
    return TRUE;
}

int main(int argc, char *argv[])
{
    const char *name = MS_DEFAULT_SLOT;
    long count = 0, received = 0;
    char path[MS_MAX_PATH], *message = NULL, shown[4 * MS_MAX_MESSAGE + 8];
    wchar_t widePath[MS_MAX_PATH];
    HANDLE slot;
    DWORD maxSize, nextSize, waiting, size, capacity = 0, got;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--slot") == 0)
            name = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--count") == 0)
            count = getNumber(optionValue(argc, argv, &i), 1, 1000000, "--count");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    if (name[0] == '\0' || strlen(name) > MS_MAX_NAME)
        usageErr("--slot wants a name of 1 to %d bytes", MS_MAX_NAME);
    if (!slotPath(".", name, path, widePath))
        errExit("MultiByteToWideChar %s", path);

    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");
    slot = CreateMailslotW(widePath, MS_MAX_MESSAGE, MS_READ_TIMEOUT_MS, NULL);
    if (slot == INVALID_HANDLE_VALUE && GetLastError() == ERROR_ALREADY_EXISTS)
        errExit("CreateMailslotW %s (another process is reading this slot, and a mailslot has "
                "only one reader)",
                path);
    if (slot == INVALID_HANDLE_VALUE)
        errExit("CreateMailslotW %s", path);
    say("mailslot_server: reading %s\n", path);

    if (!GetMailslotInfo(slot, &maxSize, &nextSize, &waiting, NULL))
        errExit("GetMailslotInfo");
    while ((count == 0 || received < count) && stopRequested == 0) {
        /* A message waiting: read exactly its size. None, or an empty one (Wine answers a read of
         * 0 bytes and leaves it there for ever): wait with room for the largest the slot takes. */
        size = nextSize != MAILSLOT_NO_MESSAGE && nextSize > 0 ? nextSize : maxSize;
        if (size + 1 > capacity) {
            char *bigger = message == NULL ? HeapAlloc(GetProcessHeap(), 0, size + 1)
                                           : HeapReAlloc(GetProcessHeap(), 0, message, size + 1);
            if (bigger == NULL)
                fatal("no memory for a message of %lu bytes", (unsigned long)size);
            message = bigger;
            capacity = size + 1;
        }
        if (!ReadFile(slot, message, size, &got, NULL)) {
            if (GetLastError() == ERROR_SEM_TIMEOUT)
                continue; /* the read timeout: nothing came; check for Ctrl-C */
            if (GetLastError() != ERROR_BROKEN_PIPE)
                errExit("ReadFile %s", path);
            got = 0; /* no end to break: Wine's way to report (and remove) an empty message */
        }
        received++;
        /* Wine says 1 waiting whenever any do; Windows, how many. nextSize is right on both. */
        if (!GetMailslotInfo(slot, NULL, &nextSize, &waiting, NULL))
            errExit("GetMailslotInfo");
        say("Message #%ld: %s (%lu more waiting)\n", received,
            printable(message, got, shown, sizeof shown), (unsigned long)waiting);
    }
    if (stopRequested != 0)
        say("mailslot_server: Ctrl-C, stopping\n");
    if (!CloseHandle(slot))
        errExit("CloseHandle");
    if (message != NULL && !HeapFree(GetProcessHeap(), 0, message))
        errExit("HeapFree");
    say("mailslot_server: %ld message%s received\n", received, received == 1 ? "" : "s");
    return count == 0 || received == count ? 0 : 1;
}
