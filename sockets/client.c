/* client.c -- sockets_client: the report's listing 11, fixed.
 *
 * Connects to sockets_server (or iocp_server: both speak sockets.h), prints
 * the greeting, sends lines -- the LINE arguments, or those typed at the
 * "Send: " prompt until QUIT or end of input -- and prints each reply,
 * checked against the protocol's rule (replyTo). The server is server.c.
 *
 * Usage: sockets_client [--host ADDR] [--port N] [LINE...]
 *
 * What the listing got wrong, and what this program does instead:
 *  - `if (n = send(...) != len)` assigned the comparison, so n was 0 or 1,
 *    never the count: a short send went on from offset 1, sending again
 *    what had gone. sendLine() sends every byte, once.
 *  - One recv() was taken as one reply, in a buffer it could overflow. A
 *    reply is now read up to its '\n' in as many recv() calls as it takes,
 *    and never past the end of its buffer.
 *  - inet_addr() read IPv4 only: getaddrinfo takes a name, IPv4 or IPv6,
 *    and each address it gives is tried in turn.
 *  - A server that went away left the loop sending into nothing. Now a
 *    refused connection names HOST:PORT, a server that closes mid-session
 *    is reported, one silent for 10 s is given up on; each exits 1.
 *  - Replies were trusted. Each is now checked against the protocol, and
 *    printed through printable(): a control character or an escape sequence
 *    from a hostile server is shown as \xNN, never obeyed by our terminal.
 */
#include "sockets.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: sockets_client [--host ADDR] [--port N] [LINE...]\n"
    "\n"
    "Connects to sockets_server or iocp_server, sends each LINE, prints and checks\n"
    "its reply. With no LINE, reads lines at a \"Send: \" prompt until QUIT.\n"
    "\n"
    "  --host ADDR  the server (default " SK_DEFAULT_HOST "; a name, IPv4 or IPv6)\n"
    "  --port N     its TCP port (default " SK_DEFAULT_PORT ")\n"
    "  --help       show this text\n";

/* Sends length bytes, a line and its '\n': send() may take fewer. */
static void sendLine(SOCKET s, const char *line, size_t length)
{
    int n, error;

    for (; length > 0; line += n, length -= (size_t)n) {
        n = send(s, line, (int)length, 0);
        error = n == SOCKET_ERROR ? WSAGetLastError() : 0;
        if (error == WSAECONNRESET || error == WSAECONNABORTED)
            fatal("the server closed the connection while we were sending");
        if (n == SOCKET_ERROR)
            errExitWSA("send");
    }
}

/* Receives a line, with its '\n', into line (SK_MAX_REPLY + 1 bytes), in as
 * many recv() calls as it takes. (The server sends a line only when asked,
 * so none can follow it yet.) FALSE when it has closed the connection. */
static BOOL receiveLine(SOCKET s, char *line, size_t *length)
{
    int n, error;

    for (*length = 0; *length == 0 || line[*length - 1] != '\n'; *length += (size_t)n) {
        if (*length == SK_MAX_REPLY + 1)
            fatal("the server sent a line over %d bytes", SK_MAX_REPLY);
        n = recv(s, line + *length, (int)(SK_MAX_REPLY + 1 - *length), 0);
        error = n == SOCKET_ERROR ? WSAGetLastError() : 0;
        if (n == 0 || error == WSAECONNRESET || error == WSAECONNABORTED)
            return FALSE;          /* closed, or reset */
        if (error == WSAETIMEDOUT) /* SO_RCVTIMEO */
            fatal("the server has sent nothing for %d s", SK_REPLY_TIMEOUT_MS / 1000);
        if (n == SOCKET_ERROR)
            errExitWSA("recv");
    }
    return TRUE;
}

/* Prints a line from the server as "LABEL: text", on one line, whatever
 * the server put in it. */
static void showLine(const char *label, const char *line, size_t length)
{
    static char shown[4 * SK_MAX_REPLY + 8]; /* \xNN for every byte, at worst */

    say("%s: %s\n", label, printable(line, length, shown, sizeof shown));
}

/* Sends line, then receives the reply and checks it. The line's '\0'
 * becomes its '\n', so that both go in one send(). FALSE when the server
 * has closed the connection, as it must after BYE and a line too long. */
static BOOL exchange(SOCKET s, char *line)
{
    char expected[SK_MAX_REPLY + 1], reply[SK_MAX_REPLY + 1];
    size_t length = strlen(line), expectedLength;
    SkRule rule = replyTo(line, length, expected, &expectedLength);

    line[length] = '\n';
    sendLine(s, line, length + 1);
    if (!receiveLine(s, reply, &length))
        fatal("the server closed the connection before it replied");
    showLine("Received", reply, length - 1);
    if (length != expectedLength || memcmp(reply, expected, length) != 0)
        fatal("the server should have sent \"%.*s\"", (int)expectedLength - 1, expected);
    if (rule != SK_SAID_QUIT && rule != SK_TOO_LONG)
        return TRUE;
    if (receiveLine(s, reply, &length)) {
        showLine("After its last reply, the server sent", reply, length - 1);
        fatal("a server closes the connection after its last reply");
    }
    say("sockets_client: the server closed the connection\n");
    return FALSE;
}

int main(int argc, char *argv[])
{
    const char *host = SK_DEFAULT_HOST;
    char port[8] = SK_DEFAULT_PORT, where[SK_ADDRESS_TEXT], line[SK_MAX_REPLY + 1];
    struct addrinfo hints, *addresses, *a;
    DWORD timeout = SK_REPLY_TIMEOUT_MS;
    int i, first, error, lines = 0;
    BOOL open = TRUE;
    size_t length;
    SOCKET s;
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
        else
            usageErr("unknown option \"%s\"", argv[i]);
    }
    for (first = i; i < argc; i++)
        if (strchr(argv[i], '\n') != NULL)
            usageErr("LINE %d holds a newline: give each line its own argument", i - first + 1);

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
    for (a = addresses, error = WSAHOST_NOT_FOUND; a != NULL; a = a->ai_next) {
        s = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (s == INVALID_SOCKET)
            errExitWSA("socket");
        if (connect(s, a->ai_addr, (int)a->ai_addrlen) == 0)
            break;
        error = WSAGetLastError(); /* the reason; closesocket may change it */
        if (closesocket(s) == SOCKET_ERROR)
            errExitWSA("closesocket");
    }
    if (a == NULL)
        errExitCode((DWORD)error, "connect %s", where);
    freeaddrinfo(addresses);
    /* A server whose machine dies sends no FIN or RST: we would wait for ever. */
    if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, (int)sizeof timeout) ==
        SOCKET_ERROR)
        errExitWSA("setsockopt SO_RCVTIMEO");
    say("sockets_client: connected to %s\n", where);

    if (!receiveLine(s, line, &length))
        fatal("the server closed the connection before its greeting");
    showLine("Greeting", line, length - 1);
    if (length != strlen(SK_GREETING "\n") || memcmp(line, SK_GREETING "\n", length) != 0)
        fatal("the greeting should be \"%s\"", SK_GREETING);
    for (i = first; open && i < argc; i++, lines++)
        open = exchange(s, argv[i]);
    for (; open && first == argc && readLine("Send: ", line, SK_MAX_LINE + 1); lines++)
        open = exchange(s, line); /* readLine gives typed text as UTF-8 */
    say("sockets_client: %d lines sent, %d replies\n", lines, lines); /* or we had exited */

    if (closesocket(s) == SOCKET_ERROR)
        errExitWSA("closesocket");
    if (WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
    return 0;
}
