/* messenger.h -- the wire between messenger_server and messenger_client: one
 * chat room, reached over a named pipe (\\.\pipe\NAME, this computer) or TCP.
 * The bytes are the same over both.
 *
 * FRAMES. Everything is sent as frames:
 *
 *   length   4 bytes, little-endian: how many bytes follow, 1 to MS_MAX_FRAME
 *   type     1 byte, one of the letters below
 *   fields   UTF-8 text, separated by one '\0' each (none after the last)
 *
 * A frame that breaks these rules -- a length of 0 or over MS_MAX_FRAME, a
 * type not listed for its direction, the wrong number of fields, a stream
 * that ends inside a frame -- is garbage: the server disconnects its sender
 * (and only its sender), and the client gives up on the server. A frame
 * whose content the room cannot take (a nick that is taken or not valid
 * UTF-8, a message too long) is refused with MS_ERROR, and the session goes
 * on -- except after MS_HELLO, whose refusal ends it.
 *
 * CLIENT TO SERVER (fields in brackets)
 *   'H' MS_HELLO    [nick]          the first frame, and only the first (else: garbage)
 *   'S' MS_SAY      [text]          a public message, to everyone else
 *   'P' MS_PRIVATE  [nick, text]    a private message, to that member alone
 *   'W' MS_WHO      []              who is here?
 *   'N' MS_RENAME   [nick]          take a new nick
 *   'Q' MS_QUIT     []              I am leaving: the server answers MS_BYE
 *
 * SERVER TO CLIENT
 *   'A' MS_WELCOME  [nick]                  you are in the room, as nick
 *   'E' MS_ERROR    [why]                   your last frame was refused
 *   'J' MS_JOINED   [number, time, nick]
 *   'L' MS_LEFT     [number, time, nick, why]
 *   'M' MS_MESSAGE  [number, time, nick, text]
 *   'R' MS_RENAMED  [number, time, old nick, new nick]
 *   'T' MS_TOLD     [time, nick, text]      a private message for you
 *   'U' MS_MEMBERS  [count, nick...]        the members, as many as fit in a frame
 *   'B' MS_BYE      [why]                   the last frame: now close your end
 *
 * The room's events -- J, L, M, R -- carry a number: the server counts them
 * in one sequence, and sends every member every event in that order, so all
 * members see the room alike. Numbers and times ("hh:mm:ss", the server's
 * clock) are decimal text, for printing; nothing needs to parse them. A
 * public message is not sent back to its sender, nor MS_JOINED to the member
 * who joined (it gets MS_WELCOME, then MS_MEMBERS).
 *
 * After MS_BYE the server reads on, dropping what comes, until the client
 * closes: closing a socket with input unread would reset the connection,
 * which can destroy the MS_BYE on its way.
 *
 * NICKS: 1 to MS_MAX_NICK bytes of UTF-8, no spaces or control characters,
 * unique in the room. TEXT: 1 to MS_MAX_TEXT bytes of UTF-8, no control
 * characters (so one message is one line on every screen).
 *
 * A SLOW MEMBER. The server keeps, for each member, the frames the system
 * has not yet taken: at most --max-queue bytes (MS_DEFAULT_QUEUE). A member
 * that falls further behind is disconnected and the room is told why; the
 * others are never held up, and a member costs the server at most its queue
 * and two frames, however many stop reading.
 *
 * Security: nothing is authenticated or encrypted, and anyone who can reach
 * the pipe or the port can join. The pipe takes local clients only
 * (PIPE_REJECT_REMOTE_CLIENTS), and TCP listens on loopback unless --host
 * says otherwise.
 */
#ifndef MESSENGER_H
#define MESSENGER_H

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>

#define MS_DEFAULT_PIPE "winipc_messenger"
#define MS_DEFAULT_HOST "127.0.0.1"
#define MS_DEFAULT_PORT "5060"
#define MS_MAX_NICK 32                   /* bytes */
#define MS_MAX_TEXT 1024                 /* bytes */
#define MS_MAX_FRAME 2048                /* bytes after the length; room for any frame above */
#define MS_HEADER 4                      /* the length's bytes */
#define MS_DEFAULT_QUEUE 65536           /* bytes a member may fall behind */
#define MS_MAX_FIELDS (MS_MAX_FRAME / 2) /* more, and no type's count can match */
#define MS_MAX_PIPE_NAME 200             /* bytes of NAME in \\.\pipe\NAME */
#define MS_CONNECT_WAIT_MS 5000          /* a client waits this long for a free pipe instance */

enum {
    MS_HELLO = 'H',
    MS_SAY = 'S',
    MS_PRIVATE = 'P',
    MS_WHO = 'W',
    MS_RENAME = 'N',
    MS_QUIT = 'Q',
    MS_WELCOME = 'A',
    MS_ERROR = 'E',
    MS_JOINED = 'J',
    MS_LEFT = 'L',
    MS_MESSAGE = 'M',
    MS_RENAMED = 'R',
    MS_TOLD = 'T',
    MS_MEMBERS = 'U',
    MS_BYE = 'B'
};

/* A frame taken apart: every field is a C string (the '\0's are the frame's own). */
typedef struct {
    char type;
    int count; /* fields */
    char *field[MS_MAX_FIELDS];
    char body[MS_MAX_FRAME + 1];
} Frame;

/* Writes a frame of the given type and fields into frame, which has room for
 * MS_HEADER + MS_MAX_FRAME bytes. Returns its size, length included, or 0 if
 * the fields do not fit. */
size_t buildFrame(char *frame, char type, int count, const char *const fields[]);

/* The length a frame's first MS_HEADER bytes give, or 0 if it is not 1 to
 * MS_MAX_FRAME: garbage. */
DWORD frameLength(const unsigned char *header);

/* Takes apart a frame's body (length bytes after the length) into f, and
 * checks its type and its number of fields, for a frame from a client
 * (fromServer FALSE) or from a server. Returns NULL, or why the frame is
 * garbage. What the fields say is for checkNick, checkText and printable(). */
const char *parseFrame(const char *body, DWORD length, BOOL fromServer, Frame *f);

/* Whether a field is fit to be a nick or a message's text: NULL, or why not
 * ("is empty", "is over 32 bytes", "is not valid UTF-8", "has a space"...). */
const char *checkNick(const char *nick);
const char *checkText(const char *text);

#endif
