/* error.c -- the error functions declared in error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Symbolic names for the codes these labs meet; others print as a number.
 * (A table laid out by hand: clang-format would put one entry a line.) */
/* clang-format off */
#define KNOWN(code) { code, #code }
static const struct {
    DWORD code;
    const char *name;
} knownCodes[] = {
    KNOWN(ERROR_INVALID_FUNCTION),   KNOWN(ERROR_FILE_NOT_FOUND),
    KNOWN(ERROR_PATH_NOT_FOUND),     KNOWN(ERROR_ACCESS_DENIED),
    KNOWN(ERROR_INVALID_HANDLE),     KNOWN(ERROR_NOT_ENOUGH_MEMORY),
    KNOWN(ERROR_SHARING_VIOLATION),  KNOWN(ERROR_BAD_NETPATH),
    KNOWN(ERROR_NETNAME_DELETED),
    KNOWN(ERROR_INVALID_PARAMETER),  KNOWN(ERROR_BROKEN_PIPE),
    KNOWN(ERROR_SEM_TIMEOUT),        KNOWN(ERROR_INSUFFICIENT_BUFFER),
    KNOWN(ERROR_INVALID_NAME),       KNOWN(ERROR_ALREADY_EXISTS),
    KNOWN(ERROR_BAD_EXE_FORMAT),     KNOWN(ERROR_BAD_PIPE),
    KNOWN(ERROR_PIPE_BUSY),          KNOWN(ERROR_NO_DATA),
    KNOWN(ERROR_PIPE_NOT_CONNECTED), KNOWN(ERROR_MORE_DATA),
    KNOWN(WAIT_TIMEOUT),             KNOWN(ERROR_PIPE_CONNECTED),
    KNOWN(ERROR_PIPE_LISTENING),     KNOWN(ERROR_OPERATION_ABORTED),
    KNOWN(ERROR_IO_PENDING),         KNOWN(ERROR_NO_UNICODE_TRANSLATION),
    KNOWN(ERROR_NOT_FOUND),          KNOWN(ERROR_PRIVILEGE_NOT_HELD),
    KNOWN(ERROR_TIMEOUT),            KNOWN(ERROR_INTERNAL_ERROR),
    KNOWN(WSAEINTR),                 KNOWN(WSAEACCES),
    KNOWN(WSAEINVAL),                KNOWN(WSAEWOULDBLOCK),
    KNOWN(WSAEMSGSIZE),              KNOWN(WSAEADDRINUSE),
    KNOWN(WSAEADDRNOTAVAIL),         KNOWN(WSAENETUNREACH),
    KNOWN(WSAECONNABORTED),          KNOWN(WSAECONNRESET),
    KNOWN(WSAETIMEDOUT),             KNOWN(WSAECONNREFUSED),
    KNOWN(WSAEHOSTUNREACH),          KNOWN(WSANOTINITIALISED),
    KNOWN(WSAHOST_NOT_FOUND),
};
/* clang-format on */

const char *programName(void)
{
    static char name[MAX_PATH * 3];
    wchar_t path[MAX_PATH];
    DWORD length;
    const wchar_t *base;
    wchar_t *dot;

    if (name[0] != '\0')
        return name;
    length = GetModuleFileNameW(NULL, path, MAX_PATH);
    if (length == 0 || length == MAX_PATH) /* failed or truncated */
        return "winipc";
    base = wcsrchr(path, L'\\');
    base = base != NULL ? base + 1 : path;
    dot = wcsrchr(path, L'.');
    if (dot != NULL && _wcsicmp(dot, L".exe") == 0)
        *dot = L'\0';
    if (WideCharToMultiByte(CP_UTF8, 0, base, -1, name, (int)sizeof name, NULL, NULL) == 0)
        return "winipc";
    return name;
}

/* UTF-16 units per WriteConsoleW: old consoles refuse much larger writes. */
#define CONSOLE_CHUNK 4096

/* A console: convert to UTF-16 and write a chunk at a time, never cutting
 * a surrogate pair (a character beyond U+FFFF) in two. */
static const char *writeConsole(HANDLE out, const char *text, size_t length)
{
    wchar_t chunk[CONSOLE_CHUNK];
    size_t bytes;
    DWORD done;
    int n, at, back;

    while (length > 0) {
        /* No more bytes than the buffer has units (a byte makes at most
         * one), ending where a character ends: not before a continuation
         * byte, of which a character has at most three. */
        bytes = length < CONSOLE_CHUNK ? length : CONSOLE_CHUNK;
        for (back = 0; back < 3 && bytes < length && ((unsigned char)text[bytes] & 0xC0) == 0x80;
             back++)
            bytes--;
        n = MultiByteToWideChar(CP_UTF8, 0, text, (int)bytes, chunk, CONSOLE_CHUNK);
        if (n == 0)
            return "MultiByteToWideChar";
        for (at = 0; at < n; at += (int)done)
            if (!WriteConsoleW(out, chunk + at, (DWORD)(n - at), &done, NULL))
                return "WriteConsoleW";
        text += bytes;
        length -= bytes;
    }
    return NULL;
}

const char *writeText(HANDLE out, const char *text, size_t length)
{
    DWORD mode, done;

    if (out == NULL || out == INVALID_HANDLE_VALUE)
        return NULL; /* no such stream (a GUI parent gave us none): nothing to do */
    if (GetConsoleMode(out, &mode))
        return writeConsole(out, text, length);
    for (; length > 0; text += done, length -= done)
        if (!WriteFile(out, text, length > 65536 ? 65536 : (DWORD)length, &done, NULL))
            return "WriteFile";
    return NULL;
}

/* Writes a whole message in one call: it never reaches a pipe a character
 * at a time, mixed with another's. If stderr itself fails there is nowhere
 * left to say so, and the message is lost. */
static void writeLine(const char *line)
{
    (void)writeText(GetStdHandle(STD_ERROR_HANDLE), line, strlen(line));
}

/* The message format is: "<program>: <what>: error <code> <NAME>: <text>". */
static void report(DWORD code, BOOL withCode, const char *format, va_list args)
{
    char what[1024], text[1536], line[3072];
    wchar_t wideText[512];
    const char *name = NULL;
    size_t i;

    vsnprintf(what, sizeof what, format, args);
    if (!withCode) {
        snprintf(line, sizeof line, "%s: %s\n", programName(), what);
        writeLine(line);
        return;
    }
    for (i = 0; i < sizeof knownCodes / sizeof knownCodes[0]; i++)
        if (knownCodes[i].code == code)
            name = knownCodes[i].name;

    /* The system's text, in the user's language, converted to our UTF-8. */
    text[0] = '\0';
    if (FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0,
                       wideText, (DWORD)(sizeof wideText / sizeof wideText[0]), NULL) != 0)
        WideCharToMultiByte(CP_UTF8, 0, wideText, -1, text, (int)sizeof text, NULL, NULL);
    text[strcspn(text, "\r\n")] = '\0';
    if (text[0] == '\0')
        snprintf(text, sizeof text, "(no text for this code)");

    snprintf(line, sizeof line, "%s: %s: error %lu%s%s: %s\n", programName(), what,
             (unsigned long)code, name != NULL ? " " : "", name != NULL ? name : "", text);
    writeLine(line);
}

void errExit(const char *format, ...)
{
    DWORD code = GetLastError();
    va_list args;

    va_start(args, format);
    report(code, TRUE, format, args);
    va_end(args);
    exit(1);
}

void errMsg(const char *format, ...)
{
    DWORD code = GetLastError();
    va_list args;

    va_start(args, format);
    report(code, TRUE, format, args);
    va_end(args);
    SetLastError(code);
}

void errExitCode(DWORD code, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    report(code, TRUE, format, args);
    va_end(args);
    exit(1);
}

void errMsgCode(DWORD code, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    report(code, TRUE, format, args);
    va_end(args);
}

void warn(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    report(0, FALSE, format, args);
    va_end(args);
}

void fatal(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    report(0, FALSE, format, args);
    va_end(args);
    exit(1);
}
