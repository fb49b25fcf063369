/* ipcbench.h -- what ipcbench's files share (test and measurement tool, not a lab program).
 *
 * ipcbench.c          main: the options, one run per mechanism and size, the verification
 * ipcbench_links.c    each mechanism behind one Link: set up, send a message, receive one
 * ipcbench_peer.c     the peer: echoes every message whole; tcp_iocp's completion port
 * ipcbench_watch.c    the watchdog: neither side waits for ever on the other
 * ipcbench_lab.c      --lab-server: the lab's named_pipe_server as the peer, its output read
 * ipcbench_report.c   percentiles, the platform and the CPU, table/csv/json output
 *
 * One run: the bench starts its peer (this same .exe with --peer), sends `total` messages of
 * `size` bytes one at a time and waits for each echo. The peer learns everything from its
 * command line, so the two sides need no protocol beyond the messages themselves; it hands back
 * one figure, its own CPU time, in a small shared block (PeerReport). With --lab-server the
 * peer is the lab's named_pipe_server instead, which the bench drives as any client would.
 */
#ifndef IPCBENCH_H
#define IPCBENCH_H

#include <winsock2.h> /* before windows.h, which would bring in the old winsock.h */
#include <ws2tcpip.h>
#include <windows.h>

#define IB_MAX_SIZE (16L * 1024 * 1024) /* bytes in one message */
#define IB_MAX_COUNT 100000000L
#define IB_PIPE_BUFFER 65536   /* what the pipes ask for each way: no message waits on a buffer */
#define IB_SPIN_LIMIT 2000     /* shm_spin: YieldProcessor() rounds before the event */
#define IB_IDLE_LIMIT_MS 20000 /* no message moved for this long: the other side is hung */
#define IB_GRACE_MS 3000       /* the other process is gone: time for our own call to say so */
#define IB_MAX_NAME 96         /* a run's name, e.g. winipc_ipcbench_1234_5 */

typedef enum {
    ANONYMOUS_PIPE,
    NAMED_PIPE_BYTE,
    NAMED_PIPE_MESSAGE,
    MAILSLOT,
    SHM_EVENT,
    SHM_SPIN,
    TCP,
    TCP_IOCP,
    NAMED_PIPE_SERVER, /* the lab's server as the peer (--lab-server), not ipcbench's own */
    MECHANISM_COUNT
} Mechanism;

#define PEERED_COUNT NAMED_PIPE_SERVER /* the mechanisms before it: ipcbench's own peer */

extern const char *const mechanismNames[MECHANISM_COUNT]; /* the CSV contract's names */

/* One run, as both sides know it: the peer gets each field on its command line. */
typedef struct {
    Mechanism mechanism;
    long size;              /* bytes in every message */
    long total;             /* messages, the warm-up included */
    long warmup;            /* the first messages, not measured */
    char name[IB_MAX_NAME]; /* unique per run: names the pipe, the slots, mapping, events */
    unsigned short port;    /* tcp, tcp_iocp: the bench's listening port */
    long flipMessage;       /* test-only: the peer corrupts its reply to this message; 0: none */
} RunSpec;

/* One end of a mechanism. send() moves one whole message; receive() waits for one, and returns
 * FALSE only when the other side closed the link before a message began (end of data). Any
 * other failure ends the program with the call's name. */
typedef struct Link Link;
struct Link {
    void (*send)(Link *link, const unsigned char *data, DWORD size);
    BOOL (*receive)(Link *link, unsigned char *data, DWORD size);
    const char *side;         /* "bench" or "peer", in messages */
    BOOL endsWithClose;       /* a stream: the peer waits for the bench to close it */
    HANDLE other;             /* the process at the other end (shared memory waits on it) */
    HANDLE in, out;           /* pipes and mailslots (one handle for both on a named pipe) */
    HANDLE childIn, childOut; /* anonymous_pipe: the peer's ends, until it has them */
    SOCKET socket;            /* tcp: the connection; before it, the bench's listener */
    HANDLE mapping;           /* shared memory: the mapping, its view, one event each way */
    unsigned char *view;
    HANDLE inEvent, outEvent;
    int inWay, outWay; /* which half of the view we read, which we write */
    LONG received;     /* shm_spin: messages received so far */
};

/* ipcbench_links.c. The bench prepares before it starts the peer (the peer must find what it
 * opens) and connects after; the peer opens its end in one step. openServerLink: the bench as a
 * client of the lab's named_pipe_server. */
void prepareBenchLink(Link *link, RunSpec *spec);
void connectBenchLink(Link *link, const RunSpec *spec, HANDLE peer);
void openPeerLink(Link *link, const RunSpec *spec, HANDLE bench);
void openServerLink(Link *link, const RunSpec *spec, HANDLE server);
void closeLink(Link *link);

/* The peer's report, in a mapping named after the run: the CPU time the peer used over the
 * measured messages, by its own GetProcessTimes. The peer writes it just before it exits 0; the
 * bench reads it after that exit, which orders the two. (The bench cannot time the peer itself
 * everywhere: Wine's GetProcessTimes on another process gives the caller's own times.) */
typedef struct {
    volatile LONG written; /* 1: cpuMs holds the peer's figure */
    double cpuMs;
} PeerReport;

PeerReport *openPeerReport(const RunSpec *spec, BOOL create, HANDLE *mapping);
void closePeerReport(PeerReport *report, HANDLE mapping);

/* ipcbench_lab.c: the lab's named_pipe_server, started for one run. A thread reads its stdout
 * to the end (a server whose stdout pipe filled would block): it says when the server is
 * listening, and keeps the line the server logs when the session ends, which endLabServer()
 * checks against the messages sent. */
#define IB_LAB_LINE 512 /* bytes of one line of the server's output we keep */

typedef struct {
    PROCESS_INFORMATION process;
    HANDLE output;         /* our end of its stdout */
    HANDLE listening;      /* set when it says it listens, or its output ends */
    HANDLE reader;         /* the thread that reads its output */
    volatile LONG isReady; /* 1: it said "named_pipe_server: listening on ..." */
    char line[IB_LAB_LINE];
    size_t lineUsed;
    char session[IB_LAB_LINE]; /* its "client 1: session ended ..." line */
} LabServer;

void startLabServer(LabServer *lab, const char *path, const RunSpec *spec);
void sayExit(Link *link);
void endLabServer(LabServer *lab, const RunSpec *spec);

/* ipcbench_watch.c. A thread that ends the program when the other process has exited, or
 * nothing has moved for idleLimitMs, while we may be blocked in a call that would never return.
 * The owner counts progress; it sets ending before it closes the link, after which the other
 * side's exit is expected. */
typedef struct {
    HANDLE other;
    const char *otherName; /* "the peer", "ipcbench" */
    BOOL endOther;         /* the bench ends a hung peer: nothing else would */
    DWORD idleLimitMs;
    HANDLE stop, thread;
    volatile LONG progress;
    volatile LONG ending;
} Watchdog;

void startWatchdog(Watchdog *watch, HANDLE other, const char *otherName, BOOL endOther,
                   DWORD idleLimitMs);
void stopWatchdog(Watchdog *watch);

/* ipcbench_peer.c: the peer's whole life; returns the exit code. */
int runPeer(const RunSpec *spec, DWORD benchPid);

/* ipcbench_report.c */
typedef struct {
    Mechanism mechanism;
    long size, count;
    const char *note;  /* "" or a short text without commas */
    BOOL measured;     /* FALSE: not run, every figure is n/a */
    BOOL peerCpuKnown; /* FALSE: no figure (the lab server under Wine: see runsOnWine()) */
    double p50Us, p99Us, maxUs, messagesPerS, mbPerS, cpuMsBench, cpuMsPeer;
} Result;

typedef enum { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON } Format;

void summarise(Result *result, LONGLONG *ticks, long count, LONGLONG frequency);
double cpuMs(HANDLE process);
BOOL runsOnWine(void);
void printResults(const Result *results, int count, Format format, long warmup);

#endif
