/* server.c -- sockets_server: the report's listing 10, fixed.
 *
 * A TCP server with a thread per client, as in the listing: it greets each
 * client, then answers every line with the line upper-cased (Unicode-aware,
 * so "привет" -> "ПРИВЕТ") until the client sends QUIT or goes away. The
 * protocol is in sockets.h; the client is in client.c (and iocp/ serves the
 * same protocol from a completion port).
 *
 * Usage: sockets_server [--host ADDR] [--port N] [--max-clients N]
 *
 * What the listing got wrong, and what this program does instead:
 *  - CreateThread was given the address of a stack variable that main
 *    overwrote with the next accept(): two threads could serve one socket.
 *    Each client's state is now a heap block that its thread owns and frees.
 *  - `if (n = send(...) != len)` assigned the comparison, not the count, and
 *    a short send lost the rest. sendAll() loops until every byte is sent.
 *  - recv() filled all 1024 bytes of the buffer, then a '\0' went after it.
 *    Here a line is assembled in a buffer of fixed size: a longer line is
 *    refused with an error (sockets.h), never written past the end.
 *  - Each recv() was taken to be one message; TCP is a byte stream, so lines
 *    are split at '\n' however the bytes arrive.
 *  - When a client went away, recv() returned 0 or an error forever and the
 *    loop printed errors without end. Now 0 or an error ends that session.
 *  - inet_addr/inet_ntoa knew only IPv4: getaddrinfo and getnameinfo take
 *    either, so --host ::1 works. SO_EXCLUSIVEADDRUSE makes a port in use
 *    an error instead of a port another program can take over.
 *  - No way to stop: Ctrl-C (the handler only sets an event, and main stops
 *    waiting for clients) or --max-clients.
 * And what a server needs that the listing never met: a client that stops
 * reading would hold its thread in send() for ever; now a reply unsent for
 * SK_SEND_TIMEOUT_MS ends that session (sockets.h). Lines are logged with
 * control characters made visible: a client cannot forge a log line.
 */
#include "sockets.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

#define LINGER_MS 2000    /* after the last reply, how long we wait to close */
#define STOP_WAIT_MS 5000 /* on Ctrl-C, sessions get this long to end */
#define ADDRESS_TEXT (NI_MAXHOST + NI_MAXSERV + 4) /* "[host]:port" */

static const char usage[] =
    "Usage: sockets_server [--host ADDR] [--port N] [--max-clients N]\n"
    "\n"
    "Serves the line protocol of sockets.h over TCP, a thread per client:\n"
    "a greeting, then each line sent back upper-cased; QUIT ends a session.\n"
    "Stops on Ctrl-C, or after N clients.\n"
    "\n"
    "  --host ADDR      address to listen on (default " SK_DEFAULT_HOST "; ::1 for\n"
    "                   IPv6; 0.0.0.0 or :: for every interface)\n"
    "  --port N         TCP port (default " SK_DEFAULT_PORT "; 0: any free port)\n"
    "  --max-clients N  serve N clients, wait for their sessions, then exit\n"
    "  --help           show this text\n";

typedef struct {
    SOCKET socket;
    long number;
    int pending;                      /* bytes of an unfinished line in in[] */
    char in[SK_MAX_LINE + 2];         /* the longest line, its '\r' and '\n' */
    char reply[3 * SK_MAX_LINE + 1];  /* upper case can take more UTF-8 bytes */
    char shown[4 * SK_MAX_LINE];      /* the line and its reply, as logged */
} Client;

static HANDLE stopEvent;               /* Ctrl-C */
static volatile LONG sessionsLeft = 1; /* running sessions, +1 for main */
static volatile LONG openCount;        /* connections open now */
static HANDLE sessionsDone;            /* set when sessionsLeft reaches 0 */

static BOOL WINAPI onControl(DWORD event)
{
    if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT)
        return FALSE;
    return SetEvent(stopEvent); /* the only safe thing here: wake main */
}

/* "127.0.0.1:5050" or "[::1]:5050", into text (ADDRESS_TEXT bytes). */
static void formatAddress(const struct sockaddr *address, int length, char *text)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];
    int error = getnameinfo(address, length, host, (DWORD)sizeof host, port,
                            (DWORD)sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);

    if (error != 0) {
        errMsgCode((DWORD)error, "getnameinfo");
        snprintf(text, ADDRESS_TEXT, "(unknown)");
    } else {
        snprintf(text, ADDRESS_TEXT, strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s", host,
                 port);
    }
}

/* send() may take fewer bytes than asked: send the rest. */
static BOOL sendAll(SOCKET s, const char *data, int length)
{
    int n;

    while (length > 0) {
        n = send(s, data, length, 0);
        if (n == SOCKET_ERROR)
            return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}

/* The server ends the session (after BYE or a line too long). Closing a
 * socket with unread data makes TCP send a reset, which can destroy our
 * last reply before the client reads it. So: send our FIN (shutdown), read
 * and drop what still comes until the client closes too -- but for no
 * longer than LINGER_MS -- then close. */
static void closeGently(Client *c)
{
    ULONGLONG deadline = GetTickCount64() + LINGER_MS;
    DWORD timeout = LINGER_MS;

    if (shutdown(c->socket, SD_SEND) == SOCKET_ERROR)
        return; /* the connection is gone already: nothing to wait for */
    if (setsockopt(c->socket, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout,
                   (int)sizeof timeout) == SOCKET_ERROR) {
        errMsgCode((DWORD)WSAGetLastError(), "setsockopt SO_RCVTIMEO (client %ld)", c->number);
        return;
    }
    while (GetTickCount64() < deadline && recv(c->socket, c->in, (int)sizeof c->in, 0) > 0)
        continue;
}

/* How a session goes on after a step: ANSWERED, or how and why it ends. */
typedef enum { ANSWERED, CLIENT_CLOSED, SAID_BYE, LINE_TOO_LONG, RESET, STALLED, FAILED } Outcome;
static const char *const endings[] = {
    "", "it closed the connection", ("it sent " SK_QUIT), "its line was too long",
    "the connection was reset", "it did not read its replies", "a call failed"};

/* What a failed send() or recv() means: a client that was killed, say, or
 * whose machine went away, resets the connection; one that stopped reading
 * makes a send time out (SO_SNDTIMEO). Neither is an error of ours. */
static Outcome failure(Client *c, const char *call)
{
    int error = WSAGetLastError();

    if (error == WSAECONNRESET || error == WSAECONNABORTED)
        return RESET;
    if (error == WSAETIMEDOUT && strcmp(call, "send") == 0)
        return STALLED;
    errMsgCode((DWORD)error, "%s (client %ld)", call, c->number);
    return FAILED;
}

/* Answers one line (without its '\n'). */
static Outcome answer(Client *c, const char *line, int length)
{
    const char *text = NULL; /* a fixed reply; NULL: the upper-cased line */
    Outcome outcome = ANSWERED;
    int n = 0;

    if (length > 0 && line[length - 1] == '\r')
        length--;
    if (length > SK_MAX_LINE) {
        text = SK_ERROR_TOO_LONG;
        outcome = LINE_TOO_LONG;
        say("client %ld: a line over %d bytes -> \"%s\"\n", c->number, SK_MAX_LINE, text);
    } else if (length == (int)strlen(SK_QUIT) && memcmp(line, SK_QUIT, (size_t)length) == 0) {
        text = SK_BYE;
        outcome = SAID_BYE;
        say("client %ld: \"%s\" -> \"%s\"\n", c->number, SK_QUIT, text);
    } else {
        n = upperUtf8(line, length, c->reply, (int)sizeof c->reply - 1);
        if (n < 0) {
            text = SK_ERROR_UTF8;
            say("client %ld: %d bytes of invalid UTF-8 -> \"%s\"\n", c->number, length, text);
        } else { /* the line is untrusted: printable() shows its control characters */
            say("client %ld: \"%s\" -> \"%s\"\n", c->number,
                printable(line, (size_t)length, c->shown, sizeof c->shown / 2),
                printable(c->reply, (size_t)n, c->shown + sizeof c->shown / 2,
                          sizeof c->shown / 2));
        }
    }
    if (text != NULL) {
        n = (int)strlen(text);
        memcpy(c->reply, text, (size_t)n);
    }
    c->reply[n] = '\n'; /* the line and its '\n' in one send() */
    return sendAll(c->socket, c->reply, n + 1) ? outcome : failure(c, "send");
}

/* One client's session. The thread owns c: it closes the socket, frees c. */
static DWORD WINAPI serveClient(LPVOID param)
{
    Client *c = param;
    Outcome outcome = ANSWERED;
    DWORD sendTimeout = SK_SEND_TIMEOUT_MS;
    char *newline, *line;
    long lines = 0;
    int n, unfinished;

    /* A client that stops reading would block our send() for ever: give up
     * after SK_SEND_TIMEOUT_MS (sockets.h). */
    if (setsockopt(c->socket, SOL_SOCKET, SO_SNDTIMEO, (const char *)&sendTimeout,
                   (int)sizeof sendTimeout) == SOCKET_ERROR)
        outcome = failure(c, "setsockopt SO_SNDTIMEO");
    else if (!sendAll(c->socket, SK_GREETING "\n", (int)strlen(SK_GREETING "\n")))
        outcome = failure(c, "send");
    while (outcome == ANSWERED) {
        /* in[] always has room: what stays in it, an unfinished line, is at
         * most SK_MAX_LINE bytes and a '\r' (see below). */
        n = recv(c->socket, c->in + c->pending, (int)sizeof c->in - c->pending, 0);
        if (n == 0 || n == SOCKET_ERROR) {
            outcome = n == 0 ? CLIENT_CLOSED : failure(c, "recv");
            break; /* the listing's loop went on here, printing errors for ever */
        }
        /* TCP keeps no boundaries: these bytes may end a line, hold several,
         * or be the middle of one. Answer each whole line... */
        c->pending += n;
        line = c->in;
        while (outcome == ANSWERED &&
               (newline = memchr(line, '\n', (size_t)(c->in + c->pending - line))) != NULL) {
            outcome = answer(c, line, (int)(newline - line));
            lines++;
            line = newline + 1;
        }
        /* ...and keep the unfinished one, unless it is too long already. */
        c->pending = (int)(c->in + c->pending - line);
        memmove(c->in, line, (size_t)c->pending);
        unfinished = c->pending - (c->pending > 0 && c->in[c->pending - 1] == '\r' ? 1 : 0);
        if (outcome == ANSWERED && unfinished > SK_MAX_LINE)
            outcome = answer(c, c->in, c->pending);
    }
    if (outcome == SAID_BYE || outcome == LINE_TOO_LONG)
        closeGently(c);
    say("client %ld: session ended after %ld lines: %s\n", c->number, lines, endings[outcome]);
    if (closesocket(c->socket) == SOCKET_ERROR)
        errMsgCode((DWORD)WSAGetLastError(), "closesocket (client %ld)", c->number);
    if (!HeapFree(GetProcessHeap(), 0, c))
        errMsg("HeapFree");
    InterlockedDecrement(&openCount);
    if (InterlockedDecrement(&sessionsLeft) == 0 && !SetEvent(sessionsDone))
        errExit("SetEvent");
    return 0;
}

/* socket, bind, listen: on the first address getaddrinfo gives for host,
 * which reads "127.0.0.1" and "::1" alike (AI_PASSIVE: to listen on). */
static SOCKET listenOn(const char *host, const char *port)
{
    struct addrinfo hints, *found;
    char where[ADDRESS_TEXT];
    BOOL exclusive = TRUE;
    SOCKET listener;
    int error;

    ZeroMemory(&hints, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_PASSIVE;
    error = getaddrinfo(host, port, &hints, &found);
    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);
    listener = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
    if (listener == INVALID_SOCKET)
        errExitCode((DWORD)WSAGetLastError(), "socket");
    /* Without this, another program could bind the same port with
     * SO_REUSEADDR and take over our clients; with it, a port in use fails. */
    if (setsockopt(listener, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&exclusive,
                   (int)sizeof exclusive) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "setsockopt SO_EXCLUSIVEADDRUSE");
    if (bind(listener, found->ai_addr, (int)found->ai_addrlen) == SOCKET_ERROR) {
        error = WSAGetLastError(); /* WSAEADDRINUSE; under Wine, WSAEACCES */
        formatAddress(found->ai_addr, (int)found->ai_addrlen, where);
        errExitCode((DWORD)error, "bind %s%s", where,
                    error == WSAEADDRINUSE || error == WSAEACCES
                        ? " (is another server using that port?)" : "");
    }
    freeaddrinfo(found);
    if (listen(listener, SOMAXCONN) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "listen");
    return listener;
}

/* The listing passed &stackVariable to CreateThread, and the next accept()
 * overwrote it. Each session gets a heap block of its own. */
static void startSession(SOCKET s, long number)
{
    Client *c = HeapAlloc(GetProcessHeap(), 0, sizeof *c);
    HANDLE thread;

    if (c == NULL)
        fatal("HeapAlloc: no memory for client %ld", number);
    c->socket = s;
    c->number = number;
    c->pending = 0;
    InterlockedIncrement(&sessionsLeft);
    thread = CreateThread(NULL, 0, serveClient, c, 0, NULL);
    if (thread == NULL)
        errExit("CreateThread (client %ld)", number);
    if (!CloseHandle(thread)) /* the session cleans up after itself */
        errExit("CloseHandle");
}

int main(int argc, char *argv[])
{
    const char *host = SK_DEFAULT_HOST;
    char port[8] = SK_DEFAULT_PORT, where[ADDRESS_TEXT];
    long maxClients = 0, served = 0;
    BOOL stopped = FALSE;
    struct sockaddr_storage address;
    SOCKET listener, s;
    WSAEVENT acceptReady;
    HANDLE waitFor[2];
    WSADATA wsa;
    u_long blocking = 0;
    DWORD wait;
    int length, error, i;

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
     * set when a connection waits (which makes the listener non-blocking),
     * and main waits for that or for the stop event. */
    stopEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    sessionsDone = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (stopEvent == NULL || sessionsDone == NULL)
        errExit("CreateEventW");
    acceptReady = WSACreateEvent();
    if (acceptReady == WSA_INVALID_EVENT)
        errExitCode((DWORD)WSAGetLastError(), "WSACreateEvent");
    if (WSAEventSelect(listener, acceptReady, FD_ACCEPT) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "WSAEventSelect");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");
    length = (int)sizeof address; /* with --port 0: which port did we get? */
    if (getsockname(listener, (struct sockaddr *)&address, &length) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "getsockname");
    formatAddress((struct sockaddr *)&address, length, where);
    say("sockets_server: listening on %s\n", where);

    while (maxClients == 0 || served < maxClients) {
        waitFor[0] = acceptReady;
        waitFor[1] = stopEvent;
        wait = WaitForMultipleObjects(2, waitFor, FALSE, INFINITE);
        if (wait == WAIT_OBJECT_0 + 1) {
            stopped = TRUE;
            break;
        }
        if (wait != WAIT_OBJECT_0)
            errExit("WaitForMultipleObjects");
        if (!WSAResetEvent(acceptReady)) /* accept() sets it again if more wait */
            errExitCode((DWORD)WSAGetLastError(), "WSAResetEvent");
        length = (int)sizeof address;
        s = accept(listener, (struct sockaddr *)&address, &length);
        if (s == INVALID_SOCKET) {
            error = WSAGetLastError(); /* none after all, or it gave up: wait on */
            if (error != WSAEWOULDBLOCK && error != WSAECONNRESET)
                errExitCode((DWORD)error, "accept");
            continue;
        }
        /* The new socket inherits the event and the non-blocking mode: undo
         * both, for the session's plain blocking calls. */
        if (WSAEventSelect(s, NULL, 0) == SOCKET_ERROR ||
            ioctlsocket(s, (long)FIONBIO, &blocking) == SOCKET_ERROR)
            errExitCode((DWORD)WSAGetLastError(), "WSAEventSelect or ioctlsocket");
        formatAddress((struct sockaddr *)&address, length, where);
        say("client %ld: connected from %s (%ld open)\n", ++served, where,
            (long)InterlockedIncrement(&openCount));
        startSession(s, served);
    }

    /* No more clients: drop main's count, wait for the sessions to end. */
    if (closesocket(listener) == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "closesocket");
    if (!WSACloseEvent(acceptReady))
        errExitCode((DWORD)WSAGetLastError(), "WSACloseEvent");
    if (InterlockedDecrement(&sessionsLeft) == 0 && !SetEvent(sessionsDone))
        errExit("SetEvent");
    wait = WaitForSingleObject(sessionsDone, stopped ? STOP_WAIT_MS : INFINITE);
    if (wait == WAIT_TIMEOUT)
        say("sockets_server: %ld sessions still open, ending them\n", (long)sessionsLeft);
    else if (wait != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    say("sockets_server: %s, %ld clients served\n", stopped ? "stopped by Ctrl-C" : "done",
        served);
    if (!CloseHandle(stopEvent) ||
        (wait == WAIT_OBJECT_0 && !CloseHandle(sessionsDone))) /* else still in use */
        errExit("CloseHandle");
    if (wait == WAIT_OBJECT_0 && WSACleanup() == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "WSACleanup");
    return 0;
}
