/* client.c -- mailslot_client: the report's listing 6, fixed (captioned there as the server).
 *
 * The writer, so the slot's client: opens a mailslot by name and writes each message to it. One
 * WriteFile is one message, and any number of writers may have the slot open at once. The
 * reader, which creates the slot, is in server.c; its name and message limit in mailslot.h.
 *
 * Usage: mailslot_client [--host HOST | --domain] [--slot NAME] [MESSAGE...]
 *
 * What the listing got wrong, and what this program does instead:
 *  - It wrote messages of any length (past the slot's maximum they fail on Windows, arrive under
 *    Wine); now each must be 1 to MS_MAX_MESSAGE bytes (mailslot.h) before any is sent.
 *  - It did not look at how many bytes WriteFile wrote; now a short write is an error.
 *  - Its messages were fixed; now they are the command line (the listing's three, with its
 *    pause before the third, when there are none).
 */
#include "mailslot.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: mailslot_client [--host HOST | --domain] [--slot NAME] [MESSAGE...]\n"
    "Writes each MESSAGE to the mailslot \\\\HOST\\mailslot\\NAME, read by mailslot_server;\n"
    "with none, the listing's three, pausing before the third as it did.\n"
    "  --host HOST  the machine the slot is on (default: this one, \".\")\n"
    "  --domain     every machine of the domain with such a slot (\\\\*\\...)\n"
    "  --slot NAME  the slot's name (default " MS_DEFAULT_SLOT ")\n"
    "  --help       show this text\n"
    "\"--\" ends the options, so a message may start with \"--\".\n"
    "A message is 1 to " MS_TEXT(MS_MAX_MESSAGE) " bytes of UTF-8.\n";

int main(int argc, char *argv[])
{
    static const char *const defaults[] = {MS_DEFAULT_MESSAGE_1, MS_DEFAULT_MESSAGE_2,
                                           MS_DEFAULT_MESSAGE_3};
    const char *host = ".", *name = MS_DEFAULT_SLOT;
    const char *const *messages = defaults;
    int count = 3, i;
    BOOL domain = FALSE;
    char path[MS_MAX_PATH];
    wchar_t widePath[MS_MAX_PATH];
    HANDLE slot;
    DWORD length, written;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--host") == 0)
            host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--domain") == 0)
            domain = TRUE;
        else if (strcmp(argv[i], "--slot") == 0)
            name = optionValue(argc, argv, &i);
        else
            usageErr("unknown option \"%s\"", argv[i]);
    }
    if (i < argc && strcmp(argv[i], "--") == 0)
        i++; /* "--" ends the options */
    if (domain && strcmp(host, ".") != 0)
        usageErr("--host and --domain name different destinations: give one");
    if (domain)
        host = "*";
    if (host[0] == '\0' || strlen(host) > MS_MAX_NAME)
        usageErr("--host wants a name of 1 to %d bytes", MS_MAX_NAME);
    if (name[0] == '\0' || strlen(name) > MS_MAX_NAME)
        usageErr("--slot wants a name of 1 to %d bytes", MS_MAX_NAME);
    if (i < argc) {
        messages = (const char *const *)(argv + i);
        count = argc - i;
    }
    for (i = 0; i < count; i++) /* every message is checked before the first is sent */
        if (messages[i][0] == '\0' || strlen(messages[i]) > MS_MAX_MESSAGE)
            usageErr("message %d is %lu bytes, not 1 to %d (MS_MAX_MESSAGE): nothing was sent",
                     i + 1, (unsigned long)strlen(messages[i]), MS_MAX_MESSAGE);
    if (!slotPath(host, name, path, widePath))
        errExit("MultiByteToWideChar %s", path);

    /* OPEN_EXISTING: only the reader creates a slot (a remote or domain one opens whether or
     * not anyone reads it). FILE_SHARE_WRITE too: with FILE_SHARE_READ alone (Microsoft's
     * sample), a second writer fails under Wine with ERROR_SHARING_VIOLATION. */
    slot = CreateFileW(widePath, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                       OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (slot == INVALID_HANDLE_VALUE && GetLastError() == ERROR_FILE_NOT_FOUND)
        errExit("CreateFileW %s (no such mailslot: is mailslot_server reading it?)", path);
    if (slot == INVALID_HANDLE_VALUE)
        errExit("CreateFileW %s", path);

    for (i = 0; i < count; i++) {
        if (messages == defaults && i == 2)
            Sleep(MS_PAUSE_MS); /* the listing's pause: the reader sees a gap */
        length = (DWORD)strlen(messages[i]);
        if (!WriteFile(slot, messages[i], length, &written, NULL))
            errExit("WriteFile %s (message %d)", path, i + 1);
        if (written != length)
            fatal("WriteFile %s wrote %lu of the %lu bytes of message %d", path,
                  (unsigned long)written, (unsigned long)length, i + 1);
        say("sent: %s\n", messages[i]);
    }
    if (!CloseHandle(slot))
        errExit("CloseHandle");
    say("mailslot_client: %d message%s sent\n", count, count == 1 ? "" : "s");
    return 0;
}
