/* error.h -- how every winipc program reports failure.
 *
 * In the spirit of TLPI's error_functions.h, adapted to Win32. A message names
 * the call that failed, then the error code, its symbolic name where we know it,
 * and the system's own text for it:
 *
 *   anonymous_pipe_server: CreateProcessW C:\labs\anonymous_pipe_client.exe:
 *       error 2 ERROR_FILE_NOT_FOUND: The system cannot find the file specified.
 *
 * (one line in real output). Exit statuses across the suite: 0 success,
 * 1 failure, 2 usage error. The functions read as verbs:
 *
 *            GetLastError()   WSAGetLastError()   a code you pass   no code
 *   exits    errExit          errExitWSA          errExitCode       fatal
 *   returns  errMsg           errMsgWSA           errMsgCode        warn
 *
 * A program that calls the ...WSA pair links ws2_32. A bad command line is
 * reported by usageErr() in args.h.
 */
#ifndef WINIPC_ERROR_H
#define WINIPC_ERROR_H

#include <windows.h>

#if defined(_MSC_VER)
#define WINIPC_NORETURN __declspec(noreturn)
#else
#define WINIPC_NORETURN _Noreturn
#endif

#if defined(__GNUC__) /* lets GCC check the format strings; other compilers skip it */
#define WINIPC_PRINTF(formatIndex, firstArg) __attribute__((format(printf, formatIndex, firstArg)))
#else
#define WINIPC_PRINTF(formatIndex, firstArg)
#endif

/* A Win32 call failed: report GetLastError() and exit 1. */
WINIPC_NORETURN void errExit(const char *format, ...) WINIPC_PRINTF(1, 2);

/* A Win32 call failed but we carry on: report it; GetLastError() is kept. */
void errMsg(const char *format, ...) WINIPC_PRINTF(1, 2);

/* The same two with an explicit code (a saved one, getaddrinfo's result...). */
WINIPC_NORETURN void errExitCode(DWORD code, const char *format, ...) WINIPC_PRINTF(2, 3);
void errMsgCode(DWORD code, const char *format, ...) WINIPC_PRINTF(2, 3);

/* A Winsock call failed: the same two with WSAGetLastError(), which
 * errMsgWSA keeps. Their code is in wsaerror.c. */
WINIPC_NORETURN void errExitWSA(const char *format, ...) WINIPC_PRINTF(1, 2);
void errMsgWSA(const char *format, ...) WINIPC_PRINTF(1, 2);

/* Something worth saying on stderr that has no error code; carry on. */
void warn(const char *format, ...) WINIPC_PRINTF(1, 2);

/* Something went wrong that has no error code: report it and exit 1. */
WINIPC_NORETURN void fatal(const char *format, ...) WINIPC_PRINTF(1, 2);

/* "anonymous_pipe_server": the running program's file name without ".exe". */
const char *programName(void);

/* Writes length bytes of UTF-8 text to out -- stdout, stderr, a console
 * screen -- whole. A console gets the text as UTF-16 through WriteConsoleW,
 * so every character shows whatever the console's code page; a pipe or a
 * file gets the bytes as they are. (The C runtime's fwrite to a console
 * converts through a code page of its own, which garbles UTF-8.) Returns
 * NULL, or the name of the call that failed: GetLastError() says why. */
const char *writeText(HANDLE out, const char *text, size_t length);

#endif
