/* tamper.c -- shared_memory_tamper: test-only. Not one of the report's
 * listings: a process of the same session that opens a running writer's
 * objects by name -- which the default DACL lets it do -- and writes
 * nonsense into the shared block, to show that shared_memory_reader never
 * prints a bad value as good.
 *
 * Usage: shared_memory_tamper [--name NAME] --magic | --header | --value V | --skip
 *   --magic    the magic number becomes 0xBAD0BAD0 (the block is not the writer's)
 *   --header   the stream says it has 0 values, 4294967295 ms apart (a reader that
 *              believed it would wait for ever)
 *   --value V  once the writer has written its first value, that value becomes V
 *   --skip     once a reader has taken a value, the block claims the value two
 *              further on, and says it is filled: the sequence is out of order
 * Run it after shared_memory_writer is ready; the reader (after it, or at once
 * for --skip) must refuse the block and exit 1.
 */
#include "shared_memory.h"
#include "args.h"

#define WAIT_MS 10000 /* for the writer's first value, or a reader's take */
#define POLL_MS 10

static const char usage[] =
    "Usage: shared_memory_tamper [--name NAME] --magic | --header | --value V | --skip\n"
    "Test-only: see the top of shared_memory/tamper.c.\n";

static void lock(HANDLE mutex)
{
    DWORD wait = WaitForSingleObject(mutex, SM_LOCK_WAIT_MS);

    if (wait != WAIT_OBJECT_0 && wait != WAIT_ABANDONED)
        errExit("WaitForSingleObject (mutex)");
}

static void unlock(HANDLE mutex)
{
    if (!ReleaseMutex(mutex))
        errExit("ReleaseMutex");
}

/* The writer's first value: it is written at once, with nobody to signal
 * it to us but the block itself, so we look now and then. */
static void waitForFirstValue(HANDLE mutex, const SharedBlock *block)
{
    ULONGLONG deadline = GetTickCount64() + WAIT_MS;
    DWORD sequence;

    for (;;) {
        lock(mutex);
        sequence = block->sequence;
        unlock(mutex);
        if (sequence >= 1)
            return;
        if (GetTickCount64() >= deadline)
            fatal("the writer wrote no value within %d ms", WAIT_MS);
        Sleep(POLL_MS);
    }
}

int main(int argc, char *argv[])
{
    const char *name = SM_DEFAULT_NAME, *what = NULL;
    long value = 0;
    ObjectNames names;
    HANDLE mapping, mutex, filled, emptied;
    SharedBlock *block;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            showHelp();
        } else if (strcmp(argv[i], "--name") == 0) {
            name = optionValue(argc, argv, &i);
        } else if (strcmp(argv[i], "--value") == 0) {
            what = argv[i];
            value = getNumber(optionValue(argc, argv, &i), -2147483647L - 1, 2147483647L,
                              "--value");
        } else if (strcmp(argv[i], "--magic") == 0 || strcmp(argv[i], "--header") == 0 ||
                   strcmp(argv[i], "--skip") == 0) {
            what = argv[i];
        } else {
            usageErr("unknown argument \"%s\"", argv[i]);
        }
    }
    if (what == NULL)
        usageErr("say what to tamper with");
    if (!makeNames(&names, name))
        usageErr("--name wants 1 to %d bytes without '\\'", SM_MAX_NAME);

    /* What any process of the session may do: open the objects by name. */
    mapping = OpenFileMappingW(FILE_MAP_WRITE, FALSE, names.mapping.wide);
    if (mapping == NULL)
        errExit("OpenFileMappingW %s", names.mapping.text);
    block = MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, sizeof(SharedBlock));
    if (block == NULL)
        errExit("MapViewOfFile");
    mutex = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, names.mutex.wide);
    if (mutex == NULL)
        errExit("OpenMutexW %s", names.mutex.text);
    filled = OpenEventW(EVENT_MODIFY_STATE, FALSE, names.filled.wide);
    if (filled == NULL)
        errExit("OpenEventW %s", names.filled.text);
    emptied = OpenEventW(SYNCHRONIZE, FALSE, names.emptied.wide);
    if (emptied == NULL)
        errExit("OpenEventW %s", names.emptied.text);

    if (strcmp(what, "--magic") == 0) {
        lock(mutex);
        block->magic = 0xBAD0BAD0UL;
        unlock(mutex);
        say("shared_memory_tamper: the magic number is now 0xBAD0BAD0\n");
    } else if (strcmp(what, "--header") == 0) {
        lock(mutex);
        block->count = 0;
        block->intervalMs = 0xFFFFFFFFUL;
        unlock(mutex);
        say("shared_memory_tamper: the stream now has 0 values, 4294967295 ms apart\n");
    } else if (strcmp(what, "--value") == 0) {
        waitForFirstValue(mutex, block);
        lock(mutex);
        block->value = (LONG)value;
        unlock(mutex);
        say("shared_memory_tamper: the first value is now %ld\n", value);
    } else {
        /* A reader's take sets "emptied", which the writer waits for -- but
         * the writer first pauses (--interval), so we take it instead. */
        waitForFirstValue(mutex, block);
        if (WaitForSingleObject(emptied, WAIT_MS) != WAIT_OBJECT_0)
            fatal("no reader took a value within %d ms", WAIT_MS);
        lock(mutex);
        block->sequence += 2;
        block->value = 1;
        value = (long)block->sequence;
        unlock(mutex);
        if (!SetEvent(filled))
            errExit("SetEvent %s", names.filled.text);
        say("shared_memory_tamper: the block now claims value %ld, and is filled\n", value);
    }

    if (!UnmapViewOfFile(block))
        errExit("UnmapViewOfFile");
    if (!CloseHandle(mapping))
        errExit("CloseHandle (mapping)");
    if (!CloseHandle(mutex))
        errExit("CloseHandle (mutex)");
    if (!CloseHandle(filled))
        errExit("CloseHandle (filled)");
    if (!CloseHandle(emptied))
        errExit("CloseHandle (emptied)");
    return 0;
}
