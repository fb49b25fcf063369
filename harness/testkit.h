/* testkit.h -- test-only: what the reliability probes share (churn, fuzz,
 * floods). No lab program links this; a student can skip this folder.
 *
 *  - a seeded random sequence, so that a failing fuzz run can be replayed;
 *  - a look at another process's resources: its handles (on Windows) and
 *    its private bytes, to show that a server gives back what a crowd of
 *    clients cost;
 *  - a lab client started, then killed once it has printed a given line:
 *    a client that vanishes mid-session, for real.
 */
#ifndef WINIPC_TESTKIT_H
#define WINIPC_TESTKIT_H

#include "args.h"

/* The options every probe takes, besides its mode's own. */
typedef struct {
    long cycles;     /* --cycles N (churn) */
    long inputs;     /* --inputs N (fuzz) */
    DWORD serverPid; /* --server-pid PID: whose resources to check; 0: none */
    DWORD seed;      /* --seed S (fuzz); else one from the clock: never 0 */
} ProbeOptions;

/* If argv[*i] is one of those options, takes it and its value (a bad
 * value is a usage error) and returns TRUE. */
BOOL takeProbeOption(int argc, char *argv[], int *i, ProbeOptions *options);

/* After the command line: the seed, when none was given. */
void finishProbeOptions(ProbeOptions *options);

/* A probe that stops making progress -- a call that never returns -- ends
 * with FAIL and the step it was at, rather than hanging until the test's
 * timeout: startWatchdog() once, then progress() at every step (a number
 * of -1 keeps the last one: a step within a numbered one). */
void startWatchdog(DWORD quietMs);
void progress(const char *step, long number);

/* xorshift32: a sequence that depends only on its seed (never 0). */
DWORD nextRandom(DWORD *state);

/* A number from 0 to n - 1 (n > 0). */
DWORD randomBelow(DWORD *state, DWORD n);

/* What a process holds now. handles comes from GetProcessHandleCount, which
 * Wine answers with no count: then counted is FALSE, and only the memory is
 * compared. (Wine's system handle table has the count, but reading it while
 * other processes exit crashes Wine 8's wineserver, and with it every
 * program of the prefix: tests run in parallel, so it is never read.)
 * privateBytes is PROCESS_MEMORY_COUNTERS.PagefileUsage: the commit charge
 * on Windows, the resident anonymous memory under Wine. */
typedef struct {
    DWORD handles;
    BOOL counted;
    SIZE_T privateBytes;
} Resources;

/* Reads process pid's resources; exits (errExit) if it cannot. */
void readResources(DWORD pid, Resources *now);

/* After a crowd of clients, a server frees what they cost as their sessions
 * end, a little later than the clients leave. Waits until pid's handles and
 * private bytes are within the slack of before, for at most waitMs, then
 * prints both readings; returns FALSE (and says FAIL) if they never were. */
BOOL resourcesSettle(DWORD pid, const Resources *before, DWORD handleSlack, SIZE_T byteSlack,
                     DWORD waitMs);

/* Starts commandLine with its stdout read by us and its stdin an open pipe
 * that gives nothing (an interactive client waits at its prompt), waits for
 * a stdout line that starts with marker, then kills it (TerminateProcess)
 * and waits for it to end. FALSE if it exited before printing the marker. */
BOOL runAndKill(wchar_t *commandLine, const char *marker);

#endif
