/* writer.c -- shared_memory_writer: the report's listing 8, fixed.
 *
 * Creates a named file mapping backed by the paging file, a named mutex and
 * two events (shared_memory.h), then writes COUNT random numbers into the
 * mapping one at a time, printing "write message: N" for each. The numbers
 * come from a seeded generator, so a run can be repeated exactly. The
 * handshake makes the writer wait for its reader: a value goes in only when
 * the reader has taken the one before. The reader is in reader.c.
 *
 * Usage: shared_memory_writer [--name NAME] [--count N] [--seed S]
 *            [--interval MS] [--wait-reader MS] [--crash-after N]
 *
 * What the listing got wrong, and what this program does instead:
 *  - It slept while holding the mutex, so the reader was locked out for the
 *    whole pause; here the pause comes after the mutex is released.
 *  - A mutex alone is no handshake: values were lost or read twice. The
 *    "filled" and "emptied" events take turns (shared_memory.h).
 *  - Text was copied with sizeof of a TCHAR array: a size in bytes that
 *    changes with the UNICODE setting and says nothing of the text's length.
 *    The block is a struct of fixed-width numbers, the same for any build.
 *  - CreateFileMapping opens a mapping that already exists, so a second
 *    writer on the same name would share the first one's block. Here it is
 *    refused (ERROR_ALREADY_EXISTS) and exits 1; the first goes on.
 * Also, no wait is endless: a writer with no reader gives up after
 * --wait-reader ms. --crash-after shows what the reader does when a writer
 * dies in the middle of writing.
 */
#include "shared_memory.h"
#include "args.h"

#include <string.h>

static const char usage[] =
    "Usage: shared_memory_writer [--name NAME] [--count N] [--seed S]\n"
    "           [--interval MS] [--wait-reader MS] [--crash-after N]\n"
    "\n"
    "Writes N random numbers, one at a time, into the shared memory\n"
    "Local\\winipc_NAME_mapping for shared_memory_reader to read.\n"
    "\n"
    "  --name NAME        the objects' name (default " SM_DEFAULT_NAME ")\n"
    "  --count N          numbers to write (default 15)\n"
    "  --seed S           seed of the random numbers, from 1 (default 1)\n"
    "  --interval MS      pause between numbers (default 1000)\n"
    "  --wait-reader MS   give up when no reader takes a number this long\n"
    "                     (default 30000)\n"
    "  --crash-after N    exit while holding the mutex, writing number N\n"
    "  --help             show this text\n";

/* Every object must be new: an existing one is another writer's. */
static HANDLE mustBeNew(HANDLE object, const char *call, const ObjectName *name)
{
    if (object == NULL)
        errExit("%s %s", call, name->text);
    if (GetLastError() == ERROR_ALREADY_EXISTS) {
        if (!CloseHandle(object)) /* ours was only a handle to theirs */
            errMsg("CloseHandle");
        fatal("%s already exists: another writer is using this name", name->text);
    }
    return object;
}

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
    long waitReader = SM_DEFAULT_WAIT_READER_MS, crashAfter = 0, i;
    ObjectNames names;
    HANDLE mapping, mutex, filled, emptied;
    SharedBlock *block;
    DWORD generator, wait;
    LONG value;
    int arg;

    initProgram(&argc, &argv, usage);
    for (arg = 1; arg < argc; arg++) {
        if (strcmp(argv[arg], "--help") == 0)
            showHelp();
        else if (strcmp(argv[arg], "--name") == 0)
            name = optionValue(argc, argv, &arg);
        else if (strcmp(argv[arg], "--count") == 0)
            count = getNumber(optionValue(argc, argv, &arg), 1, SM_MAX_COUNT, "--count");
        else if (strcmp(argv[arg], "--seed") == 0)
            seed = getNumber(optionValue(argc, argv, &arg), 1, 0x7FFFFFFF, "--seed");
        else if (strcmp(argv[arg], "--interval") == 0)
            interval = getNumber(optionValue(argc, argv, &arg), 0, SM_MAX_INTERVAL_MS,
                                 "--interval");
        else if (strcmp(argv[arg], "--wait-reader") == 0)
            waitReader = getNumber(optionValue(argc, argv, &arg), 1, SM_MAX_WAIT_MS,
                                   "--wait-reader");
        else if (strcmp(argv[arg], "--crash-after") == 0)
            crashAfter = getNumber(optionValue(argc, argv, &arg), 1, SM_MAX_COUNT,
                                   "--crash-after");
        else
            usageErr("unknown argument \"%s\"", argv[arg]);
    }
    makeNames(&names, name);

    /* The mutex first, owned; the mapping last (see shared_memory.h). The
     * block starts empty, so "emptied" starts signalled. */
    mutex = mustBeNew(CreateMutexW(NULL, TRUE, names.mutex.wide), "CreateMutexW", &names.mutex);
    filled = mustBeNew(CreateEventW(NULL, FALSE, FALSE, names.filled.wide), "CreateEventW",
                       &names.filled);
    emptied = mustBeNew(CreateEventW(NULL, FALSE, TRUE, names.emptied.wide), "CreateEventW",
                        &names.emptied);
    mapping = mustBeNew(CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                           (DWORD)sizeof(SharedBlock), names.mapping.wide),
                        "CreateFileMappingW", &names.mapping);
    block = MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, sizeof(SharedBlock));
    if (block == NULL)
        errExit("MapViewOfFile %s", names.mapping.text);
    block->writerPid = GetCurrentProcessId();
    block->count = (DWORD)count;
    block->intervalMs = (DWORD)interval;
    block->sequence = 0;
    block->value = 0;
    block->magic = SM_MAGIC;
    if (!ReleaseMutex(mutex))
        errExit("ReleaseMutex");
    say("shared_memory_writer: Local\\winipc_%s ready (%ld values, seed %ld)\n",
        name, count, seed);

    generator = (DWORD)seed;
    for (i = 1; i <= count; i++) {
        value = (LONG)(nextRandom(&generator) % SM_MAX_VALUE);
        waitForReader(emptied, waitReader, i - 1);
        wait = WaitForSingleObject(mutex, SM_LOCK_WAIT_MS);
        if (wait == WAIT_ABANDONED) /* we hold it now; a reader only reads */
            warn("a reader died holding the mutex; the block is still whole");
        else if (wait == WAIT_TIMEOUT)
            fatal("the mutex stayed locked for %d ms", SM_LOCK_WAIT_MS);
        else if (wait != WAIT_OBJECT_0)
            errExit("WaitForSingleObject (mutex)");
        block->sequence = (DWORD)i;
        block->value = value;
        if (i == crashAfter) {
            warn("--crash-after %ld: exiting while holding the mutex", i);
            ExitProcess(1); /* Windows marks the mutex abandoned */
        }
        if (!ReleaseMutex(mutex))
            errExit("ReleaseMutex");
        if (!SetEvent(filled))
            errExit("SetEvent %s", names.filled.text);
        say("write message: %ld\n", (long)value);
        if (interval > 0 && i < count)
            Sleep((DWORD)interval); /* holding nothing: the reader goes on */
    }
    waitForReader(emptied, waitReader, count); /* the last value was taken */
    say("shared_memory_writer: %ld values written\n", count);

    if (!UnmapViewOfFile(block))
        errExit("UnmapViewOfFile");
    if (!CloseHandle(mapping) || !CloseHandle(emptied) || !CloseHandle(filled) ||
        !CloseHandle(mutex))
        errExit("CloseHandle");
    return 0;
}
