/* restricted.c -- run_restricted: test-only. Runs a command as an ordinary
 * user would, to test what a DACL lets such a user do.
 *
 * Usage: run_restricted PROGRAM [ARG...]
 *
 * The command runs under a restricted copy of our own token: the
 * Administrators group and our own user's SID are made deny-only (they may
 * deny access, never grant it), and every privilege is dropped but
 * SeChangeNotify. What can still grant access is what any authenticated
 * user has: Everyone, Authenticated Users, Users, the logon SID. So a test
 * run by an administrator -- as on a CI runner -- can show a pipe's DACL
 * refusing a user who is neither its owner nor an administrator.
 * (CreateProcessAsUserW needs no privilege for a restricted copy of the
 * caller's own token.) The command inherits our standard handles; we wait
 * for it and exit with its exit code.
 *
 * Under Wine this runs, but Wine enforces no DACLs: there the command is
 * let in wherever it goes.
 */
#include "args.h"

#include <string.h>

static const char usage[] =
    "Usage: run_restricted PROGRAM [ARG...]\n"
    "Test-only: runs PROGRAM with Administrators and our own user SID deny-only\n"
    "(see the top of harness/restricted.c).\n";

/* Our own command line after our program's name, as it was typed: the
 * quoting of the arguments stays exactly as the caller wrote it. The first
 * word (the program) gets backslashes for slashes, as Windows paths have. */
static wchar_t *commandTail(void)
{
    wchar_t *line = GetCommandLineW(), *p;
    BOOL quoted;

    /* Our name: quoted up to the next quote, or up to a space or tab. */
    if (*line == L'"') {
        for (line++; *line != L'\0' && *line != L'"'; line++)
            continue;
        if (*line == L'"')
            line++;
    } else {
        while (*line != L'\0' && *line != L' ' && *line != L'\t')
            line++;
    }
    while (*line == L' ' || *line == L'\t')
        line++;
    quoted = *line == L'"';
    for (p = line + (quoted ? 1 : 0); *p != L'\0' && (quoted ? *p != L'"' : *p != L' '); p++)
        if (*p == L'/')
            *p = L'\\';
    return line;
}

int main(int argc, char *argv[])
{
    HANDLE token, restricted;
    SID_AND_ATTRIBUTES denyOnly[2];
    union { /* TOKEN_USER and room for its SID, aligned as TOKEN_USER is */
        TOKEN_USER user;
        BYTE bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } user;
    BYTE adminsBuffer[SECURITY_MAX_SID_SIZE];
    DWORD size = sizeof adminsBuffer, exitCode;
    STARTUPINFOW startup;
    PROCESS_INFORMATION child;

    initProgram(&argc, &argv, usage);
    if (argc < 2)
        usageErr("which program?");
    if (strcmp(argv[1], "--help") == 0)
        showHelp();

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY,
                          &token))
        errExit("OpenProcessToken");
    if (!GetTokenInformation(token, TokenUser, &user, sizeof user, &size))
        errExit("GetTokenInformation TokenUser");
    size = sizeof adminsBuffer;
    if (!CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, adminsBuffer, &size))
        errExit("CreateWellKnownSid Administrators");
    denyOnly[0].Sid = user.user.User.Sid;
    denyOnly[0].Attributes = 0;
    denyOnly[1].Sid = adminsBuffer;
    denyOnly[1].Attributes = 0;
    if (!CreateRestrictedToken(token, DISABLE_MAX_PRIVILEGE, 2, denyOnly, 0, NULL, 0, NULL,
                               &restricted))
        errExit("CreateRestrictedToken");

    ZeroMemory(&startup, sizeof startup);
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    if (!CreateProcessAsUserW(restricted, NULL, commandTail(), NULL, NULL, TRUE, 0, NULL, NULL,
                              &startup, &child))
        errExit("CreateProcessAsUserW %s", argv[1]);
    if (WaitForSingleObject(child.hProcess, INFINITE) != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    if (!GetExitCodeProcess(child.hProcess, &exitCode))
        errExit("GetExitCodeProcess");
    if (!CloseHandle(child.hProcess) || !CloseHandle(child.hThread) || !CloseHandle(restricted) ||
        !CloseHandle(token))
        errExit("CloseHandle");
    return (int)exitCode;
}
