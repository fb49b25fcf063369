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

#include <windows.h>
#include <stdio.h>
#include <string.h>

#define NP_DEFAULT_PIPE "winipc_named_pipe"
#define NP_MAX_MESSAGE 65536  /* bytes; a longer message ends the session */
#define NP_BUFFER_BYTES 4096  /* each instance's buffers, and each read (readMessage) */
#define NP_BUSY_WAIT_MS 20000 /* a client waits this long for a free instance */
#define NP_STOP_WAIT_MS 5000  /* on Ctrl-C, sessions get this long to end */
#define NP_EXIT_MESSAGE "exit"
#define NP_MAX_NAME 200 /* bytes of UTF-8 in NAME and in HOST */
#define NP_LISTENING 4  /* instances waiting for clients (as libuv) */
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

/* How a call on a pipe says that the other end has closed it (or never will read again). */
static inline BOOL peerIsGone(DWORD error)
{
    return error == ERROR_BROKEN_PIPE || error == ERROR_NO_DATA ||
           error == ERROR_PIPE_NOT_CONNECTED;
}

/* Reads one message whole into message (NP_MAX_MESSAGE bytes). A ReadFile returns at most one
 * message: ERROR_MORE_DATA says the buffer held only its beginning, and the next read returns
 * more (here each read takes NP_BUFFER_BYTES at most). Each read is started, then waited for:
 * the server's instances are overlapped, and event is one of its own; on a handle that is not
 * (event NULL) ReadFile itself waits. FALSE if a read fails -- with ERROR_MORE_DATA still, for a
 * message over NP_MAX_MESSAGE. */
static inline BOOL readMessage(HANDLE pipe, HANDLE event, char *message, DWORD *length)
{
    OVERLAPPED io;
    DWORD part, got;
    BOOL ok;

    *length = 0;
    do {
        part = NP_MAX_MESSAGE - *length < NP_BUFFER_BYTES ? NP_MAX_MESSAGE - *length
                                                          : NP_BUFFER_BYTES;
        ZeroMemory(&io, sizeof io);
        io.hEvent = event;
        if (!ReadFile(pipe, message + *length, part, NULL, &io) &&
            GetLastError() != ERROR_IO_PENDING && GetLastError() != ERROR_MORE_DATA)
            return FALSE;
        ok = GetOverlappedResult(pipe, &io, &got, TRUE);
        *length += got;
    } while (!ok && GetLastError() == ERROR_MORE_DATA && *length < NP_MAX_MESSAGE);
    return ok;
}

/* A pipe's name, \\HOST\pipe\NAME (HOST "." is this machine): in UTF-8 for messages, in
 * UTF-16 for the ...W calls. */
typedef struct {
    char text[2 * NP_MAX_NAME + 16];
    wchar_t wide[2 * NP_MAX_NAME + 16];
} PipePath;

/* FALSE if HOST or NAME is empty, over NP_MAX_NAME bytes, or holds a '\'. */
static inline BOOL makePipePath(PipePath *path, const char *host, const char *name)
{
    if (host[0] == '\0' || strlen(host) > NP_MAX_NAME || strchr(host, '\\') != NULL ||
        name[0] == '\0' || strlen(name) > NP_MAX_NAME || strchr(name, '\\') != NULL)
        return FALSE;
    snprintf(path->text, sizeof path->text, "\\\\%s\\pipe\\%s", host, name);
    return MultiByteToWideChar(CP_UTF8, 0, path->text, -1, path->wide, 2 * NP_MAX_NAME + 16) != 0;
}

#endif
