/* shared_memory.h -- the protocol of shared_memory_writer and
 * shared_memory_reader (the report's listings 8 and 9).
 *
 * The writer creates four named objects, the reader opens them:
 *   Local\winipc_NAME_mapping  a file mapping backed by the paging file
 *                              (CreateFileMappingW with INVALID_HANDLE_VALUE):
 *                              the SharedBlock below, seen by both processes
 *   Local\winipc_NAME_mutex    whoever holds it may touch the block's bytes
 *   Local\winipc_NAME_filled   auto-reset event: a value waits for the reader
 *   Local\winipc_NAME_emptied  auto-reset event: the reader has taken it
 * The block holds one value at a time. The mutex says who may touch it now,
 * not whose turn it is: with a mutex alone (the listings) the reader could
 * take it twice in a row and print one value twice, or the writer could, and
 * a value was lost. So the two events are the handshake: the writer waits
 * for "emptied" before each value, the reader for "filled".
 *
 * Order of creation: the writer creates the mutex first, owning it, then the
 * events, and the mapping last; it fills in the block and only then releases
 * the mutex. So a reader that finds the mapping finds the other three, and
 * its first lock waits until the block is filled in. Every object must be
 * new: one that exists already belongs to another writer (or to someone
 * squatting on the name), and the writer refuses the name.
 *
 * Namespaces and security. Local\ is the namespace of the user's logon
 * session (where a name without a prefix goes too). Global\ is shared by all
 * sessions -- services run in session 0, users in 1, 2, ... -- and a process
 * outside session 0 may create a file mapping there only with
 * SeCreateGlobalPrivilege, which services and administrators have and
 * ordinary users do not: otherwise any user could plant an object that a
 * service would then open and trust. The objects get the default DACL of the
 * writer's token (its user, Administrators, SYSTEM). So any process of the
 * user's session can open them by name, read the block and write into it:
 * the reader checks every field before it trusts a value (reader.c), and
 * shared_memory_tamper (test-only) is such a process.
 */
#ifndef SHARED_MEMORY_H
#define SHARED_MEMORY_H

#include <windows.h>
#include <stdio.h>
#include <string.h>

#define SM_DEFAULT_NAME "shared_memory"
#define SM_DEFAULT_COUNT 15 /* listing 9 reads 15 values: the writer writes as many */
#define SM_MAX_COUNT 10000000
#define SM_MAX_VALUE 100000         /* values are random numbers from 0 to SM_MAX_VALUE - 1 */
#define SM_DEFAULT_INTERVAL_MS 1000 /* the writer's pause between values */
#define SM_MAX_INTERVAL_MS 60000
#define SM_DEFAULT_WAIT_READER_MS 30000 /* the writer waits this long for a reader */
#define SM_MAX_WAIT_MS 3600000
#define SM_LOCK_WAIT_MS 10000 /* the mutex guards a few bytes: held longer, it is stuck */
#define SM_POLL_MS 50         /* reader --wait: how often to look for the mapping */
#define SM_MAX_NAME 100       /* bytes of UTF-8 in NAME */
#define SM_MAGIC 0x63706977UL /* "wipc": the writer has filled in the block */

/* The shared block: fixed-width fields only, so that 32- and 64-bit
 * programs (and both compilers) agree on every offset. */
typedef struct {
    DWORD magic;      /* SM_MAGIC */
    DWORD writerPid;  /* the reader waits on this process too (SYNCHRONIZE) */
    DWORD count;      /* values in the stream: the last has sequence == count */
    DWORD intervalMs; /* the writer's pause, so the reader can bound its wait */
    DWORD sequence;   /* 1, 2, ... count: which value the block holds */
    LONG value;
} SharedBlock;

_Static_assert(sizeof(SharedBlock) == 24, "SharedBlock must have no padding");

/* An object's name as UTF-8 (for messages) and as UTF-16 (for the ...W calls). */
typedef struct {
    char text[SM_MAX_NAME + 32];
    wchar_t wide[SM_MAX_NAME + 32];
} ObjectName;

/* The four objects' names for --name NAME. */
typedef struct {
    ObjectName mapping, mutex, filled, emptied;
} ObjectNames;

/* "Local\winipc_NAME_KIND"; KIND is mapping, mutex, filled or emptied. */
static inline BOOL makeName(ObjectName *object, const char *name, const char *kind)
{
    snprintf(object->text, sizeof object->text, "Local\\winipc_%s_%s", name, kind);
    return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, object->text, -1, object->wide,
                               SM_MAX_NAME + 32) != 0;
}

/* Makes the names of all four objects; FALSE if NAME is not 1 to SM_MAX_NAME bytes of UTF-8
 * without a backslash (which would reach into another namespace). */
static inline BOOL makeNames(ObjectNames *names, const char *name)
{
    if (name[0] == '\0' || strchr(name, '\\') != NULL || strlen(name) > SM_MAX_NAME)
        return FALSE;
    return makeName(&names->mapping, name, "mapping") && makeName(&names->mutex, name, "mutex") &&
           makeName(&names->filled, name, "filled") && makeName(&names->emptied, name, "emptied");
}

/* xorshift32 (Marsaglia, 2003): the next number of a sequence that depends
 * only on the seed (never 0). rand()'s sequence is the C library's choice,
 * so it differs between MSVC's and MinGW's runtimes; ours does not. */
static inline DWORD nextRandom(DWORD *state)
{
    DWORD x = *state;

    x ^= x << 13; /* DWORD is 32 bits everywhere: the shifts drop the top */
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif
