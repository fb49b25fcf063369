/* mailslot.h -- the protocol of mailslot_server and mailslot_client (the
 * report's listings 6 and 7, which the report captions the wrong way round:
 * the reader, which creates the slot, is the mailslot's server).
 *
 * A mailslot is a one-way, message-oriented channel: one process creates it
 * and is its only reader (mailslot_server); any number of processes open it
 * by name and write (mailslot_client). Each WriteFile is one message and each
 * ReadFile returns exactly one whole message, so unlike a pipe there is no
 * framing to do. A message here is 1 to MS_MAX_MESSAGE bytes of UTF-8 text
 * with no terminating zero. Not 0 bytes: under Wine an empty message makes
 * the reader's ReadFile fail with ERROR_BROKEN_PIPE, as if the slot had ended.
 *
 * A writer may name a slot on this machine (\\.\mailslot\NAME), on another
 * (\\HOST\mailslot\NAME) or on every machine of the domain that has one
 * (\\*\mailslot\NAME). Messages to other machines travel as datagrams: they
 * may be lost, and nothing tells the writer whether anyone received them.
 *
 * Security: anyone on the machine, or in the domain, can write to a mailslot
 * and nothing says who wrote a message, so a reader must treat every message
 * as untrusted input.
 */
#ifndef MAILSLOT_H
#define MAILSLOT_H

#include <windows.h>

#include <stdio.h>

#define MS_DEFAULT_SLOT "winipc_mailslot"
#define MS_MAX_NAME 200 /* bytes of UTF-8 in a slot name or a host name */

/* The largest message, in bytes, the pair sends or accepts. 424 bytes is the
 * documented limit for any message sent between computers: to a slot on
 * another machine (\\HOST\mailslot\NAME) or to every slot of the name in the
 * domain (\\*\mailslot\NAME), a message travels as a datagram. Only a message
 * to a slot on this machine may be longer; with one limit for every
 * destination, a message that works locally also works over the network. The
 * reader gives it to CreateMailslotW; the writer checks it too, before it
 * sends anything, because Wine does not enforce the slot's own limit. */
#define MS_MAX_MESSAGE 424

/* How long one ReadFile on the slot waits for a message. It is also how soon
 * an idle reader notices Ctrl-C: it checks between reads. */
#define MS_READ_TIMEOUT_MS 250

/* With no messages on its command line the writer sends these three, as the
 * listing did, and pauses before the third, as it did (for much longer). */
#define MS_DEFAULT_MESSAGE_1 "Message one for mailslot."
#define MS_DEFAULT_MESSAGE_2 "Message two for mailslot."
#define MS_DEFAULT_MESSAGE_3 "Message three for mailslot."
#define MS_PAUSE_MS 500

#define MS_STRINGIFY(x) #x
#define MS_TEXT(x) MS_STRINGIFY(x) /* MS_TEXT(MS_MAX_MESSAGE) is "424" */

/* Builds the slot's path, \\HOST\mailslot\NAME, in UTF-8 for messages and in
 * UTF-16 for the ...W calls. host is "." for this machine, "*" for the
 * domain. The caller has checked that both are at most MS_MAX_NAME bytes, so
 * the path always fits. FALSE: MultiByteToWideChar failed (GetLastError). */
#define MS_MAX_PATH (2 * MS_MAX_NAME + 16)
static inline BOOL slotPath(const char *host, const char *name, char path[MS_MAX_PATH],
                            wchar_t widePath[MS_MAX_PATH])
{
    snprintf(path, MS_MAX_PATH, "\\\\%s\\mailslot\\%s", host, name);
    return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, widePath, MS_MAX_PATH) != 0;
}

#endif
