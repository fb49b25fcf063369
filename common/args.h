/* args.h -- the command line and the console, done the same way everywhere.
 *
 * The suite's character model: every string a program handles -- arguments,
 * messages on the wire, output -- is UTF-8 in plain char arrays. We call the
 * ...W functions where Windows speaks UTF-16 and convert at that boundary;
 * we never use TCHAR. initProgram() sets this up at the top of main():
 *
 *   - argv is rebuilt as UTF-8 from the UTF-16 command line (the C runtime's
 *     own argv is in the ANSI code page, where Cyrillic may become '?');
 *   - when stdout or stderr is a console, its output code page is switched to
 *     UTF-8 (CP_UTF8) until the program exits, so UTF-8 text shows correctly;
 *     a redirected stream (pipe, file) simply receives the UTF-8 bytes;
 *   - stdout is unbuffered, so output reaches a pipe or a file at once, not
 *     when the program exits: a test or another program sees it live.
 *
 * Programs print with say() rather than printf: on an unbuffered stream
 * that is not a console, the C runtime's printf writes one character per
 * system call -- slow, and two processes sharing a pipe mix their lines
 * character by character. say() formats first and writes once.
 */
#ifndef WINIPC_ARGS_H
#define WINIPC_ARGS_H

#include "error.h"

/* Like printf to stdout, in a single write. */
void say(const char *format, ...) WINIPC_PRINTF(1, 2);

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

#endif
