/* args.c -- the helpers declared in args.h. */
#include "args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <shellapi.h> /* CommandLineToArgvW */

static const char *usageText = "";
static char **utf8Argv; /* one heap block: the pointers, then the strings */

static void freeArgvAtExit(void)
{
    if (utf8Argv != NULL && !HeapFree(GetProcessHeap(), 0, utf8Argv))
        errMsg("HeapFree");
}

/* stdout, or stderr, gets text whole; a failed write ends the program. */
static void writeOrExit(DWORD stream, const char *text, size_t length)
{
    const char *failed = writeText(GetStdHandle(stream), text, length);

    if (failed != NULL)
        errExit("%s (%s)", failed, stream == STD_OUTPUT_HANDLE ? "stdout" : "stderr");
}

void initProgram(int *argc, char ***argv, const char *usage)
{
    wchar_t **wide;
    int count, i;
    size_t bytes;
    char *strings;

    usageText = usage;
    (void)programName(); /* fill its cache now, before any thread exists */

    wide = CommandLineToArgvW(GetCommandLineW(), &count);
    if (wide == NULL)
        errExit("CommandLineToArgvW");
    bytes = (size_t)(count + 1) * sizeof(char *);
    for (i = 0; i < count; i++) {
        int n = WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, NULL, 0, NULL, NULL);
        if (n == 0)
            errExit("WideCharToMultiByte (argument %d)", i);
        bytes += (size_t)n;
    }
    utf8Argv = HeapAlloc(GetProcessHeap(), 0, bytes);
    if (utf8Argv == NULL)
        fatal("HeapAlloc: no memory for %lu bytes of arguments", (unsigned long)bytes);
    strings = (char *)(utf8Argv + count + 1);
    for (i = 0; i < count; i++) {
        int room = (int)(bytes - (size_t)(strings - (char *)utf8Argv));
        int n = WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, strings, room, NULL, NULL);
        if (n == 0)
            errExit("WideCharToMultiByte (argument %d)", i);
        utf8Argv[i] = strings;
        strings += n;
    }
    utf8Argv[count] = NULL;
    if (LocalFree(wide) != NULL)
        errMsg("LocalFree");
    *argc = count;
    *argv = utf8Argv;
    if (atexit(freeArgvAtExit) != 0)
        fatal("atexit failed");
}

void say(const char *format, ...)
{
    char line[2048], *text = line;
    va_list args;
    int length;

    va_start(args, format);
    length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0)
        return;
    if ((size_t)length >= sizeof line) { /* a long one: format it again, whole */
        text = HeapAlloc(GetProcessHeap(), 0, (size_t)length + 1);
        if (text == NULL)
            fatal("HeapAlloc: no memory to print %d bytes", length);
        va_start(args, format);
        vsnprintf(text, (size_t)length + 1, format, args);
        va_end(args);
    }
    writeOrExit(STD_OUTPUT_HANDLE, text, (size_t)length);
    if (text != line && !HeapFree(GetProcessHeap(), 0, text))
        errExit("HeapFree");
}

/* The length of the UTF-8 character at p (left bytes available), or 0 if
 * the bytes there are not one: a stray or missing continuation byte, an
 * overlong form, a UTF-16 surrogate, or a code point over U+10FFFF. */
static size_t utf8Length(const unsigned char *p, size_t left)
{
    unsigned char low = 0x80, high = 0xBF; /* the allowed second byte */
    size_t n, i;

    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (p[0] == 0xE0)
        low = 0xA0; /* below: overlong */
    else if (p[0] == 0xED)
        high = 0x9F; /* above: a surrogate */
    else if (p[0] == 0xF0)
        low = 0x90; /* below: overlong */
    else if (p[0] == 0xF4)
        high = 0x8F; /* above: past U+10FFFF */
    if (n > left || p[1] < low || p[1] > high)
        return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

const char *printable(const char *text, size_t length, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t at = 0, i = 0, n;

    while (i < length) {
        n = p[i] >= 0x80 ? utf8Length(p + i, length - i) : 1;
        /* U+0080..U+009F are control characters too (C2 80..C2 9F). */
        if (n == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0)
            n = 0;
        if (at + (n > 0 ? n : 4) + 4 > size) { /* room for it and "..." */
            memcpy(out + at, "...", 3);
            at += 3;
            break;
        }
        if (n == 0 || p[i] < 0x20 || p[i] == 0x7F) {
            snprintf(out + at, 5, "\\x%02X", p[i]);
            at += 4;
            i++;
        } else {
            memcpy(out + at, p + i, n);
            at += n;
            i += n;
        }
    }
    out[at] = '\0';
    return out;
}

void usageErr(const char *format, ...)
{
    char message[1024], line[1200];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    snprintf(line, sizeof line, "%s: %s\n\n", programName(), message);
    writeOrExit(STD_ERROR_HANDLE, line, strlen(line));
    writeOrExit(STD_ERROR_HANDLE, usageText, strlen(usageText));
    exit(2);
}

void showHelp(void)
{
    writeOrExit(STD_OUTPUT_HANDLE, usageText, strlen(usageText));
    exit(0);
}

const char *optionValue(int argc, char *argv[], int *i)
{
    if (*i + 1 >= argc)
        usageErr("%s needs a value", argv[*i]);
    *i += 1;
    return argv[*i];
}

long getNumber(const char *text, long min, long max, const char *name)
{
    char *end;
    long value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || value < min || value > max)
        usageErr("%s wants a whole number from %ld to %ld, not \"%s\"", name, min, max, text);
    return value;
}

BOOL readLine(const char *prompt, char *line, int size)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    DWORD mode, n;
    wchar_t wide[1024];

    if (in != INVALID_HANDLE_VALUE && in != NULL && GetConsoleMode(in, &mode)) {
        writeOrExit(STD_OUTPUT_HANDLE, prompt, strlen(prompt));
        if (!ReadConsoleW(in, wide, (DWORD)(sizeof wide / sizeof wide[0] - 1), &n, NULL))
            errExit("ReadConsoleW");
        if (n == 0 || wide[0] == 0x1A) /* nothing, or Ctrl-Z: end of input */
            return FALSE;
        wide[n] = L'\0';
        if (WideCharToMultiByte(CP_UTF8, 0, wide, -1, line, size, NULL, NULL) == 0 &&
            GetLastError() != ERROR_INSUFFICIENT_BUFFER)
            errExit("WideCharToMultiByte");
        line[size - 1] = '\0';
    } else if (fgets(line, size, stdin) == NULL) {
        return FALSE;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return TRUE;
}

BOOL pathBesideProgram(const wchar_t *fileName, wchar_t *path, DWORD size)
{
    DWORD length = GetModuleFileNameW(NULL, path, size), folder = length;
    DWORD nameLength = (DWORD)lstrlenW(fileName);

    if (length == 0)
        return FALSE;
    while (folder > 0 && path[folder - 1] != L'\\') /* keep up to the last backslash */
        folder--;
    if (length == size || folder + nameLength >= size) { /* cut, or no room for fileName */
        SetLastError(ERROR_INSUFFICIENT_BUFFER);
        return FALSE;
    }
    CopyMemory(path + folder, fileName, (nameLength + 1) * sizeof fileName[0]);
    return TRUE;
}
