/* named_pipe.h -- the protocol of named_pipe_server and named_pipe_client
 * (the report's listings 3, 4 and 5).
 *
 * The server creates instances of \\.\pipe\NAME in message mode: each
 * WriteFile is one message, and a ReadFile returns at most one message --
 * with ERROR_MORE_DATA when the buffer holds only its beginning. The client
 * sends UTF-8 text messages; the server writes each one back unchanged. The
 * message "exit" ends that client's session (it is echoed first).
 *
 * Security. By default the server accepts local clients only
 * (PIPE_REJECT_REMOTE_CLIENTS), with Windows' default pipe DACL, and guards
 * against another process squatting on the name: its first instance is
 * created with FILE_FLAG_FIRST_PIPE_INSTANCE, so it fails if the name is
 * taken. With --remote it accepts network clients, under the explicit DACL
 * below -- never the listing's NULL DACL, which let anyone on the network
 * read, write, and create instances of their own to impersonate the server.
 */
#ifndef NAMED_PIPE_H
#define NAMED_PIPE_H

#include "args.h" /* say() */

#define NP_DEFAULT_PIPE "winipc_named_pipe"
#define NP_MAX_MESSAGE 65536    /* bytes; a longer message ends the session */
#define NP_BUFFER_BYTES 4096    /* each instance's buffers, and the first read */
#define NP_BUSY_WAIT_MS 20000   /* a client waits this long for a free instance */
#define NP_STOP_WAIT_MS 5000    /* on Ctrl-C, sessions get this long to end */
#define NP_EXIT_MESSAGE "exit"
#define NP_MAX_NAME 200         /* characters in NAME and HOST */

/* The --remote DACL, in SDDL. "D:P" is a protected DACL (nothing inherited);
 * then one ACE (access-allowed entry) per principal:
 *   (A;;GA;;;SY)        LocalSystem: full control
 *   (A;;GA;;;BA)        the Administrators group: full control
 *   (A;;GA;;;OW)        the pipe's owner -- the server's user: full control,
 *                       which includes creating more instances of it
 *   (A;;0x12019b;;;AU)  authenticated users, local or over the network:
 *                       FILE_GENERIC_READ | FILE_GENERIC_WRITE without
 *                       FILE_CREATE_PIPE_INSTANCE (0x4), so they can talk
 *                       but cannot create an instance and pose as the server
 * Anonymous (null session) users match no entry and are refused. */
#define NP_REMOTE_SDDL L"D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;OW)(A;;0x12019b;;;AU)"

/* Prints a message on one line; a long one as its first 60 bytes (cut at a
 * UTF-8 character boundary) and its length, so a log stays readable. */
static inline void showMessage(const char *prefix, const char *text, DWORD length)
{
    int shown = 60;

    if (length <= 80) {
        say("%s%.*s\n", prefix, (int)length, text);
        return;
    }
    while (shown > 0 && ((unsigned char)text[shown] & 0xC0) == 0x80)
        shown--; /* a continuation byte: back up to the character's start */
    say("%s%.*s... (%lu bytes)\n", prefix, shown, text, (unsigned long)length);
}

#endif
