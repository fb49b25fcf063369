/* server.c -- iocp_server: the report's listing 12, fixed.
 *
 * sockets_server's line service, built on an I/O completion port: every
 * socket is associated with one port, every accept, read and write is
 * overlapped (AcceptEx, WSARecv, WSASend), and a fixed pool of worker
 * threads takes the completions off the port. A thousand clients cost a
 * thousand small contexts, not a thousand threads. Both servers include the
 * protocol header, sockets/sockets.h; the client is sockets_client
 * (sockets/client.c).
 *
 * Usage: iocp_server [--host ADDR] [--port N] [--threads N] [--max-clients N]
 *
 * The shape is libuv's. Each operation is a struct whose first member is its
 * OVERLAPPED: the port hands back the OVERLAPPED*, CONTAINING_RECORD
 * recovers the operation, and the operation knows its connection. A
 * connection has one operation in flight at a time: it reads, answers every
 * complete line, writes the answers, and only then reads again. So one
 * thread at a time works on a connection (its buffers need no lock), its
 * memory is two fixed buffers, and TCP holds back a client that sends faster
 * than it reads. The context counts references: one per operation in
 * flight. A worker starts the next operation before it drops the finished
 * one's reference, so the count reaches 0 -- and the context is freed --
 * exactly once, when nothing more will complete.
 *
 * What the listing got wrong, and what this program does instead:
 *  - WSARecv and WSASend results were never checked. Each call here has its
 *    three outcomes: done at once, pending, failed (which posts nothing).
 *  - One OVERLAPPED was reused for operations in flight at the same time,
 *    so one completion could be taken for another. Each has its own.
 *  - The per-user blocks leaked when a client left; a context is freed,
 *    exactly once, when its last operation completes.
 *  - Partial sends were ignored; the rest is sent from where a send stopped.
 *  - _strdup where it meant to upper-case: each line is answered upper-cased
 *    (upperUtf8, sockets.h), split at '\n' however TCP delivers the bytes.
 * And what it adds: several AcceptEx calls wait on the port, so a burst of
 * clients never waits; a client that stops reading has its send cancelled
 * after SK_SEND_TIMEOUT_MS, which ends its session (sockets.h); lines are
 * logged with control characters made visible (printable, args.h); and on
 * Ctrl-C (or --max-clients) a clean stop: main
 * closes the listening socket, cancels every connection's I/O, waits for
 * the operations to drain, wakes the workers with a null completion key,
 * joins them, and has freed every context.
 */
#include "sockets.h"
#include "args.h"

#include <mswsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: iocp_server [--host ADDR] [--port N] [--threads N] [--max-clients N]\n"
    "\n"
    "Serves the line protocol of sockets.h (client: sockets_client) through one\n"
    "I/O completion port and a fixed pool of worker threads, not a thread per\n"
    "client. Each line comes back upper-cased; QUIT ends a session. Stops on\n"
    "Ctrl-C, or after N clients.\n"
    "\n"
    "  --host ADDR      address to listen on (default " SK_DEFAULT_HOST "; ::1 for\n"
    "                   IPv6; 0.0.0.0 or :: for every interface)\n"
    "  --port N         TCP port (default " SK_DEFAULT_PORT "; 0: any free port)\n"
    "  --threads N      worker threads (default 2, as in the listing)\n"
    "  --max-clients N  stop once N clients have been served and have gone\n"
    "  --help           show this text\n";

#define ACCEPTS_PENDING 16            /* AcceptEx calls kept waiting */
#define IN_BYTES (2 * SK_MAX_LINE)    /* an unfinished line, and room to read */
#define REPLY_BYTES (3 * SK_MAX_LINE + 1) /* a reply and its '\n': upper case keeps
                                             the UTF-16 length, and a UTF-8 byte
                                             can become at most 3 */
#define OUT_BYTES (4 * SK_MAX_LINE)
#define ADDRESS_BYTES ((DWORD)sizeof(SOCKADDR_STORAGE) + 16) /* AcceptEx wants 16 over */
#define STOP_WAIT_MS 10000            /* stopping: I/O must drain within this */
#define SWEEP_MS 1000                 /* how often main looks for stalled sends */
#define EXIT_KEY 0                    /* completion keys: main's wake-up packets */
#define SOCKET_KEY 1                  /* and every socket's completions */

typedef enum { OP_ACCEPT, OP_RECEIVE, OP_SEND } OperationKind;

typedef struct Connection Connection;

typedef struct {
    OVERLAPPED overlapped; /* first: the port hands back its address */
    OperationKind kind;
    Connection *connection;
} Operation;

struct Connection {
    Operation accept, receive, send;
    SOCKET socket;
    volatile LONG references; /* operations in flight */
    long number, lines;       /* number 0: not accepted yet */
    const char *ending;       /* why the session ends; NULL while it goes on */
    BOOL draining;            /* after BYE or ERROR: read until the client closes */
    volatile LONG64 sendStarted; /* GetTickCount64() when the send in flight began; 0: none */
    volatile LONG stalled;    /* main cancelled that send: the client did not read */
    size_t inLength, outLength, outSent;
    Connection *previous, *next; /* every context, for main to cancel */
    char in[IN_BYTES], out[OUT_BYTES];
};

static HANDLE port, stopEvent, drainedEvent;
static LPFN_ACCEPTEX acceptEx;
static int family;                     /* the listening socket's */
static long maxClients;
static volatile LONG stopping, ctrlC, clientsAccepted, clientsServed;
static volatile LONG liveContexts = 1; /* +1 for main, dropped when stopping */
/* Guards the listening socket and the list of contexts: taken a few times in
 * a connection's life, never for a read or a write. */
static CRITICAL_SECTION serverLock;
static SOCKET listener = INVALID_SOCKET;
static Connection *connections;

static BOOL WINAPI onControl(DWORD event)
{
    if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT)
        return FALSE;
    InterlockedExchange(&ctrlC, 1);
    return SetEvent(stopEvent); /* the only safe thing here: wake main */
}

static BOOL isStopping(void)
{
    return InterlockedCompareExchange(&stopping, 0, 0) != 0; /* a full barrier */
}

/* "127.0.0.1:5050", "[::1]:5050". */
static void formatAddress(const struct sockaddr *address, int length, char *text, size_t size)
{
    char host[NI_MAXHOST], service[NI_MAXSERV];

    if (getnameinfo(address, (socklen_t)length, host, (DWORD)sizeof host, service,
                    (DWORD)sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(text, size, "(unknown address)");
    else
        snprintf(text, size, address->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
                 host, service);
}

/* Drops a reference; the last one closes the socket and frees the context. */
static void release(Connection *c)
{
    LONG served = 0;

    if (InterlockedDecrement(&c->references) != 0)
        return;
    EnterCriticalSection(&serverLock);
    if (c->previous != NULL)
        c->previous->next = c->next;
    else
        connections = c->next;
    if (c->next != NULL)
        c->next->previous = c->previous;
    LeaveCriticalSection(&serverLock);
    if (c->number != 0) {
        say("client %ld: closed after %ld lines: %s\n", c->number, c->lines, c->ending);
        served = InterlockedIncrement(&clientsServed);
    }
    if (closesocket(c->socket) == SOCKET_ERROR)
        errMsgCode((DWORD)WSAGetLastError(), "closesocket (client %ld)", c->number);
    if (!HeapFree(GetProcessHeap(), 0, c))
        errMsg("HeapFree");
    if (served != 0 && served == maxClients && !SetEvent(stopEvent))
        errExit("SetEvent");
    if (InterlockedDecrement(&liveContexts) == 0 && !SetEvent(drainedEvent))
        errExit("SetEvent");
}

/* A client that vanished, or main's cancel, is how a session may end;
 * anything else is reported. */
static void noteFailure(Connection *c, DWORD error, const char *call)
{
    const char *ending = "a Winsock call failed";

    if (error == WSA_OPERATION_ABORTED && c->stalled)
        ending = "it did not read its replies";
    else if (error == WSA_OPERATION_ABORTED)
        ending = "cancelled: the server is stopping";
    else if (error == WSAECONNRESET || error == WSAECONNABORTED || error == WSAENETRESET)
        ending = "the connection was reset (the client went away)";
    else
        errMsgCode(error, "%s (client %ld)", call, c->number);
    if (c->ending == NULL)
        c->ending = ending;
}

/* Starts c's receive or send. The caller holds a reference (the operation it
 * is handling), so c lives through this call whatever completes meanwhile. */
static void startIo(Connection *c, Operation *op)
{
    WSABUF buffer; /* Winsock copies it before returning */
    DWORD flags = 0;
    int result;

    ZeroMemory(&op->overlapped, sizeof op->overlapped);
    InterlockedIncrement(&c->references);
    if (op->kind == OP_RECEIVE) {
        buffer.buf = c->in + c->inLength;
        buffer.len = (ULONG)(IN_BYTES - c->inLength); /* never 0: see answerLines */
        result = WSARecv(c->socket, &buffer, 1, NULL, &flags, &op->overlapped, NULL);
    } else {
        buffer.buf = c->out + c->outSent;
        buffer.len = (ULONG)(c->outLength - c->outSent);
        InterlockedExchange64(&c->sendStarted, (LONG64)GetTickCount64()); /* for main's sweep */
        result = WSASend(c->socket, &buffer, 1, NULL, 0, &op->overlapped, NULL);
    }
    /* Done at once (0) and pending both end in a packet on the port -- we do
     * not set FILE_SKIP_COMPLETION_PORT_ON_SUCCESS -- so a worker handles
     * both. A failure posts nothing: its reference is dropped here. */
    if (result == SOCKET_ERROR && WSAGetLastError() != WSA_IO_PENDING) {
        noteFailure(c, (DWORD)WSAGetLastError(), op->kind == OP_RECEIVE ? "WSARecv" : "WSASend");
        InterlockedExchange64(&c->sendStarted, 0);
        InterlockedDecrement(&c->references);
        return;
    }
    /* Main may have cancelled c's I/O just before this operation began. It
     * sets stopping before it cancels, and we look after we start, so one
     * of us sees the other: no operation is left waiting forever. */
    if (isStopping() && !CancelIoEx((HANDLE)c->socket, &op->overlapped) &&
        GetLastError() != ERROR_NOT_FOUND)
        errMsg("CancelIoEx (client %ld)", c->number);
}

/* Appends the reply to one line (length bytes, without "\r\n") to c->out. */
static void answer(Connection *c, const char *line, size_t length)
{
    char *reply = c->out + c->outLength;
    char shownLine[2 * SK_MAX_LINE], shownReply[2 * SK_MAX_LINE]; /* as logged */
    const char *fixed = NULL;
    int n = 0;

    c->lines++;
    if (length > SK_MAX_LINE) {
        fixed = SK_ERROR_TOO_LONG;
        c->ending = "a line too long";
        say("client %ld: a line over %d bytes -> \"%s\"\n", c->number, SK_MAX_LINE, fixed);
    } else if (length == strlen(SK_QUIT) && memcmp(line, SK_QUIT, length) == 0) {
        fixed = SK_BYE;
        c->ending = "the client sent " SK_QUIT;
        say("client %ld: \"%s\" -> \"%s\"\n", c->number, SK_QUIT, fixed);
    } else if ((n = upperUtf8(line, (int)length, reply, REPLY_BYTES - 1)) >= 0) {
        say("client %ld: \"%s\" -> \"%s\"\n", c->number,
            printable(line, length, shownLine, sizeof shownLine),
            printable(reply, (size_t)n, shownReply, sizeof shownReply));
    } else {
        fixed = SK_ERROR_UTF8;
        say("client %ld: %lu bytes of invalid UTF-8 -> \"%s\"\n", c->number,
            (unsigned long)length, fixed);
    }
    if (fixed != NULL) {
        n = (int)strlen(fixed);
        memcpy(reply, fixed, (size_t)n);
    }
    reply[n] = '\n';
    c->outLength += (size_t)n + 1;
}

/* Answers the complete lines in c->in while any reply still fits in c->out,
 * and keeps the rest for later. Once c->out is empty, what is kept is an
 * unfinished line of at most SK_MAX_LINE + 1 bytes (more is too long), so
 * a receive always has room. */
static void answerLines(Connection *c)
{
    char *line = c->in, *newline;
    size_t left = c->inLength, length;

    while (c->ending == NULL && OUT_BYTES - c->outLength >= REPLY_BYTES) {
        newline = memchr(line, '\n', left);
        if (newline == NULL) {
            /* Too long already, unless a last '\r' is still to be dropped. */
            if (left > 0 && left - (line[left - 1] == '\r' ? 1 : 0) > SK_MAX_LINE)
                answer(c, line, left);
            break;
        }
        length = (size_t)(newline - line);
        if (length > 0 && line[length - 1] == '\r')
            length--;
        answer(c, line, length);
        left -= (size_t)(newline + 1 - line);
        line = newline + 1;
    }
    memmove(c->in, line, left);
    c->inLength = left;
}

/* Starts what c does next: the rest of the replies, a receive, or -- after
 * BYE or ERROR -- the end of the session. */
static void carryOn(Connection *c)
{
    if (c->outSent < c->outLength) {
        startIo(c, &c->send);
    } else if (c->ending == NULL) {
        startIo(c, &c->receive);
    } else if (shutdown(c->socket, SD_SEND) == SOCKET_ERROR) {
        noteFailure(c, (DWORD)WSAGetLastError(), "shutdown");
    } else {
        /* Our FIN follows the last reply. Closing now, with input unread,
         * would send a reset instead, which can destroy that reply on its
         * way: read and drop until the client closes its end. */
        c->draining = TRUE;
        c->inLength = 0;
        startIo(c, &c->receive);
    }
}

/* Posts an AcceptEx with a fresh context, unless the server is stopping. */
static void startAccept(void)
{
    Connection *c = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *c);
    DWORD bytes;
    BOOL started = FALSE;

    if (c == NULL) {
        warn("HeapAlloc: no memory for a connection");
        return;
    }
    c->socket = WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (c->socket == INVALID_SOCKET) {
        errMsgCode((DWORD)WSAGetLastError(), "WSASocketW");
        if (!HeapFree(GetProcessHeap(), 0, c))
            errMsg("HeapFree");
        return;
    }
    c->accept.kind = OP_ACCEPT;
    c->receive.kind = OP_RECEIVE;
    c->send.kind = OP_SEND;
    c->accept.connection = c->receive.connection = c->send.connection = c;
    c->references = 1; /* the accept's */
    InterlockedIncrement(&liveContexts);

    EnterCriticalSection(&serverLock);
    c->next = connections;
    if (connections != NULL)
        connections->previous = c;
    connections = c;
    /* The two addresses land in c->in; no data is awaited with the accept. */
    if (listener != INVALID_SOCKET) {
        started = acceptEx(listener, c->socket, c->in, 0, ADDRESS_BYTES, ADDRESS_BYTES,
                           &bytes, &c->accept.overlapped) ||
                  WSAGetLastError() == ERROR_IO_PENDING;
        if (!started)
            errMsgCode((DWORD)WSAGetLastError(), "AcceptEx");
    }
    LeaveCriticalSection(&serverLock);
    if (!started)
        release(c);
}

static void onAccepted(Connection *c, DWORD error)
{
    SOCKADDR_STORAGE peer;
    int length = (int)sizeof peer, result = 0;
    char address[NI_MAXHOST + NI_MAXSERV + 4];

    if (isStopping())
        return; /* no replacement, no new client: the context goes */
    startAccept(); /* a replacement, whatever became of this accept */
    if (error != 0) {
        errMsgCode(error, "AcceptEx");
        return;
    }
    /* The new socket takes on the listener's properties; without this,
     * getpeername() and shutdown() fail on it. */
    EnterCriticalSection(&serverLock);
    if (listener != INVALID_SOCKET)
        result = setsockopt(c->socket, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                            (char *)&listener, (int)sizeof listener);
    LeaveCriticalSection(&serverLock);
    if (result == SOCKET_ERROR) {
        errMsgCode((DWORD)WSAGetLastError(), "setsockopt SO_UPDATE_ACCEPT_CONTEXT");
        return;
    }
    if (CreateIoCompletionPort((HANDLE)c->socket, port, SOCKET_KEY, 0) == NULL) {
        errMsg("CreateIoCompletionPort (client socket)");
        return;
    }
    if (getpeername(c->socket, (struct sockaddr *)&peer, &length) == SOCKET_ERROR)
        snprintf(address, sizeof address, "(unknown address)");
    else
        formatAddress((struct sockaddr *)&peer, length, address, sizeof address);
    c->number = InterlockedIncrement(&clientsAccepted);
    say("client %ld: connected from %s\n", c->number, address);
    c->outLength = strlen(SK_GREETING "\n");
    memcpy(c->out, SK_GREETING "\n", c->outLength);
    startIo(c, &c->send);
}

static void onReceived(Connection *c, DWORD bytes, DWORD error)
{
    if (error != 0) {
        noteFailure(c, error, "WSARecv");
    } else if (bytes == 0) { /* the client closed its end */
        if (c->ending == NULL)
            c->ending = "the client closed the connection";
    } else if (c->draining) {
        startIo(c, &c->receive);
    } else {
        c->inLength += bytes;
        answerLines(c);
        carryOn(c);
    }
}

static void onSent(Connection *c, DWORD bytes, DWORD error)
{
    InterlockedExchange64(&c->sendStarted, 0);
    if (error != 0) {
        noteFailure(c, error, "WSASend");
        return;
    }
    InterlockedExchange(&c->stalled, 0); /* done after all, before main's cancel */
    c->outSent += bytes; /* perhaps not all: carryOn sends the rest */
    if (c->outSent == c->outLength) {
        c->outSent = c->outLength = 0;
        answerLines(c); /* lines that waited for room */
    }
    carryOn(c);
}

/* A client that does not read its replies leaves our send pending for
 * ever: after SK_SEND_TIMEOUT_MS (sockets.h), cancel it. Its completion,
 * aborted, then ends the session. Meanwhile that client holds only its own
 * context: we read nothing more from it until the send is done. */
static void cancelStalledSends(void)
{
    ULONGLONG now = GetTickCount64(), started;
    Connection *c;

    EnterCriticalSection(&serverLock); /* the list, and every context on it, stay */
    for (c = connections; c != NULL; c = c->next) {
        started = (ULONGLONG)InterlockedCompareExchange64(&c->sendStarted, 0, 0);
        if (started == 0 || now - started < SK_SEND_TIMEOUT_MS)
            continue;
        InterlockedExchange(&c->stalled, 1);
        if (!CancelIoEx((HANDLE)c->socket, &c->send.overlapped) &&
            GetLastError() != ERROR_NOT_FOUND)
            errMsg("CancelIoEx (client %ld)", c->number);
    }
    LeaveCriticalSection(&serverLock);
}

static DWORD WINAPI worker(LPVOID unused)
{
    OVERLAPPED *overlapped;
    ULONG_PTR key;
    DWORD bytes, error, flags;
    Operation *op;
    BOOL ok;

    (void)unused;
    for (;;) {
        ok = GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE);
        if (!ok && overlapped == NULL)
            errExit("GetQueuedCompletionStatus");
        if (key == EXIT_KEY)
            return 0;
        op = CONTAINING_RECORD(overlapped, Operation, overlapped);
        error = ok ? 0 : GetLastError();
        /* The port gives a failed socket operation a system code (64 for a
         * reset); WSAGetOverlappedResult gives the Winsock one (10054). */
        if (error != 0 && op->kind != OP_ACCEPT &&
            !WSAGetOverlappedResult(op->connection->socket, overlapped, &bytes, FALSE, &flags))
            error = (DWORD)WSAGetLastError();
        if (op->kind == OP_ACCEPT)
            onAccepted(op->connection, error);
        else if (op->kind == OP_RECEIVE)
            onReceived(op->connection, bytes, error);
        else
            onSent(op->connection, bytes, error);
        release(op->connection); /* the finished operation's reference */
    }
}

/* Listens on the first address getaddrinfo gives; names it in text. */
static void openListener(const char *host, const char *service, char *text, size_t size)
{
    ADDRINFOA hints, *address;
    SOCKADDR_STORAGE bound;
    int length = (int)sizeof bound, error;
    BOOL exclusive = TRUE;
    GUID acceptExId = WSAID_ACCEPTEX;
    DWORD bytes;

    ZeroMemory(&hints, sizeof hints);
    hints.ai_family = AF_UNSPEC; /* IPv4 or IPv6, as host says */
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    error = getaddrinfo(host, service, &hints, &address);
    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);
    family = address->ai_family;
    formatAddress(address->ai_addr, (int)address->ai_addrlen, text, size);
    listener = WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (listener == INVALID_SOCKET)
        errExitCode((DWORD)WSAGetLastError(), "WSASocketW");
    /* No other program may bind this port while we hold it. */
    if (setsockopt(listener, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&exclusive,
                   (int)sizeof exclusive) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "setsockopt SO_EXCLUSIVEADDRUSE");
    if (bind(listener, address->ai_addr, (int)address->ai_addrlen) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "bind %s", text);
    if (listen(listener, SOMAXCONN) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "listen %s", text);
    freeaddrinfo(address);
    if (getsockname(listener, (struct sockaddr *)&bound, &length) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "getsockname");
    formatAddress((struct sockaddr *)&bound, length, text, size); /* port 0: the real one */
    /* AcceptEx belongs to the socket's provider: ask it for the function. */
    if (WSAIoctl(listener, SIO_GET_EXTENSION_FUNCTION_POINTER, &acceptExId,
                 (DWORD)sizeof acceptExId, &acceptEx, (DWORD)sizeof acceptEx, &bytes, NULL,
                 NULL) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "WSAIoctl SIO_GET_EXTENSION_FUNCTION_POINTER");
}

int main(int argc, char *argv[])
{
    const char *host = SK_DEFAULT_HOST;
    char service[8], address[NI_MAXHOST + NI_MAXSERV + 4];
    long portNumber = atol(SK_DEFAULT_PORT), threadCount = 2, t;
    HANDLE threads[MAXIMUM_WAIT_OBJECTS];
    Connection *c;
    WSADATA wsa;
    DWORD wait;
    int error, i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--host") == 0)
            host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--port") == 0)
            portNumber = getNumber(optionValue(argc, argv, &i), 0, 65535, "--port");
        else if (strcmp(argv[i], "--threads") == 0)
            threadCount = getNumber(optionValue(argc, argv, &i), 1, MAXIMUM_WAIT_OBJECTS,
                                    "--threads");
        else if (strcmp(argv[i], "--max-clients") == 0)
            maxClients = getNumber(optionValue(argc, argv, &i), 1, 1000000, "--max-clients");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    snprintf(service, sizeof service, "%ld", portNumber);

    error = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (error != 0)
        errExitCode((DWORD)error, "WSAStartup");
    stopEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    drainedEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (stopEvent == NULL || drainedEvent == NULL)
        errExit("CreateEventW");
    InitializeCriticalSection(&serverLock);
    openListener(host, service, address, sizeof address);

    /* One port for every socket; at most threadCount workers run at once. */
    port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, (DWORD)threadCount);
    if (port == NULL)
        errExit("CreateIoCompletionPort");
    if (CreateIoCompletionPort((HANDLE)listener, port, SOCKET_KEY, 0) == NULL)
        errExit("CreateIoCompletionPort (listening socket)");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");
    for (t = 0; t < threadCount; t++) {
        threads[t] = CreateThread(NULL, 0, worker, NULL, 0, NULL);
        if (threads[t] == NULL)
            errExit("CreateThread");
    }
    for (i = 0; i < ACCEPTS_PENDING; i++)
        startAccept();
    if (connections == NULL)
        fatal("no AcceptEx could be posted");
    say("iocp_server: %ld worker threads, listening on %s\n", threadCount, address);

    while ((wait = WaitForSingleObject(stopEvent, SWEEP_MS)) == WAIT_TIMEOUT)
        cancelStalledSends();
    if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    say("iocp_server: %s, stopping\n", ctrlC ? "Ctrl-C" : "--max-clients reached");
    /* Closing the listening socket aborts the AcceptEx calls; CancelIoEx,
     * each connection's read or write. Each then completes, aborted, and
     * drops its reference: the contexts free themselves. */
    InterlockedExchange(&stopping, 1);
    EnterCriticalSection(&serverLock);
    if (closesocket(listener) == SOCKET_ERROR)
        errMsgCode((DWORD)WSAGetLastError(), "closesocket (listening socket)");
    listener = INVALID_SOCKET;
    for (c = connections; c != NULL; c = c->next)
        if (!CancelIoEx((HANDLE)c->socket, NULL) && GetLastError() != ERROR_NOT_FOUND)
            errMsg("CancelIoEx");
    LeaveCriticalSection(&serverLock);
    if (InterlockedDecrement(&liveContexts) == 0 && !SetEvent(drainedEvent))
        errExit("SetEvent");
    if (WaitForSingleObject(drainedEvent, STOP_WAIT_MS) != WAIT_OBJECT_0)
        fatal("%ld contexts still have I/O in flight after %d s", liveContexts,
              STOP_WAIT_MS / 1000);

    /* Nothing is in flight now: a null key tells each worker to return. */
    for (t = 0; t < threadCount; t++)
        if (!PostQueuedCompletionStatus(port, 0, EXIT_KEY, NULL))
            errExit("PostQueuedCompletionStatus");
    if (WaitForMultipleObjects((DWORD)threadCount, threads, TRUE, INFINITE) == WAIT_FAILED)
        errExit("WaitForMultipleObjects");
    for (t = 0; t < threadCount; t++)
        if (!CloseHandle(threads[t]))
            errExit("CloseHandle");
    if (!CloseHandle(port) || !CloseHandle(stopEvent) || !CloseHandle(drainedEvent))
        errExit("CloseHandle");
    DeleteCriticalSection(&serverLock);
    if (WSACleanup() == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "WSACleanup");
    say("iocp_server: stopped, %ld clients served, all contexts freed\n", clientsServed);
    return 0;
}
