/* named_pipe.h -- the protocol of named_pipe_server and named_pipe_client
 * (the report's listings 3, 4 and 5).
 *
 * The server creates instances of \\.\pipe\NAME in message mode: each
 * WriteFile is one message, and a ReadFile returns at most one message --
 * with ERROR_MORE_DATA when the buffer holds only its beginning. The client
 * sends UTF-8 text messages; the server writes each one back unchanged. The
 * message "exit" ends that client's session (it is echoed first).
 *
 * The server keeps NP_LISTENING instances waiting for clients, so that many
 * clients arriving at once connect at once; more find every instance busy
 * (ERROR_PIPE_BUSY) and wait with WaitNamedPipe until one is free.
 *
 * Security. By default the server accepts local clients only
 * (PIPE_REJECT_REMOTE_CLIENTS), with Windows' default pipe DACL, and guards
 * against another process squatting on the name: its first instance is
 * created with FILE_FLAG_FIRST_PIPE_INSTANCE, so it fails if the name is
 * taken. With --remote it accepts network clients, under the explicit DACL
 * below. (Listing 5 passed a NULL DACL to the client's CreateFile, which
 * only opens the pipe and so ignores it: the pipe kept the default DACL.)
 *
 * Access rights. A client asks for exactly the rights it uses, NP_CLIENT_ACCESS:
 * GENERIC_READ, FILE_WRITE_DATA to write messages, and FILE_WRITE_ATTRIBUTES
 * for SetNamedPipeHandleState. Not GENERIC_WRITE: that includes
 * FILE_APPEND_DATA, which on a pipe is the same bit as
 * FILE_CREATE_PIPE_INSTANCE -- the right the --remote DACL withholds so that
 * nobody can pose as the server. A client asking for GENERIC_WRITE would be
 * refused by exactly the DACL that is meant to let it in.
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
#define NP_LISTENING 4          /* instances waiting for clients (as libuv) */
#define NP_CLIENT_ACCESS (GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES)

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

/* Prints a message on one line, control characters and bytes that are not
 * UTF-8 made visible (printable, args.h: a message is untrusted input); a
 * long one as its first 60 bytes and its length, so a log stays readable. */
static inline void showMessage(const char *prefix, const char *text, DWORD length)
{
    char shown[4 * 80 + 8];
    DWORD cut = 60;

    if (length <= 80) {
        say("%s%s\n", prefix, printable(text, length, shown, sizeof shown));
        return;
    }
    while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
        cut--; /* a continuation byte: back up to the character's start */
    say("%s%s... (%lu bytes)\n", prefix, printable(text, cut, shown, sizeof shown),
        (unsigned long)length);
}

#endif
