/* probe.c -- sockets_probe: test-only. Not one of the report's listings, and
 * nothing a student needs to read: a client that behaves as no lab client
 * would, to show that sockets_server and iocp_server (both speak sockets.h)
 * survive it. The reliability tests run it; each mode prints what it did
 * and ends with a line that says whether the server held.
 *
 * Usage: sockets_probe MODE [--host ADDR] --port N [OPTION...]
 *   churn --cycles N [--server-pid PID]
 *       N connect/exchange/disconnect cycles, half of them abrupt: reset
 *       (RST), closed in the middle of a line, connected and closed at once,
 *       a sockets_client killed mid-session. Then a normal exchange, and
 *       (with the server's PID) its handles and memory back within a slack.
 *   fuzz --inputs N [--seed S]
 *       N random inputs -- bytes, splits, empty sends, over-long and invalid
 *       UTF-8 lines, NULs, QUIT, resets -- counting that every whole line
 *       gets one reply and that the server closes exactly when sockets.h says.
 *   flood --connections N [--server-pid PID] [--pause]
 *       N connections held at once (each greeted), then a line on each, every
 *       reply checked. --pause waits for a line on stdin before the lines.
 *   stall [--server-pid PID]
 *       one connection sends and never reads, until the server stops taking
 *       its bytes (within STALL_MAX_SEND, or the server buffers without
 *       bound, and its memory grown by less than STALL_GROWTH_LIMIT); while
 *       it is stalled a second one must be served; then the server must
 *       close the first: a reply unsent for SK_SEND_TIMEOUT_MS ends the
 *       session, and a trickle of progress may start the clock again, so we
 *       allow six times that.
 * Exit status 0: the server held; 1: it did not (or a call failed); 2: usage.
 */
#include "sockets.h"
#include "testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDLE_SLACK 16 /* churn: resources allowed to stay */
#define BYTE_SLACK (2 * 1024 * 1024)
#define SETTLE_MS 10000
/* stall: a server still reading after this much buffers without bound */
#define STALL_MAX_SEND (64 * 1024 * 1024)
#define STALL_GROWTH_LIMIT (8 * 1024 * 1024) /* ... and its memory may grow this much */
#define STALL_QUIET_MS 1000                  /* unwritable this long: the server stopped reading */
#define WATCHDOG_MS 40000                    /* a step this long is stuck */

static const char usage[] =
    "Usage: sockets_probe churn|fuzz|flood|stall [--host ADDR] --port N [OPTION...]\n"
    "  churn --cycles N [--server-pid PID]\n"
    "  fuzz --inputs N [--seed S]\n"
    "  flood --connections N [--server-pid PID] [--pause]\n"
    "  stall [--server-pid PID]\n"
    "Test-only: see the top of sockets/probe.c.\n";

typedef struct {
    SOCKET socket;
    int used;
    char in[4 * SK_MAX_LINE];
} Link;

static const char *host = SK_DEFAULT_HOST;
static char port[8];
static struct addrinfo *server;

/* Connects, or exits: a probe that cannot reach the server proves nothing. */
static void connectLink(Link *l)
{
    DWORD timeout = SK_REPLY_TIMEOUT_MS;

    progress("connecting", -1);
    l->used = 0;
    l->socket = socket(server->ai_family, server->ai_socktype, server->ai_protocol);
    if (l->socket == INVALID_SOCKET)
        errExitWSA("socket");
    if (connect(l->socket, server->ai_addr, (int)server->ai_addrlen) == SOCKET_ERROR)
        errExitWSA("connect %s:%s", host, port);
    if (setsockopt(l->socket, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout,
                   (int)sizeof timeout) == SOCKET_ERROR)
        errExitWSA("setsockopt SO_RCVTIMEO");
}

static void closeLink(Link *l)
{
    if (closesocket(l->socket) == SOCKET_ERROR)
        errExitWSA("closesocket");
}

/* Closes with a reset: SO_LINGER on, with a zero timeout. */
static void resetLink(Link *l)
{
    struct linger hardClose = {1, 0}; /* on, with a zero timeout */

    if (setsockopt(l->socket, SOL_SOCKET, SO_LINGER, (const char *)&hardClose,
                   (int)sizeof hardClose) == SOCKET_ERROR)
        errExitWSA("setsockopt SO_LINGER");
    closeLink(l);
}

static void sendBytes(Link *l, const char *data, size_t length)
{
    int n;

    progress("sending", -1);
    for (; length > 0; data += n, length -= (size_t)n) {
        n = send(l->socket, data, length > 65536 ? 65536 : (int)length, 0);
        if (n == SOCKET_ERROR)
            errExitWSA("send");
    }
}

/* The next line from the server, without "\n", into line (size bytes).
 * FALSE when the server closed the connection (or reset it). */
static BOOL receiveLine(Link *l, char *line, size_t size)
{
    char *newline;
    int n, error;
    size_t length;

    progress("waiting for a line from the server", -1);
    while ((newline = memchr(l->in, '\n', (size_t)l->used)) == NULL) {
        if (l->used == (int)sizeof l->in)
            fatal("FAIL: the server sent a line over %d bytes", (int)sizeof l->in);
        n = recv(l->socket, l->in + l->used, (int)sizeof l->in - l->used, 0);
        if (n == 0)
            return FALSE;
        if (n == SOCKET_ERROR) {
            error = WSAGetLastError();
            if (error == WSAECONNRESET || error == WSAECONNABORTED)
                return FALSE;
            if (error == WSAETIMEDOUT)
                fatal("FAIL: the server sent nothing for %d s: it hangs",
                      SK_REPLY_TIMEOUT_MS / 1000);
            errExitCode((DWORD)error, "recv");
        }
        l->used += n;
    }
    length = (size_t)(newline - l->in);
    snprintf(line, size, "%.*s", (int)length, l->in);
    l->used -= (int)length + 1;
    memmove(l->in, newline + 1, (size_t)l->used);
    return TRUE;
}

static void expectLine(Link *l, const char *expected, const char *when)
{
    char line[4 * SK_MAX_LINE];

    if (!receiveLine(l, line, sizeof line))
        fatal("FAIL: the server closed the connection %s", when);
    if (strcmp(line, expected) != 0)
        fatal("FAIL: %s: the server sent \"%s\", not \"%s\"", when, line, expected);
}

/* Is the next line the reply that sockets.h says sent (a line and its
 * '\n') gets? */
static void expectReplyTo(Link *l, const char *sent, const char *when)
{
    char expected[SK_MAX_REPLY + 1];
    size_t length;

    replyTo(sent, strlen(sent) - 1, expected, &length);
    expected[length - 1] = '\0'; /* (expectLine compares without the '\n') */
    expectLine(l, expected, when);
}

/* One well-behaved session: greeting, a line, its reply, and a close --
 * with QUIT and BYE when quit is set. */
static void normalSession(long i, BOOL quit)
{
    char text[64];
    Link l;

    connectLink(&l);
    expectLine(&l, SK_GREETING, "before its greeting");
    snprintf(text, sizeof text, "churn %ld\n", i);
    sendBytes(&l, text, strlen(text));
    expectReplyTo(&l, text, "before its reply");
    if (quit) {
        sendBytes(&l, SK_QUIT "\n", strlen(SK_QUIT "\n"));
        expectLine(&l, SK_BYE, "before BYE");
        if (receiveLine(&l, text, sizeof text))
            fatal("FAIL: after BYE the server sent \"%s\"", text);
    }
    closeLink(&l);
}

static void churn(long cycles, DWORD serverPid)
{
    long i, kinds[12] = {0};
    wchar_t client[MAX_PATH], command[MAX_PATH + 64];
    Resources before;
    Link l;
    BOOL held = TRUE;

    if (!pathBesideProgram(L"sockets_client.exe", client, MAX_PATH))
        errExit("GetModuleFileNameW");
    swprintf(command, sizeof command / sizeof command[0], L"\"%ls\" --host %hs --port %hs", client,
             host, port);
    for (i = 0; i < 12; i++) /* warm up: the server's first sessions allocate for good */
        normalSession(i, i % 2 == 0);
    if (serverPid != 0)
        readResources(serverPid, &before);

    for (i = 0; i < cycles; i++) {
        progress("in churn cycle", i);
        switch (i % 12) {
        case 6:
        case 7: /* a reset, maybe while the server answers */
            connectLink(&l);
            expectLine(&l, SK_GREETING, "before its greeting");
            sendBytes(&l, "reset me\n", 9);
            resetLink(&l);
            break;
        case 8:
        case 9: /* closed in the middle of a line */
            connectLink(&l);
            expectLine(&l, SK_GREETING, "before its greeting");
            sendBytes(&l, "half a li", 9);
            closeLink(&l);
            break;
        case 10: /* connected and closed at once, greeting unread */
            connectLink(&l);
            closeLink(&l);
            break;
        case 11: /* a real client killed at its prompt */
            if (!runAndKill(command, "Greeting: "))
                fatal("FAIL: sockets_client was not greeted");
            break;
        default: normalSession(i, i % 12 == 5);
        }
        kinds[i % 12]++;
    }
    normalSession(cycles, FALSE);
    say("churn: %ld cycles, %ld abrupt (%ld resets, %ld closed mid-line, %ld closed at once, "
        "%ld clients killed), then a normal client was served\n",
        cycles, kinds[6] + kinds[7] + kinds[8] + kinds[9] + kinds[10] + kinds[11],
        kinds[6] + kinds[7], kinds[8] + kinds[9], kinds[10], kinds[11]);
    if (serverPid != 0)
        held = resourcesSettle(serverPid, &before, HANDLE_SLACK, BYTE_SLACK, SETTLE_MS);
    if (!held)
        fatal("FAIL: the server kept what its clients cost");
}

/* ---- fuzz ------------------------------------------------------------ */

typedef struct {
    Link link;
    BOOL open;
    long expected, replies;     /* replies due for the lines sent, and received */
    char line[SK_MAX_LINE + 2]; /* the unfinished line, as the server keeps it */
    size_t lineLength;
    BOOL closing;        /* a line the server closes after (QUIT, too long) */
    char closeReply[64]; /* ... and the reply it sends before it does */
    char lastReply[64];
} Fuzz;

static void fuzzConnect(Fuzz *f)
{
    connectLink(&f->link);
    expectLine(&f->link, SK_GREETING, "before its greeting");
    f->open = TRUE;
    f->expected = f->replies = 0;
    f->lineLength = 0;
    f->closing = FALSE;
}

/* Takes every reply already here; with untilClosed, all of them until the
 * server closes the connection. */
static void fuzzDrain(Fuzz *f, BOOL untilClosed)
{
    char line[4 * SK_MAX_LINE];
    u_long waiting = 0;

    for (;;) {
        if (!untilClosed && memchr(f->link.in, '\n', (size_t)f->link.used) == NULL) {
            if (ioctlsocket(f->link.socket, (long)FIONREAD, &waiting) == SOCKET_ERROR)
                errExitWSA("ioctlsocket FIONREAD");
            if (waiting == 0)
                return;
        }
        if (!receiveLine(&f->link, line, sizeof line))
            break;
        f->replies++;
        snprintf(f->lastReply, sizeof f->lastReply, "%s", line);
    }
    if (!untilClosed)
        fatal("FAIL: the server closed a connection it should have kept open");
}

/* Ends the connection, ours to close or the server's, reading every reply
 * still due; checks that every line got one. */
static void fuzzFinish(Fuzz *f, DWORD seed)
{
    /* Our FIN: the server answers what it has, then closes (after BYE or a
     * line too long it reads, and drops, until it sees this). */
    if (shutdown(f->link.socket, SD_SEND) == SOCKET_ERROR && WSAGetLastError() != WSAECONNRESET &&
        WSAGetLastError() != WSAECONNABORTED)
        errExitWSA("shutdown");
    fuzzDrain(f, TRUE);
    if (f->replies != f->expected)
        fatal("FAIL (seed %lu): %ld replies for %ld lines", (unsigned long)seed, f->replies,
              f->expected);
    if (f->closing && strcmp(f->lastReply, f->closeReply) != 0)
        fatal("FAIL (seed %lu): the last reply before the close was \"%s\", not \"%s\"",
              (unsigned long)seed, f->lastReply, f->closeReply);
    closeLink(&f->link);
    f->open = FALSE;
}

/* Follows what the server makes of each byte sent, by the rule of
 * sockets.h (protocol.c): a '\n' ends a line, which is due a reply; so is
 * an unfinished line that is too long already. After some replies (BYE,
 * the line too long) the server closes. */
static size_t fuzzAccount(Fuzz *f, const char *data, size_t length)
{
    char reply[SK_MAX_REPLY + 1];
    size_t i, replyLength;
    SkRule rule;

    for (i = 0; i < length && !f->closing; i++) {
        if (data[i] != '\n') {
            f->line[f->lineLength++] = data[i];
            if (!tooLongAlready(f->line, f->lineLength))
                continue;
        }
        rule = replyTo(f->line, f->lineLength, reply, &replyLength);
        f->lineLength = 0;
        f->expected++;
        if (rule == SK_SAID_QUIT || rule == SK_TOO_LONG) {
            f->closing = TRUE;
            snprintf(f->closeReply, sizeof f->closeReply, "%.*s", (int)replyLength - 1, reply);
        }
    }
    return i; /* what the server reads; the rest would be dropped */
}

static size_t fuzzInput(DWORD *r, char *data, BOOL *reset)
{
    static const char *const pieces[] = {"hello",        "привет", "\xff\xfe", "\xc0\xaf",
                                         "\xed\xa0\x80", "\xd0",   "QUIT",     "\r",
                                         "\x1b[2J",      "\0",     "ёжик",     "\t"};
    DWORD kind = randomBelow(r, 100), n, i;
    size_t length = 0;

    *reset = kind < 1;
    if (kind < 3) /* an empty send, or a reset */
        return 0;
    if (kind < 6) { /* QUIT, with or without '\r' */
        memcpy(data, kind == 3 ? "QUIT\r\n" : "QUIT\n", kind == 3 ? 6 : 5);
        return kind == 3 ? 6 : 5;
    }
    if (kind < 12) { /* a long run, past the limit or close to it */
        n = SK_MAX_LINE - 100 + randomBelow(r, 2000);
        memset(data, 'x', n);
        length = n;
        if (randomBelow(r, 2) == 0)
            data[length++] = '\n';
        return length;
    }
    if (kind < 40) { /* random bytes, any value */
        n = 1 + randomBelow(r, 300);
        for (i = 0; i < n; i++)
            data[i] = (char)randomBelow(r, 256);
        return n;
    }
    n = randomBelow(r, 12); /* a line of pieces: text, bad UTF-8, controls, NULs */
    for (i = 0; i < n; i++) {
        const char *piece = pieces[randomBelow(r, sizeof pieces / sizeof pieces[0])];
        size_t pieceLength = piece[0] == '\0' ? 1 : strlen(piece);
        memcpy(data + length, piece, pieceLength);
        length += pieceLength;
    }
    data[length++] = '\n';
    return length;
}

static void fuzz(long inputs, DWORD seed)
{
    static char data[3 * SK_MAX_LINE];
    DWORD r = seed;
    Fuzz f;
    long i, connections = 0, replies = 0;
    size_t length, taken, at, piece;
    BOOL reset;

    say("fuzz: seed %lu (replay with --seed %lu)\n", (unsigned long)seed, (unsigned long)seed);
    f.open = FALSE;
    for (i = 0; i < inputs; i++) {
        progress("at fuzz input", i);
        if (!f.open) {
            fuzzConnect(&f);
            connections++;
        }
        length = fuzzInput(&r, data, &reset);
        if (reset) {
            replies += f.replies; /* what was answered cannot be counted: a reset drops it */
            resetLink(&f.link);
            f.open = FALSE;
            continue;
        }
        taken = fuzzAccount(&f, data, length);
        /* Sent in random pieces: TCP may deliver them any way it likes. */
        for (at = 0; at < taken; at += piece) {
            piece = 1 + randomBelow(&r, (DWORD)(taken - at));
            sendBytes(&f.link, data + at, piece);
        }
        if (length == 0 && send(f.link.socket, data, 0, 0) == SOCKET_ERROR)
            errExitWSA("send (empty)");
        if (f.closing) {
            fuzzFinish(&f, seed);
            replies += f.replies;
        } else {
            fuzzDrain(&f, FALSE);
        }
    }
    if (f.open) {
        fuzzFinish(&f, seed);
        replies += f.replies;
    }
    normalSession(inputs, FALSE);
    say("fuzz: %ld inputs on %ld connections, %ld replies, every line answered, then a "
        "normal client was served\n",
        inputs, connections, replies);
}

/* ---- flood and stall -------------------------------------------------- */

static void flood(long count, DWORD serverPid, BOOL pause)
{
    Link *links = HeapAlloc(GetProcessHeap(), 0, (size_t)count * sizeof *links);
    char text[64];
    Resources before, held;
    long i;

    if (links == NULL)
        fatal("HeapAlloc: no memory for %ld connections", count);
    if (serverPid != 0)
        readResources(serverPid, &before);
    for (i = 0; i < count; i++) {
        progress("opening flood connection", i);
        connectLink(&links[i]);
    }
    for (i = 0; i < count; i++)
        expectLine(&links[i], SK_GREETING, "before its greeting");
    say("flood: holding %ld connections, each greeted\n", count);
    if (serverPid != 0) {
        LONG64 growth;
        readResources(serverPid, &held);
        growth = (LONG64)held.privateBytes - (LONG64)before.privateBytes;
        say("flood: the server's private bytes grew by %ld KiB: %ld bytes per idle connection\n",
            (long)(growth / 1024), (long)(growth / count));
    }
    if (pause && fgets(text, sizeof text, stdin) == NULL)
        fatal("--pause: stdin ended");
    for (i = 0; i < count; i++) {
        snprintf(text, sizeof text, "flood %ld\n", i);
        sendBytes(&links[i], text, strlen(text));
    }
    for (i = 0; i < count; i++) {
        snprintf(text, sizeof text, "flood %ld\n", i);
        expectReplyTo(&links[i], text, "before its reply");
        closeLink(&links[i]);
    }
    say("flood: %ld connections held at once, %ld replies checked\n", count, count);
    if (!HeapFree(GetProcessHeap(), 0, links))
        errExit("HeapFree");
}

/* Sends lines on l and never reads, until the server stops taking them. */
static unsigned long fillUntilStalled(Link *l)
{
    static char lines[8192];
    unsigned long sent = 0;
    u_long nonBlocking = 1;
    WSAPOLLFD poll;
    int n, i;

    for (i = 0; i < (int)sizeof lines; i++)
        lines[i] = (char)(i % 64 == 63 ? '\n' : 'a' + i % 26);
    if (ioctlsocket(l->socket, (long)FIONBIO, &nonBlocking) == SOCKET_ERROR)
        errExitWSA("ioctlsocket FIONBIO");
    for (;;) {
        progress("filling a connection the server does not read", -1);
        if (sent > STALL_MAX_SEND)
            fatal("FAIL: the server took %lu bytes and still reads: it keeps replies "
                  "without bound",
                  sent);
        n = send(l->socket, lines, (int)sizeof lines, 0);
        if (n > 0) {
            sent += (unsigned long)n;
            continue;
        }
        if (WSAGetLastError() != WSAEWOULDBLOCK)
            errExitWSA("send");
        poll.fd = l->socket;
        poll.events = POLLWRNORM;
        poll.revents = 0;
        n = WSAPoll(&poll, 1, STALL_QUIET_MS);
        if (n == SOCKET_ERROR)
            errExitWSA("WSAPoll");
        if (n == 0)
            return sent; /* no room for STALL_QUIET_MS: the server reads no more */
    }
}

static void stall(DWORD serverPid)
{
    Link stalled;
    Resources before, during;
    ULONGLONG start;
    unsigned long sent;
    WSAPOLLFD poll;
    int n;
    char byte = 'x';

    if (serverPid != 0)
        readResources(serverPid, &before);
    connectLink(&stalled);
    expectLine(&stalled, SK_GREETING, "before its greeting");
    sent = fillUntilStalled(&stalled);
    start = GetTickCount64();
    say("stall: the server stopped reading connection 1 after %lu bytes\n", sent);
    normalSession(2, TRUE);
    say("stall: connection 2 was served while connection 1 is stalled\n");
    if (serverPid != 0) {
        readResources(serverPid, &during);
        say("stall: the server's private bytes grew by %ld KiB meanwhile (limit %d KiB)\n",
            (long)(((LONG64)during.privateBytes - (LONG64)before.privateBytes) / 1024),
            STALL_GROWTH_LIMIT / 1024);
        if (during.privateBytes > before.privateBytes + STALL_GROWTH_LIMIT)
            fatal("FAIL: the server's memory grew past the limit");
    }
    /* The server closes the connection: with our bytes unread, a reset. */
    for (;;) {
        progress("waiting for the server to close the stalled connection", -1);
        poll.fd = stalled.socket;
        poll.events = POLLWRNORM;
        poll.revents = 0;
        n = WSAPoll(&poll, 1, 1000);
        if (n == SOCKET_ERROR)
            errExitWSA("WSAPoll");
        if (n > 0 && send(stalled.socket, &byte, 1, 0) == SOCKET_ERROR &&
            WSAGetLastError() != WSAEWOULDBLOCK)
            break;
        if (GetTickCount64() - start > 6 * SK_SEND_TIMEOUT_MS)
            fatal("FAIL: the stalled connection is still open after %d s",
                  6 * SK_SEND_TIMEOUT_MS / 1000);
    }
    say("stall: the server closed the stalled connection after %lu s (error %d)\n",
        (unsigned long)((GetTickCount64() - start) / 1000), WSAGetLastError());
    closeLink(&stalled);
}

int main(int argc, char *argv[])
{
    ProbeOptions options = {0, 0, 0, 0};
    long connections = 0;
    BOOL pause = FALSE;
    struct addrinfo hints;
    const char *mode;
    WSADATA wsa;
    int error, i;

    initProgram(&argc, &argv, usage);
    if (argc < 2)
        usageErr("which mode?");
    if (strcmp(argv[1], "--help") == 0)
        showHelp();
    mode = argv[1];
    port[0] = '\0';
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0)
            host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--port") == 0)
            snprintf(port, sizeof port, "%ld",
                     getNumber(optionValue(argc, argv, &i), 1, 65535, "--port"));
        else if (strcmp(argv[i], "--connections") == 0)
            connections = getNumber(optionValue(argc, argv, &i), 1, 1000000, "--connections");
        else if (strcmp(argv[i], "--pause") == 0)
            pause = TRUE;
        else if (!takeProbeOption(argc, argv, &i, &options))
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    finishProbeOptions(&options);
    startWatchdog(WATCHDOG_MS);
    if (port[0] == '\0')
        usageErr("--port is needed");

    error = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (error != 0)
        errExitCode((DWORD)error, "WSAStartup");
    ZeroMemory(&hints, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    error = getaddrinfo(host, port, &hints, &server);
    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);

    if (strcmp(mode, "churn") == 0 && options.cycles > 0)
        churn(options.cycles, options.serverPid);
    else if (strcmp(mode, "fuzz") == 0 && options.inputs > 0)
        fuzz(options.inputs, options.seed);
    else if (strcmp(mode, "flood") == 0 && connections > 0)
        flood(connections, options.serverPid, pause);
    else if (strcmp(mode, "stall") == 0)
        stall(options.serverPid);
    else
        usageErr("\"%s\": a mode and its count (--cycles, --inputs, --connections)", mode);

    freeaddrinfo(server);
    if (WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
    say("sockets_probe: %s: the server held\n", mode);
    return 0;
}
