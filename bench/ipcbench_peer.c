/* ipcbench_peer.c -- the peer: ipcbench started by itself with --peer. It echoes each message
 * whole, `total` of them, and for a stream waits for the bench to close it before it exits (so
 * no reply is lost to an early close). It times its own CPU over the measured messages (those
 * after the warm-up) and leaves the figure in the run's PeerReport (ipcbench.h) as it exits.
 * Test-only: with --flip-byte N it corrupts the middle byte of its reply to message N, for the
 * test that shows the bench catches it.
 *
 * For tcp_iocp it serves the connection from an I/O completion port: one worker thread, one
 * operation in flight at a time (receive a whole message, send it back, receive the next), the
 * OVERLAPPED first in its context as in iocp/server.c.
 */
#include "ipcbench.h"
#include "args.h"

#include <string.h>

/* The peer's CPU time over the measured messages: from before it waits for the first message
 * after the warm-up to after it has sent the last reply, as the bench's own figure runs. */
typedef struct {
    double startMs, usedMs;
} PeerCpu;

/* Called before each message is received (1 to total), then with total + 1 once all are done. */
static void timeCpu(PeerCpu *cpu, const RunSpec *spec, long message)
{
    if (message == spec->warmup + 1)
        cpu->startMs = cpuMs(GetCurrentProcess());
    if (message == spec->total + 1)
        cpu->usedMs = cpuMs(GetCurrentProcess()) - cpu->startMs;
}

static unsigned char *allocate(long size)
{
    unsigned char *data = HeapAlloc(GetProcessHeap(), 0, (SIZE_T)size);

    if (data == NULL)
        fatal("peer: HeapAlloc of %ld bytes failed", size); /* HeapAlloc sets no last error */
    return data;
}

static void release(unsigned char *data)
{
    if (!HeapFree(GetProcessHeap(), 0, data))
        errExit("peer: HeapFree");
}

static void corruptIfAsked(const RunSpec *spec, long message, unsigned char *data)
{
    if (message == spec->flipMessage)
        data[spec->size / 2] ^= 0xFF;
}

static void echoMessages(Link *link, const RunSpec *spec, Watchdog *watch, PeerCpu *cpu)
{
    unsigned char *data = allocate(spec->size);
    long message;

    for (message = 1; message <= spec->total; message++) {
        timeCpu(cpu, spec, message);
        if (!link->receive(link, data, (DWORD)spec->size))
            fatal("peer: ipcbench closed the link before message %ld of %ld", message, spec->total);
        corruptIfAsked(spec, message, data);
        link->send(link, data, (DWORD)spec->size);
        InterlockedIncrement(&watch->progress);
    }
    timeCpu(cpu, spec, message);
    InterlockedExchange(&watch->ending, 1);
    if (link->endsWithClose && link->receive(link, data, 1))
        fatal("peer: more data after the last of %ld messages", spec->total);
    release(data);
}

/* ---- tcp_iocp ---------------------------------------------------------------------------- */

typedef struct {
    OVERLAPPED overlapped; /* first: the completion hands back its address */
    WSABUF buffer;
    SOCKET socket;
    unsigned char *data;
    DWORD done;   /* bytes of this message received, or sent, so far */
    long message; /* 1 to total; then total + 1: waiting for the end of data */
    BOOL sending;
    const RunSpec *spec;
    Watchdog *watch;
    PeerCpu *cpu;
    HANDLE port;
} Echo;

/* WSARecv and WSASend: done now or pending, a completion packet follows either way. */
static void postReceive(Echo *echo)
{
    DWORD flags = 0;

    memset(&echo->overlapped, 0, sizeof echo->overlapped);
    echo->buffer.buf = (char *)echo->data + echo->done;
    echo->buffer.len = (ULONG)(echo->spec->size - (long)echo->done);
    if (WSARecv(echo->socket, &echo->buffer, 1, NULL, &flags, &echo->overlapped, NULL) ==
            SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING)
        errExitWSA("peer: WSARecv");
}

static void postSend(Echo *echo)
{
    memset(&echo->overlapped, 0, sizeof echo->overlapped);
    echo->buffer.buf = (char *)echo->data + echo->done;
    echo->buffer.len = (ULONG)(echo->spec->size - (long)echo->done);
    if (WSASend(echo->socket, &echo->buffer, 1, NULL, 0, &echo->overlapped, NULL) == SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING)
        errExitWSA("peer: WSASend");
}

/* One completion: the next step of receive, echo, receive... FALSE when it is all done. */
static BOOL advance(Echo *echo, DWORD bytes)
{
    if (echo->message > echo->spec->total && bytes != 0)
        fatal("peer: more data after the last of %ld messages", echo->spec->total);
    if (echo->message > echo->spec->total)
        return FALSE;
    if (bytes == 0 && !echo->sending)
        fatal("peer: ipcbench closed the connection in message %ld", echo->message);
    echo->done += bytes;
    if (echo->done < (DWORD)echo->spec->size) {
        (echo->sending ? postSend : postReceive)(echo); /* a piece: the rest */
        return TRUE;
    }
    echo->done = 0;
    echo->sending = !echo->sending;
    if (echo->sending) {
        corruptIfAsked(echo->spec, echo->message, echo->data);
        postSend(echo);
        return TRUE;
    }
    InterlockedIncrement(&echo->watch->progress);
    timeCpu(echo->cpu, echo->spec, ++echo->message);
    if (echo->message > echo->spec->total)
        InterlockedExchange(&echo->watch->ending, 1);
    postReceive(echo);
    return TRUE;
}

static DWORD WINAPI serveCompletions(void *parameter)
{
    Echo *echo = parameter;
    OVERLAPPED *finished;
    ULONG_PTR key;
    DWORD bytes;

    postReceive(echo);
    for (;;) {
        if (!GetQueuedCompletionStatus(echo->port, &bytes, &key, &finished, INFINITE)) {
            if (finished == NULL)
                errExit("peer: GetQueuedCompletionStatus");
            errExit("peer: %s (completion)", echo->sending ? "WSASend" : "WSARecv");
        }
        if (!advance(CONTAINING_RECORD(finished, Echo, overlapped), bytes))
            return 0;
    }
}

static void echoFromPort(Link *link, const RunSpec *spec, Watchdog *watch, PeerCpu *cpu)
{
    Echo echo = {0};
    HANDLE worker;

    echo.socket = link->socket;
    echo.data = allocate(spec->size);
    echo.message = 1;
    echo.spec = spec;
    echo.watch = watch;
    echo.cpu = cpu;
    timeCpu(cpu, spec, echo.message);
    echo.port = CreateIoCompletionPort((HANDLE)link->socket, NULL, 0, 1);
    if (echo.port == NULL)
        errExit("peer: CreateIoCompletionPort");
    worker = CreateThread(NULL, 0, serveCompletions, &echo, 0, NULL);
    if (worker == NULL)
        errExit("peer: CreateThread");
    if (WaitForSingleObject(worker, INFINITE) != WAIT_OBJECT_0)
        errExit("peer: WaitForSingleObject (the worker)");
    if (!CloseHandle(worker))
        errExit("peer: CloseHandle (the worker)");
    if (!CloseHandle(echo.port))
        errExit("peer: CloseHandle (the port)");
    release(echo.data);
}

/* The figure goes to the bench only now, all echoed: it reads the block once we have exited. */
static void report(const RunSpec *spec, const PeerCpu *cpu)
{
    HANDLE mapping;
    PeerReport *block = openPeerReport(spec, FALSE, &mapping);

    block->cpuMs = cpu->usedMs;
    InterlockedExchange(&block->written, 1);
    closePeerReport(block, mapping);
}

int runPeer(const RunSpec *spec, DWORD benchPid)
{
    HANDLE bench = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, benchPid);
    PeerCpu cpu = {0, 0};
    Watchdog watch;
    Link link;
    WSADATA wsa;
    int status;

    if (bench == NULL)
        errExit("peer: OpenProcess (ipcbench, pid %lu)", benchPid);
    if ((status = WSAStartup(MAKEWORD(2, 2), &wsa)) != 0)
        errExitCode((DWORD)status, "peer: WSAStartup");
    /* Twice the bench's limit: if the two hang together, the bench says so first. */
    startWatchdog(&watch, bench, "ipcbench", FALSE, 2 * IB_IDLE_LIMIT_MS);
    openPeerLink(&link, spec, bench);
    if (spec->mechanism == TCP_IOCP)
        echoFromPort(&link, spec, &watch, &cpu);
    else
        echoMessages(&link, spec, &watch, &cpu);
    closeLink(&link);
    report(spec, &cpu);
    stopWatchdog(&watch);
    if (WSACleanup() == SOCKET_ERROR)
        errExitWSA("peer: WSACleanup");
    if (!CloseHandle(bench))
        errExit("peer: CloseHandle (ipcbench)");
    return 0;
}
