/* loadgen.c -- loadgen: the two socket servers under load (issue #10, bench/).
 *
 * K clients at once against sockets_server (a thread per client) or iocp_server (a completion
 * port), both speaking sockets/sockets.h: each client connects, reads the greeting, then sends
 * M lines of B lowercase letters, one at a time, and checks every reply byte for byte against
 * replyTo() (sockets/protocol.c) -- the rule the servers themselves follow. It reports lines per
 * second (from the first send to the last reply), each line's round trip (p50, p99), the
 * connections that failed (refused, reset, closed, a wrong reply: counted, never fatal), and,
 * given the server's PID or program name, the server's peak thread count and private bytes,
 * sampled every SAMPLE_MS while the run goes on. With --connect-only the clients only connect and
 * read the greeting, all held at once (idle); --hold keeps them so until a line or the end of
 * standard input, so that a script can read the server's memory from outside while they are held
 * (bench/sweep.sh does, under Wine, where loadgen may not see the server).
 *
 * The generator must not be the bottleneck, nor cost a thread per client: as in iocp_server,
 * every socket is on one completion port, every operation (ConnectEx, WSASend, WSARecv) is
 * overlapped, and WORKERS threads take the completions. Main starts the run, samples the server,
 * and ends a run that makes no progress for QUIET_MS: a server that stops answering costs its
 * pending connections (counted as failed), never a hang.
 *
 * Usage: loadgen [--host ADDR] --port N --clients K (--lines M | --connect-only [--hold])
 *                [--line-bytes B] [--server-pid PID] [--server-name NAME]
 *                [--format table|csv|json]
 * bench/sweep.sh runs it against both servers for K = 1 to 10,000; tests: bench/loadgen.cmake.
 */
#include "sockets.h"
#include "args.h"

#include <mswsock.h>
#include <psapi.h>
#include <tlhelp32.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS 2           /* threads on the completion port */
#define CONNECT_WINDOW 100  /* connections being made at once: see startNextConnect */
#define SAMPLE_MS 100       /* how often the server is looked at */
#define QUIET_MS 30000      /* no completion this long: the server stopped answering */
#define STOP_WAIT_MS 10000  /* then the cancelled operations must end within this */
#define FAILURES_SHOWN 5    /* the first failures are explained on stderr */
#define MAX_LINES 20000000L /* clients x lines: a float of latency each */
#define EXIT_KEY 0          /* the completion key that ends a worker */

static const char usage[] =
    "Usage: loadgen [--host ADDR] --port N --clients K (--lines M | --connect-only [--hold])\n"
    "               [--line-bytes B] [--server-pid PID] [--server-name NAME]\n"
    "               [--format table|csv|json]\n"
    "Drives sockets_server or iocp_server (sockets.h) with K connections at once and\n"
    "reports lines/s, reply latency (p50, p99), failed connections and the server's\n"
    "peak threads and private bytes. Exit status 0: every connection completed and\n"
    "every reply was right; 1 otherwise.\n"
    "  --host ADDR        the server (default " SK_DEFAULT_HOST ")\n"
    "  --port N           its TCP port\n"
    "  --clients K        connections at once\n"
    "  --lines M          lines each client sends, one at a time, checking each reply\n"
    "  --connect-only     connect all K, read the greetings, hold them, report, close\n"
    "  --hold             with --connect-only: once all are greeted, say so on stderr\n"
    "                     (\"loadgen: holding N connections...\") and hold them until\n"
    "                     a line or the end of standard input\n"
    "  --line-bytes B     bytes per line, 1 to 4096 (default 32)\n"
    "  --server-pid PID   sample this process's threads and private bytes\n"
    "  --server-name NAME the server's program name for the report; without\n"
    "                     --server-pid, the one process of that name is sampled\n"
    "  --format F         table (default), csv or json (a figure not given: n/a, null)\n"
    "  --help             show this text\n";

static const char *const columns[] = {"server",       "clients",       "lines",  "line_bytes",
                                      "lines_per_s",  "p50_us",        "p99_us", "failed",
                                      "peak_threads", "private_bytes", "note"};
#define COLUMNS (sizeof columns / sizeof columns[0])

typedef enum {
    NOT_STARTED,
    CONNECTING,
    GREETING,
    SENDING,
    RECEIVING,
    HELD,
    COMPLETED,
    FAILED
} Step;
typedef enum { REFUSED, RESET, CLOSED, WRONG_REPLY, TIMED_OUT, CALL_FAILED, REASONS } Reason;
static const char *const reasonNames[REASONS] = {"refused",     "reset",     "closed by the server",
                                                 "wrong reply", "timed out", "a call failed"};

typedef struct {
    const char *host, *serverName, *format;
    char port[8];
    long clients, lines, lineBytes;
    DWORD serverPid;
    BOOL connectOnly, hold;
} Options;

struct Run;

/* One client. It has one operation in flight at a time (connect, then receive the greeting;
 * then for each line a send, then a receive), so one OVERLAPPED serves, and one worker at a
 * time touches the client. */
typedef struct {
    OVERLAPPED overlapped;
    struct Run *run;
    SOCKET socket;
    volatile Step step;
    long index, linesDone;
    LONG64 sentAt, finishedAt;         /* QueryPerformanceCounter */
    size_t lineLength, expectedLength; /* the line and its '\n'; the reply we expect */
    size_t done;                       /* of the current operation: bytes sent or received */
    char *line, *expected, *in;
} Client;

typedef struct Run {
    HANDLE port, wake; /* wake: a client has settled (see settle) */
    LPFN_CONNECTEX connectEx;
    struct addrinfo *server;
    Client *clients;
    char *buffers;
    float *latencies; /* microseconds, [client][line]; < 0: no answer */
    long clientCount, lineCount, lineBytes, idDigits;
    LONG64 ticksPerSecond;
    CRITICAL_SECTION lock; /* a client's socket: its closing against main's sweep */
    volatile LONG started, active, progress, stopping, failuresShown;
    volatile LONG reasons[REASONS];
} Run;

/* The server, as seen from outside: its peaks so far (0: no figure yet). */
typedef struct {
    HANDLE process; /* NULL: no figures (missing says why) */
    DWORD pid;
    long peakThreads;
    SIZE_T peakPrivateBytes;
    ULONGLONG nextSample;
    BOOL memoryFailed;
    const char *missing;
} Watch;

static LONG64 now(void)
{
    LARGE_INTEGER t;

    QueryPerformanceCounter(&t); /* cannot fail on Windows XP and later */
    return t.QuadPart;
}

/* ---- the clients, on the workers ------------------------------------------------------- */

static void startNextConnect(Run *run);

/* A client has nothing more in flight: the next one may connect, and main may look. The next
 * is claimed before this one is counted out, so active never touches 0 while clients remain. */
static void settle(Client *c)
{
    Run *run = c->run;

    startNextConnect(run);
    InterlockedDecrement(&run->active);
    if (!SetEvent(run->wake))
        errExit("SetEvent");
}

static void closeClient(Client *c, Step last)
{
    EnterCriticalSection(&c->run->lock);
    c->step = last;
    if (c->socket != INVALID_SOCKET && closesocket(c->socket) == SOCKET_ERROR)
        errMsgWSA("closesocket (client %ld)", c->index + 1);
    c->socket = INVALID_SOCKET;
    LeaveCriticalSection(&c->run->lock);
}

static void explain(Client *c, Reason reason, DWORD error, const char *call)
{
    char got[64], wanted[64];

    if (reason == TIMED_OUT)
        return; /* main said so, once */
    if (reason == WRONG_REPLY)
        warn("client %ld: line %ld: the reply \"%s\" is not \"%s\"", c->index + 1, c->linesDone + 1,
             printable(c->in, c->done, got, sizeof got),
             printable(c->expected, c->expectedLength, wanted, sizeof wanted));
    else if (reason == CLOSED)
        warn("client %ld: the server closed the connection after %ld lines", c->index + 1,
             c->linesDone);
    else
        errMsgCode(error, "client %ld: %s", c->index + 1, call);
}

/* Counted, explained (the first few), closed; the run goes on. */
static void markFailed(Client *c, Reason reason, DWORD error, const char *call)
{
    LONG shown = InterlockedIncrement(&c->run->failuresShown);

    InterlockedIncrement(&c->run->reasons[reason]);
    if (shown <= FAILURES_SHOWN)
        explain(c, reason, error, call);
    if (shown == FAILURES_SHOWN)
        warn("more failures are only counted");
    closeClient(c, FAILED);
}

static void failClient(Client *c, Reason reason, DWORD error, const char *call)
{
    markFailed(c, reason, error, call);
    settle(c);
}

static Reason reasonFor(const Run *run, DWORD error)
{
    if (error == WSAECONNREFUSED || error == ERROR_CONNECTION_REFUSED)
        return REFUSED;
    if (error == WSAECONNRESET || error == WSAECONNABORTED || error == WSAENETRESET)
        return RESET;
    if (error == WSA_OPERATION_ABORTED && run->stopping)
        return TIMED_OUT;
    return CALL_FAILED;
}

/* Done at once and pending both post a completion (no FILE_SKIP_COMPLETION_PORT_ON_SUCCESS),
 * which a worker handles; a failure posts none, so the client fails here. FALSE if it did. */
static BOOL checkStarted(Client *c, BOOL started, const char *call)
{
    DWORD error = (DWORD)WSAGetLastError();

    if (!started && error != WSA_IO_PENDING) {
        markFailed(c, reasonFor(c->run, error), error, call);
        return FALSE;
    }
    return TRUE;
}

/* A stopping run starts nothing new: what is in flight main's sweep cancels. */
static BOOL stopped(Client *c)
{
    if (c->run->stopping)
        failClient(c, TIMED_OUT, 0, NULL);
    return c->run->stopping != 0;
}

static void startReceive(Client *c)
{
    WSABUF buffer; /* only up to the reply we expect: a server never sends ahead */
    DWORD flags = 0;

    if (stopped(c))
        return;
    buffer.buf = c->in + c->done;
    buffer.len = (ULONG)(c->expectedLength - c->done);
    ZeroMemory(&c->overlapped, sizeof c->overlapped);
    if (!checkStarted(c, WSARecv(c->socket, &buffer, 1, NULL, &flags, &c->overlapped, NULL) == 0,
                      "WSARecv"))
        settle(c);
}

static void startSend(Client *c)
{
    WSABUF buffer;

    if (stopped(c))
        return;
    buffer.buf = c->line + c->done;
    buffer.len = (ULONG)(c->lineLength - c->done);
    ZeroMemory(&c->overlapped, sizeof c->overlapped);
    if (!checkStarted(c, WSASend(c->socket, &buffer, 1, NULL, 0, &c->overlapped, NULL) == 0,
                      "WSASend"))
        settle(c);
}

/* The client's next line: lowercase letters, first its number in the run in base 26 (so no
 * two lines are alike, room allowing), then letters from a xorshift seeded by that number. */
static void composeLine(Client *c)
{
    const Run *run = c->run;
    ULONGLONG id = (ULONGLONG)c->index * (ULONGLONG)run->lineCount + (ULONGLONG)c->linesDone;
    DWORD x = (DWORD)(id * 2654435761u) ^ 0x9E3779B9u;
    long i;

    for (i = 0; i < run->lineBytes; i++) {
        if (i < run->idDigits) {
            c->line[i] = (char)('a' + id % 26);
            id /= 26;
        } else {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            c->line[i] = (char)('a' + x % 26);
        }
    }
    c->line[run->lineBytes] = '\n';
    c->lineLength = (size_t)run->lineBytes + 1;
}

static void startLine(Client *c)
{
    char reply[SK_MAX_REPLY + 1];

    composeLine(c);
    if (replyTo(c->line, c->lineLength - 1, reply, &c->expectedLength) != SK_UPPER_CASED ||
        c->expectedLength > c->lineLength)
        fatal("replyTo: a line of lowercase letters got another rule"); /* cannot happen */
    memcpy(c->expected, reply, c->expectedLength);
    c->step = SENDING;
    c->done = 0;
    c->sentAt = now();
    startSend(c);
}

static void onConnected(Client *c)
{
    /* Makes the socket a connected one for the calls that ask (shutdown, getpeername...). */
    if (setsockopt(c->socket, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0) == SOCKET_ERROR) {
        failClient(c, CALL_FAILED, (DWORD)WSAGetLastError(),
                   "setsockopt SO_UPDATE_CONNECT_CONTEXT");
        return;
    }
    c->expectedLength = strlen(SK_GREETING "\n");
    memcpy(c->expected, SK_GREETING "\n", c->expectedLength);
    c->step = GREETING;
    c->done = 0;
    startReceive(c);
}

static void onSent(Client *c, DWORD bytes)
{
    c->done += bytes;
    if (c->done < c->lineLength) { /* a short send: the rest */
        startSend(c);
        return;
    }
    c->step = RECEIVING;
    c->done = 0;
    startReceive(c);
}

/* A reply is checked as its bytes come; a whole one ends the greeting or the line. */
static void onReceived(Client *c, DWORD bytes)
{
    Run *run = c->run;
    LONG64 t = now();

    if (bytes == 0) {
        failClient(c, CLOSED, 0, NULL);
        return;
    }
    c->done += bytes;
    if (memcmp(c->in + c->done - bytes, c->expected + c->done - bytes, bytes) != 0) {
        failClient(c, WRONG_REPLY, 0, NULL);
    } else if (c->done < c->expectedLength) {
        startReceive(c);
    } else if (c->step == GREETING) {
        c->step = HELD; /* until main starts the lines, or closes it */
        settle(c);
    } else {
        run->latencies[c->index * run->lineCount + c->linesDone] =
            (float)((double)(t - c->sentAt) * 1e6 / (double)run->ticksPerSecond);
        if (++c->linesDone < run->lineCount) {
            startLine(c);
        } else {
            c->finishedAt = t;
            closeClient(c, COMPLETED);
            settle(c);
        }
    }
}

static DWORD WINAPI worker(LPVOID param)
{
    Run *run = param;
    OVERLAPPED *overlapped;
    ULONG_PTR key;
    DWORD bytes, error, flags;
    Client *c;
    BOOL ok;

    for (;;) {
        ok = GetQueuedCompletionStatus(run->port, &bytes, &key, &overlapped, INFINITE);
        if (!ok && overlapped == NULL)
            errExit("GetQueuedCompletionStatus");
        if (key == EXIT_KEY)
            return 0;
        c = (Client *)key;
        InterlockedIncrement(&run->progress);
        error = ok ? 0 : GetLastError();
        /* The port gives a system code (1225 for a refusal); WSAGetOverlappedResult Winsock's. */
        if (error != 0 && !WSAGetOverlappedResult(c->socket, overlapped, &bytes, FALSE, &flags))
            error = (DWORD)WSAGetLastError();
        if (error != 0)
            failClient(c, reasonFor(run, error), error,
                       c->step == CONNECTING ? "ConnectEx"
                       : c->step == SENDING  ? "WSASend"
                                             : "WSARecv");
        else if (c->step == CONNECTING)
            onConnected(c);
        else if (c->step == SENDING)
            onSent(c, bytes);
        else
            onReceived(c, bytes);
    }
}

/* ConnectEx wants a bound socket; the system picks the port. FALSE if the client failed at
 * once (counted, not settled: see startNextConnect). */
static BOOL startConnect(Client *c)
{
    const struct addrinfo *server = c->run->server;
    SOCKADDR_STORAGE any;
    SOCKET s = socket(server->ai_family, SOCK_STREAM, IPPROTO_TCP);

    c->step = CONNECTING;
    if (s == INVALID_SOCKET) {
        markFailed(c, CALL_FAILED, (DWORD)WSAGetLastError(), "socket");
        return FALSE;
    }
    EnterCriticalSection(&c->run->lock);
    c->socket = s;
    LeaveCriticalSection(&c->run->lock);
    ZeroMemory(&any, sizeof any);
    ((struct sockaddr *)&any)->sa_family = (ADDRESS_FAMILY)server->ai_family;
    if (bind(s, (struct sockaddr *)&any, (int)server->ai_addrlen) == SOCKET_ERROR) {
        markFailed(c, CALL_FAILED, (DWORD)WSAGetLastError(), "bind");
        return FALSE;
    }
    if (CreateIoCompletionPort((HANDLE)s, c->run->port, (ULONG_PTR)c, 0) == NULL) {
        markFailed(c, CALL_FAILED, GetLastError(), "CreateIoCompletionPort (client socket)");
        return FALSE;
    }
    ZeroMemory(&c->overlapped, sizeof c->overlapped);
    return checkStarted(c,
                        c->run->connectEx(s, server->ai_addr, (int)server->ai_addrlen, NULL, 0,
                                          NULL, &c->overlapped),
                        "ConnectEx");
}

/* At most CONNECT_WINDOW clients connect at once, each settled one letting the next start: a
 * burst of 10,000 SYNs would overflow the server's backlog, and a dropped SYN costs a second's
 * retransmission that would pass for the server's slowness. A client that fails at once gives
 * its place to the next here, in a loop: through settle() that would recurse, once a client. */
static void startNextConnect(Run *run)
{
    LONG i;

    while (!run->stopping && run->started < run->clientCount) {
        i = InterlockedIncrement(&run->started) - 1;
        if (i >= run->clientCount)
            return;
        InterlockedIncrement(&run->active);
        if (startConnect(&run->clients[i]))
            return;
        InterlockedDecrement(&run->active);
        if (!SetEvent(run->wake))
            errExit("SetEvent");
    }
}

/* ---- the server, seen from outside ------------------------------------------------------ */

/* The one process named name (".exe" may be left out): 0 if none, or several. */
static DWORD findProcess(const char *name, Watch *watch)
{
    wchar_t wide[MAX_PATH];
    PROCESSENTRY32W entry;
    HANDLE snapshot;
    DWORD pid = 0, found = 0;
    int length = MultiByteToWideChar(CP_UTF8, 0, name, -1, wide, MAX_PATH - 4);

    if (length == 0)
        errExit("MultiByteToWideChar");
    if (length < 5 || CompareStringOrdinal(wide + length - 5, 4, L".exe", 4, TRUE) != CSTR_EQUAL)
        wcscat_s(wide, MAX_PATH, L".exe");
    snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snapshot == INVALID_HANDLE_VALUE)
        errExit("CreateToolhelp32Snapshot");
    entry.dwSize = sizeof entry;
    for (BOOL more = Process32FirstW(snapshot, &entry); more;
         more = Process32NextW(snapshot, &entry))
        if (CompareStringOrdinal(entry.szExeFile, -1, wide, -1, TRUE) == CSTR_EQUAL) {
            pid = entry.th32ProcessID;
            found++;
        }
    if (GetLastError() != ERROR_NO_MORE_FILES)
        errExit("Process32NextW");
    if (!CloseHandle(snapshot))
        errExit("CloseHandle (snapshot)");
    if (found != 1)
        watch->missing = found == 0 ? "no process of that name" : "several processes of that name";
    return found == 1 ? pid : 0;
}

static void watchServer(Watch *watch, DWORD pid, const char *name)
{
    ZeroMemory(watch, sizeof *watch);
    watch->missing = "no --server-pid or --server-name";
    if (pid == 0 && name != NULL)
        pid = findProcess(name, watch);
    if (pid == 0)
        return;
    watch->pid = pid;
    watch->process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, FALSE, pid);
    if (watch->process == NULL) {
        errMsg("OpenProcess %lu", (unsigned long)pid);
        watch->missing = "OpenProcess failed";
    }
}

/* The server's threads now, from a snapshot of every thread in the system; 0 if none is its
 * (it has exited). */
static long countThreads(DWORD pid)
{
    THREADENTRY32 entry;
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    long count = 0;

    if (snapshot == INVALID_HANDLE_VALUE)
        errExit("CreateToolhelp32Snapshot");
    entry.dwSize = sizeof entry;
    for (BOOL more = Thread32First(snapshot, &entry); more; more = Thread32Next(snapshot, &entry))
        if (entry.th32OwnerProcessID == pid)
            count++;
    if (GetLastError() != ERROR_NO_MORE_FILES)
        errExit("Thread32Next");
    if (!CloseHandle(snapshot))
        errExit("CloseHandle (snapshot)");
    return count;
}

/* Every SAMPLE_MS (or now, if forced): the peaks. Private bytes are PagefileUsage, as in
 * testkit's readResources(): on Windows the commit charge, the same as PrivateUsage; Wine leaves
 * PrivateUsage 0 and gives the resident anonymous memory there. A platform that gives nothing
 * leaves the peak at 0, reported as n/a. */
static void sample(Watch *watch, BOOL force)
{
    PROCESS_MEMORY_COUNTERS memory;
    long threads;

    if (watch->process == NULL || (!force && GetTickCount64() < watch->nextSample))
        return;
    watch->nextSample = GetTickCount64() + SAMPLE_MS;
    threads = countThreads(watch->pid);
    if (threads > watch->peakThreads)
        watch->peakThreads = threads;
    ZeroMemory(&memory, sizeof memory);
    memory.cb = sizeof memory;
    if (GetProcessMemoryInfo(watch->process, &memory, sizeof memory)) {
        if (memory.PagefileUsage > watch->peakPrivateBytes)
            watch->peakPrivateBytes = memory.PagefileUsage;
    } else if (!watch->memoryFailed) { /* once: it fails the same every time */
        errMsg("GetProcessMemoryInfo");
        watch->memoryFailed = TRUE;
    }
}

/* ---- main: set up, run, report ---------------------------------------------------------- */

static void parseOptions(int argc, char *argv[], Options *o)
{
    int i;

    ZeroMemory(o, sizeof *o);
    o->host = SK_DEFAULT_HOST;
    o->lineBytes = 32;
    o->format = "table";
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--host") == 0)
            o->host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--port") == 0)
            snprintf(o->port, sizeof o->port, "%ld",
                     getNumber(optionValue(argc, argv, &i), 1, 65535, "--port"));
        else if (strcmp(argv[i], "--clients") == 0)
            o->clients = getNumber(optionValue(argc, argv, &i), 1, 100000, "--clients");
        else if (strcmp(argv[i], "--lines") == 0)
            o->lines = getNumber(optionValue(argc, argv, &i), 1, MAX_LINES, "--lines");
        else if (strcmp(argv[i], "--line-bytes") == 0)
            o->lineBytes = getNumber(optionValue(argc, argv, &i), 1, SK_MAX_LINE, "--line-bytes");
        else if (strcmp(argv[i], "--connect-only") == 0)
            o->connectOnly = TRUE;
        else if (strcmp(argv[i], "--hold") == 0)
            o->hold = TRUE;
        else if (strcmp(argv[i], "--server-pid") == 0)
            o->serverPid = (DWORD)getNumber(optionValue(argc, argv, &i), 1, 0x7FFFFFFF,
                                            "--server-pid");
        else if (strcmp(argv[i], "--server-name") == 0)
            o->serverName = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--format") == 0)
            o->format = optionValue(argc, argv, &i);
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    if (o->port[0] == '\0' || o->clients == 0)
        usageErr("--port and --clients are needed");
    if ((o->lines == 0) == !o->connectOnly)
        usageErr("give --lines M or --connect-only, one of them");
    if (o->hold && !o->connectOnly)
        usageErr("--hold goes with --connect-only");
    if (o->lines > MAX_LINES / o->clients)
        usageErr("--clients times --lines may be %ld at most", MAX_LINES);
    if (strcmp(o->format, "table") != 0 && strcmp(o->format, "csv") != 0 &&
        strcmp(o->format, "json") != 0)
        usageErr("--format: table, csv or json, not \"%s\"", o->format);
    if (o->serverName != NULL && strpbrk(o->serverName, ",\"\\") != NULL)
        usageErr("--server-name: no commas, quotes or backslashes");
}

static void *allocate(size_t bytes, const char *what)
{
    void *block = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, bytes);

    if (block == NULL)
        fatal("HeapAlloc: no memory for %s (%lu bytes)", what, (unsigned long)bytes);
    return block;
}

/* The clients' blocks: three buffers each, for the line, the reply expected and the reply. */
static void makeClients(Run *run, const Options *o)
{
    size_t room = (size_t)(o->lineBytes > 32 ? o->lineBytes : 32) + 1; /* or the greeting */
    size_t samples = (size_t)o->clients * (size_t)(o->lines > 0 ? o->lines : 1);
    ULONGLONG ids;
    long i;

    run->clientCount = o->clients;
    run->lineCount = o->lines;
    run->lineBytes = o->lineBytes;
    for (ids = (ULONGLONG)samples, run->idDigits = 1; ids > 26; ids = (ids + 25) / 26)
        run->idDigits++;
    run->clients = allocate((size_t)o->clients * sizeof *run->clients, "the clients");
    run->buffers = allocate((size_t)o->clients * 3 * room, "the clients' buffers");
    run->latencies = allocate(samples * sizeof *run->latencies, "the latencies");
    for (i = 0; i < o->clients; i++) {
        Client *c = &run->clients[i];
        c->run = run;
        c->index = i;
        c->socket = INVALID_SOCKET;
        c->line = run->buffers + (size_t)i * 3 * room;
        c->expected = c->line + room;
        c->in = c->expected + room;
    }
    for (i = 0; (size_t)i < samples; i++)
        run->latencies[i] = -1.0f;
}

static void setUp(Run *run, const Options *o, HANDLE threads[WORKERS])
{
    ADDRINFOA hints = {.ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
    GUID connectExId = WSAID_CONNECTEX;
    LARGE_INTEGER frequency;
    WSADATA wsa;
    SOCKET s;
    DWORD bytes;
    int error, t;

    ZeroMemory(run, sizeof *run);
    error = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (error != 0)
        errExitCode((DWORD)error, "WSAStartup");
    error = getaddrinfo(o->host, o->port, &hints, &run->server);
    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", o->host);
    /* ConnectEx is an extension: its address is asked of a socket of the family it serves. */
    s = socket(run->server->ai_family, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET)
        errExitWSA("socket");
    if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &connectExId, sizeof connectExId,
                 &run->connectEx, sizeof run->connectEx, &bytes, NULL, NULL) == SOCKET_ERROR)
        errExitWSA("WSAIoctl SIO_GET_EXTENSION_FUNCTION_POINTER (ConnectEx)");
    if (closesocket(s) == SOCKET_ERROR)
        errExitWSA("closesocket");
    QueryPerformanceFrequency(&frequency);
    run->ticksPerSecond = frequency.QuadPart;
    makeClients(run, o);
    InitializeCriticalSection(&run->lock);
    run->wake = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (run->wake == NULL)
        errExit("CreateEventW");
    run->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, WORKERS);
    if (run->port == NULL)
        errExit("CreateIoCompletionPort");
    for (t = 0; t < WORKERS; t++) {
        threads[t] = CreateThread(NULL, 0, worker, run, 0, NULL);
        if (threads[t] == NULL)
            errExit("CreateThread");
    }
}

/* Stopping: cancels every operation in flight; each completes, aborted, and its client fails. */
static void sweep(Run *run)
{
    long i;

    EnterCriticalSection(&run->lock); /* no socket is closed meanwhile */
    for (i = 0; i < run->clientCount; i++)
        if (run->clients[i].socket != INVALID_SOCKET &&
            !CancelIoEx((HANDLE)run->clients[i].socket, NULL) && GetLastError() != ERROR_NOT_FOUND)
            errMsg("CancelIoEx (client %ld)", i + 1);
    LeaveCriticalSection(&run->lock);
}

/* Until no client has an operation in flight and none is left to connect, sampling the server.
 * No completion for QUIET_MS stops the run; a worker may start an operation after a sweep, so
 * main sweeps until every client has settled. */
static void waitForClients(Run *run, Watch *watch)
{
    ULONGLONG lastProgress = GetTickCount64(), stoppedAt = 0, t;
    LONG seen = run->progress;

    while (run->active != 0 || (!run->stopping && run->started < run->clientCount)) {
        if (WaitForSingleObject(run->wake, SAMPLE_MS) == WAIT_FAILED)
            errExit("WaitForSingleObject");
        sample(watch, FALSE);
        t = GetTickCount64();
        if (run->progress != seen) {
            seen = run->progress;
            lastProgress = t;
        } else if (!run->stopping && t - lastProgress >= QUIET_MS) {
            warn("nothing answered for %d s: ending the run, %ld connections still pending",
                 QUIET_MS / 1000, (long)run->active);
            InterlockedExchange(&run->stopping, 1);
            stoppedAt = t;
        }
        if (run->stopping && t - stoppedAt >= STOP_WAIT_MS)
            fatal("%ld connections still have I/O in flight %d s after their cancel",
                  (long)run->active, STOP_WAIT_MS / 1000);
        if (run->stopping)
            sweep(run);
    }
}

/* --hold: the connections greeted stay open, idle, until whoever started us has looked at the
 * server (a line on stdin, or its end: a script that dies lets them go too). The server is
 * sampled once more before they go, every connection still held. */
static void hold(const Run *run, Watch *watch)
{
    char line[64];
    long i, held = 0;

    for (i = 0; i < run->clientCount; i++)
        held += run->clients[i].step == HELD;
    warn("holding %ld connections, each greeted: a line or the end of stdin lets them go", held);
    readLine("", line, sizeof line);
    sample(watch, TRUE);
}

/* Every greeted client starts its lines; the clock starts with the first. */
static LONG64 startLines(Run *run)
{
    LONG64 first = now();
    long i;

    for (i = 0; i < run->clientCount; i++) {
        Client *c = &run->clients[i];
        if (c->step != HELD)
            continue;
        InterlockedIncrement(&run->active);
        startLine(c); /* a worker may finish with c before this returns: not touched again */
    }
    return first;
}

static void tearDown(Run *run, HANDLE threads[WORKERS])
{
    long i;

    for (i = 0; i < run->clientCount; i++) /* the ones held, and in a stopped run, all left */
        if (run->clients[i].socket != INVALID_SOCKET &&
            closesocket(run->clients[i].socket) == SOCKET_ERROR)
            errMsgWSA("closesocket (client %ld)", i + 1);
    for (i = 0; i < WORKERS; i++)
        if (!PostQueuedCompletionStatus(run->port, 0, EXIT_KEY, NULL))
            errExit("PostQueuedCompletionStatus");
    if (WaitForMultipleObjects(WORKERS, threads, TRUE, INFINITE) == WAIT_FAILED)
        errExit("WaitForMultipleObjects");
    for (i = 0; i < WORKERS; i++)
        if (!CloseHandle(threads[i]))
            errExit("CloseHandle (worker)");
    if (!CloseHandle(run->port) || !CloseHandle(run->wake))
        errExit("CloseHandle");
    DeleteCriticalSection(&run->lock);
    freeaddrinfo(run->server);
    if (WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
}

static int byValue(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

/* A figure as text, or n/a when the platform or the run gave none: never a false 0. */
static void figure(char out[256], BOOL known, const char *format, double value)
{
    if (known)
        snprintf(out, 256, format, value);
    else
        snprintf(out, 256, "n/a");
}

/* What failed and why, and why the server's figures are missing; "; " between, no comma. A
 * client that failed for no reason of its own -- not started, or greeted and waiting for the
 * others, when the run stopped -- was left unfinished. */
static void writeNote(const Run *run, const Watch *watch, const Options *o, long failed, char *note)
{
    long i, counted = 0;

    note[0] = '\0';
    if (o->connectOnly)
        snprintf(note, 256, "connect-only: %ld held at once", o->clients - failed);
    for (i = 0; i < REASONS; i++) {
        counted += run->reasons[i];
        if (run->reasons[i] > 0)
            snprintf(note + strlen(note), 256 - strlen(note), "%s%ld %s", note[0] ? "; " : "",
                     (long)run->reasons[i], reasonNames[i]);
    }
    if (failed > counted)
        snprintf(note + strlen(note), 256 - strlen(note),
                 "%s%ld left unfinished as the run stopped", note[0] ? "; " : "", failed - counted);
    if (watch->process == NULL)
        snprintf(note + strlen(note), 256 - strlen(note), "%sserver figures n/a: %s",
                 note[0] ? "; " : "", watch->missing);
}

/* The row, as text. A connection failed unless it did all it was to do. The rate counts the
 * lines answered, from the first send to the last reply; the percentiles are nearest-rank.
 * Returns the connections that failed. */
static long figures(Run *run, const Watch *watch, const Options *o, LONG64 firstSend,
                    char text[COLUMNS][256])
{
    size_t samples = (size_t)run->clientCount * (size_t)(o->lines > 0 ? o->lines : 1);
    size_t answered = 0, skip, length;
    LONG64 last = firstSend;
    BOOL timed;
    long i, failed = 0;

    for (i = 0; i < run->clientCount; i++) {
        const Client *c = &run->clients[i];
        answered += (size_t)c->linesDone;
        if (c->step == COMPLETED && c->finishedAt > last)
            last = c->finishedAt;
        failed += c->step != (o->connectOnly ? HELD : COMPLETED);
    }
    qsort(run->latencies, samples, sizeof *run->latencies, byValue); /* no answer: first */
    skip = samples - answered;
    timed = answered > 0 && last > firstSend;

    snprintf(text[0], 256, "%s", o->serverName != NULL ? o->serverName : "unknown");
    length = strlen(text[0]);
    if (length > 4 && _stricmp(text[0] + length - 4, ".exe") == 0)
        text[0][length - 4] = '\0'; /* the program's name */
    figure(text[1], TRUE, "%.0f", (double)o->clients);
    figure(text[2], TRUE, "%.0f", (double)o->lines);
    figure(text[3], TRUE, "%.0f", (double)o->lineBytes);
    figure(text[4], timed, "%.0f",
           timed ? (double)answered * (double)run->ticksPerSecond / (double)(last - firstSend) : 0);
    figure(text[5], timed, "%.1f", timed ? run->latencies[skip + (answered + 1) / 2 - 1] : 0);
    figure(text[6], timed, "%.1f",
           timed ? run->latencies[skip + (answered * 99 + 99) / 100 - 1] : 0);
    figure(text[7], TRUE, "%.0f", (double)failed);
    figure(text[8], watch->peakThreads > 0, "%.0f", (double)watch->peakThreads);
    figure(text[9], watch->peakPrivateBytes > 0, "%.0f", (double)watch->peakPrivateBytes);
    writeNote(run, watch, o, failed, text[10]);
    return failed;
}

static BOOL isNumber(const char *text)
{
    return strcmp(text, "n/a") != 0 && strspn(text, "0123456789.") == strlen(text);
}

/* Text to the left, numbers to the right, each column as wide as its header or its figure. */
static void printTable(char text[COLUMNS][256])
{
    char header[1024] = "", row[1024] = "";
    size_t i;
    int width, left;

    for (i = 0; i < COLUMNS; i++) {
        width = (int)(strlen(columns[i]) > strlen(text[i]) ? strlen(columns[i]) : strlen(text[i]));
        left = i == 0 || i == COLUMNS - 1 ? -1 : 1;
        snprintf(header + strlen(header), sizeof header - strlen(header), "%s%*s",
                 i > 0 ? "  " : "", left * width, columns[i]);
        snprintf(row + strlen(row), sizeof row - strlen(row), "%s%*s", i > 0 ? "  " : "",
                 left * width, text[i]);
    }
    for (i = strlen(header); i > 0 && header[i - 1] == ' '; i--) /* no trailing blanks */
        header[i - 1] = '\0';
    for (i = strlen(row); i > 0 && row[i - 1] == ' '; i--)
        row[i - 1] = '\0';
    say("%s\n%s\n", header, row);
}

static void printCsv(char text[COLUMNS][256])
{
    char header[1024] = "", row[1024] = "";
    size_t i;

    for (i = 0; i < COLUMNS; i++) {
        snprintf(header + strlen(header), sizeof header - strlen(header), "%s%s", i > 0 ? "," : "",
                 columns[i]);
        snprintf(row + strlen(row), sizeof row - strlen(row), "%s%s", i > 0 ? "," : "", text[i]);
    }
    say("%s\n", header);
    say("%s\n", row);
}

/* Numbers bare, text quoted (the note and the name hold no quote or backslash), n/a null. */
static void printJson(char text[COLUMNS][256])
{
    char row[1536] = "[{";
    size_t i;
    BOOL quoted;

    for (i = 0; i < COLUMNS; i++) {
        quoted = i == 0 || i == COLUMNS - 1;
        snprintf(row + strlen(row), sizeof row - strlen(row), "%s\"%s\": %s%s%s", i > 0 ? ", " : "",
                 columns[i], quoted ? "\"" : "", !quoted && !isNumber(text[i]) ? "null" : text[i],
                 quoted ? "\"" : "");
    }
    say("%s}]\n", row);
}

int main(int argc, char *argv[])
{
    HANDLE threads[WORKERS];
    char text[COLUMNS][256];
    LONG64 firstSend = 0;
    Options o;
    Watch watch;
    Run run;
    long failed;
    int i;

    initProgram(&argc, &argv, usage);
    parseOptions(argc, argv, &o);
    setUp(&run, &o, threads);
    watchServer(&watch, o.serverPid, o.serverName);
    sample(&watch, TRUE);

    for (i = 0; i < CONNECT_WINDOW; i++)
        startNextConnect(&run);
    waitForClients(&run, &watch); /* each connected and greeted, or failed */
    sample(&watch, TRUE);         /* every connection held at once */
    if (o.hold && !run.stopping)
        hold(&run, &watch);
    if (!o.connectOnly && !run.stopping) {
        firstSend = startLines(&run);
        waitForClients(&run, &watch);
    }
    tearDown(&run, threads);

    failed = figures(&run, &watch, &o, firstSend, text);
    if (strcmp(o.format, "csv") == 0)
        printCsv(text);
    else if (strcmp(o.format, "json") == 0)
        printJson(text);
    else
        printTable(text);
    if (watch.process != NULL && !CloseHandle(watch.process))
        errExit("CloseHandle (server process)");
    if (!HeapFree(GetProcessHeap(), 0, run.clients) ||
        !HeapFree(GetProcessHeap(), 0, run.buffers) ||
        !HeapFree(GetProcessHeap(), 0, run.latencies))
        errExit("HeapFree");
    return failed == 0 ? 0 : 1;
}
