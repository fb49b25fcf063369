/* probe.c -- mailslot_probe: test-only. Not one of the report's listings,
 * and nothing a student needs to read: writers that behave as no lab
 * client would, to show that mailslot_server survives them. The
 * reliability tests run it.
 *
 * Usage: mailslot_probe MODE [--slot NAME] [OPTION...]
 *   churn --cycles N [--server-pid PID]
 *       N open/write/close cycles; in each 12: eight write one message, three
 *       open the slot and close it at once, and one is a writer process (this
 *       program, mode hold) killed while it holds the slot, after its two
 *       messages -- so N cycles deliver N / 12 * 10 messages. Then (with the
 *       server's PID) the server's handles and memory back within a slack.
 *   hold
 *       Writes two messages, says so, and waits, the slot open, to be killed.
 *   fuzz --inputs N [--seed S]
 *       N random messages: empty, binary, NULs, newlines, escape sequences,
 *       invalid UTF-8, and over the slot's limit (which Windows refuses and
 *       Wine delivers); writers opened and closed at random.
 * The server is checked by the test: it must print one line per message it
 * got and nothing on stderr, then read a normal writer's message.
 */
#include "mailslot.h"
#include "testkit.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define HANDLE_SLACK 16
#define BYTE_SLACK (2 * 1024 * 1024)
#define SETTLE_MS 10000
#define WATCHDOG_MS 40000 /* a step this long is stuck */

static const char usage[] = "Usage: mailslot_probe churn|hold|fuzz [--slot NAME] [OPTION...]\n"
                            "  churn --cycles N [--server-pid PID]\n"
                            "  hold\n"
                            "  fuzz --inputs N [--seed S]\n"
                            "Test-only: see the top of mailslot/probe.c.\n";

static char path[MS_MAX_PATH];
static wchar_t widePath[MS_MAX_PATH];

static HANDLE openSlot(void)
{
    HANDLE slot = CreateFileW(widePath, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                              OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);

    if (slot == INVALID_HANDLE_VALUE && GetLastError() == ERROR_FILE_NOT_FOUND)
        fatal("FAIL: %s does not exist: the server is gone", path);
    if (slot == INVALID_HANDLE_VALUE)
        errExit("CreateFileW %s", path);
    return slot;
}

static void closeSlot(HANDLE slot)
{
    if (!CloseHandle(slot))
        errExit("CloseHandle");
}

/* TRUE when the message went; FALSE when the slot refused it (only a
 * message over its limit may be refused). */
static BOOL writeMessage(HANDLE slot, const char *message, DWORD length)
{
    DWORD written;

    if (WriteFile(slot, message, length, &written, NULL) && written == length)
        return TRUE;
    if (length > MS_MAX_MESSAGE)
        return FALSE;
    errExit("WriteFile %s (%lu bytes)", path, (unsigned long)length);
}

/* A writer that dies with the slot open: churn kills it (or, if nobody does, the watchdog). */
static void hold(void)
{
    HANDLE slot = openSlot();

    if (!writeMessage(slot, "held a", 6) || !writeMessage(slot, "held b", 6))
        fatal("FAIL: the slot refused a message");
    say("hold: 2 messages sent, holding the slot\n");
    Sleep(INFINITE);
}

static void churn(long cycles, DWORD serverPid, const wchar_t *name)
{
    wchar_t self[MAX_PATH], command[2 * MAX_PATH];
    char message[64];
    long i, messages = 0, openedOnly = 0, killed = 0;
    Resources before;
    HANDLE slot;

    if (!pathBesideProgram(L"mailslot_probe.exe", self, MAX_PATH))
        errExit("GetModuleFileNameW");
    if (serverPid != 0)
        readResources(serverPid, &before);
    for (i = 0; i < cycles; i++) {
        progress("in churn cycle", i);
        if (i % 12 == 11) { /* killed while it holds the slot, after its two messages */
            swprintf(command, ARRAYSIZE(command), L"\"%ls\" hold --slot \"%ls\"", self, name);
            if (!runAndKill(command, "hold: 2 messages sent"))
                fatal("FAIL: the holding writer did not send its two messages");
            messages += 2;
            killed++;
            continue;
        }
        slot = openSlot();
        if (i % 12 >= 8) { /* opened and closed at once */
            openedOnly++;
        } else {
            snprintf(message, sizeof message, "churn %ld", i);
            if (!writeMessage(slot, message, (DWORD)strlen(message)))
                fatal("FAIL: the slot refused \"%s\"", message);
            messages++;
        }
        closeSlot(slot);
    }
    say("churn: %ld cycles, %ld abrupt (%ld writers opened and closed at once, %ld killed): "
        "%ld messages sent\n",
        cycles, openedOnly + killed, openedOnly, killed, messages);
    if (serverPid != 0 && !resourcesSettle(serverPid, &before, HANDLE_SLACK, BYTE_SLACK, SETTLE_MS))
        fatal("FAIL: the server kept what its writers cost");
}

static void fuzz(long inputs, DWORD seed)
{
    static const char *const pieces[] = {"привет", "\xff",    "\xc0\xaf", "\xed\xa0\x80",
                                         "\n",     "\x1b[2J", "\r",       "Message #1: forged",
                                         "\t",     "ёжик"};
    char message[2 * MS_MAX_MESSAGE + 100];
    DWORD r = seed, kind, length, i;
    HANDLE slot = NULL;
    long n, sent = 0, refused = 0;

    say("fuzz: seed %lu (replay with --seed %lu)\n", (unsigned long)seed, (unsigned long)seed);
    for (n = 0; n < inputs; n++) {
        progress("at fuzz message", n);
        if (slot == NULL)
            slot = openSlot();
        kind = randomBelow(&r, 100);
        if (kind < 5) { /* empty */
            length = 0;
        } else if (kind < 15) { /* around the limit, either side */
            length = MS_MAX_MESSAGE - 50 + randomBelow(&r, 100);
            memset(message, 'z', length);
        } else if (kind < 55) { /* random bytes, NULs among them */
            length = randomBelow(&r, MS_MAX_MESSAGE);
            for (i = 0; i < length; i++)
                message[i] = (char)randomBelow(&r, 256);
        } else { /* pieces of text, bad UTF-8, control characters, a forged line */
            length = 0;
            for (i = randomBelow(&r, 12); i > 0; i--) {
                const char *piece = pieces[randomBelow(&r, sizeof pieces / sizeof pieces[0])];
                memcpy(message + length, piece, strlen(piece));
                length += (DWORD)strlen(piece);
            }
        }
        if (writeMessage(slot, message, length))
            sent++;
        else
            refused++;
        if (randomBelow(&r, 10) == 0) { /* a new writer now and then */
            closeSlot(slot);
            slot = NULL;
        }
    }
    if (slot != NULL)
        closeSlot(slot);
    say("fuzz: %ld messages sent, %ld over the limit refused by the slot\n", sent, refused);
}

int main(int argc, char *argv[])
{
    const char *name = MS_DEFAULT_SLOT, *mode;
    wchar_t wideName[MS_MAX_NAME + 1];
    ProbeOptions options = {0, 0, 0, 0};
    int i;

    initProgram(&argc, &argv, usage);
    if (argc < 2)
        usageErr("which mode?");
    if (strcmp(argv[1], "--help") == 0)
        showHelp();
    mode = argv[1];
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--slot") == 0)
            name = optionValue(argc, argv, &i);
        else if (!takeProbeOption(argc, argv, &i, &options))
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    finishProbeOptions(&options);
    startWatchdog(WATCHDOG_MS);
    if (name[0] == '\0' || strlen(name) > MS_MAX_NAME)
        usageErr("--slot wants a name of 1 to %d bytes", MS_MAX_NAME);
    if (!slotPath(".", name, path, widePath) ||
        MultiByteToWideChar(CP_UTF8, 0, name, -1, wideName, MS_MAX_NAME + 1) == 0)
        errExit("MultiByteToWideChar %s", path);

    if (strcmp(mode, "churn") == 0 && options.cycles > 0)
        churn(options.cycles, options.serverPid, wideName);
    else if (strcmp(mode, "hold") == 0)
        hold();
    else if (strcmp(mode, "fuzz") == 0 && options.inputs > 0)
        fuzz(options.inputs, options.seed);
    else
        usageErr("\"%s\": a mode and its count (--cycles, --inputs)", mode);
    say("mailslot_probe: %s: done\n", mode);
    return 0;
}
