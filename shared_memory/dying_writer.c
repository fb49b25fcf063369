/* dying_writer.c -- shared_memory_dying_writer: test-only. Not one of the report's listings: a
 * writer of the shared_memory.h protocol that dies in the middle of writing value N, holding the
 * mutex, to show what shared_memory_reader does then: the mutex comes back to it abandoned
 * (WAIT_ABANDONED), and it does not trust the block. Until then it writes as shared_memory_writer
 * does with its defaults (seed 1, 15 values), without a pause.
 *
 * Usage: shared_memory_dying_writer [--name NAME] --crash-after N
 */
#include "shared_memory.h"
#include "args.h"

static const char usage[] = "Usage: shared_memory_dying_writer [--name NAME] --crash-after N\n"
                            "Test-only: see the top of shared_memory/dying_writer.c.\n";

/* Creates one of the four objects: it must be new, as shared_memory_writer's are. */
static HANDLE createdNew(HANDLE object, const char *call, const ObjectName *name)
{
    if (object == NULL)
        errExit("%s %s", call, name->text);
    if (GetLastError() == ERROR_ALREADY_EXISTS)
        fatal("%s already exists: another writer is using this name", name->text);
    return object;
}

int main(int argc, char *argv[])
{
    const char *name = SM_DEFAULT_NAME;
    long crashAfter = 0, sequence;
    ObjectNames names;
    HANDLE mapping, mutex, filled, emptied;
    SharedBlock *block;
    DWORD generator = 1, wait;
    LONG value;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--name") == 0)
            name = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--crash-after") == 0)
            crashAfter = getNumber(optionValue(argc, argv, &i), 1, SM_DEFAULT_COUNT,
                                   "--crash-after");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    if (crashAfter == 0)
        usageErr("--crash-after N is required");
    if (!makeNames(&names, name))
        usageErr("--name wants 1 to %d bytes without '\\'", SM_MAX_NAME);

    /* As shared_memory_writer: the mutex first, owned; the mapping last. */
    mutex = createdNew(CreateMutexW(NULL, TRUE, names.mutex.wide), "CreateMutexW", &names.mutex);
    filled = createdNew(CreateEventW(NULL, FALSE, FALSE, names.filled.wide), "CreateEventW",
                        &names.filled);
    emptied = createdNew(CreateEventW(NULL, FALSE, TRUE, names.emptied.wide), "CreateEventW",
                         &names.emptied);
    mapping = createdNew(CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                            (DWORD)sizeof(SharedBlock), names.mapping.wide),
                         "CreateFileMappingW", &names.mapping);
    block = MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, sizeof(SharedBlock));
    if (block == NULL)
        errExit("MapViewOfFile %s", names.mapping.text);
    block->writerPid = GetCurrentProcessId();
    block->count = SM_DEFAULT_COUNT;
    block->intervalMs = 0;
    block->magic = SM_MAGIC;
    if (!ReleaseMutex(mutex))
        errExit("ReleaseMutex");
    say("shared_memory_dying_writer: Local\\winipc_%s ready (%d values, seed 1)\n", name,
        SM_DEFAULT_COUNT);

    for (sequence = 1;; sequence++) {
        value = (LONG)(nextRandom(&generator) % SM_MAX_VALUE);
        wait = WaitForSingleObject(emptied, SM_DEFAULT_WAIT_READER_MS);
        if (wait == WAIT_TIMEOUT)
            fatal("no reader took value %ld within %d ms", sequence - 1, SM_DEFAULT_WAIT_READER_MS);
        if (wait != WAIT_OBJECT_0)
            errExit("WaitForSingleObject (emptied)");
        wait = WaitForSingleObject(mutex, SM_LOCK_WAIT_MS);
        if (wait == WAIT_FAILED)
            errExit("WaitForSingleObject (mutex)");
        if (wait != WAIT_OBJECT_0)
            fatal("the mutex was not ours to take for value %ld", sequence);
        block->sequence = (DWORD)sequence;
        block->value = value;
        if (sequence == crashAfter) {
            warn("--crash-after %ld: exiting while holding the mutex", sequence);
            ExitProcess(1); /* Windows marks the mutex abandoned; it closes our handles */
        }
        if (!ReleaseMutex(mutex))
            errExit("ReleaseMutex");
        if (!SetEvent(filled))
            errExit("SetEvent %s", names.filled.text);
        say("write message: %ld\n", (long)value);
    }
}
