/* wsaerror.c -- errExitWSA and errMsgWSA (error.h): the Winsock variants.
 * A file of their own, so that only the programs that call them link ws2_32. */
#include <winsock2.h> /* before windows.h, which error.h includes */

#include "error.h"

#include <stdarg.h>
#include <stdio.h>

void errExitWSA(const char *format, ...)
{
    DWORD code = (DWORD)WSAGetLastError();
    char what[1024];
    va_list args;

    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    errExitCode(code, "%s", what);
}

void errMsgWSA(const char *format, ...)
{
    int code = WSAGetLastError();
    char what[1024];
    va_list args;

    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    errMsgCode((DWORD)code, "%s", what);
    WSASetLastError(code);
}
