/* stream.c -- sockets_stream: test-only. Not one of the report's listings:
 * the lab client is client.c. This one cuts the byte stream in ways that
 * client never would, to show that sockets_server and iocp_server (both
 * speak sockets.h) find the lines however they arrive: a byte per send(),
 * many lines in one send(), a line that never ends, bytes that are not
 * UTF-8, many connections from one process. Every reply is checked against
 * the protocol's rule (replyTo, protocol.c).
 *
 * Usage: sockets_stream [--host ADDR] [--port N] MODE [LINE...]
 * (the usage text below says what each MODE does). It ends with a line that
 * counts what was sent and answered; exit status 0: every reply was right.
 */
#include "sockets.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

#define QUIET_MS 2000 /* with an unfinished line sent, wait this long for a reply */

static const char usage[] =
    "Usage: sockets_stream [--host ADDR] [--port N] MODE [LINE...]\n"
    "\n"
    "Test-only (see sockets/stream.c): sends to sockets_server or iocp_server\n"
    "what sockets_client never would, and checks every reply.\n"
    "\n"
    "  --host ADDR      the server (default " SK_DEFAULT_HOST "; a name, IPv4 or IPv6)\n"
    "  --port N         its TCP port (default " SK_DEFAULT_PORT ")\n"
    "  --help           show this text\n"
    "MODE, one of:\n"
    "  --byte-at-a-time send every byte of the LINEs in its own send(): the\n"
    "                   server must put the lines together again\n"
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
    int used;                  /* bytes received, not yet taken as a line */
    char in[SK_MAX_REPLY + 1]; /* the longest reply and its '\n' */
} Connection;

typedef struct {
    long lines, replies; /* whole lines sent, replies received */
    BOOL show;           /* print each reply (with one connection only) */
} Tally;

static void serverGone(Got got, const char *when)
{
    fatal("the server %s the connection %s", got == GOT_RESET ? "reset" : "closed", when);
}

/* Sends every byte (send() may take fewer); FALSE when the server is gone. */
static BOOL sendAll(Connection *c, const char *data, size_t length)
{
    int n, error;

    for (; length > 0; data += n, length -= (size_t)n) {
        n = send(c->socket, data, length > 65536 ? 65536 : (int)length, 0);
        error = n == SOCKET_ERROR ? WSAGetLastError() : 0;
        if (error == WSAECONNRESET || error == WSAECONNABORTED)
            return FALSE;
        if (n == SOCKET_ERROR)
            errExitWSA("send");
    }
    return TRUE;
}

/* The next line the server sends, with its '\n', into line (SK_MAX_REPLY + 1
 * bytes), its length into *length. */
static Got receiveLine(Connection *c, char *line, size_t *length)
{
    char *newline;
    int n, error;

    while ((newline = memchr(c->in, '\n', (size_t)c->used)) == NULL) {
        if (c->used == (int)sizeof c->in)
            fatal("the server sent a line over %d bytes", SK_MAX_REPLY);
        n = recv(c->socket, c->in + c->used, (int)sizeof c->in - c->used, 0);
        if (n == 0)
            return GOT_CLOSED; /* (an unfinished last line is dropped) */
        error = n == SOCKET_ERROR ? WSAGetLastError() : 0;
        if (error == WSAECONNRESET || error == WSAECONNABORTED)
            return GOT_RESET;
        if (error == WSAETIMEDOUT)
            fatal("the server has sent nothing for %d s", SK_REPLY_TIMEOUT_MS / 1000);
        if (n == SOCKET_ERROR)
            errExitWSA("recv");
        c->used += n;
    }
    *length = (size_t)(newline + 1 - c->in);
    memcpy(line, c->in, *length);
    c->used -= (int)*length;
    memmove(c->in, newline + 1, (size_t)c->used);
    return GOT_LINE;
}

static void expectGreeting(Connection *c, const Tally *t)
{
    char line[SK_MAX_REPLY + 1];
    size_t length;
    Got got = receiveLine(c, line, &length);

    if (got != GOT_LINE)
        serverGone(got, "before its greeting");
    if (t->show)
        say("Greeting: %.*s\n", (int)length - 1, line);
    if (length != strlen(SK_GREETING "\n") || memcmp(line, SK_GREETING "\n", length) != 0)
        fatal("the greeting should be \"%s\"", SK_GREETING);
}

/* The server has said it closes: does it? */
static void expectClose(Connection *c, const Tally *t)
{
    char line[SK_MAX_REPLY + 1];
    size_t length;
    Got got = receiveLine(c, line, &length);

    if (got == GOT_LINE)
        fatal("after its last reply, the server sent \"%.*s\"", (int)length - 1, line);
    if (t->show)
        say("sockets_stream: the server closed the connection%s\n",
            got == GOT_RESET ? " (reset)" : "");
}

/* Reads the reply to line (length bytes, without '\n') and checks that it
 * is what sockets.h says. TRUE when the server closes after it. */
static BOOL checkReply(Connection *c, const char *line, size_t length, Tally *t)
{
    char expected[SK_MAX_REPLY + 1], reply[SK_MAX_REPLY + 1];
    size_t expectedLength, replyLength;
    SkRule rule = replyTo(line, length, expected, &expectedLength);
    Got got = receiveLine(c, reply, &replyLength);

    if (got != GOT_LINE)
        serverGone(got, "before it replied");
    t->replies++;
    if (t->show)
        say("Received: %.*s\n", (int)replyLength - 1, reply);
    if (replyLength != expectedLength || memcmp(reply, expected, replyLength) != 0)
        fatal("reply %ld is \"%.*s\", but the server should have sent \"%.*s\"", t->replies,
              (int)replyLength - 1, reply, (int)expectedLength - 1, expected);
    return rule == SK_SAID_QUIT || rule == SK_TOO_LONG;
}

/* An unfinished line is due no reply: see that none comes in QUIET_MS. */
static void expectSilence(Connection *c)
{
    char line[SK_MAX_REPLY + 1];
    size_t length;
    WSAPOLLFD poll;
    Got got;
    int n = 1;

    poll.fd = c->socket;
    poll.events = POLLRDNORM;
    poll.revents = 0;
    if (c->used == 0)
        n = WSAPoll(&poll, 1, QUIET_MS);
    if (n == SOCKET_ERROR)
        errExitWSA("WSAPoll");
    if (n > 0) {
        got = receiveLine(c, line, &length);
        if (got == GOT_LINE)
            fatal("the server answered an unfinished line: \"%.*s\"", (int)length - 1, line);
        serverGone(got, "in the middle of a line");
    }
    say("sockets_stream: no reply in %d s: the server waits for the rest of the line\n",
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
static BOOL converse(Connection *all, long count, const char *data, size_t length, Pace pace,
                     Tally *t)
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
         * is too long already. */
        if (end == length && !tooLongAlready(data + start, end - start)) {
            for (k = 0; k < count; k++)
                expectSilence(&all[k]);
            break;
        }
        t->lines += end < length ? count : 0;
        for (k = 0; k < count; k++)
            if (checkReply(&all[k], data + start, end - start, t)) {
                expectClose(&all[k], t);
                closed = TRUE;
            }
    }
    return closed;
}

/* Connects to the first of the addresses that answers. */
static void connectTo(Connection *c, const struct addrinfo *addresses, const char *where)
{
    const struct addrinfo *a;
    DWORD timeout = SK_REPLY_TIMEOUT_MS;
    int error = WSAHOST_NOT_FOUND;

    c->used = 0;
    for (a = addresses; a != NULL; a = a->ai_next) {
        c->socket = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (c->socket == INVALID_SOCKET)
            errExitWSA("socket");
        if (connect(c->socket, a->ai_addr, (int)a->ai_addrlen) == 0) {
            if (setsockopt(c->socket, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout,
                           (int)sizeof timeout) == SOCKET_ERROR)
                errExitWSA("setsockopt SO_RCVTIMEO");
            return;
        }
        error = WSAGetLastError();
        if (closesocket(c->socket) == SOCKET_ERROR)
            errExitWSA("closesocket");
    }
    errExitCode((DWORD)error, "connect %s", where);
}

static int hexDigit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
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
        default: usageErr("--raw: unknown escape \\%c", text[1]);
        }
        text += 2;
    }
    return n;
}

int main(int argc, char *argv[])
{
    const char *host = SK_DEFAULT_HOST, *raw = NULL;
    char port[8] = SK_DEFAULT_PORT, where[SK_ADDRESS_TEXT], *data;
    long sendBytes = 0, count = 1, n;
    int modes = 0, first, error, i;
    Pace pace = PER_LINE;
    Tally tally = {0, 0, FALSE};
    BOOL closed, noDelay = TRUE;
    size_t length;
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
    if (modes == 0)
        usageErr("which MODE?");
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
    if (data == NULL)
        fatal("HeapAlloc: no memory for %lu bytes to send", (unsigned long)length);
    connections = HeapAlloc(GetProcessHeap(), 0, (size_t)count * sizeof *connections);
    if (connections == NULL)
        fatal("HeapAlloc: no memory for %ld connections", count);
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
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    error = getaddrinfo(host, port, &hints, &addresses);
    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);
    for (n = 0; n < count; n++) {
        connectTo(&connections[n], addresses, where);
        /* Nagle's algorithm would gather our single bytes into segments. */
        if (pace == PER_BYTE &&
            setsockopt(connections[n].socket, IPPROTO_TCP, TCP_NODELAY, (const char *)&noDelay,
                       (int)sizeof noDelay) == SOCKET_ERROR)
            errExitWSA("setsockopt TCP_NODELAY");
    }
    freeaddrinfo(addresses);
    tally.show = count == 1;
    if (tally.show)
        say("sockets_stream: connected to %s\n", where);
    for (n = 0; n < count; n++)
        expectGreeting(&connections[n], &tally);

    if (raw != NULL || sendBytes > 0) {
        closed = converse(connections, 1, data, length, ALL_AT_ONCE, &tally);
        say("sockets_stream: %lu bytes sent, %ld replies, the connection %s\n",
            (unsigned long)length, tally.replies, closed ? "closed by the server" : "still open");
    } else {
        converse(connections, count, data, length, pace, &tally);
        if (count > 1)
            say("sockets_stream: %ld lines sent, %ld replies, on %ld connections\n", tally.lines,
                tally.replies, count);
        else
            say("sockets_stream: %ld lines sent, %ld replies\n", tally.lines, tally.replies);
    }

    for (n = 0; n < count; n++)
        if (closesocket(connections[n].socket) == SOCKET_ERROR)
            errExitWSA("closesocket");
    if (!HeapFree(GetProcessHeap(), 0, data))
        errExit("HeapFree");
    if (!HeapFree(GetProcessHeap(), 0, connections))
        errExit("HeapFree");
    if (WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
    return 0;
}
