/* args.h -- the command line and the console, done the same way everywhere.
 *
 * The suite's character model: every string a program handles -- arguments,
 * messages on the wire, output -- is UTF-8 in plain char arrays. We call the
 * ...W functions where Windows speaks UTF-16 and convert at that boundary;
 * we never use TCHAR. initProgram(), at the top of main(), rebuilds argv as
 * UTF-8 from the UTF-16 command line (the C runtime's own argv is in the
 * ANSI code page, where Cyrillic may become '?').
 *
 * Output goes through writeText() (error.h), never the C runtime's stdio:
 * to a console as UTF-16 (WriteConsoleW), so it shows right whatever the
 * console's code page; to a pipe or a file as the UTF-8 bytes, at once, one
 * write per line, so a test or another program sees each line whole as it
 * is printed. say() is printf on those terms.
 */
#ifndef WINIPC_ARGS_H
#define WINIPC_ARGS_H

#include "error.h"

/* Like printf to stdout, in a single write; exits if stdout is gone. */
void say(const char *format, ...) WINIPC_PRINTF(1, 2);

/* Untrusted text -- a message from the wire -- made safe to print as part
 * of one line: control characters (a newline that would forge a log line,
 * an escape sequence that would drive the terminal) and bytes that are not
 * UTF-8 become \xNN; valid UTF-8, Cyrillic included, is kept. The result
 * goes into out (size bytes, at least 8); a text too long for it is cut,
 * ending in "...". Returns out. */
const char *printable(const char *text, size_t length, char *out, size_t size);

/* usage: the program's usage text, printed by usageErr() and for --help. */
void initProgram(int *argc, char ***argv, const char *usage);

/* The command line is wrong: say what is wrong, print the usage text on
 * stderr and exit 2. */
WINIPC_NORETURN void usageErr(const char *format, ...) WINIPC_PRINTF(1, 2);

/* Prints the usage text on stdout and exits 0: the answer to --help. */
WINIPC_NORETURN void showHelp(void);

/* For "--option VALUE": returns argv[*i + 1] and steps *i past it, or
 * reports a usage error when the value is missing. */
const char *optionValue(int argc, char *argv[], int *i);

/* Parses a whole number from min to max, or reports a usage error that names
 * the option it came from ("--count"). */
long getNumber(const char *text, long min, long max, const char *name);

/* Reads a line from stdin as UTF-8, without its "\r\n", into line (size
 * bytes; a longer line is cut). From a console it first prints prompt, then
 * reads UTF-16 with ReadConsoleW and converts, so typed Cyrillic arrives
 * intact; from a pipe or a file it reads the bytes as they are, with no
 * prompt (there is nobody to see it). FALSE at the end of input. */
BOOL readLine(const char *prompt, char *line, int size);

/* Puts in path (size characters) the full name of fileName in the folder of
 * this program's .exe: how a program finds its partner wherever the pair is
 * run from. FALSE, with GetLastError() set, if GetModuleFileNameW failed or
 * the result does not fit (ERROR_INSUFFICIENT_BUFFER). */
BOOL pathBesideProgram(const wchar_t *fileName, wchar_t *path, DWORD size);

#endif
