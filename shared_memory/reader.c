/* reader.c -- shared_memory_reader: the report's listing 9, fixed.
 *
 * Reads COUNT values, once each and in order, from shared_memory_writer's mapping (writer.c).
 *
 * Usage: shared_memory_reader [--name NAME] [--count N] [--wait MS]
 *
 * What the listing got wrong, and what this program does instead:
 *  - A mutex alone let it print a value twice, another never: "filled" and "emptied" take turns.
 *  - With no writer it did not stop: it names the missing mapping and exits 1 (or --wait waits).
 *  - A dead writer went unnoticed: its process's end, or a mutex abandoned mid-write, stops it.
 *  - Text sized by sizeof of a TCHAR array, which changes with UNICODE: fixed-width numbers now.
 *  - It trusted the block, which any process of the session may open and write: checkBlock().
 */
#include "shared_memory.h"
#include "args.h"

static const char usage[] =
    "Usage: shared_memory_reader [--name NAME] [--count N] [--wait MS]\n"
    "Reads N numbers one at a time from the shared memory of shared_memory_writer.\n"
    "  --name NAME  the objects' name (default " SM_DEFAULT_NAME ")\n"
    "  --count N    numbers to read (default 15); fewer if the writer stops first\n"
    "  --wait MS    wait this long for a writer to appear (default: none)\n"
    "  --help       show this text\n";

/* The mapping is made last: once it exists, so do the others. No call waits for a name to appear
 * (an object of ours to wake us would be one more name the writer must find free): we poll. */
static HANDLE openMapping(const ObjectName *name, long waitMs)
{
    ULONGLONG deadline = GetTickCount64() + (ULONGLONG)waitMs;
    HANDLE mapping;

    while ((mapping = OpenFileMappingW(FILE_MAP_READ, FALSE, name->wide)) == NULL) {
        if (GetLastError() != ERROR_FILE_NOT_FOUND)
            errExit("OpenFileMappingW %s", name->text);
        if (waitMs == 0)
            fatal("no writer: %s does not exist (start shared_memory_writer first)", name->text);
        if (GetTickCount64() >= deadline)
            fatal("no writer: %s did not appear within %ld ms", name->text, waitMs);
        Sleep(SM_POLL_MS);
    }
    return mapping;
}

/* A copy of the block is used only if it is the writer's, holding the next value, in range. */
static void checkBlock(const SharedBlock *copy, DWORD last, DWORD total)
{
    if (copy->magic != SM_MAGIC)
        fatal("the shared block is not valid: its magic number is 0x%08lX", copy->magic);
    if (copy->sequence == 0 || copy->sequence > total)
        fatal("the shared block is not valid: value number %lu of %lu", copy->sequence, total);
    if (last != 0 && copy->sequence != last + 1)
        fatal("value %lu came after value %lu: the handshake is broken", copy->sequence, last);
    if (copy->value < 0 || copy->value >= SM_MAX_VALUE)
        fatal("the shared block is not valid: value %lu is %ld, outside 0 to %d", copy->sequence,
              copy->value, SM_MAX_VALUE - 1);
}

static void copyBlock(HANDLE mutex, const SharedBlock *block, SharedBlock *copy, DWORD last)
{
    DWORD wait = WaitForSingleObject(mutex, SM_LOCK_WAIT_MS);

    if (wait == WAIT_ABANDONED) /* how a dead writer's mutex comes to the next waiter */
        fatal("writer gone after value %lu: it died holding the mutex (WAIT_ABANDONED), so the "
              "shared block cannot be trusted",
              last);
    if (wait == WAIT_TIMEOUT)
        fatal("the mutex stayed locked for %d ms", SM_LOCK_WAIT_MS);
    if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject (mutex)");
    *copy = *block;
    if (!ReleaseMutex(mutex))
        errExit("ReleaseMutex");
}

int main(int argc, char *argv[])
{
    const char *name = SM_DEFAULT_NAME;
    long count = SM_DEFAULT_COUNT, waitMs = 0, taken = 0;
    ObjectNames names;
    HANDLE mapping, mutex, filled, emptied, writer, waitFor[2];
    const SharedBlock *block;
    SharedBlock header, copy; /* the stream as first read, trusted once checked; each value */
    DWORD last = 0, wait;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--name") == 0)
            name = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--count") == 0)
            count = getNumber(optionValue(argc, argv, &i), 1, SM_MAX_COUNT, "--count");
        else if (strcmp(argv[i], "--wait") == 0)
            waitMs = getNumber(optionValue(argc, argv, &i), 1, SM_MAX_WAIT_MS, "--wait");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    if (!makeNames(&names, name))
        usageErr("--name wants 1 to %d bytes without '\\'", SM_MAX_NAME);

    mapping = openMapping(&names.mapping, waitMs);
    block = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, sizeof(SharedBlock));
    if (block == NULL)
        errExit("MapViewOfFile %s", names.mapping.text);
    mutex = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, names.mutex.wide);
    if (mutex == NULL)
        errExit("OpenMutexW %s", names.mutex.text);
    filled = waitFor[0] = OpenEventW(SYNCHRONIZE, FALSE, names.filled.wide);
    if (filled == NULL)
        errExit("OpenEventW %s", names.filled.text);
    emptied = OpenEventW(EVENT_MODIFY_STATE, FALSE, names.emptied.wide);
    if (emptied == NULL)
        errExit("OpenEventW %s", names.emptied.text);

    copyBlock(mutex, block, &header, 0); /* waits while the writer fills the block in */
    if (header.magic != SM_MAGIC)
        fatal("%s was not made by shared_memory_writer (its magic number is 0x%08lX)",
              names.mapping.text, header.magic);
    if (header.writerPid == 0 || header.count == 0 || header.count > SM_MAX_COUNT ||
        header.intervalMs > SM_MAX_INTERVAL_MS) /* it bounds our waits: a huge one would hang us */
        fatal("the shared block is not valid: writer %lu, %lu values, %lu ms apart",
              header.writerPid, header.count, header.intervalMs);
    /* A writer just gone is no process (ERROR_INVALID_PARAMETER), or, rarely, already another. */
    writer = waitFor[1] = OpenProcess(SYNCHRONIZE, FALSE, header.writerPid);
    if (writer == NULL && GetLastError() == ERROR_INVALID_PARAMETER)
        fatal("writer gone: its process %lu has exited", header.writerPid);
    if (writer == NULL)
        errExit("OpenProcess %lu", header.writerPid);
    while (taken < count && last != header.count) {
        wait = WaitForMultipleObjects(2, waitFor, FALSE, header.intervalMs + SM_LOCK_WAIT_MS);
        if (wait == WAIT_OBJECT_0 + 1) { /* "filled" comes first: a dead writer's value is read */
            copyBlock(mutex, block, &copy, last); /* died mid-write? then this exits */
            fatal("writer gone after value %lu of %lu: its process ended", last, header.count);
        }
        if (wait == WAIT_TIMEOUT) /* a live writer fills the block within its pause and a lock */
            fatal("the writer sent nothing for %lu ms after value %lu",
                  header.intervalMs + SM_LOCK_WAIT_MS, last);
        if (wait != WAIT_OBJECT_0)
            errExit("WaitForMultipleObjects");
        copyBlock(mutex, block, &copy, last);
        checkBlock(&copy, last, header.count);
        if (!SetEvent(emptied)) /* the writer may write the next one now */
            errExit("SetEvent %s", names.emptied.text);
        last = copy.sequence;
        taken++;
        say("read message: %ld\n", copy.value);
    }
    if (taken < count)
        say("shared_memory_reader: the writer's stream ended at value %lu\n", header.count);
    say("shared_memory_reader: %ld values read\n", taken);

    if (!UnmapViewOfFile(block))
        errExit("UnmapViewOfFile");
    if (!CloseHandle(mapping))
        errExit("CloseHandle (mapping)");
    if (!CloseHandle(writer))
        errExit("CloseHandle (writer)");
    if (!CloseHandle(emptied))
        errExit("CloseHandle (emptied)");
    if (!CloseHandle(filled))
        errExit("CloseHandle (filled)");
    if (!CloseHandle(mutex))
        errExit("CloseHandle (mutex)");
    return 0;
}
