/* writer.c -- shared_memory_writer: the report's listing 8, fixed.
 *
 * Writes COUNT seeded random numbers one by one into a file mapping backed by the paging file,
 * each once the reader has taken the last (the objects: shared_memory.h). Reader: reader.c.
 *
 * Usage: shared_memory_writer [--name NAME] [--count N] [--seed S] [--interval MS]
 *            [--wait-reader MS]
 *
 * What the listing got wrong, and what this program does instead:
 *  - It slept holding the mutex, locking the reader out: the pause comes after the release.
 *  - A mutex alone is no handshake (values lost or read twice): events "filled" and "emptied".
 *  - Text sized by sizeof of a TCHAR array, which changes with UNICODE: fixed-width numbers now.
 *  - A second writer opened the first one's mapping and shared it: it is refused now.
 *  - Its waits had no end: with no reader, it gives up after --wait-reader ms.
 */
#include "shared_memory.h"
#include "args.h"

static const char usage[] =
    "Usage: shared_memory_writer [--name NAME] [--count N] [--seed S] [--interval MS]\n"
    "           [--wait-reader MS]\n"
    "Writes N random numbers one at a time into shared memory for shared_memory_reader.\n"
    "  --name NAME       the objects' name (default " SM_DEFAULT_NAME ")\n"
    "  --count N         numbers to write (default 15)\n"
    "  --seed S          seed of the random numbers, from 1 (default 1)\n"
    "  --interval MS     pause between numbers (default 1000)\n"
    "  --wait-reader MS  give up when no reader takes a number this long (default 30000)\n"
    "  --help            show this text\n";

static void waitForReader(HANDLE emptied, long waitMs, long taken)
{
    DWORD wait = WaitForSingleObject(emptied, (DWORD)waitMs);

    if (wait == WAIT_TIMEOUT)
        fatal("no reader took value %ld within %ld ms", taken, waitMs);
    if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject (emptied)");
}

int main(int argc, char *argv[])
{
    const char *name = SM_DEFAULT_NAME;
    long count = SM_DEFAULT_COUNT, seed = 1, interval = SM_DEFAULT_INTERVAL_MS;
    long waitMs = SM_DEFAULT_WAIT_READER_MS, sequence;
    ObjectNames names;
    HANDLE mapping, mutex, filled, emptied;
    SharedBlock *block;
    DWORD generator, wait;
    LONG value;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--name") == 0)
            name = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--count") == 0)
            count = getNumber(optionValue(argc, argv, &i), 1, SM_MAX_COUNT, "--count");
        else if (strcmp(argv[i], "--seed") == 0)
            seed = getNumber(optionValue(argc, argv, &i), 1, 0x7FFFFFFF, "--seed");
        else if (strcmp(argv[i], "--interval") == 0)
            interval = getNumber(optionValue(argc, argv, &i), 0, SM_MAX_INTERVAL_MS, "--interval");
        else if (strcmp(argv[i], "--wait-reader") == 0)
            waitMs = getNumber(optionValue(argc, argv, &i), 1, SM_MAX_WAIT_MS, "--wait-reader");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    if (!makeNames(&names, name))
        usageErr("--name wants 1 to %d bytes without '\\'", SM_MAX_NAME);

    /* The mutex first, owned; the mapping last (shared_memory.h); "emptied" set: no value yet.
     * A create call returns an existing object too, and says so only by ERROR_ALREADY_EXISTS. */
    mutex = CreateMutexW(NULL, TRUE, names.mutex.wide);
    if (mutex == NULL)
        errExit("CreateMutexW %s", names.mutex.text);
    if (GetLastError() == ERROR_ALREADY_EXISTS)
        fatal("%s already exists: another writer is using this name", names.mutex.text);
    filled = CreateEventW(NULL, FALSE, FALSE, names.filled.wide);
    if (filled == NULL)
        errExit("CreateEventW %s", names.filled.text);
    if (GetLastError() == ERROR_ALREADY_EXISTS)
        fatal("%s already exists: another writer is using this name", names.filled.text);
    emptied = CreateEventW(NULL, FALSE, TRUE, names.emptied.wide);
    if (emptied == NULL)
        errExit("CreateEventW %s", names.emptied.text);
    if (GetLastError() == ERROR_ALREADY_EXISTS)
        fatal("%s already exists: another writer is using this name", names.emptied.text);
    mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                 (DWORD)sizeof(SharedBlock), names.mapping.wide);
    if (mapping == NULL)
        errExit("CreateFileMappingW %s", names.mapping.text);
    if (GetLastError() == ERROR_ALREADY_EXISTS)
        fatal("%s already exists: another writer is using this name", names.mapping.text);
    block = MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, sizeof(SharedBlock));
    if (block == NULL)
        errExit("MapViewOfFile %s", names.mapping.text);
    block->writerPid = GetCurrentProcessId(); /* sequence, value: 0; a new mapping is zeroed */
    block->count = (DWORD)count;
    block->intervalMs = (DWORD)interval;
    block->magic = SM_MAGIC;
    if (!ReleaseMutex(mutex))
        errExit("ReleaseMutex");
    say("shared_memory_writer: Local\\winipc_%s ready (%ld values, seed %ld)\n", name, count, seed);

    generator = (DWORD)seed;
    for (sequence = 1; sequence <= count; sequence++) {
        value = (LONG)(nextRandom(&generator) % SM_MAX_VALUE);
        waitForReader(emptied, waitMs, sequence - 1);
        wait = WaitForSingleObject(mutex, SM_LOCK_WAIT_MS);
        if (wait == WAIT_ABANDONED) /* we hold it now; a reader only reads */
            warn("a reader died holding the mutex; the block is still whole");
        else if (wait == WAIT_TIMEOUT)
            fatal("the mutex stayed locked for %d ms", SM_LOCK_WAIT_MS);
        else if (wait != WAIT_OBJECT_0)
            errExit("WaitForSingleObject (mutex)");
        block->sequence = (DWORD)sequence;
        block->value = value;
        if (!ReleaseMutex(mutex))
            errExit("ReleaseMutex");
        if (!SetEvent(filled))
            errExit("SetEvent %s", names.filled.text);
        say("write message: %ld\n", (long)value);
        if (interval > 0 && sequence < count)
            Sleep((DWORD)interval); /* holding nothing: the reader goes on */
    }
    waitForReader(emptied, waitMs, count); /* the last value was taken */
    say("shared_memory_writer: %ld values written\n", count);

    if (!UnmapViewOfFile(block))
        errExit("UnmapViewOfFile");
    if (!CloseHandle(mapping))
        errExit("CloseHandle (mapping)");
    if (!CloseHandle(emptied))
        errExit("CloseHandle (emptied)");
    if (!CloseHandle(filled))
        errExit("CloseHandle (filled)");
    if (!CloseHandle(mutex))
        errExit("CloseHandle (mutex)");
    return 0;
}
