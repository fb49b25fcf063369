/* client.c -- messenger_client: a member of messenger_server's chat room; the report's stated
 * aim, never built (there is no original listing for the client).
 *
 * Joins the room as NICK over the named pipe \\.\pipe\NAME or over TCP, and from then on does
 * the same for both: the connection is one handle, read and written with overlapped ReadFile
 * and WriteFile. A reader thread prints the room's events as they come; the main thread sends
 * the lines typed, read from a redirected stdin, or given by a script. Protocol: messenger.h;
 * server: server.c.
 *
 * Usage: messenger_client [--pipe NAME | --host ADDR --port N] --nick NAME
 *                         [--wait TEXT | --send TEXT]... [--linger MS]
 *
 * What is new here, next to the lab's other clients:
 *  - One thread reads while another writes, on one handle. Synchronous I/O on a handle is
 *    serialised -- a pending ReadFile would hold up every WriteFile -- so the handle is
 *    overlapped, and each direction has an OVERLAPPED and an event of its own.
 *  - A socket is a file handle to the I/O manager: ReadFile and WriteFile work on it as on a
 *    pipe, so the same code speaks to the server over either.
 *  - Events arrive while the user types: the prompt line is the program's own, built from
 *    console input records, and erased and redrawn around every line printed.
 *  - A scripted member (--send, --wait), for tests: it speaks once its audience is there.
 */
#include "messenger.h"
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: messenger_client [--pipe NAME | --host ADDR --port N] --nick NAME\n"
    "                        [--wait TEXT | --send TEXT]... [--linger MS]\n"
    "Joins messenger_server's chat room as NAME and prints what happens there. A line typed\n"
    "is said to the room, or is a command: /who, /msg NICK text, /nick NEW, /quit.\n"
    "  --pipe NAME  join over \\\\.\\pipe\\NAME (the default: " MS_DEFAULT_PIPE ")\n"
    "  --host ADDR  join over TCP, at ADDR (default " MS_DEFAULT_HOST ")\n"
    "  --port N     join over TCP, at port N (default " MS_DEFAULT_PORT ")\n"
    "  --nick NAME  the nick to join as (1 to 32 bytes, no spaces)\n"
    "  --send TEXT  a step of a script, run instead of stdin: send TEXT as if typed\n"
    "  --wait TEXT  a step: wait (30 s at most) until a line holding TEXT has been\n"
    "               printed, at any time since the start\n"
    "  --linger MS  after the script (or as one, alone), print what arrives for MS ms,\n"
    "               then /quit\n"
    "  --help       show this text\n";

#define MC_WAIT_MS 30000                         /* for a --wait, and for the server's answers */
#define MAX_LINE (MS_MAX_NICK + MS_MAX_TEXT + 8) /* "/msg NICK text", and a byte to be over */
#define SHOWN (4 * MS_MAX_FRAME + 8) /* a frame's fields made printable: "\xNN" per byte */
#define HISTORY 65536                /* bytes of lines kept for --wait */

typedef struct {
    HANDLE connection;            /* the pipe, or the socket as a file handle */
    HANDLE readEvent, writeEvent; /* the reader thread reads, main writes */
    HANDLE reader, welcomed, matched;
    const char *nick;
    volatile LONG quitting; /* main has sent MS_QUIT: the end is expected */
    BOOL joined;            /* the reader's: MS_WELCOME has come (then MS_MEMBERS) */
    long linesSent, eventsReceived;
    CRITICAL_SECTION lock; /* the screen, and all below */
    HANDLE screen;         /* the console the prompt is drawn on */
    BOOL prompting;        /* "> " and typed[] are on the screen's last row */
    int typedLength, drawn;
    wchar_t typed[MAX_LINE];
    const char *waitingFor;    /* a --wait's TEXT, or NULL */
    char history[HISTORY + 1]; /* the lines printed so far, '\n' after each */
    size_t historyLength;
} Client;

/* The console's input mode as we found it, put back at exit. Globals: atexit passes nothing. */
static HANDLE keyboard;
static DWORD keyboardMode;

static void restoreConsole(void)
{
    if (keyboard != NULL && !SetConsoleMode(keyboard, keyboardMode))
        errMsg("SetConsoleMode");
}

static void writeConsole(Client *c, const wchar_t *text, int length)
{
    DWORD done;

    for (; length > 0; text += done, length -= (int)done)
        if (!WriteConsoleW(c->screen, text, (DWORD)length, &done, NULL))
            errExit("WriteConsoleW");
}

/* The prompt never wraps (drawPrompt), so "\r", spaces and "\r" erase it, on every console.
 * "\r\x1b[K" would be shorter, but Wine 8's console takes ENABLE_VIRTUAL_TERMINAL_PROCESSING
 * and then prints the escape as a character. */
static void erasePrompt(Client *c)
{
    static const wchar_t spaces[] = L"                                ";
    int left;

    writeConsole(c, L"\r", 1);
    for (left = c->drawn; left > 0; left -= 32)
        writeConsole(c, spaces, left < 32 ? left : 32);
    writeConsole(c, L"\r", 1);
}

/* "> " and as much of the end of the line typed as the window shows, short of its last column
 * (a character there moves the cursor to the next row on some consoles). */
static void drawPrompt(Client *c)
{
    CONSOLE_SCREEN_BUFFER_INFO info;
    int room, from;

    if (!GetConsoleScreenBufferInfo(c->screen, &info))
        errExit("GetConsoleScreenBufferInfo");
    room = info.srWindow.Right - info.srWindow.Left - 2;
    room = room > 0 ? room : 1;
    from = c->typedLength > room ? c->typedLength - room : 0;
    if (from > 0 && IS_LOW_SURROGATE(c->typed[from])) /* not half a character */
        from++;
    writeConsole(c, L"> ", 2);
    writeConsole(c, c->typed + from, c->typedLength - from);
    c->drawn = 2 + c->typedLength - from;
}

static void hidePrompt(Client *c)
{
    EnterCriticalSection(&c->lock);
    if (c->prompting)
        erasePrompt(c);
    c->prompting = FALSE;
    LeaveCriticalSection(&c->lock);
}

/* Prints a line on stdout, around the prompt if there is one, and keeps it for --wait (the
 * line a --wait wants wakes it). */
static void show(Client *c, const char *format, ...)
{
    char line[SHOWN + 64];
    size_t length;
    va_list args;

    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    length = strlen(line);
    EnterCriticalSection(&c->lock);
    if (c->prompting)
        erasePrompt(c);
    say("%s\n", line);
    if (c->historyLength + length + 1 > HISTORY) /* a long run: start again */
        c->historyLength = 0;
    memcpy(c->history + c->historyLength, line, length);
    c->historyLength += length + 1;
    memcpy(c->history + c->historyLength - 1, "\n", 2);
    if (c->waitingFor != NULL && strstr(line, c->waitingFor) != NULL) {
        c->waitingFor = NULL;
        if (!SetEvent(c->matched))
            errExit("SetEvent");
    }
    if (c->prompting)
        drawPrompt(c);
    LeaveCriticalSection(&c->lock);
}

/* The server has ended the session: end the program from here, for main may be blocked
 * reading stdin, and nothing wakes it. ExitProcess, not exit(): exit() flushes the C
 * runtime's streams, taking each one's lock, and main's fgets (readLine) holds stdin's. */
static WINIPC_NORETURN void endProgram(Client *c, UINT status, const char *why)
{
    hidePrompt(c);
    if (why != NULL)
        warn("%s", why);
    restoreConsole();
    ExitProcess(status);
}

/* Reads size bytes, in as many reads as it takes; FALSE if the connection ended first. */
static BOOL readAll(Client *c, char *buffer, DWORD size, BOOL insideFrame)
{
    OVERLAPPED io;
    DWORD done, got = 0, error;
    BOOL ok;

    for (done = 0; done < size; done += got) {
        ZeroMemory(&io, sizeof io);
        io.hEvent = c->readEvent;
        ok = ReadFile(c->connection, buffer + done, size - done, NULL, &io) ||
             GetLastError() == ERROR_IO_PENDING;
        ok = ok && GetOverlappedResult(c->connection, &io, &got, TRUE);
        if (ok && got > 0)
            continue;
        /* The end: a read of 0 bytes from a socket, ERROR_BROKEN_PIPE from a pipe. After our
         * MS_QUIT, that will do; else the server is gone. */
        error = ok ? 0 : GetLastError();
        if (c->quitting)
            return FALSE;
        hidePrompt(c);
        if (error != 0 && error != ERROR_BROKEN_PIPE && error != ERROR_PIPE_NOT_CONNECTED) {
            errMsgCode(error, "the connection was lost: ReadFile");
            endProgram(c, 1, NULL);
        }
        endProgram(c, 1,
                   insideFrame || done > 0 ? "the connection ended inside a frame: garbage"
                                           : "the server closed the connection without MS_BYE");
    }
    return TRUE;
}

static void showMembers(Client *c, const Frame *f)
{
    char list[SHOWN], count[SHOWN], more[64] = "";
    long total = strtol(f->field[0], NULL, 10);
    size_t at = 0;
    int i;

    for (i = 1; i < f->count; i++) { /* each ", " stands for a '\0': the list fits */
        if (i > 1)
            at += (size_t)snprintf(list + at, sizeof list - at, ", ");
        at += strlen(printable(f->field[i], strlen(f->field[i]), list + at, sizeof list - at));
    }
    if (total > f->count - 1)
        snprintf(more, sizeof more, ", ... and %ld more", total - (f->count - 1));
    show(c, "members (%s): %s%s", printable(f->field[0], strlen(f->field[0]), count, SHOWN), list,
         more);
}

/* Prints an event from the server. FALSE after MS_BYE, the last. */
static BOOL showEvent(Client *c, const Frame *f)
{
    char s[4][SHOWN], why[2 * SHOWN]; /* the fields, made printable: they come from the wire */
    int i;

    for (i = 0; i < f->count && i < 4; i++)
        printable(f->field[i], strlen(f->field[i]), s[i], SHOWN);
    switch (f->type) {
    case MS_WELCOME:
        show(c, "messenger_client: you are %s", s[0]);
        c->joined = TRUE;
        break;
    case MS_ERROR:
        if (!c->joined) { /* the answer to MS_HELLO: no session */
            snprintf(why, sizeof why, "the server refused %s: %s",
                     printable(c->nick, strlen(c->nick), s[1], SHOWN), s[0]);
            endProgram(c, 1, why);
        }
        show(c, "*** refused: %s", s[0]);
        break;
    case MS_JOINED: show(c, "[#%s %s] *** %s joined", s[0], s[1], s[2]); break;
    case MS_LEFT: show(c, "[#%s %s] *** %s left: %s", s[0], s[1], s[2], s[3]); break;
    case MS_MESSAGE: show(c, "[#%s %s] %s: %s", s[0], s[1], s[2], s[3]); break;
    case MS_RENAMED: show(c, "[#%s %s] *** %s is now %s", s[0], s[1], s[2], s[3]); break;
    case MS_TOLD: show(c, "[%s] (private) %s: %s", s[0], s[1], s[2]); break;
    case MS_MEMBERS: /* the first, after MS_WELCOME, completes the welcome */
        showMembers(c, f);
        if (c->joined && !SetEvent(c->welcomed))
            errExit("SetEvent");
        break;
    default: /* MS_BYE: parseFrame lets no other type through */
        show(c, "*** the server closed the connection: %s", s[0]);
        return FALSE;
    }
    return TRUE;
}

/* The reader thread. A frame is its length, then that many bytes (messenger.h). */
static DWORD WINAPI readEvents(LPVOID parameter)
{
    Client *c = parameter;
    char header[MS_HEADER], body[MS_MAX_FRAME], why[128];
    const char *wrong = NULL;
    DWORD length = 0;
    Frame frame;

    do {
        if (!readAll(c, header, MS_HEADER, FALSE))
            return 0;
        length = frameLength((const unsigned char *)header);
        if (length == 0)
            wrong = "a length of 0 or over 2048 bytes"; /* MS_MAX_FRAME */
        else if (!readAll(c, body, length, TRUE))
            return 0;
        else
            wrong = parseFrame(body, length, TRUE, &frame);
        if (wrong != NULL) {
            snprintf(why, sizeof why, "the server sent garbage: a frame with %s", wrong);
            endProgram(c, 1, why);
        }
        c->eventsReceived++;
    } while (showEvent(c, &frame));
    if (!c->quitting)
        endProgram(c, 0, NULL);
    return 0;
}

/* Sends a frame. If that fails, the server has most likely closed the connection, and the
 * reader thread is about to say so, with the MS_BYE it may have sent first: let it. */
static void writeFrame(Client *c, const char *frame, size_t size)
{
    OVERLAPPED io;
    DWORD done, error;
    BOOL ok;

    ZeroMemory(&io, sizeof io);
    io.hEvent = c->writeEvent;
    ok = WriteFile(c->connection, frame, (DWORD)size, NULL, &io) ||
         GetLastError() == ERROR_IO_PENDING;
    if (ok && GetOverlappedResult(c->connection, &io, &done, TRUE)) {
        if (done != size)
            fatal("WriteFile wrote %lu of %lu bytes", done, (unsigned long)size);
        return;
    }
    error = GetLastError();
    if (WaitForSingleObject(c->reader, MC_WAIT_MS) == WAIT_FAILED)
        errExit("WaitForSingleObject");
    errExitCode(error, "WriteFile");
}

static void quit(Client *c)
{
    char frame[MS_HEADER + 1];

    InterlockedExchange(&c->quitting, TRUE); /* before the reader can see the end */
    writeFrame(c, frame, buildFrame(frame, MS_QUIT, 0, NULL));
}

/* Does what a line says: a command, or a message to the room. FALSE once it has sent /quit. */
static BOOL handleLine(Client *c, const char *line)
{
    const char *fields[2], *text = line, *space, *why;
    char nick[MAX_LINE], shown[SHOWN], frame[MS_HEADER + MS_MAX_FRAME];
    size_t size;
    char type = MS_SAY;
    int count = 1;

    fields[0] = line; /* a message to the room, unless a command says otherwise */

    if (line[0] == '\0')
        return TRUE;
    if (strcmp(line, "/quit") == 0) {
        show(c, "> /quit");
        quit(c);
        return FALSE;
    }
    if (strcmp(line, "/who") == 0) {
        type = MS_WHO, count = 0, text = NULL;
    } else if (strncmp(line, "/nick ", 6) == 0) {
        type = MS_RENAME, fields[0] = line + 6, text = NULL;
    } else if (strncmp(line, "/msg ", 5) == 0 && (space = strchr(line + 5, ' ')) != NULL &&
               space - line - 5 < (int)sizeof nick) {
        memcpy(nick, line + 5, (size_t)(space - line - 5));
        nick[space - line - 5] = '\0';
        type = MS_PRIVATE, count = 2, fields[0] = nick, fields[1] = text = space + 1;
    } else if (line[0] == '/') {
        show(c, "*** unknown command: %s (commands: /who, /msg NICK text, /nick NEW, /quit)",
             printable(line, strcspn(line, " "), shown, sizeof shown));
        return TRUE;
    }
    if (text != NULL && (why = checkText(text)) != NULL) {
        show(c, "*** not sent: the text %s", why);
    } else if ((size = buildFrame(frame, type, count, fields)) == 0) {
        show(c, "*** not sent: the line does not fit in a frame (%d bytes)", MS_MAX_FRAME);
    } else {
        EnterCriticalSection(&c->lock); /* shown before it goes, so the answers come after */
        show(c, "> %s", printable(line, strlen(line), shown, sizeof shown));
        LeaveCriticalSection(&c->lock);
        writeFrame(c, frame, size);
        c->linesSent++;
    }
    return TRUE;
}

/* The --send and --wait steps, in order. Every option but --help (which has exited) has a
 * value, so argv holds pairs. FALSE once a /quit is sent. */
static BOOL runScript(Client *c, int argc, char *argv[])
{
    DWORD result;
    BOOL wait;
    int i;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--send") == 0 && !handleLine(c, argv[i + 1]))
            return FALSE;
        if (strcmp(argv[i], "--wait") != 0)
            continue;
        EnterCriticalSection(&c->lock);
        wait = strstr(c->history, argv[i + 1]) == NULL; /* no '\n' in it: within a line */
        if (wait)
            c->waitingFor = argv[i + 1]; /* show() will wake us */
        LeaveCriticalSection(&c->lock);
        result = wait ? WaitForSingleObject(c->matched, MC_WAIT_MS) : WAIT_OBJECT_0;
        if (result == WAIT_TIMEOUT)
            fatal("no line with \"%s\" arrived in %d s", argv[i + 1], MC_WAIT_MS / 1000);
        if (result == WAIT_FAILED)
            errExit("WaitForSingleObject");
    }
    return TRUE;
}

/* Wine in a Unix terminal leaves Ctrl-C to the terminal, whose SIGINT Wine turns into
 * CTRL_C_EVENT whatever the input mode: give it to the prompt as the key it is on Windows.
 * Ctrl-Break, a signal everywhere, too: ended by its default, we would not restore the mode. */
static BOOL WINAPI onControl(DWORD event)
{
    INPUT_RECORD key;
    DWORD n;

    ZeroMemory(&key, sizeof key);
    key.EventType = KEY_EVENT;
    key.Event.KeyEvent.bKeyDown = TRUE;
    key.Event.KeyEvent.wRepeatCount = 1;
    key.Event.KeyEvent.uChar.UnicodeChar = 0x03;
    return (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT) &&
           WriteConsoleInputW(keyboard, &key, 1, &n);
}

/* Interactive: the console's line editing is off (it would echo keys into the middle of the
 * events), and so is Ctrl-C's signal: it becomes a key, ending the input like any other. */
static void startPrompt(Client *c, HANDLE in, HANDLE out)
{
    keyboard = in;
    if (atexit(restoreConsole) != 0)
        fatal("atexit failed");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");
    if (!SetConsoleMode(in, keyboardMode & ~(DWORD)(ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT |
                                                    ENABLE_PROCESSED_INPUT)))
        errExit("SetConsoleMode");
    EnterCriticalSection(&c->lock);
    c->screen = out, c->prompting = TRUE;
    drawPrompt(c);
    LeaveCriticalSection(&c->lock);
}

/* A key, under the lock: Backspace and printable characters edit the line, kept as UTF-16;
 * Enter ends it (TRUE), and so do Ctrl-Z, Ctrl-C and Ctrl-D, ending the input too (*ended):
 * Ctrl-D for Wine in a Unix terminal, where Ctrl-Z never reaches the program. */
static BOOL takeKey(Client *c, const KEY_EVENT_RECORD *key, BOOL *ended)
{
    wchar_t ch = key->uChar.UnicodeChar;
    WORD i;

    if (!key->bKeyDown || ch == 0)
        return FALSE;
    *ended = ch == 0x1A || ch == 0x03 || ch == 0x04;
    if (ch == L'\r' || *ended)
        return TRUE;
    for (i = 0; i < key->wRepeatCount; i++)
        if ((ch == L'\b' || ch == 0x7F) && c->typedLength > 0)
            c->typedLength -= IS_LOW_SURROGATE(c->typed[c->typedLength - 1]) ? 2 : 1;
        else if (ch >= 0x20 && ch != 0x7F && c->typedLength < MAX_LINE)
            c->typed[c->typedLength++] = ch;
    erasePrompt(c);
    drawPrompt(c);
    return FALSE;
}

/* Reads a line typed at our prompt into line, as UTF-8; FALSE at the end of input. */
static BOOL readTyped(Client *c, char *line, int size)
{
    BOOL complete = FALSE, ended = FALSE;
    INPUT_RECORD record;
    int length = 0;
    DWORD n;

    while (!complete) {
        if (!ReadConsoleInputW(keyboard, &record, 1, &n))
            errExit("ReadConsoleInputW");
        EnterCriticalSection(&c->lock);
        complete = n == 1 && record.EventType == KEY_EVENT && c->prompting &&
                   takeKey(c, &record.Event.KeyEvent, &ended);
        if (complete && c->typedLength > 0 &&
            (length = WideCharToMultiByte(CP_UTF8, 0, c->typed, c->typedLength, line, size - 1,
                                          NULL, NULL)) == 0)
            errExit("WideCharToMultiByte");
        if (complete) {
            c->typedLength = 0;
            erasePrompt(c);
            drawPrompt(c);
        }
        LeaveCriticalSection(&c->lock);
    }
    line[length] = '\0';
    return !ended;
}

static HANDLE connectPipe(const char *name)
{
    ULONGLONG deadline = GetTickCount64() + MS_CONNECT_WAIT_MS, now;
    char path[MAX_PATH];
    wchar_t widePath[MAX_PATH];
    HANDLE pipe;

    if (snprintf(path, sizeof path, "\\\\.\\pipe\\%s", name) >= (int)sizeof path)
        usageErr("--pipe NAME is too long");
    if (MultiByteToWideChar(CP_UTF8, 0, path, -1, widePath, MAX_PATH) == 0)
        errExit("MultiByteToWideChar");
    for (;;) {
        /* FILE_WRITE_DATA, not GENERIC_WRITE: see named_pipe/named_pipe.h, "Access rights".
         * Read as a byte stream, like a socket: a frame carries its own length. */
        pipe = CreateFileW(widePath, GENERIC_READ | FILE_WRITE_DATA, 0, NULL, OPEN_EXISTING,
                           FILE_FLAG_OVERLAPPED, NULL);
        if (pipe != INVALID_HANDLE_VALUE)
            return pipe;
        if (GetLastError() != ERROR_PIPE_BUSY || (now = GetTickCount64()) >= deadline)
            errExit("CreateFileW %s", path);
        /* Every instance is busy: wait for a free one (another client may take it first). */
        if (!WaitNamedPipeW(widePath, (DWORD)(deadline - now)) &&
            GetLastError() != ERROR_SEM_TIMEOUT && GetLastError() != ERROR_FILE_NOT_FOUND)
            errExit("WaitNamedPipeW %s", path);
    }
}

/* As sockets/client.c: each address getaddrinfo gives, in turn. socket() makes an overlapped
 * socket, which is what ReadFile and WriteFile with an OVERLAPPED need. */
static SOCKET connectTcp(const char *host, const char *port)
{
    struct addrinfo hints, *addresses, *a;
    char where[300];
    WSADATA wsa;
    SOCKET s = INVALID_SOCKET;
    int error = WSAStartup(MAKEWORD(2, 2), &wsa);

    if (error != 0)
        errExitCode((DWORD)error, "WSAStartup");
    snprintf(where, sizeof where, strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s", host, port);
    ZeroMemory(&hints, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    error = getaddrinfo(host, port, &hints, &addresses);
    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);
    for (a = addresses, error = WSAHOST_NOT_FOUND; a != NULL; a = a->ai_next) {
        s = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (s == INVALID_SOCKET)
            errExitWSA("socket");
        if (connect(s, a->ai_addr, (int)a->ai_addrlen) == 0)
            break;
        error = WSAGetLastError(); /* the reason; closesocket may change it */
        if (closesocket(s) == SOCKET_ERROR)
            errExitWSA("closesocket");
    }
    if (a == NULL)
        errExitCode((DWORD)error, "connect %s", where);
    freeaddrinfo(addresses);
    return s;
}

static HANDLE newEvent(BOOL manualReset)
{
    HANDLE event = CreateEventW(NULL, manualReset, FALSE, NULL);

    if (event == NULL)
        errExit("CreateEventW");
    return event;
}

static void waitFor(HANDLE handle, const char *what)
{
    DWORD result = WaitForSingleObject(handle, MC_WAIT_MS);

    if (result == WAIT_TIMEOUT)
        fatal("the server did not %s in %d s", what, MC_WAIT_MS / 1000);
    if (result == WAIT_FAILED)
        errExit("WaitForSingleObject");
}

int main(int argc, char *argv[])
{
    const char *pipeName = NULL, *host = MS_DEFAULT_HOST, *nick = NULL;
    char port[8] = MS_DEFAULT_PORT, line[3 * MAX_LINE + 1], hello[MS_HEADER + MS_MAX_FRAME];
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE), h[5];
    BOOL tcp = FALSE, scripted = FALSE;
    static Client c; /* zeroed */
    SOCKET s = INVALID_SOCKET;
    size_t helloSize;
    long linger = 0;
    DWORD mode;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--pipe") == 0)
            pipeName = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--nick") == 0)
            nick = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--host") == 0) {
            host = optionValue(argc, argv, &i);
            tcp = TRUE;
        } else if (strcmp(argv[i], "--port") == 0) {
            snprintf(port, sizeof port, "%ld",
                     getNumber(optionValue(argc, argv, &i), 1, 65535, "--port"));
            tcp = TRUE;
        } else if (strcmp(argv[i], "--send") == 0 || strcmp(argv[i], "--wait") == 0) {
            scripted = TRUE; /* a line holds no line break, so TEXT may not either */
            if (strpbrk(optionValue(argc, argv, &i), "\r\n") != NULL)
                usageErr("%s TEXT holds a line break", argv[i - 1]);
        } else if (strcmp(argv[i], "--linger") == 0) { /* alone: a script of no steps */
            linger = getNumber(optionValue(argc, argv, &i), 0, 86400000, "--linger");
            scripted = TRUE;
        } else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    if (nick == NULL)
        usageErr("--nick NAME is missing");
    if (pipeName != NULL && tcp)
        usageErr("--pipe goes with neither --host nor --port");
    helloSize = buildFrame(hello, MS_HELLO, 1, &nick);
    if (helloSize == 0)
        usageErr("--nick NAME is over %d bytes", MS_MAX_FRAME - 1);

    c.nick = nick;
    if (tcp)
        s = connectTcp(host, port);
    c.connection = tcp ? (HANDLE)s : connectPipe(pipeName ? pipeName : MS_DEFAULT_PIPE);
    c.readEvent = newEvent(TRUE), c.writeEvent = newEvent(TRUE); /* as overlapped I/O wants */
    c.welcomed = newEvent(TRUE), c.matched = newEvent(FALSE);    /* one --wait at a time */
    InitializeCriticalSection(&c.lock);
    c.reader = CreateThread(NULL, 0, readEvents, &c, 0, NULL);
    if (c.reader == NULL)
        errExit("CreateThread");
    writeFrame(&c, hello, helloSize);
    waitFor(c.welcomed, "welcome us"); /* MS_WELCOME, MS_MEMBERS; or the reader ends it all */

    if (scripted) {
        if (runScript(&c, argc, argv))
            Sleep((DWORD)linger); /* --linger: a pause asked for, not a synchronisation */
    } else if (GetConsoleMode(in, &keyboardMode) && GetConsoleMode(out, &mode)) {
        startPrompt(&c, in, out);
        while (readTyped(&c, line, sizeof line) && handleLine(&c, line))
            ;
    } else {
        while (readLine("", line, sizeof line) && handleLine(&c, line))
            ;
    }
    hidePrompt(&c);
    if (!c.quitting) /* the end of input, or of the script */
        quit(&c);
    waitFor(c.reader, "close the connection after MS_QUIT"); /* MS_BYE, or the end */
    say("messenger_client: left the room, %ld lines sent, %ld events received\n", c.linesSent,
        c.eventsReceived);

    h[0] = c.reader, h[1] = c.readEvent, h[2] = c.writeEvent, h[3] = c.welcomed;
    h[4] = c.matched;
    for (i = 0; i < 5; i++)
        if (!CloseHandle(h[i]))
            errExit("CloseHandle");
    DeleteCriticalSection(&c.lock);
    if (tcp && closesocket(s) == SOCKET_ERROR)
        errExitWSA("closesocket");
    if (tcp && WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
    if (!tcp && !CloseHandle(c.connection))
        errExit("CloseHandle");
    return 0;
}
