/* server.c -- sockets_server: the report's listing 10, fixed.
 *
 * A TCP server with a thread per client, as in the listing: it greets each
 * client, then answers each line as sockets.h says ("привет" -> "ПРИВЕТ")
 * until the client sends QUIT or goes away. The client is client.c.
 *
 * Usage: sockets_server [--host ADDR] [--port N] [--max-clients N]
 *
 * What the listing got wrong, and what this program does instead:
 *  - CreateThread got the address of a stack variable that the next accept()
 *    overwrote: two threads could serve one socket. Each session now has a
 *    heap block of its own.
 *  - `if (n = send(...) != len)` assigned the comparison; a short send lost
 *    the rest. sendAll() sends every byte.
 *  - recv() filled all 1024 bytes, then a '\0' went after them, and each
 *    recv() was taken as one message. Lines are now assembled in a fixed
 *    buffer and split at '\n'; a longer line is refused.
 *  - A client gone made recv() return 0 or an error for ever, and the loop
 *    printed errors without end. Now either ends that session.
 *  - inet_addr/inet_ntoa knew IPv4 only: getaddrinfo, getnameinfo take both.
 *    SO_EXCLUSIVEADDRUSE: a port in use is an error, not taken over.
 *  - No way to stop: now Ctrl-C (the handler only sets an event) or --max-clients.
 * Beyond the listing: a client that stops reading is dropped after
 * SK_SEND_TIMEOUT_MS; the log escapes control characters (no forged lines).
 */
#include "sockets.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

#define LINGER_MS 2000    /* after the last reply, how long we wait to close */
#define STOP_WAIT_MS 5000 /* on Ctrl-C, sessions get this long to end */

static const char usage[] =
    "Usage: sockets_server [--host ADDR] [--port N] [--max-clients N]\n"
    "Serves the line protocol of sockets.h over TCP, a thread per client: a\n"
    "greeting, then each line sent back upper-cased. Stops on Ctrl-C.\n"
    "  --host ADDR      address to listen on (default " SK_DEFAULT_HOST "; or ::1, 0.0.0.0, ::)\n"
    "  --port N         TCP port (default " SK_DEFAULT_PORT "; 0: any free port)\n"
    "  --max-clients N  serve N clients, wait for their sessions, then exit\n"
    "  --help           show this text\n";

typedef struct {
    SOCKET socket;
    long number;
    int pending;                  /* bytes of an unfinished line in in[] */
    char in[SK_MAX_LINE + 2];     /* the longest line, its '\r' and '\n' */
    char reply[SK_MAX_REPLY + 1]; /* the longest reply and its '\n' */
} Client;

static HANDLE stopEvent;               /* set by Ctrl-C */
static HANDLE sessionsDone;            /* set when sessionsLeft reaches 0 */
static volatile LONG sessionsLeft = 1; /* sessions running, +1 while main accepts */

static BOOL WINAPI onControl(DWORD event) /* the only safe thing here: wake main */
{
    return (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT) && SetEvent(stopEvent);
}

/* send() may take fewer bytes than asked: send the rest. */
static BOOL sendAll(SOCKET s, const char *data, int length)
{
    int n;

    for (; length > 0; data += n, length -= n) {
        n = send(s, data, length, 0);
        if (n == SOCKET_ERROR)
            return FALSE;
    }
    return TRUE;
}

/* We end the session (after BYE or a line too long). Closing a socket with
 * unread data makes TCP send a reset, which can destroy our last reply
 * before the client reads it. So: send our FIN (shutdown), read and drop
 * what still comes until the client closes too, for LINGER_MS at most. */
static void closeGently(Client *c)
{
    ULONGLONG deadline = GetTickCount64() + LINGER_MS;
    DWORD timeout = LINGER_MS;
    char dropped[4096];

    if (shutdown(c->socket, SD_SEND) == SOCKET_ERROR)
        return; /* the connection is gone already: nothing to wait for */
    if (setsockopt(c->socket, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout,
                   (int)sizeof timeout) == SOCKET_ERROR)
        errMsgWSA("setsockopt SO_RCVTIMEO (client %ld)", c->number);
    else
        while (GetTickCount64() < deadline && recv(c->socket, dropped, (int)sizeof dropped, 0) > 0)
            continue;
}

/* Why a session ends after a failed send() or recv(): a client killed, or
 * whose machine went away, resets the connection; one that stopped reading
 * makes a send time out (SO_SNDTIMEO). Neither is an error of ours. */
static const char *failure(Client *c, const char *call)
{
    int error = WSAGetLastError();

    if (error == WSAECONNRESET || error == WSAECONNABORTED)
        return "the connection was reset";
    if (error == WSAETIMEDOUT) /* only a send() can time out */
        return "it did not read its replies";
    errMsgWSA("%s (client %ld)", call, c->number);
    return "a call failed";
}

/* Answers one line (length bytes, without its '\n') as sockets.h says.
 * Returns NULL, or why the session ends. */
static const char *answer(Client *c, const char *line, int length)
{
    size_t n;
    SkRule rule = replyTo(line, (size_t)length, c->reply, &n);

    logReply(c->number, line, (size_t)length, rule, c->reply, n);
    if (!sendAll(c->socket, c->reply, (int)n)) /* the line and its '\n' in one send() */
        return failure(c, "send");
    if (rule != SK_SAID_QUIT && rule != SK_TOO_LONG)
        return NULL;
    closeGently(c);
    return rule == SK_SAID_QUIT ? "it sent " SK_QUIT : "its line was too long";
}

/* One client's session. The thread owns c: it closes the socket, frees c. */
static DWORD WINAPI serveClient(LPVOID param)
{
    Client *c = param;
    const char *ended = NULL;               /* why the session ended */
    DWORD sendTimeout = SK_SEND_TIMEOUT_MS; /* or one that stops reading holds send() */
    char *newline, *line;
    long lines = 0;
    int n;

    if (setsockopt(c->socket, SOL_SOCKET, SO_SNDTIMEO, (const char *)&sendTimeout,
                   (int)sizeof sendTimeout) == SOCKET_ERROR)
        ended = failure(c, "setsockopt SO_SNDTIMEO");
    else if (!sendAll(c->socket, SK_GREETING "\n", (int)strlen(SK_GREETING "\n")))
        ended = failure(c, "send");
    while (ended == NULL) {
        /* in[] always has room: what stays in it, an unfinished line, is at
         * most SK_MAX_LINE bytes and a '\r' (see below). */
        n = recv(c->socket, c->in + c->pending, (int)sizeof c->in - c->pending, 0);
        if (n == 0 || n == SOCKET_ERROR) {
            ended = n == 0 ? "it closed the connection" : failure(c, "recv");
            break; /* the listing's loop went on here, printing errors for ever */
        }
        /* TCP keeps no boundaries: these bytes may end a line, hold several,
         * or be the middle of one. Answer each whole line... */
        c->pending += n;
        line = c->in;
        while (ended == NULL &&
               (newline = memchr(line, '\n', (size_t)(c->in + c->pending - line))) != NULL) {
            ended = answer(c, line, (int)(newline - line));
            lines++;
            line = newline + 1;
        }
        /* ...and keep the unfinished one, unless it is too long already. */
        c->pending = (int)(c->in + c->pending - line);
        memmove(c->in, line, (size_t)c->pending);
        if (ended == NULL && tooLongAlready(c->in, (size_t)c->pending))
            ended = answer(c, c->in, c->pending);
    }
    say("client %ld: session ended after %ld lines: %s\n", c->number, lines, ended);
    if (closesocket(c->socket) == SOCKET_ERROR)
        errMsgWSA("closesocket (client %ld)", c->number);
    if (!HeapFree(GetProcessHeap(), 0, c))
        errMsg("HeapFree");
    if (InterlockedDecrement(&sessionsLeft) == 0 && !SetEvent(sessionsDone))
        errExit("SetEvent");
    return 0;
}

/* socket, bind, listen: on the first address getaddrinfo gives for host,
 * which reads "127.0.0.1" and "::1" alike (AI_PASSIVE: to listen on). */
static SOCKET listenOn(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM}, *found;
    int error = getaddrinfo(host, port, &hints, &found); /* AF_UNSPEC: IPv4 or IPv6 */
    char where[SK_ADDRESS_TEXT];
    BOOL exclusive = TRUE;
    SOCKET listener;

    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);
    listener = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
    if (listener == INVALID_SOCKET)
        errExitWSA("socket");
    if (setsockopt(listener, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&exclusive,
                   (int)sizeof exclusive) == SOCKET_ERROR)
        errExitWSA("setsockopt SO_EXCLUSIVEADDRUSE");
    formatAddress(found->ai_addr, (int)found->ai_addrlen, where);
    if (bind(listener, found->ai_addr, (int)found->ai_addrlen) == SOCKET_ERROR)
        errExitWSA("bind %s%s", where, /* in use: WSAEADDRINUSE; under Wine, WSAEACCES */
                   WSAGetLastError() == WSAEADDRINUSE || WSAGetLastError() == WSAEACCES
                       ? " (is another server using that port?)"
                       : "");
    freeaddrinfo(found);
    if (listen(listener, SOMAXCONN) == SOCKET_ERROR)
        errExitWSA("listen");
    return listener;
}

/* A thread for s, and a heap block of its own (the listing's was on main's stack). */
static void startSession(SOCKET s, long number)
{
    Client *c = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *c); /* pending = 0 */
    u_long blocking = 0;
    HANDLE thread;

    if (c == NULL)
        fatal("HeapAlloc: no memory for client %ld", number);
    /* s has the listener's event and non-blocking mode: undo both, for the
     * session's plain blocking calls. */
    if (WSAEventSelect(s, NULL, 0) == SOCKET_ERROR)
        errExitWSA("WSAEventSelect");
    if (ioctlsocket(s, (long)FIONBIO, &blocking) == SOCKET_ERROR)
        errExitWSA("ioctlsocket FIONBIO");
    c->socket = s;
    c->number = number;
    thread = CreateThread(NULL, 0, serveClient, c, 0, NULL);
    if (thread == NULL)
        errExit("CreateThread (client %ld)", number);
    if (!CloseHandle(thread)) /* the session cleans up after itself */
        errExit("CloseHandle");
}

int main(int argc, char *argv[])
{
    const char *host = SK_DEFAULT_HOST;
    char port[8] = SK_DEFAULT_PORT, where[SK_ADDRESS_TEXT];
    long maxClients = 0, served = 0;
    struct sockaddr_storage address;
    HANDLE waitFor[2]; /* a client waits, Ctrl-C */
    BOOL stopped = FALSE;
    SOCKET listener, s;
    int length, error, i;
    WSADATA wsa;
    DWORD wait;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--host") == 0)
            host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--port") == 0)
            snprintf(port, sizeof port, "%ld",
                     getNumber(optionValue(argc, argv, &i), 0, 65535, "--port"));
        else if (strcmp(argv[i], "--max-clients") == 0)
            maxClients = getNumber(optionValue(argc, argv, &i), 1, 1000000, "--max-clients");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    error = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (error != 0)
        errExitCode((DWORD)error, "WSAStartup");
    listener = listenOn(host, port);

    /* A blocking accept() cannot be woken by Ctrl-C. Instead an event is
     * set when a client waits (which makes the listener non-blocking), and
     * main waits for that or for Ctrl-C's event. The first resets itself
     * as the wait returns; accept() sets it again if more clients wait. */
    waitFor[0] = CreateEventW(NULL, FALSE, FALSE, NULL);
    waitFor[1] = stopEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    sessionsDone = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (waitFor[0] == NULL || stopEvent == NULL || sessionsDone == NULL)
        errExit("CreateEventW");
    if (WSAEventSelect(listener, waitFor[0], FD_ACCEPT) == SOCKET_ERROR)
        errExitWSA("WSAEventSelect");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");
    length = (int)sizeof address; /* with --port 0: which port did we get? */
    if (getsockname(listener, (struct sockaddr *)&address, &length) == SOCKET_ERROR)
        errExitWSA("getsockname");
    formatAddress((struct sockaddr *)&address, length, where);
    say("sockets_server: listening on %s\n", where);

    while (maxClients == 0 || served < maxClients) {
        wait = WaitForMultipleObjects(2, waitFor, FALSE, INFINITE);
        stopped = wait == WAIT_OBJECT_0 + 1;
        if (stopped)
            break;
        if (wait != WAIT_OBJECT_0)
            errExit("WaitForMultipleObjects");
        length = (int)sizeof address;
        s = accept(listener, (struct sockaddr *)&address, &length);
        error = s == INVALID_SOCKET ? WSAGetLastError() : 0;
        if (error == WSAEWOULDBLOCK || error == WSAECONNRESET)
            continue; /* none after all, or it gave up: wait on */
        if (s == INVALID_SOCKET)
            errExitWSA("accept");
        formatAddress((struct sockaddr *)&address, length, where);
        say("client %ld: connected from %s (%ld open)\n", ++served, where,
            (long)InterlockedIncrement(&sessionsLeft) - 1);
        startSession(s, served);
    }

    /* No more clients: drop main's count, wait for the sessions to end. */
    if (closesocket(listener) == SOCKET_ERROR)
        errExitWSA("closesocket");
    if (InterlockedDecrement(&sessionsLeft) == 0 && !SetEvent(sessionsDone))
        errExit("SetEvent");
    wait = WaitForSingleObject(sessionsDone, stopped ? STOP_WAIT_MS : INFINITE);
    if (wait == WAIT_TIMEOUT)
        say("sockets_server: %ld sessions still open, ending them\n", (long)sessionsLeft);
    else if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    say("sockets_server: %s, %ld clients served\n", stopped ? "stopped by Ctrl-C" : "done", served);
    if (!CloseHandle(waitFor[0]) || !CloseHandle(stopEvent) ||
        (wait == WAIT_OBJECT_0 && !CloseHandle(sessionsDone))) /* else still in use */
        errExit("CloseHandle");
    if (wait == WAIT_OBJECT_0 && WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
    return 0;
}
