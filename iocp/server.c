/* server.c -- iocp_server: the report's listing 12, fixed.
 *
 * sockets_server's line service on an I/O completion port. As in the listing, main accepts the
 * clients and gives each socket to one port; every read and write is overlapped, and a fixed
 * pool of worker threads takes the completions off the port: a thousand clients cost a thousand
 * small contexts, not threads. Protocol: sockets/sockets.h; client: sockets/client.c.
 *
 * Usage: iocp_server [--host ADDR] [--port N] [--threads N] [--max-clients N]
 *
 * What the listing got wrong, and what this program does instead:
 *  - bind, listen and WSAAccept went unchecked, and a SOCKET was printed with %d: each is
 *    checked, and a client is named by its address.
 *  - WSARecv and WSASend went unchecked: each outcome (done, pending, failed) is handled.
 *  - One OVERLAPPED served operations in flight at once, so one completion could pass for
 *    another: each operation has its own.
 *  - The per-user blocks leaked: a context is freed, once, when its last operation completes.
 *  - Partial sends were ignored: the rest is sent.
 *  - _strdup where it meant to upper-case: each line, however TCP cuts it, gets replyTo()'s answer.
 *  - No way to stop: Ctrl-C or --max-clients end it cleanly (stop()).
 * Added: a send a client leaves untaken for SK_SEND_TIMEOUT_MS is cancelled, ending its session.
 */
#include "sockets.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: iocp_server [--host ADDR] [--port N] [--threads N] [--max-clients N]\n"
    "Serves sockets.h's line protocol from an I/O completion port and a pool of\n"
    "worker threads (client: sockets_client). Stops on Ctrl-C.\n"
    "  --host ADDR      address to listen on (default " SK_DEFAULT_HOST "; or ::1, 0.0.0.0, ::)\n"
    "  --port N         TCP port (default " SK_DEFAULT_PORT "; 0: any free port)\n"
    "  --threads N      worker threads (default 2, as in the listing)\n"
    "  --max-clients N  stop once N clients have been served and have gone\n"
    "  --help           show this text\n";

#define IN_BYTES (2 * SK_MAX_LINE)  /* an unfinished line, and room to read */
#define OUT_BYTES (4 * SK_MAX_LINE) /* replies on their way */
#define SWEEP_MS 100                /* how often main sweeps (sweep()) */
#define STOP_WAIT_MS 10000          /* stopping: the I/O must drain within this */
#define EXIT_KEY 0                  /* the key of main's wake-up packets */

/* A connection's socket has the connection for its completion key, and each operation its own
 * OVERLAPPED: the port hands back both. One operation is in flight at a time (read, answer the
 * complete lines, write the answers, read again), so one thread at a time works on it, its
 * buffers need no lock, and TCP holds back a client that sends faster than it reads. The
 * references count operations in flight: a worker starts the next before it drops the finished
 * one's, so the count reaches 0, freeing the context, once, when nothing more can complete. */
typedef struct Connection {
    OVERLAPPED receive, send;
    SOCKET socket;
    volatile LONG references;
    long number, lines;
    const char *ending;          /* why the session ends; NULL while it goes on */
    volatile LONG64 sendStarted; /* GetTickCount64() when the send in flight began; 0: none */
    size_t inLength, outLength, outSent;
    struct Connection *previous, *next; /* every context, for main's sweep */
    char in[IN_BYTES], out[OUT_BYTES];
} Connection;

/* Shared by main and the workers; the lock guards the list, never held for a read or write. */
static HANDLE port, stopEvent;
static long maxClients;
static volatile LONG stopping, clientsAccepted, clientsServed;
static CRITICAL_SECTION lock;
static Connection *connections;

static BOOL WINAPI onControl(DWORD event) /* the only safe thing here: wake main */
{
    return (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT) && SetEvent(stopEvent);
}

/* Drops a reference; the last one closes the socket and frees the context. */
static void release(Connection *c)
{
    if (InterlockedDecrement(&c->references) != 0)
        return;
    EnterCriticalSection(&lock);
    if (c->previous != NULL)
        c->previous->next = c->next;
    else
        connections = c->next;
    if (c->next != NULL)
        c->next->previous = c->previous;
    LeaveCriticalSection(&lock);
    say("client %ld: closed after %ld lines: %s\n", c->number, c->lines, c->ending);
    if (InterlockedIncrement(&clientsServed) == maxClients && !SetEvent(stopEvent))
        errExit("SetEvent");
    if (closesocket(c->socket) == SOCKET_ERROR)
        errMsgWSA("closesocket (client %ld)", c->number);
    if (!HeapFree(GetProcessHeap(), 0, c))
        errMsg("HeapFree");
}

/* A client that went away, or main's cancel, is how a session may end; the rest is reported. */
static void noteFailure(Connection *c, DWORD error, const char *call)
{
    const char *ending = "a call failed";

    if (error == WSA_OPERATION_ABORTED) /* by sweep() */
        ending = stopping ? "cancelled: the server is stopping" : "it did not read its replies";
    else if (error == WSAECONNRESET || error == WSAECONNABORTED || error == WSAENETRESET)
        ending = "the connection was reset (the client went away)";
    else
        errMsgCode(error, "%s (client %ld)", call, c->number);
    if (c->ending == NULL)
        c->ending = ending;
}

/* Done at once (0) and pending both post a packet (no FILE_SKIP_COMPLETION_PORT_ON_SUCCESS),
 * which a worker handles. A failure posts nothing: its reference goes here (never the last:
 * the caller holds one, for its own operation). */
static void checkStarted(Connection *c, int result, const char *call)
{
    if (result == SOCKET_ERROR && WSAGetLastError() != WSA_IO_PENDING) {
        noteFailure(c, (DWORD)WSAGetLastError(), call);
        InterlockedDecrement(&c->references);
    }
}

static void startReceive(Connection *c)
{
    WSABUF buffer; /* Winsock copies it before returning */
    DWORD flags = 0;

    buffer.buf = c->in + c->inLength;
    buffer.len = (ULONG)(IN_BYTES - c->inLength); /* never 0: see answerLines */
    ZeroMemory(&c->receive, sizeof c->receive);
    InterlockedIncrement(&c->references);
    checkStarted(c, WSARecv(c->socket, &buffer, 1, NULL, &flags, &c->receive, NULL), "WSARecv");
}

static void startSend(Connection *c)
{
    WSABUF buffer;

    buffer.buf = c->out + c->outSent;
    buffer.len = (ULONG)(c->outLength - c->outSent);
    ZeroMemory(&c->send, sizeof c->send);
    InterlockedIncrement(&c->references);
    InterlockedExchange64(&c->sendStarted, (LONG64)GetTickCount64()); /* for sweep() */
    checkStarted(c, WSASend(c->socket, &buffer, 1, NULL, 0, &c->send, NULL), "WSASend");
}

/* Answers the complete lines in c->in while a reply fits in c->out, and keeps the rest: with
 * c->out empty, an unfinished line of SK_MAX_LINE + 1 bytes at most, so a receive has room. */
static void answerLines(Connection *c)
{
    char *line = c->in, *newline;
    size_t left = c->inLength, length, replyLength;
    SkRule rule;

    while (c->ending == NULL && OUT_BYTES - c->outLength > SK_MAX_REPLY) {
        newline = memchr(line, '\n', left);
        if (newline == NULL && !tooLongAlready(line, left))
            break;
        length = newline != NULL ? (size_t)(newline - line) : left;
        rule = replyTo(line, length, c->out + c->outLength, &replyLength);
        logReply(c->number, line, length, rule, c->out + c->outLength, replyLength);
        c->lines++;
        c->outLength += replyLength;
        if (rule == SK_SAID_QUIT)
            c->ending = "the client sent " SK_QUIT;
        else if (rule == SK_TOO_LONG)
            c->ending = "a line too long";
        length += newline != NULL ? 1 : 0;
        line += length;
        left -= length;
    }
    memmove(c->in, line, left);
    c->inLength = left;
}

/* Starts what c does next: the rest of the replies; once they are sent, the replies to lines
 * that waited; a receive; or -- after BYE or ERROR -- the end of the session. */
static void carryOn(Connection *c)
{
    if (c->outSent == c->outLength) {
        c->outSent = c->outLength = 0;
        answerLines(c);
    }
    if (c->outSent < c->outLength) {
        startSend(c);
    } else if (c->ending == NULL) {
        startReceive(c);
    } else if (shutdown(c->socket, SD_SEND) == SOCKET_ERROR) {
        noteFailure(c, (DWORD)WSAGetLastError(), "shutdown");
    } else {
        /* Our FIN follows the last reply. Closing with input unread would send a reset, which
         * can destroy that reply on its way: read and drop until the client closes (onReceived). */
        c->inLength = 0;
        startReceive(c);
    }
}

static void onReceived(Connection *c, DWORD bytes, DWORD error)
{
    if (error != 0) {
        noteFailure(c, error, "WSARecv");
    } else if (bytes == 0) { /* the client closed its end */
        if (c->ending == NULL)
            c->ending = "the client closed the connection";
    } else if (c->ending != NULL) { /* after BYE or ERROR: dropped (carryOn) */
        startReceive(c);
    } else {
        c->inLength += bytes;
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
    c->outSent += bytes; /* perhaps not all: carryOn sends the rest */
    carryOn(c);
}

static DWORD WINAPI worker(LPVOID unused)
{
    OVERLAPPED *overlapped;
    ULONG_PTR key;
    DWORD bytes, error, flags;
    Connection *c;
    BOOL ok;

    (void)unused;
    for (;;) {
        ok = GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE);
        if (!ok && overlapped == NULL)
            errExit("GetQueuedCompletionStatus");
        if (key == EXIT_KEY)
            return 0;
        c = (Connection *)key;
        error = ok ? 0 : GetLastError();
        /* The port gives a failed socket operation a system code (64 for a reset);
         * WSAGetOverlappedResult gives the Winsock one (10054). */
        if (error != 0 && !WSAGetOverlappedResult(c->socket, overlapped, &bytes, FALSE, &flags))
            error = (DWORD)WSAGetLastError();
        if (stopping) /* whatever completes now ends its session: nothing new starts */
            error = WSA_OPERATION_ABORTED;
        if (overlapped == &c->receive)
            onReceived(c, bytes, error);
        else
            onSent(c, bytes, error);
        release(c); /* the finished operation's reference */
    }
}

/* A client waits (or none after all): accept it, give its socket to the port, greet it. The new
 * socket takes on the listener's non-blocking mode and event (WSAEventSelect), which do not
 * matter: overlapped calls never block, and a connected socket raises no FD_ACCEPT. */
static void acceptClient(SOCKET listener)
{
    SOCKADDR_STORAGE peer;
    int length = (int)sizeof peer;
    char address[SK_ADDRESS_TEXT];
    Connection *c;
    SOCKET s = accept(listener, (struct sockaddr *)&peer, &length);

    if (s == INVALID_SOCKET) {
        if (WSAGetLastError() != WSAEWOULDBLOCK && WSAGetLastError() != WSAECONNRESET)
            errExitWSA("accept");
        return; /* none waits after all, or it gave up */
    }
    c = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *c);
    if (c == NULL)
        fatal("HeapAlloc: no memory for a client");
    c->socket = s;
    c->references = 1; /* main's, while it starts the session */
    c->number = ++clientsAccepted;
    formatAddress((struct sockaddr *)&peer, length, address);
    say("client %ld: connected from %s\n", c->number, address);
    EnterCriticalSection(&lock);
    c->next = connections;
    if (connections != NULL)
        connections->previous = c;
    connections = c;
    LeaveCriticalSection(&lock);
    if (CreateIoCompletionPort((HANDLE)s, port, (ULONG_PTR)c, 0) == NULL) {
        noteFailure(c, GetLastError(), "CreateIoCompletionPort (client socket)");
    } else {
        c->outLength = (size_t)snprintf(c->out, OUT_BYTES, "%s\n", SK_GREETING);
        startSend(c);
    }
    release(c);
}

/* A client that does not read its replies leaves our send pending for ever: after
 * SK_SEND_TIMEOUT_MS main's sweep cancels it, and the completion, aborted, ends the session.
 * Stopping, it cancels every operation. Returns how many contexts are left. */
static long sweep(void)
{
    ULONGLONG now = GetTickCount64(), started;
    Connection *c;
    long left = 0;

    EnterCriticalSection(&lock); /* the list, and every context on it, stay */
    for (c = connections; c != NULL; c = c->next, left++) {
        started = (ULONGLONG)InterlockedCompareExchange64(&c->sendStarted, 0, 0);
        if ((stopping || (started != 0 && now - started >= SK_SEND_TIMEOUT_MS)) &&
            !CancelIoEx((HANDLE)c->socket, stopping ? NULL : &c->send) &&
            GetLastError() != ERROR_NOT_FOUND)
            errMsg("CancelIoEx (client %ld)", c->number);
    }
    LeaveCriticalSection(&lock);
    return left;
}

/* Listens on host's first address (a waiting client sets acceptReady); starts the workers. */
static SOCKET start(const char *host, const char *service, HANDLE threads[], long threadCount,
                    HANDLE acceptReady)
{
    ADDRINFOA hints = {.ai_socktype = SOCK_STREAM}, *found; /* AF_UNSPEC: IPv4 or IPv6 */
    SOCKADDR_STORAGE bound;
    int length = (int)sizeof bound, error;
    char address[SK_ADDRESS_TEXT];
    BOOL exclusive = TRUE;
    SOCKET listener;
    WSADATA wsa;
    long t;

    error = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (error != 0)
        errExitCode((DWORD)error, "WSAStartup");
    error = getaddrinfo(host, service, &hints, &found);
    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);
    formatAddress(found->ai_addr, (int)found->ai_addrlen, address);
    listener = socket(found->ai_family, SOCK_STREAM, IPPROTO_TCP);
    if (listener == INVALID_SOCKET)
        errExitWSA("socket");
    /* No other program may bind this port while we hold it. */
    if (setsockopt(listener, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&exclusive,
                   (int)sizeof exclusive) == SOCKET_ERROR)
        errExitWSA("setsockopt SO_EXCLUSIVEADDRUSE");
    if (bind(listener, found->ai_addr, (int)found->ai_addrlen) == SOCKET_ERROR)
        errExitWSA("bind %s", address);
    if (listen(listener, SOMAXCONN) == SOCKET_ERROR)
        errExitWSA("listen %s", address);
    freeaddrinfo(found);
    if (getsockname(listener, (struct sockaddr *)&bound, &length) == SOCKET_ERROR)
        errExitWSA("getsockname");
    formatAddress((struct sockaddr *)&bound, length, address); /* port 0: the real one */
    /* A blocking accept() cannot be woken by Ctrl-C: main waits for this event instead. */
    if (WSAEventSelect(listener, acceptReady, FD_ACCEPT) == SOCKET_ERROR)
        errExitWSA("WSAEventSelect");

    InitializeCriticalSection(&lock);
    /* One port for every socket; at most threadCount workers run at once. */
    port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, (DWORD)threadCount);
    if (port == NULL)
        errExit("CreateIoCompletionPort");
    for (t = 0; t < threadCount; t++) {
        threads[t] = CreateThread(NULL, 0, worker, NULL, 0, NULL);
        if (threads[t] == NULL)
            errExit("CreateThread");
    }
    say("iocp_server: %ld worker threads, listening on %s\n", threadCount, address);
    return listener;
}

/* Each cancelled operation completes, aborted, and drops its reference: the contexts free
 * themselves. A worker may start an operation after a sweep, so main sweeps until none is
 * left; then nothing is in flight: wake the workers with a null key, and join them. */
static void stop(SOCKET listener, HANDLE threads[], long threadCount)
{
    long left, t, waited;

    InterlockedExchange(&stopping, 1); /* no new operation */
    if (closesocket(listener) == SOCKET_ERROR)
        errMsgWSA("closesocket (listening socket)");
    for (waited = 0; (left = sweep()) != 0; waited += SWEEP_MS) {
        if (waited >= STOP_WAIT_MS)
            fatal("%ld contexts still have I/O in flight after %d s", left, STOP_WAIT_MS / 1000);
        Sleep(SWEEP_MS);
    }
    for (t = 0; t < threadCount; t++)
        if (!PostQueuedCompletionStatus(port, 0, EXIT_KEY, NULL))
            errExit("PostQueuedCompletionStatus");
    if (WaitForMultipleObjects((DWORD)threadCount, threads, TRUE, INFINITE) == WAIT_FAILED)
        errExit("WaitForMultipleObjects");
    for (t = 0; t < threadCount; t++)
        if (!CloseHandle(threads[t]))
            errExit("CloseHandle (worker thread)");
    if (!CloseHandle(port))
        errExit("CloseHandle (port)");
    DeleteCriticalSection(&lock);
    if (WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
}

int main(int argc, char *argv[])
{
    const char *host = SK_DEFAULT_HOST;
    char service[8] = SK_DEFAULT_PORT;
    HANDLE threads[MAXIMUM_WAIT_OBJECTS], waitFor[2]; /* a client waits; Ctrl-C or the last */
    long threadCount = 2;
    ULONGLONG nextSweep = 0;
    SOCKET listener;
    DWORD wait;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--host") == 0)
            host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--port") == 0)
            snprintf(service, sizeof service, "%ld",
                     getNumber(optionValue(argc, argv, &i), 0, 65535, "--port"));
        else if (strcmp(argv[i], "--threads") == 0)
            threadCount = getNumber(optionValue(argc, argv, &i), 1, MAXIMUM_WAIT_OBJECTS,
                                    "--threads");
        else if (strcmp(argv[i], "--max-clients") == 0)
            maxClients = getNumber(optionValue(argc, argv, &i), 1, 1000000, "--max-clients");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    waitFor[0] = CreateEventW(NULL, FALSE, FALSE, NULL); /* resets itself as a wait returns */
    waitFor[1] = stopEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (waitFor[0] == NULL || stopEvent == NULL)
        errExit("CreateEventW");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");

    listener = start(host, service, threads, threadCount, waitFor[0]); /* the workers serve */
    while ((wait = WaitForMultipleObjects(2, waitFor, FALSE, SWEEP_MS)) != WAIT_OBJECT_0 + 1) {
        if (wait == WAIT_OBJECT_0)
            acceptClient(listener); /* accept() sets the event again if more wait */
        else if (wait != WAIT_TIMEOUT)
            errExit("WaitForMultipleObjects");
        if (GetTickCount64() >= nextSweep) {
            sweep();
            nextSweep = GetTickCount64() + SWEEP_MS;
        }
    }
    say("iocp_server: %s, stopping\n",
        maxClients != 0 && clientsServed >= maxClients ? "--max-clients reached" : "Ctrl-C");
    stop(listener, threads, threadCount);
    if (!CloseHandle(waitFor[0]) || !CloseHandle(stopEvent))
        errExit("CloseHandle");
    say("iocp_server: stopped, %ld clients served, all contexts freed\n", clientsServed);
    return 0;
}
