/* reader.c -- shared_memory_reader: the report's listing 9, fixed.
 *
 * Opens the file mapping, mutex and events that shared_memory_writer created
 * (shared_memory.h) and reads COUNT values from the mapping, each exactly
 * once and in order, printing "read message: N" for each. It waits on the
 * "filled" event and on the writer's process at once, so a writer that dies
 * is noticed the moment it does, not after a timeout. The writer is in
 * writer.c.
 *
 * Usage: shared_memory_reader [--name NAME] [--count N] [--wait MS]
 *
 * What the listing got wrong, and what this program does instead:
 *  - With only the mutex between them, it printed whatever the block held
 *    when it got the mutex: one value many times, another never. Here it
 *    waits for "filled" and answers "emptied"; sequence numbers prove the
 *    order.
 *  - With no writer (no mapping, no mutex) it did not stop. Now the missing
 *    mapping is named and the reader exits 1 -- or, with --wait, waits.
 *  - A writer that died was not noticed. Now its process ending, or the
 *    mutex coming back abandoned (WAIT_ABANDONED: the writer died in the
 *    middle of writing), stops the reader with exit 1: the data is not
 *    trusted.
 *  - Text was copied with sizeof of a TCHAR array, a size that changes with
 *    the UNICODE setting; the block holds fixed-width numbers instead.
 *  - It trusted the block. Any process of the same logon session can open a
 *    Local\ object by its name -- and write into it -- so the block is
 *    input from a stranger: checkBlock() tests every field before a value
 *    is printed (the magic number, the sequence, the range of the value,
 *    the writer's count and pause), and anything wrong stops the reader with
 *    exit 1. shared_memory_tamper, a test-only program, shows it.
 */
#include "shared_memory.h"
#include "args.h"

#include <string.h>

static const char usage[] =
    "Usage: shared_memory_reader [--name NAME] [--count N] [--wait MS]\n"
    "\n"
    "Reads N numbers, one at a time, from the shared memory that\n"
    "shared_memory_writer made (Local\\winipc_NAME_mapping).\n"
    "\n"
    "  --name NAME  the objects' name (default " SM_DEFAULT_NAME ")\n"
    "  --count N    numbers to read (default 15); fewer if the writer stops first\n"
    "  --wait MS    wait this long for a writer to appear (default: none)\n"
    "  --help       show this text\n";

static HANDLE openMapping(const ObjectName *name, long waitMs)
{
    ULONGLONG deadline = GetTickCount64() + (ULONGLONG)waitMs;
    HANDLE mapping;

    for (;;) {
        mapping = OpenFileMappingW(FILE_MAP_READ, FALSE, name->wide);
        if (mapping != NULL)
            return mapping;
        if (GetLastError() != ERROR_FILE_NOT_FOUND)
            errExit("OpenFileMappingW %s", name->text);
        if (waitMs == 0)
            fatal("no writer: %s does not exist (start shared_memory_writer first)",
                  name->text);
        if (GetTickCount64() >= deadline)
            fatal("no writer: %s did not appear within %ld ms", name->text, waitMs);
        /* Nothing can wait for a name to appear: an object of our own to be
         * woken by would be one more name the writer must find free. So we
         * look again now and then, and never past the deadline. */
        Sleep(SM_POLL_MS);
    }
}

/* Nothing in the block is printed or used before it passes these checks:
 * a value belongs to the stream (sequence 1 to total, the one after the
 * last we read) and lies in the writer's range. */
static void checkBlock(DWORD magic, DWORD sequence, DWORD last, DWORD total, LONG value)
{
    if (magic != SM_MAGIC)
        fatal("the shared block is not valid: its magic number is 0x%08lX, not 0x%08lX",
              (unsigned long)magic, SM_MAGIC);
    if (sequence == 0 || sequence > total)
        fatal("the shared block is not valid: it holds value number %lu of a stream of %lu",
              (unsigned long)sequence, (unsigned long)total);
    if (last != 0 && sequence != last + 1)
        fatal("value %lu came after value %lu: the handshake is broken", (unsigned long)sequence,
              (unsigned long)last);
    if (value < 0 || value >= SM_MAX_VALUE)
        fatal("the shared block is not valid: value %lu is %ld, outside 0 to %d",
              (unsigned long)sequence, (long)value, SM_MAX_VALUE - 1);
}

/* A dead writer's mutex is handed to the next waiter as abandoned. */
static void lockBlock(HANDLE mutex, DWORD last)
{
    DWORD wait = WaitForSingleObject(mutex, SM_LOCK_WAIT_MS);

    if (wait == WAIT_ABANDONED)
        fatal("writer gone after value %lu: it died holding the mutex (WAIT_ABANDONED), "
              "so the shared block cannot be trusted", (unsigned long)last);
    if (wait == WAIT_TIMEOUT)
        fatal("the mutex stayed locked for %d ms", SM_LOCK_WAIT_MS);
    if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject (mutex)");
}

int main(int argc, char *argv[])
{
    const char *name = SM_DEFAULT_NAME;
    long count = SM_DEFAULT_COUNT, waitMs = 0, taken = 0;
    ObjectNames names;
    HANDLE mapping, mutex, filled, emptied, writer, waitFor[2];
    const SharedBlock *block;
    DWORD magic, pid, total, interval, sequence, last = 0, wait;
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
        else if (strcmp(argv[arg], "--wait") == 0)
            waitMs = getNumber(optionValue(argc, argv, &arg), 1, SM_MAX_WAIT_MS, "--wait");
        else
            usageErr("unknown argument \"%s\"", argv[arg]);
    }
    makeNames(&names, name);

    /* The mapping is created last: if it exists, so do the others. */
    mapping = openMapping(&names.mapping, waitMs);
    block = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, sizeof(SharedBlock));
    if (block == NULL)
        errExit("MapViewOfFile %s", names.mapping.text);
    mutex = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, names.mutex.wide);
    if (mutex == NULL)
        errExit("OpenMutexW %s", names.mutex.text);
    filled = OpenEventW(SYNCHRONIZE, FALSE, names.filled.wide);
    if (filled == NULL)
        errExit("OpenEventW %s", names.filled.text);
    emptied = OpenEventW(EVENT_MODIFY_STATE, FALSE, names.emptied.wide);
    if (emptied == NULL)
        errExit("OpenEventW %s", names.emptied.text);

    lockBlock(mutex, 0); /* waits while the writer fills the block in */
    magic = block->magic;
    pid = block->writerPid;
    total = block->count;
    interval = block->intervalMs;
    if (!ReleaseMutex(mutex))
        errExit("ReleaseMutex");
    if (magic != SM_MAGIC)
        fatal("%s was not made by shared_memory_writer (its magic number is 0x%08lX)",
              names.mapping.text, (unsigned long)magic);
    /* The interval bounds our waits below: a huge one would hang us. */
    if (pid == 0 || total == 0 || total > SM_MAX_COUNT || interval > SM_MAX_INTERVAL_MS)
        fatal("the shared block is not valid: writer %lu, %lu values, %lu ms apart",
              (unsigned long)pid, (unsigned long)total, (unsigned long)interval);
    /* If the writer has just exited, its number is no longer a process
     * (ERROR_INVALID_PARAMETER) -- or, rarely, already another one's: then
     * the stall bound below ends the wait instead. */
    writer = OpenProcess(SYNCHRONIZE, FALSE, pid);
    if (writer == NULL && GetLastError() == ERROR_INVALID_PARAMETER)
        fatal("writer gone: its process %lu has exited", (unsigned long)pid);
    if (writer == NULL)
        errExit("OpenProcess %lu", (unsigned long)pid);

    waitFor[0] = filled; /* first, so a value left by a writer that died is read */
    waitFor[1] = writer;
    while (taken < count && last != total) {
        /* A live writer fills the block within its pause and a lock. */
        wait = WaitForMultipleObjects(2, waitFor, FALSE, interval + SM_LOCK_WAIT_MS);
        if (wait == WAIT_OBJECT_0 + 1) {
            lockBlock(mutex, last); /* died mid-write? then this exits */
            fatal("writer gone after value %lu of %lu: its process ended",
                  (unsigned long)last, (unsigned long)total);
        }
        if (wait == WAIT_TIMEOUT)
            fatal("the writer sent nothing for %lu ms after value %lu",
                  (unsigned long)(interval + SM_LOCK_WAIT_MS), (unsigned long)last);
        if (wait != WAIT_OBJECT_0)
            errExit("WaitForMultipleObjects");
        lockBlock(mutex, last);
        magic = block->magic; /* a copy: the block may change once we let go */
        sequence = block->sequence;
        value = block->value;
        if (!ReleaseMutex(mutex))
            errExit("ReleaseMutex");
        checkBlock(magic, sequence, last, total, value);
        if (!SetEvent(emptied)) /* the writer may write the next one now */
            errExit("SetEvent %s", names.emptied.text);
        last = sequence;
        taken++;
        say("read message: %ld\n", (long)value);
    }
    if (taken < count)
        say("shared_memory_reader: the writer's stream ended at value %lu\n",
            (unsigned long)total);
    say("shared_memory_reader: %ld values read\n", taken);

    if (!UnmapViewOfFile(block))
        errExit("UnmapViewOfFile");
    if (!CloseHandle(mapping) || !CloseHandle(writer) || !CloseHandle(emptied) ||
        !CloseHandle(filled) || !CloseHandle(mutex))
        errExit("CloseHandle");
    return 0;
}
