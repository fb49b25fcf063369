/* ipcbench_watch.c -- the watchdog: neither side of a run waits for ever on the other.
 *
 * The calls that move a message block (ReadFile, recv, ConnectNamedPipe, accept...), and most
 * of them cannot also wait on the other process. So a thread of ours waits on that process
 * instead, and watches a progress count the owner bumps for every message. It ends the program,
 * saying why, when the other process has exited and nothing has moved for IB_GRACE_MS (time
 * for the owner's own call to fail and say so first, as a broken pipe does), or when nothing
 * has moved for idleLimitMs although the other process still runs: it is hung. The bench's
 * watchdog then ends the peer too, which nothing else would.
 */
#include "ipcbench.h"
#include "args.h"

#define TICK_MS 250

static void giveUp(Watchdog *watch, BOOL otherGone)
{
    LONG done = watch->progress;
    DWORD code = 0;

    if (otherGone && !GetExitCodeProcess(watch->other, &code))
        errExit("GetExitCodeProcess (%s)", watch->otherName);
    if (otherGone)
        fatal("%s exited (exit code %lu) after %ld messages: the run cannot go on",
              watch->otherName, code, done);
    if (watch->endOther && !TerminateProcess(watch->other, 1))
        errMsg("TerminateProcess (%s)", watch->otherName);
    fatal("nothing has moved for %lu s after %ld messages: %s hangs%s", watch->idleLimitMs / 1000,
          done, watch->otherName, watch->endOther ? " (ended)" : "");
}

static DWORD WINAPI watchOther(void *parameter)
{
    Watchdog *watch = parameter;
    HANDLE handles[2] = {watch->stop, watch->other};
    LONG last = -1;
    DWORD idleMs = 0;
    BOOL otherGone = FALSE;

    for (;;) {
        switch (WaitForMultipleObjects(otherGone ? 1 : 2, handles, FALSE, TICK_MS)) {
        case WAIT_OBJECT_0: return 0;
        case WAIT_OBJECT_0 + 1:
            otherGone = TRUE;
            idleMs = 0;
            break;
        case WAIT_TIMEOUT: idleMs += TICK_MS; break;
        default: errExit("WaitForMultipleObjects (watchdog)");
        }
        if (watch->progress != last) {
            last = watch->progress;
            idleMs = 0;
        }
        if (watch->ending)
            continue; /* the run is over: the other side may exit, or be slow to */
        if ((otherGone && idleMs >= IB_GRACE_MS) || idleMs >= watch->idleLimitMs)
            giveUp(watch, otherGone);
    }
}

void startWatchdog(Watchdog *watch, HANDLE other, const char *otherName, BOOL endOther,
                   DWORD idleLimitMs)
{
    watch->other = other;
    watch->otherName = otherName;
    watch->endOther = endOther;
    watch->idleLimitMs = idleLimitMs;
    watch->progress = 0;
    watch->ending = 0;
    watch->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (watch->stop == NULL)
        errExit("CreateEventW (watchdog)");
    watch->thread = CreateThread(NULL, 0, watchOther, watch, 0, NULL);
    if (watch->thread == NULL)
        errExit("CreateThread (watchdog)");
}

void stopWatchdog(Watchdog *watch)
{
    if (!SetEvent(watch->stop))
        errExit("SetEvent (watchdog)");
    if (WaitForSingleObject(watch->thread, INFINITE) != WAIT_OBJECT_0)
        errExit("WaitForSingleObject (watchdog)");
    if (!CloseHandle(watch->thread))
        errExit("CloseHandle (watchdog thread)");
    if (!CloseHandle(watch->stop))
        errExit("CloseHandle (watchdog event)");
}
