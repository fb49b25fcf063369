/* client.c -- sockets_client: the report's listing 11, fixed.
 *
 * Connects to sockets_server (or to iocp_server: both speak the protocol of
 * sockets.h), prints the greeting, sends lines -- the LINE arguments, or
 * what is typed at the "Send: " prompt until QUIT or end of input -- and
 * prints each reply. Every reply is checked against what the protocol says
 * the server must answer: the line upper-cased with upperUtf8, BYE, or an
 * ERROR line. The server is in server.c.
 *
 * Usage: sockets_client [--host ADDR] [--port N] [MODE] [LINE...]
 *
 * The modes are tools for looking at TCP as a byte stream: --byte-at-a-time
 * and --one-send show that the server finds the lines however they are cut;
 * --send-bytes and --raw send what no well-behaved client would; and
 * --connections opens many connections from one process (the usage text
 * below says more).
 *
 * What the listing got wrong, and what this program does instead:
 *  - `if (n = send(...) != len)` assigned the comparison; a short send lost
 *    the rest. sendAll() loops until every byte is sent.
 *  - One recv() was taken to be one reply, in a buffer that overflowed at
 *    1024 bytes. Replies are assembled in a fixed buffer and split at '\n'.
 *  - inet_addr() read IPv4 only: getaddrinfo takes a name, IPv4 or IPv6,
 *    and each address it gives is tried in turn.
 *  - A server that went away left the loop sending into nothing. Now a
 *    refused connection names HOST:PORT, a server that closes mid-session
 *    is reported, one silent for 10 s is given up on; each exits 1.
 *  - Replies were trusted. Each is now checked against the protocol.
 */
#include "sockets.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

#define MAX_REPLY (3 * SK_MAX_LINE) /* upper case can take more UTF-8 bytes */
#define QUIET_MS 2000 /* with an unfinished line sent, wait this long for a reply */
#define REPLY_TIMEOUT_MS 10000 /* a server silent this long is given up on */

static const char usage[] =
    "Usage: sockets_client [--host ADDR] [--port N] [MODE] [LINE...]\n"
    "\n"
    "Connects to sockets_server or iocp_server, sends each LINE and prints the\n"
    "reply (\"Received: ...\"), checking it. With no LINE, reads lines at a\n"
    "\"Send: \" prompt until QUIT or the end of input.\n"
    "\n"
    "  --host ADDR      the server (default " SK_DEFAULT_HOST "; a name, IPv4 or IPv6)\n"
    "  --port N         its TCP port (default " SK_DEFAULT_PORT ")\n"
    "  --help           show this text\n"
    "MODE, at most one, to explore the protocol:\n"
    "  --byte-at-a-time send every byte in its own send(): the server must\n"
    "                   put the lines together again\n"
    "  --one-send       send all the LINEs, each ended by \"\\n\", in one send(),\n"
    "                   then read all the replies\n"
    "  --send-bytes N   send N bytes of 'x' and no newline; print what the\n"
    "                   server answers and whether it closes the connection\n"
    "  --raw TEXT       send TEXT with \\n, \\r, \\t, \\\\ and \\xNN decoded (e.g.\n"
    "                   \"\\xff\\xfe\\n\", invalid UTF-8) and print the replies\n"
    "  --connections N  open N connections and hold them all before sending;\n"
    "                   then send each LINE on every one and check every reply\n"
    "                   (replies are not printed, only the total)\n";

typedef enum { PER_LINE, PER_BYTE, ALL_AT_ONCE } Pace;
typedef enum { GOT_LINE, GOT_CLOSED, GOT_RESET } Got;

typedef struct {
    SOCKET socket;
    int used;                   /* bytes received, not yet taken as a line */
    char in[MAX_REPLY + 2];     /* the longest reply, its '\r' and '\n' */
} Connection;

static char reply[MAX_REPLY + 2], expected[MAX_REPLY + 1];
static long sentLines, replies;
static BOOL showReplies = TRUE;
static char where[NI_MAXHOST + NI_MAXSERV + 4]; /* "HOST:PORT", for messages */

/* Sends every byte (send() may take fewer); FALSE when the server is gone. */
static BOOL sendAll(Connection *c, const char *data, size_t length)
{
    int n, error;

    while (length > 0) {
        n = send(c->socket, data, length > 65536 ? 65536 : (int)length, 0);
        if (n == SOCKET_ERROR) {
            error = WSAGetLastError();
            if (error == WSAECONNRESET || error == WSAECONNABORTED)
                return FALSE;
            errExitCode((DWORD)error, "send");
        }
        data += n;
        length -= (size_t)n;
    }
    return TRUE;
}

/* Reads one line the server sent into reply[], without its "\r\n". */
static Got receiveLine(Connection *c)
{
    char *newline;
    int n, length, error;

    while ((newline = memchr(c->in, '\n', (size_t)c->used)) == NULL) {
        if (c->used == (int)sizeof c->in)
            fatal("the server sent a line over %d bytes", MAX_REPLY);
        n = recv(c->socket, c->in + c->used, (int)sizeof c->in - c->used, 0);
        if (n == 0)
            return GOT_CLOSED; /* (an unfinished last line is dropped) */
        if (n == SOCKET_ERROR) {
            error = WSAGetLastError();
            if (error == WSAECONNRESET || error == WSAECONNABORTED)
                return GOT_RESET;
            if (error == WSAETIMEDOUT)
                fatal("the server has sent nothing for %d s", REPLY_TIMEOUT_MS / 1000);
            errExitCode((DWORD)error, "recv");
        }
        c->used += n;
    }
    length = (int)(newline - c->in);
    memcpy(reply, c->in, (size_t)length);
    reply[length > 0 && reply[length - 1] == '\r' ? length - 1 : length] = '\0';
    c->used -= length + 1;
    memmove(c->in, newline + 1, (size_t)c->used);
    return GOT_LINE;
}

static void serverGone(Got got, const char *when)
{
    fatal("the server %s the connection %s", got == GOT_RESET ? "reset" : "closed", when);
}

/* The server has said it closes: does it? */
static void expectClose(Connection *c)
{
    Got got = receiveLine(c);

    if (got == GOT_LINE)
        fatal("after its last reply, the server sent \"%s\"", reply);
    if (showReplies)
        say("sockets_client: the server closed the connection%s\n",
            got == GOT_RESET ? " (reset)" : "");
}

/* Reads the reply to line (length bytes, without '\n') and checks it is
 * what sockets.h says. TRUE when the server closes after it. */
static BOOL checkReply(Connection *c, const char *line, int length)
{
    BOOL closes = FALSE;
    Got got;
    int n;

    if (length > 0 && line[length - 1] == '\r')
        length--;
    n = -1;
    if (length > SK_MAX_LINE) {
        snprintf(expected, sizeof expected, "%s", SK_ERROR_TOO_LONG);
        closes = TRUE;
    } else if (length == (int)strlen(SK_QUIT) && memcmp(line, SK_QUIT, strlen(SK_QUIT)) == 0) {
        snprintf(expected, sizeof expected, "%s", SK_BYE);
        closes = TRUE;
    } else if ((n = upperUtf8(line, length, expected, MAX_REPLY)) >= 0) {
        expected[n] = '\0';
    } else {
        snprintf(expected, sizeof expected, "%s", SK_ERROR_UTF8);
    }
    got = receiveLine(c);
    if (got != GOT_LINE)
        serverGone(got, "before it replied");
    replies++;
    if (showReplies)
        say("Received: %s\n", reply);
    if (strcmp(reply, expected) != 0)
        fatal("reply %ld is \"%s\", but the server should have sent \"%s\"", replies, reply,
              expected);
    return closes;
}

/* An unfinished line is due no reply: see that none comes in QUIET_MS. */
static void expectSilence(Connection *c)
{
    WSAPOLLFD poll;
    Got got;
    int n = 1;

    poll.fd = c->socket;
    poll.events = POLLRDNORM;
    poll.revents = 0;
    if (c->used == 0)
        n = WSAPoll(&poll, 1, QUIET_MS);
    if (n == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "WSAPoll");
    if (n > 0) {
        got = receiveLine(c);
        if (got == GOT_LINE)
            fatal("the server answered an unfinished line: \"%s\"", reply);
        serverGone(got, "in the middle of a line");
    }
    say("sockets_client: no reply in %d s: the server waits for the rest of the line\n",
        QUIET_MS / 1000);
}

/* Sends one line (with its '\n'): whole, or a byte per send(). */
static void sendLine(Connection *c, const char *data, size_t length, Pace pace)
{
    size_t i, step = pace == PER_BYTE ? 1 : length;

    for (i = 0; i < length; i += step)
        if (!sendAll(c, data + i, step))
            serverGone(GOT_CLOSED, "while we were sending");
}

/* Sends data -- lines ended by '\n', perhaps an unfinished one at the end --
 * on each of count connections, at the given pace, and checks the answer
 * to each line. A line goes out on every connection before any reply is
 * read, so that all the sessions are busy at once. TRUE when the server has
 * closed the connections. */
static BOOL converse(Connection *all, long count, const char *data, size_t length, Pace pace)
{
    size_t start, end;
    BOOL closed = FALSE;
    long k;

    /* (Meanwhile the replies wait in the socket buffers: megabytes of lines
     * would fill them, and each side would wait for the other for ever.) */
    for (k = 0; pace == ALL_AT_ONCE && k < count; k++)
        if (!sendAll(&all[k], data, length))
            warn("the server closed the connection while we were sending");
    for (start = 0; start < length && !closed; start = end + 1) {
        for (end = start; end < length && data[end] != '\n'; end++)
            continue;
        for (k = 0; pace != ALL_AT_ONCE && k < count; k++)
            sendLine(&all[k], data + start, (end < length ? end + 1 : end) - start, pace);
        /* No '\n' at the end: the server must wait for more, unless the line
         * is too long already (a last '\r' may still be dropped). */
        if (end == length && end - start - (data[end - 1] == '\r' ? 1 : 0) <= SK_MAX_LINE) {
            for (k = 0; k < count; k++)
                expectSilence(&all[k]);
            break;
        }
        sentLines += end < length ? count : 0;
        for (k = 0; k < count; k++)
            if (checkReply(&all[k], data + start, (int)(end - start))) {
                expectClose(&all[k]);
                closed = TRUE;
            }
    }
    return closed;
}

/* Connects to the first of the addresses that answers. */
static void connectTo(Connection *c, const struct addrinfo *addresses)
{
    const struct addrinfo *a;
    DWORD timeout = REPLY_TIMEOUT_MS;
    int error = WSAHOST_NOT_FOUND;

    c->used = 0;
    for (a = addresses; a != NULL; a = a->ai_next) {
        c->socket = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (c->socket == INVALID_SOCKET)
            errExitCode((DWORD)WSAGetLastError(), "socket");
        if (connect(c->socket, a->ai_addr, (int)a->ai_addrlen) == 0) {
            /* A server whose machine dies sends no FIN or RST: we would
             * wait for its reply for ever. */
            if (setsockopt(c->socket, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout,
                           (int)sizeof timeout) == SOCKET_ERROR)
                errExitCode((DWORD)WSAGetLastError(), "setsockopt SO_RCVTIMEO");
            return;
        }
        error = WSAGetLastError();
        if (closesocket(c->socket) == SOCKET_ERROR)
            errExitCode((DWORD)WSAGetLastError(), "closesocket");
    }
    errExitCode((DWORD)error, "connect %s", where);
}

static int hexDigit(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* --raw TEXT: "\n" -> a newline, "\xff" -> the byte 0xff, ... */
static size_t decode(const char *text, char *out)
{
    size_t n = 0;

    while (*text != '\0') {
        if (*text != '\\') {
            out[n++] = *text++;
            continue;
        }
        switch (text[1]) {
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case '\\': out[n++] = '\\'; break;
        case 'x':
            if (hexDigit(text[2]) < 0 || hexDigit(text[3]) < 0)
                usageErr("--raw: \\x wants two hex digits");
            out[n++] = (char)(hexDigit(text[2]) * 16 + hexDigit(text[3]));
            text += 2;
            break;
        default:
            usageErr("--raw: unknown escape \\%c", text[1]);
        }
        text += 2;
    }
    return n;
}

int main(int argc, char *argv[])
{
    const char *host = SK_DEFAULT_HOST, *raw = NULL;
    char port[8] = SK_DEFAULT_PORT, typed[SK_MAX_LINE + 2], *data;
    long sendBytes = 0, count = 1, n;
    int modes = 0, first, error, i;
    Pace pace = PER_LINE;
    Got got;
    BOOL closed = FALSE, noDelay = TRUE;
    size_t length = 0;
    struct addrinfo hints, *addresses;
    Connection *connections;
    WSADATA wsa;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--host") == 0)
            host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--port") == 0)
            snprintf(port, sizeof port, "%ld",
                     getNumber(optionValue(argc, argv, &i), 1, 65535, "--port"));
        else if (++modes > 1)
            usageErr("%s: choose one MODE at most", argv[i]);
        else if (strcmp(argv[i], "--byte-at-a-time") == 0)
            pace = PER_BYTE;
        else if (strcmp(argv[i], "--one-send") == 0)
            pace = ALL_AT_ONCE;
        else if (strcmp(argv[i], "--send-bytes") == 0)
            sendBytes = getNumber(optionValue(argc, argv, &i), 1, 1L << 28, "--send-bytes");
        else if (strcmp(argv[i], "--raw") == 0)
            raw = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--connections") == 0)
            count = getNumber(optionValue(argc, argv, &i), 1, 100000, "--connections");
        else
            usageErr("unknown option \"%s\"", argv[i]);
    }
    first = i;
    if ((sendBytes > 0 || raw != NULL) && first < argc)
        usageErr("--send-bytes and --raw take no LINE");
    if (pace != PER_LINE && first == argc)
        usageErr("--byte-at-a-time and --one-send need a LINE to send");

    /* What to send: --raw TEXT decoded, --send-bytes N of 'x', or the LINEs,
     * each ended by '\n'. */
    length = raw != NULL ? strlen(raw) : (size_t)sendBytes;
    for (i = first; i < argc; i++)
        length += strlen(argv[i]) + 1;
    data = HeapAlloc(GetProcessHeap(), 0, length + 1);
    connections = HeapAlloc(GetProcessHeap(), 0, (size_t)count * sizeof *connections);
    if (data == NULL || connections == NULL)
        fatal("HeapAlloc: no memory for %lu bytes to send", (unsigned long)length);
    length = raw != NULL ? decode(raw, data) : (size_t)sendBytes;
    if (raw == NULL)
        memset(data, 'x', length);
    for (i = first; i < argc; i++) {
        memcpy(data + length, argv[i], strlen(argv[i]));
        length += strlen(argv[i]);
        data[length++] = '\n';
    }

    error = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (error != 0)
        errExitCode((DWORD)error, "WSAStartup");
    snprintf(where, sizeof where, strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s", host, port);
    ZeroMemory(&hints, sizeof hints);
    hints.ai_family = AF_UNSPEC; /* a name may have IPv6 and IPv4 addresses */
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    error = getaddrinfo(host, port, &hints, &addresses);
    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);
    for (n = 0; n < count; n++) {
        connectTo(&connections[n], addresses);
        /* Nagle's algorithm would gather our single bytes into segments. */
        if (pace == PER_BYTE &&
            setsockopt(connections[n].socket, IPPROTO_TCP, TCP_NODELAY, (const char *)&noDelay,
                       (int)sizeof noDelay) == SOCKET_ERROR)
            errExitCode((DWORD)WSAGetLastError(), "setsockopt TCP_NODELAY");
    }
    freeaddrinfo(addresses);
    showReplies = count == 1;
    if (showReplies)
        say("sockets_client: connected to %s\n", where);
    for (n = 0; n < count; n++) {
        got = receiveLine(&connections[n]);
        if (got != GOT_LINE)
            serverGone(got, "before its greeting");
        if (showReplies)
            say("Greeting: %s\n", reply);
        if (strcmp(reply, SK_GREETING) != 0)
            fatal("the greeting should be \"%s\"", SK_GREETING);
    }

    if (raw != NULL || sendBytes > 0) {
        closed = converse(connections, 1, data, length, ALL_AT_ONCE);
        say("sockets_client: %lu bytes sent, %ld replies, the connection %s\n",
            (unsigned long)length, replies, closed ? "closed by the server" : "still open");
    } else if (first < argc || count > 1) {
        converse(connections, count, data, length, pace);
        if (count > 1)
            say("sockets_client: %ld lines sent, %ld replies, on %ld connections\n",
                sentLines, replies, count);
        else
            say("sockets_client: %ld lines sent, %ld replies\n", sentLines, replies);
    } else {
        /* The listing's prompt. readLine gives typed text as UTF-8. */
        while (!closed && readLine("Send: ", typed, SK_MAX_LINE + 1)) {
            length = strlen(typed);
            typed[length] = '\n';
            closed = converse(connections, 1, typed, length + 1, PER_LINE);
        }
        say("sockets_client: %ld lines sent, %ld replies\n", sentLines, replies);
    }

    for (n = 0; n < count; n++)
        if (closesocket(connections[n].socket) == SOCKET_ERROR)
            errExitCode((DWORD)WSAGetLastError(), "closesocket");
    if (!HeapFree(GetProcessHeap(), 0, data) || !HeapFree(GetProcessHeap(), 0, connections))
        errExit("HeapFree");
    if (WSACleanup() == SOCKET_ERROR)
        errExitCode((DWORD)WSAGetLastError(), "WSACleanup");
    return 0;
}
