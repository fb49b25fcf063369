/* protocol.c -- the reply rule of sockets.h and the address format, written
 * once and compiled into sockets_server, iocp_server and sockets_client (and
 * the test-only sockets_stream and sockets_probe). The Winsock calls stay in
 * those programs; this file only decides what to say. */
#include "sockets.h"
#include "args.h"

#include <stdio.h>
#include <string.h>

/* Windows upper-cases UTF-16, so: UTF-8 -> UTF-16 (MB_ERR_INVALID_CHARS
 * rejects invalid input), LCMapStringEx with LCMAP_UPPERCASE in the
 * invariant locale (Unicode's rules, not the user's language), and back.
 * Returns the bytes written to out, or -1 for text that is not UTF-8. */
static int upperUtf8(const char *text, int length, char *out, int size)
{
    wchar_t wide[SK_MAX_LINE], upper[SK_MAX_LINE];
    int n;

    if (length == 0)
        return 0;
    n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, length, wide, SK_MAX_LINE);
    if (n == 0)
        return -1;
    n = LCMapStringEx(LOCALE_NAME_INVARIANT, LCMAP_UPPERCASE, wide, n, upper, SK_MAX_LINE, NULL,
                      NULL, 0);
    if (n == 0)
        return -1;
    n = WideCharToMultiByte(CP_UTF8, 0, upper, n, out, size, NULL, NULL);
    return n == 0 ? -1 : n;
}

SkRule replyTo(const char *line, size_t length, char *reply, size_t *replyLength)
{
    const char *fixed;
    SkRule rule;
    int n;

    if (length > 0 && line[length - 1] == '\r')
        length--;
    if (length > SK_MAX_LINE) {
        fixed = SK_ERROR_TOO_LONG;
        rule = SK_TOO_LONG;
    } else if (length == strlen(SK_QUIT) && memcmp(line, SK_QUIT, length) == 0) {
        fixed = SK_BYE;
        rule = SK_SAID_QUIT;
    } else if ((n = upperUtf8(line, (int)length, reply, SK_MAX_REPLY)) >= 0) {
        reply[n] = '\n';
        *replyLength = (size_t)n + 1;
        return SK_UPPER_CASED;
    } else {
        fixed = SK_ERROR_UTF8;
        rule = SK_NOT_UTF8;
    }
    *replyLength = strlen(fixed) + 1;
    memcpy(reply, fixed, *replyLength - 1);
    reply[*replyLength - 1] = '\n';
    return rule;
}

void logReply(long client, const char *line, size_t length, SkRule rule, const char *reply,
              size_t replyLength)
{
    char shownLine[2 * SK_MAX_LINE], shownReply[2 * SK_MAX_LINE];
    int n = (int)replyLength - 1; /* without the '\n' */

    if (length > 0 && line[length - 1] == '\r')
        length--;
    if (rule == SK_TOO_LONG)
        say("client %ld: a line over %d bytes -> \"%.*s\"\n", client, SK_MAX_LINE, n, reply);
    else if (rule == SK_NOT_UTF8)
        say("client %ld: %lu bytes of invalid UTF-8 -> \"%.*s\"\n", client, (unsigned long)length,
            n, reply);
    else
        say("client %ld: \"%s\" -> \"%s\"\n", client,
            printable(line, length, shownLine, sizeof shownLine),
            printable(reply, (size_t)n, shownReply, sizeof shownReply));
}

BOOL tooLongAlready(const char *unfinished, size_t length)
{
    return length > 0 && length - (unfinished[length - 1] == '\r' ? 1 : 0) > SK_MAX_LINE;
}

void formatAddress(const struct sockaddr *address, int length, char *text)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];
    int error = getnameinfo(address, length, host, (DWORD)sizeof host, port, (DWORD)sizeof port,
                            NI_NUMERICHOST | NI_NUMERICSERV);

    if (error != 0) {
        errMsgCode((DWORD)error, "getnameinfo");
        snprintf(text, SK_ADDRESS_TEXT, "(unknown address)");
    } else {
        snprintf(text, SK_ADDRESS_TEXT, address->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host,
                 port);
    }
}
