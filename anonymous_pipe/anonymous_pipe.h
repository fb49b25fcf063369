/* anonymous_pipe.h -- the protocol of anonymous_pipe_server and
 * anonymous_pipe_client (the report's listings 1 and 2).
 *
 * The server creates two anonymous pipes and starts the client with its stdin
 * reading one and its stdout writing the other. The client sends
 * "message num 1" ... "message num N"; the server prints each one and writes
 * it back; the client checks every reply against what it sent.
 *
 * A pipe is a byte stream: it keeps no message boundaries, so one WriteFile
 * may arrive as several ReadFile results and two writes may arrive as one.
 * Each message is therefore framed: a 4-byte length, least significant byte
 * first, then that many bytes of UTF-8 text, with no terminating zero. The
 * fixed-width length means 32- and 64-bit programs agree on the layout.
 *
 * Security: an anonymous pipe has no name. Only a process that holds one of
 * its handles (by inheritance or DuplicateHandle) can use it.
 */
#ifndef ANONYMOUS_PIPE_H
#define ANONYMOUS_PIPE_H

#include <windows.h>

#define AP_DEFAULT_COUNT 10 /* messages per run, as in the listing */
#define AP_MAX_COUNT 1000000
#define AP_MAX_MESSAGE 4096 /* bytes of text in one message */
/* The server looks for the client next to its own .exe. */
#define AP_CLIENT_FILE L"anonymous_pipe_client.exe"
/* After the last message, the client must exit within this long. */
#define AP_CLIENT_EXIT_WAIT_MS 10000

typedef enum {
    MESSAGE_OK,
    MESSAGE_END,      /* the other end closed its handle: the session is over */
    MESSAGE_CUT,      /* the other end closed in the middle of a message */
    MESSAGE_TOO_LONG, /* the length field is over the buffer's size */
    MESSAGE_FAILED    /* ReadFile or WriteFile failed: see GetLastError() */
} MessageResult;

/* Writing to a pipe whose reader has closed fails with one of these. */
static inline BOOL peerIsGone(DWORD error)
{
    return error == ERROR_BROKEN_PIPE || error == ERROR_NO_DATA;
}

/* Writes a message with its length in front, in one WriteFile where the
 * pipe takes it all, which it does unless the reader goes away. */
static inline MessageResult writeMessage(HANDLE pipe, const char *text, DWORD length)
{
    unsigned char frame[4 + AP_MAX_MESSAGE];
    DWORD total = 4 + length, sent = 0, n;

    if (length > AP_MAX_MESSAGE) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return MESSAGE_FAILED;
    }
    frame[0] = (unsigned char)(length & 0xFF);
    frame[1] = (unsigned char)((length >> 8) & 0xFF);
    frame[2] = (unsigned char)((length >> 16) & 0xFF);
    frame[3] = (unsigned char)((length >> 24) & 0xFF);
    CopyMemory(frame + 4, text, length);
    while (sent < total) {
        if (!WriteFile(pipe, frame + sent, total - sent, &n, NULL))
            return peerIsGone(GetLastError()) ? MESSAGE_END : MESSAGE_FAILED;
        sent += n;
    }
    return MESSAGE_OK;
}

/* Reads exactly size bytes, in as many ReadFile calls as that takes. Sets
 * *got to what arrived: less than size only when the writer closed first. */
static inline BOOL readFully(HANDLE pipe, void *buffer, DWORD size, DWORD *got)
{
    DWORD n;

    *got = 0;
    while (*got < size) {
        if (!ReadFile(pipe, (char *)buffer + *got, size - *got, &n, NULL))
            return GetLastError() == ERROR_BROKEN_PIPE; /* closed: no error */
        if (n == 0)
            return TRUE; /* end of file: stdin redirected from a file */
        *got += n;
    }
    return TRUE;
}

/* Reads one message into text (size bytes, room for the '\0' we add). */
static inline MessageResult readMessage(HANDLE pipe, char *text, DWORD size, DWORD *length)
{
    unsigned char header[4];
    DWORD got;

    if (!readFully(pipe, header, 4, &got))
        return MESSAGE_FAILED;
    if (got == 0)
        return MESSAGE_END;
    if (got < 4)
        return MESSAGE_CUT;
    *length = (DWORD)header[0] | (DWORD)header[1] << 8 | (DWORD)header[2] << 16 |
              (DWORD)header[3] << 24;
    if (*length >= size)
        return MESSAGE_TOO_LONG;
    if (!readFully(pipe, text, *length, &got))
        return MESSAGE_FAILED;
    if (got < *length)
        return MESSAGE_CUT;
    text[*length] = '\0';
    return MESSAGE_OK;
}

#endif
