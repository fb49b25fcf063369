/* sockets.h -- the line protocol of sockets_server and iocp_server, and of
 * sockets_client, which talks to either (the report's listings 10, 11, 12).
 * iocp/ includes this header too: the two servers speak one protocol.
 *
 * TCP. When a client connects, the server sends one greeting line. Then for
 * each line the client sends -- UTF-8 bytes up to '\n'; a '\r' before it is
 * dropped -- the server sends back one line:
 *   - the same text upper-cased, Unicode-aware ("привет" -> "ПРИВЕТ");
 *   - for "QUIT": "BYE", and the server closes the connection;
 *   - for a line that is not valid UTF-8: SK_ERROR_UTF8; the connection
 *     stays open;
 *   - for a line longer than SK_MAX_LINE bytes: SK_ERROR_TOO_LONG, and the
 *     server closes the connection (it will not buffer without limit).
 * Every line the server sends ends in "\n". TCP is a byte stream: a line may
 * arrive in many recv() calls, and one recv() may hold many lines; both
 * sides buffer and split at '\n'.
 *
 * A client that sends but does not read its replies: once a reply cannot be
 * sent, the server reads nothing more from that client (TCP then holds the
 * client back), so the client costs at most one connection's fixed buffers;
 * and a reply still unsent after SK_SEND_TIMEOUT_MS ends the session, closing
 * the connection. Other clients are not held up meanwhile.
 *
 * Security: nothing is authenticated or encrypted. The servers listen on
 * loopback unless told otherwise; listening on all interfaces is a choice
 * (--host 0.0.0.0 or ::) the user makes explicitly.
 */
#ifndef SOCKETS_H
#define SOCKETS_H

#include <winsock2.h>
#include <ws2tcpip.h>

#define SK_DEFAULT_HOST "127.0.0.1"
#define SK_DEFAULT_PORT "5050"
#define SK_GREETING "You are connected!"
#define SK_QUIT "QUIT"
#define SK_BYE "BYE"
#define SK_MAX_LINE 4096 /* bytes, without the '\n' */
#define SK_ERROR_UTF8 "ERROR invalid UTF-8"
#define SK_ERROR_TOO_LONG "ERROR line longer than 4096 bytes, closing"
#define SK_SEND_TIMEOUT_MS 10000 /* a reply unsent this long ends the session */

/* Upper-cases length bytes of UTF-8 text into out (size bytes). Returns the
 * bytes written, or -1 when the text is not valid UTF-8 (or does not fit).
 * Windows upper-cases UTF-16, so: UTF-8 -> UTF-16 (rejecting invalid input
 * with MB_ERR_INVALID_CHARS), LCMapStringEx with LCMAP_UPPERCASE in the
 * invariant locale (Unicode rules, not the user's language), and back. */
static inline int upperUtf8(const char *text, int length, char *out, int size)
{
    wchar_t wide[SK_MAX_LINE], upper[SK_MAX_LINE];
    int n;

    if (length == 0)
        return 0;
    n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, length, wide, SK_MAX_LINE);
    if (n == 0)
        return -1;
    n = LCMapStringEx(LOCALE_NAME_INVARIANT, LCMAP_UPPERCASE, wide, n, upper, SK_MAX_LINE,
                      NULL, NULL, 0);
    if (n == 0)
        return -1;
    n = WideCharToMultiByte(CP_UTF8, 0, upper, n, out, size, NULL, NULL);
    return n == 0 ? -1 : n;
}

#endif
