/* args.c -- the helpers declared in args.h. */
#include "args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <shellapi.h> /* CommandLineToArgvW */

static const char *usageText = "";
static char **utf8Argv;     /* one heap block: the pointers, then the strings */
static UINT savedOutputCodePage; /* 0 when we did not change the console */

static void restoreAtExit(void)
{
    if (savedOutputCodePage != 0 && !SetConsoleOutputCP(savedOutputCodePage))
        errMsg("SetConsoleOutputCP %u", savedOutputCodePage);
    if (utf8Argv != NULL && !HeapFree(GetProcessHeap(), 0, utf8Argv))
        errMsg("HeapFree");
}

static BOOL isConsole(DWORD stdHandle)
{
    DWORD mode;

    return GetConsoleMode(GetStdHandle(stdHandle), &mode);
}

void initProgram(int *argc, char ***argv, const char *usage)
{
    wchar_t **wide;
    int count, i;
    size_t bytes;
    char *strings;

    usageText = usage;
    (void)programName(); /* fill its cache now, before any thread exists */
    setvbuf(stdout, NULL, _IONBF, 0);

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

    if (isConsole(STD_OUTPUT_HANDLE) || isConsole(STD_ERROR_HANDLE)) {
        UINT current = GetConsoleOutputCP();
        if (current == 0)
            errMsg("GetConsoleOutputCP");
        else if (current != CP_UTF8 && !SetConsoleOutputCP(CP_UTF8))
            errMsg("SetConsoleOutputCP CP_UTF8 (non-ASCII text may look wrong)");
        else if (current != CP_UTF8)
            savedOutputCodePage = current;
    }
    if (atexit(restoreAtExit) != 0)
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
    fwrite(text, 1, (size_t)length, stdout); /* unbuffered: one write */
    if (text != line && !HeapFree(GetProcessHeap(), 0, text))
        errExit("HeapFree");
}

void usageErr(const char *format, ...)
{
    char message[1024], line[1200];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    snprintf(line, sizeof line, "%s: %s\n\n", programName(), message);
    fwrite(line, 1, strlen(line), stderr);
    fwrite(usageText, 1, strlen(usageText), stderr);
    exit(2);
}

void showHelp(void)
{
    fwrite(usageText, 1, strlen(usageText), stdout);
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
        usageErr("%s wants a whole number from %ld to %ld, not \"%s\"", name, min,
                 max, text);
    return value;
}

BOOL readLine(const char *prompt, char *line, int size)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    DWORD mode, n;
    wchar_t wide[1024];

    if (in != INVALID_HANDLE_VALUE && in != NULL && GetConsoleMode(in, &mode)) {
        fputs(prompt, stdout);
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
