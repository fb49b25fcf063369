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
#define SK_SEND_TIMEOUT_MS 10000  /* a reply unsent this long ends the session */
#define SK_REPLY_TIMEOUT_MS 10000 /* a client gives up on a server silent this long */

/* Upper case keeps the UTF-16 length, and a UTF-8 byte can become at most 3. */
#define SK_MAX_REPLY (3 * SK_MAX_LINE)
#define SK_ADDRESS_TEXT (NI_MAXHOST + NI_MAXSERV + 4) /* "[host]:port" and its '\0' */

/* The reply rule above, written once (protocol.c), for both servers and for
 * the clients that check them. */
typedef enum { SK_UPPER_CASED, SK_SAID_QUIT, SK_TOO_LONG, SK_NOT_UTF8 } SkRule;

/* The server's reply to one line: length bytes without its '\n' (a '\r'
 * before it is dropped here). Writes the reply and its '\n' to reply, which
 * has room for SK_MAX_REPLY + 1 bytes, and sets *replyLength to their
 * count. Returns the rule that applied: after SK_SAID_QUIT and SK_TOO_LONG
 * the server closes the connection. */
SkRule replyTo(const char *line, size_t length, char *reply, size_t *replyLength);

/* A server's log line for it -- client 3: "hello" -> "HELLO" -- with the
 * client's untrusted text made printable (args.h). */
void logReply(long client, const char *line, size_t length, SkRule rule, const char *reply,
              size_t replyLength);

/* Bytes with no '\n' yet: is the line too long already? (A last '\r' may
 * still be dropped, so it does not count.) */
BOOL tooLongAlready(const char *unfinished, size_t length);

/* "127.0.0.1:5050" or "[::1]:5050", into text (SK_ADDRESS_TEXT bytes). */
void formatAddress(const struct sockaddr *address, int length, char *text);

#endif
