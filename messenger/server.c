/* server.c -- messenger_server: the console instant messenger the report set out to build and
 * never did ("a simple console instant messenger"), on what its chapters teach.
 *
 * One chat room. Members connect over a named pipe (this computer) or TCP, and one I/O
 * completion port serves both: a pipe instance and a socket are both file handles, so after the
 * connection is made -- overlapped ConnectNamedPipe for a pipe, AcceptEx for a socket, several of
 * each kept pending -- a member is a HANDLE, read and written with overlapped ReadFile and
 * WriteFile, whatever it is. A small fixed pool of worker threads takes the completions. The
 * wire (length-prefixed frames) and the room's rules are in messenger.h.
 *
 * Usage: messenger_server [--pipe NAME] [--host ADDR] [--port N] [--threads N]
 *                         [--max-queue BYTES]
 * Members: messenger_client --nick NAME (--pipe NAME | --host ADDR --port N).
 *
 * What the report's servers lacked, and this one does:
 *  - Nothing from the wire is trusted: a frame is checked before it is used, and garbage ends
 *    its sender's session only.
 *  - A member that stops reading costs at most its queue (--max-queue): past that, it is
 *    disconnected and the room told. Nobody waits for the slowest.
 *  - Every member sees the room's events in one order: one lock numbers each event and puts it
 *    in every queue before any other can be.
 *  - Ctrl-C tells the members, cancels the I/O, frees every context and exits 0.
 */
#include "messenger.h"
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: messenger_server [--pipe NAME] [--host ADDR] [--port N] [--threads N]\n"
    "                        [--max-queue BYTES]\n"
    "One chat room, over the named pipe \\\\.\\pipe\\NAME and TCP (client:\n"
    "messenger_client). Stops on Ctrl-C.\n"
    "  --pipe NAME        pipe name (default " MS_DEFAULT_PIPE ")\n"
    "  --host ADDR        address to listen on (default " MS_DEFAULT_HOST "; 0.0.0.0: every one)\n"
    "  --port N           TCP port (default " MS_DEFAULT_PORT "; 0: any free port)\n"
    "  --threads N        worker threads (default 2)\n"
    "  --max-queue BYTES  how far a member may fall behind before it is disconnected\n"
    "                     (default 65536; at least 4104, two frames)\n"
    "  --help             show this text\n";

#define LISTENING 4      /* pipe instances and AcceptEx calls kept waiting, each */
#define PIPE_BUFFER 4096 /* each pipe instance's buffer, each way */
#define IN_BYTES (MS_HEADER + MS_MAX_FRAME)           /* one whole frame, at most */
#define ADDRESS_BYTES (sizeof(SOCKADDR_STORAGE) + 16) /* AcceptEx's room for each address */
#define STOP_GRACE_MS 2000 /* stopping: members get this long to take their goodbye */
#define STOP_WAIT_MS 10000 /* then the cancelled I/O must drain within this */

/* A connection's life: WAITING for a client (a pending ConnectNamedPipe or AcceptEx); CONNECTED,
 * waiting for its MS_HELLO; IN_ROOM; CLOSING -- its last frames sent, we read (and drop) until
 * the client closes, which keeps a socket from resetting them; GONE -- I/O cancelled. */
typedef enum { WAITING, CONNECTED, IN_ROOM, CLOSING, GONE } State;

/* Each operation its own OVERLAPPED, first, and the way back to its member: the port hands back
 * the OVERLAPPED, from which CONTAINING_RECORD finds the Operation (libuv's shape). */
typedef struct Operation {
    OVERLAPPED overlapped;
    struct Member *member;
} Operation;

/* Everything below, and the list, is guarded by one lock, roomLock: every operation on a member
 * starts with it held, so a member GONE never starts another. references counts the operations
 * in flight, and one for whoever is working on it; the last release frees it. A member has at
 * most one read and one write in flight; out holds [0, queued): the write in flight first. */
typedef struct Member {
    Operation reading, writing; /* the connect or accept is a "read" too */
    HANDLE handle;              /* the pipe instance, or the socket */
    BOOL isSocket, writeInFlight;
    const char *mustGo; /* set in the middle of an event: dropMarked() hangs up after it */
    State state;
    long references, number;
    size_t inLength, queued;
    char *out; /* maxQueue bytes, from the connection on */
    char nick[MS_MAX_NICK + 1];
    char ending[96]; /* why the connection ended */
    struct Member *previous, *next;
    char in[IN_BYTES]; /* a frame coming in; AcceptEx's addresses before that */
} Member;

/* Shared by main and the workers. */
static HANDLE port, allGone;
static SOCKET listener;
static LPFN_ACCEPTEX acceptEx;               /* AcceptEx, from the listener's provider (WSAIoctl) */
static char pipeText[MS_MAX_PIPE_NAME + 10]; /* \\.\pipe\NAME, in UTF-8 for the log */
static wchar_t pipeName[MS_MAX_PIPE_NAME + 10];
static int listenFamily; /* the listener's: AF_INET or AF_INET6 */
static size_t maxQueue = MS_DEFAULT_QUEUE;
static CRITICAL_SECTION roomLock;
static Member *members; /* every context, of every state */
static long contexts, inRoom, connections, events;
static BOOL stopping;
static char tooSlow[64]; /* "it fell more than N bytes behind" */

static void hangUp(Member *m, const char *why);

/* The other end went away: a pipe's client closed it, a socket's reset. Not worth a message. */
static BOOL isClosed(DWORD error)
{
    return error == ERROR_BROKEN_PIPE || error == ERROR_NO_DATA ||
           error == ERROR_PIPE_NOT_CONNECTED || error == ERROR_NETNAME_DELETED ||
           error == ERROR_CONNECTION_ABORTED || error == WSAECONNRESET || error == WSAECONNABORTED;
}

/* "hh:mm:ss", the server's clock, into text (9 bytes). */
static void timeNow(char *text)
{
    SYSTEMTIME now;

    GetLocalTime(&now);
    snprintf(text, 9, "%02u:%02u:%02u", now.wHour, now.wMinute, now.wSecond);
}

static Member *newMember(BOOL isSocket)
{
    Member *m = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *m);

    if (m == NULL)
        fatal("HeapAlloc: no memory for a connection");
    m->reading.member = m->writing.member = m;
    m->isSocket = isSocket;
    m->references = 1; /* the creator's */
    m->next = members;
    if (members != NULL)
        members->previous = m;
    members = m;
    contexts++;
    return m;
}

/* Drops a reference; the last one closes the handle and frees the context. */
static void release(Member *m)
{
    BOOL last;

    EnterCriticalSection(&roomLock);
    last = --m->references == 0;
    if (last) {
        if (m->previous != NULL)
            m->previous->next = m->next;
        else
            members = m->next;
        if (m->next != NULL)
            m->next->previous = m->previous;
        if (--contexts == 0 && stopping && !SetEvent(allGone))
            errExit("SetEvent");
    }
    LeaveCriticalSection(&roomLock);
    if (!last)
        return;
    if (m->number != 0)
        say("connection %ld: closed: %s\n", m->number, m->ending);
    if (m->isSocket && closesocket((SOCKET)m->handle) == SOCKET_ERROR)
        errMsgWSA("closesocket (connection %ld)", m->number);
    else if (!m->isSocket && !CloseHandle(m->handle))
        errMsg("CloseHandle (connection %ld)", m->number);
    if (m->out != NULL && !HeapFree(GetProcessHeap(), 0, m->out))
        errMsg("HeapFree");
    if (!HeapFree(GetProcessHeap(), 0, m))
        errMsg("HeapFree");
}

/* A new pipe instance, waiting for a client. ConnectNamedPipe's completion comes to the port,
 * except when a client is there already: then we post it ourselves. FALSE if it failed. */
static BOOL listenPipe(void)
{
    static DWORD first = FILE_FLAG_FIRST_PIPE_INSTANCE; /* fails if another server has the name */
    HANDLE pipe = CreateNamedPipeW(pipeName, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | first,
                                   PIPE_TYPE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                                   PIPE_UNLIMITED_INSTANCES, PIPE_BUFFER, PIPE_BUFFER, 0, NULL);
    Member *m;
    BOOL ok = FALSE;

    if (pipe == INVALID_HANDLE_VALUE) {
        errMsg("CreateNamedPipeW %s", pipeText);
        return FALSE;
    }
    first = 0;
    m = newMember(FALSE);
    m->handle = pipe;
    if (CreateIoCompletionPort(pipe, port, (ULONG_PTR)m, 0) == NULL)
        errMsg("CreateIoCompletionPort (pipe)");
    else if (ConnectNamedPipe(pipe, &m->reading.overlapped) || GetLastError() == ERROR_IO_PENDING)
        ok = TRUE;
    else if (GetLastError() != ERROR_PIPE_CONNECTED)
        errMsg("ConnectNamedPipe");
    else if (!PostQueuedCompletionStatus(port, 0, (ULONG_PTR)m, &m->reading.overlapped))
        errMsg("PostQueuedCompletionStatus");
    else
        ok = TRUE;
    if (ok)
        m->references++; /* the connect's */
    release(m);          /* the creator's: if nothing is pending, the context goes */
    return ok;
}

/* A new socket, and an AcceptEx that will connect it to the next TCP client. */
static BOOL listenTcp(void)
{
    SOCKET s = socket(listenFamily, SOCK_STREAM, IPPROTO_TCP);
    DWORD bytes;
    Member *m;
    BOOL ok = FALSE;

    if (s == INVALID_SOCKET) {
        errMsgWSA("socket");
        return FALSE;
    }
    m = newMember(TRUE);
    m->handle = (HANDLE)s;
    if (CreateIoCompletionPort(m->handle, port, (ULONG_PTR)m, 0) == NULL)
        errMsg("CreateIoCompletionPort (socket)");
    else if (acceptEx(listener, s, m->in, 0, ADDRESS_BYTES, ADDRESS_BYTES, &bytes,
                      &m->reading.overlapped) ||
             WSAGetLastError() == ERROR_IO_PENDING)
        ok = TRUE;
    else
        errMsgWSA("AcceptEx");
    if (ok)
        m->references++; /* the accept's */
    release(m);
    return ok;
}

/* Writes what is queued: one write in flight at a time, so frames go out in queue order. */
static void startWrite(Member *m)
{
    m->writeInFlight = TRUE;
    if (WriteFile(m->handle, m->out, (DWORD)m->queued, NULL, &m->writing.overlapped) ||
        GetLastError() == ERROR_IO_PENDING) {
        m->references++;
        return;
    }
    m->writeInFlight = FALSE;
    if (!isClosed(GetLastError()))
        errMsg("WriteFile (connection %ld)", m->number);
    m->mustGo = "the connection was closed";
}

/* Puts a frame in m's queue. If it does not fit, m has fallen more than maxQueue behind. Either
 * way a member that must go is only marked: were it to leave now, in the middle of sending an
 * event, its leaving would reach some members before that event and some after. */
static void queueFrame(Member *m, const char *frame, size_t size)
{
    if (m->state != CONNECTED && m->state != IN_ROOM)
        return;
    if (m->queued + size > maxQueue) {
        m->mustGo = tooSlow;
        return;
    }
    memcpy(m->out + m->queued, frame, size);
    m->queued += size;
    if (!m->writeInFlight)
        startWrite(m);
}

static void tell(Member *m, char type, int count, const char *const fields[])
{
    char frame[MS_HEADER + MS_MAX_FRAME];
    size_t size = buildFrame(frame, type, count, fields);

    if (size != 0) /* our own frames always fit: MS_MAX_FRAME leaves room */
        queueFrame(m, frame, size);
}

static void tellOne(Member *m, char type, const char *field)
{
    tell(m, type, 1, &field);
}

/* A room event: numbered, stamped, and queued for every member but except (NULL: all). fields
 * start with two empty ones, for the number and time. Returns the number. */
static long roomEvent(Member *except, char type, int count, const char *fields[], char *time)
{
    char number[16], frame[MS_HEADER + MS_MAX_FRAME];
    size_t size;
    Member *m;

    snprintf(number, sizeof number, "%ld", ++events);
    timeNow(time);
    fields[0] = number;
    fields[1] = time;
    size = buildFrame(frame, type, count, fields);
    for (m = members; m != NULL && size != 0; m = m->next)
        if (m != except && m->state == IN_ROOM)
            queueFrame(m, frame, size);
    return events;
}

static void leaveRoom(Member *m, const char *why)
{
    const char *fields[4]; /* the number, the time: roomEvent's */
    char time[9];
    long number;

    if (m->state != IN_ROOM)
        return;
    fields[2] = m->nick;
    fields[3] = why;
    m->state = CONNECTED;
    inRoom--;
    if (stopping) /* everyone is leaving: each gets its goodbye alone */
        return;
    number = roomEvent(m, MS_LEFT, 4, fields, time);
    say("[#%ld %s] %s left: %s, %ld in the room\n", number, time, m->nick, why, inRoom);
}

/* Ends m's session now: it leaves the room, and its pending I/O is cancelled. */
static void hangUp(Member *m, const char *why)
{
    leaveRoom(m, why);
    if (m->ending[0] == '\0')
        snprintf(m->ending, sizeof m->ending, "%s", why);
    m->state = GONE;
    if (!CancelIoEx(m->handle, NULL) && GetLastError() != ERROR_NOT_FOUND)
        errMsg("CancelIoEx (connection %ld)", m->number);
}

/* Ends m's session politely: its last frame is MS_BYE [why]; then CLOSING (see State). */
static void sayGoodbye(Member *m, const char *why)
{
    leaveRoom(m, why);
    snprintf(m->ending, sizeof m->ending, "%s", why);
    tellOne(m, MS_BYE, why);
    m->state = CLOSING;
}

/* Each member marked by queueFrame or startWrite leaves; their leaving may mark another. */
static void dropMarked(void)
{
    Member *m = members;

    while (m != NULL)
        if (m->mustGo != NULL && m->state != GONE) {
            hangUp(m, m->mustGo);
            m = members; /* from the top again */
        } else {
            m = m->next;
        }
}

static Member *findMember(const char *nick)
{
    Member *m;

    for (m = members; m != NULL; m = m->next)
        if (m->state == IN_ROOM && strcmp(m->nick, nick) == 0)
            return m;
    return NULL;
}

/* A nick fit for the room: NULL, or why not, into why. */
static const char *refuseNick(const char *nick, char *why, size_t size)
{
    char shown[4 * MS_MAX_NICK];
    const char *wrong = checkNick(nick);

    if (wrong == NULL && findMember(nick) == NULL)
        return NULL;
    snprintf(why, size, "nick \"%s\" %s", printable(nick, strlen(nick), shown, sizeof shown),
             wrong != NULL ? wrong : "is taken");
    return why;
}

static int byNick(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* MS_MEMBERS [count, nick...]: in byte order, as many nicks as fit in one frame. */
static void tellMembers(Member *to)
{
    const char *fields[MS_MAX_FIELDS];
    char count[16];
    size_t room = MS_MAX_FRAME - 1 - sizeof count;
    int n = 1;
    Member *m;

    snprintf(count, sizeof count, "%ld", inRoom);
    fields[0] = count;
    for (m = members; m != NULL; m = m->next)
        if (m->state == IN_ROOM && strlen(m->nick) + 1 <= room) {
            fields[n++] = m->nick;
            room -= strlen(m->nick) + 1;
        }
    qsort(fields + 1, (size_t)n - 1, sizeof fields[0], byNick);
    tell(to, MS_MEMBERS, n, fields);
}

static void join(Member *m, const char *nick)
{
    const char *fields[3];
    char why[160], time[9];
    long number;

    if (refuseNick(nick, why, sizeof why) != NULL) {
        say("connection %ld: refused: %s\n", m->number, why);
        tellOne(m, MS_ERROR, why);
        sayGoodbye(m, "refused");
        return;
    }
    snprintf(m->nick, sizeof m->nick, "%s", nick);
    m->state = IN_ROOM;
    inRoom++;
    tellOne(m, MS_WELCOME, nick);
    tellMembers(m);
    fields[2] = nick;
    number = roomEvent(m, MS_JOINED, 3, fields, time);
    say("[#%ld %s] %s joined (connection %ld), %ld in the room\n", number, time, m->nick, m->number,
        inRoom);
}

/* One frame from a member in the room: what the room does with it. */
static void inTheRoom(Member *m, Frame *f)
{
    const char *fields[4], *wrong; /* a room event's: the number and time are roomEvent's */
    char why[160], time[9], shown[2 * MS_MAX_TEXT];
    Member *to;
    long number;

    fields[2] = m->nick;
    fields[3] = f->field[0];

    if (f->type == MS_SAY && (wrong = checkText(f->field[0])) == NULL) {
        number = roomEvent(m, MS_MESSAGE, 4, fields, time);
        say("[#%ld %s] %s: %s\n", number, time, m->nick,
            printable(f->field[0], strlen(f->field[0]), shown, sizeof shown));
    } else if (f->type == MS_SAY) {
        snprintf(why, sizeof why, "your message %s", wrong);
        tellOne(m, MS_ERROR, why);
    } else if (f->type == MS_PRIVATE && (to = findMember(f->field[0])) != NULL &&
               (wrong = checkText(f->field[1])) == NULL) {
        const char *told[3];

        timeNow(time);
        told[0] = time;
        told[1] = m->nick;
        told[2] = f->field[1];
        tell(to, MS_TOLD, 3, told);
        say("%s -> %s: a private message\n", m->nick, to->nick);
    } else if (f->type == MS_PRIVATE) {
        snprintf(why, sizeof why, "%s",
                 to == NULL ? "no member has that nick" : "your message is empty or bad");
        tellOne(m, MS_ERROR, why);
    } else if (f->type == MS_WHO) {
        tellMembers(m);
    } else if (f->type == MS_RENAME && refuseNick(f->field[0], why, sizeof why) != NULL) {
        tellOne(m, MS_ERROR, why);
    } else if (f->type == MS_RENAME) {
        fields[3] = f->field[0];
        number = roomEvent(NULL, MS_RENAMED, 4, fields, time); /* the renamed one too */
        say("[#%ld %s] %s is now %s\n", number, time, m->nick, f->field[0]);
        snprintf(m->nick, sizeof m->nick, "%s", f->field[0]);
    } else if (f->type == MS_QUIT) {
        leaveRoom(m, "quit");
        sayGoodbye(m, "you left the room");
    } else { /* a second MS_HELLO */
        hangUp(m, "it sent HELLO twice");
    }
}

/* The frames in m->in, whole ones, one by one; the rest waits for the next read. */
static void takeFrames(Member *m)
{
    static Frame f; /* big: off the stack; the lock is held */
    char why[80];
    size_t at = 0;
    DWORD length;
    const char *wrong;

    while (m->state == CONNECTED || m->state == IN_ROOM) {
        if (m->inLength - at < MS_HEADER)
            break;
        length = frameLength((unsigned char *)m->in + at);
        if (length == 0) {
            hangUp(m, "it sent a frame length of 0 or over 2048 bytes");
            return;
        }
        if (m->inLength - at < MS_HEADER + length)
            break;
        wrong = parseFrame(m->in + at + MS_HEADER, length, FALSE, &f);
        at += MS_HEADER + length;
        if (wrong != NULL) {
            snprintf(why, sizeof why, "it sent %s", wrong);
            hangUp(m, why);
        } else if (m->state == CONNECTED && f.type != MS_HELLO)
            hangUp(m, "its first frame was not HELLO");
        else if (m->state == CONNECTED)
            join(m, f.field[0]);
        else
            inTheRoom(m, &f);
    }
    memmove(m->in, m->in + at, m->inLength - at);
    m->inLength -= at;
}

/* A read that ended the connection: error is 0 when the client closed its end. */
static void readEnded(Member *m, DWORD error)
{
    if (error == ERROR_OPERATION_ABORTED) {
        /* cancelled: whoever cancelled it said why */
    } else if (error != 0 && !isClosed(error)) {
        errMsgCode(error, "ReadFile (connection %ld)", m->number);
        hangUp(m, "a read failed");
    } else if (m->state == CLOSING) {
        hangUp(m, m->ending);
    } else {
        hangUp(m, m->inLength != 0 ? "the connection was closed in the middle of a frame"
                                   : "the connection was closed");
    }
}

static void startRead(Member *m)
{
    if (ReadFile(m->handle, m->in + m->inLength, (DWORD)(IN_BYTES - m->inLength), NULL,
                 &m->reading.overlapped) ||
        GetLastError() == ERROR_IO_PENDING)
        m->references++;
    else
        readEnded(m, GetLastError());
}

/* A client came: start another wait in its place, then greet it with a read. */
static void onConnected(Member *m, DWORD error)
{
    SOCKADDR_STORAGE peer;
    int length = (int)sizeof peer;
    char host[NI_MAXHOST], service[NI_MAXSERV];
    BOOL noDelay = TRUE;

    if (stopping || error == ERROR_OPERATION_ABORTED)
        return;
    if (m->isSocket)
        listenTcp(); /* in its place; a failure is reported, and the others still wait */
    else
        listenPipe();
    if (isClosed(error))
        return; /* a client that came and went before we could accept it */
    if (error != 0) {
        errMsgCode(error, "%s", m->isSocket ? "AcceptEx" : "ConnectNamedPipe");
        return;
    }
    m->number = ++connections;
    m->state = CONNECTED;
    m->out = HeapAlloc(GetProcessHeap(), 0, maxQueue);
    if (m->out == NULL)
        fatal("HeapAlloc: no memory for a queue");
    if (!m->isSocket) {
        say("connection %ld: pipe\n", m->number);
        startRead(m);
        return;
    }
    /* The accepted socket takes on the listener's properties, which getpeername needs. A chat
     * sends small frames, often with one still on its way: Nagle's algorithm would hold each
     * back until the last is acknowledged -- a delayed ACK away. */
    if (setsockopt((SOCKET)m->handle, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (const char *)&listener,
                   (int)sizeof listener) == SOCKET_ERROR)
        errMsgWSA("setsockopt SO_UPDATE_ACCEPT_CONTEXT");
    else if (setsockopt((SOCKET)m->handle, IPPROTO_TCP, TCP_NODELAY, (const char *)&noDelay,
                        (int)sizeof noDelay) == SOCKET_ERROR)
        errMsgWSA("setsockopt TCP_NODELAY");
    else if (getpeername((SOCKET)m->handle, (struct sockaddr *)&peer, &length) == SOCKET_ERROR)
        errMsgWSA("getpeername");
    else if ((error = (DWORD)getnameinfo((struct sockaddr *)&peer, length, host, sizeof host,
                                         service, sizeof service,
                                         NI_NUMERICHOST | NI_NUMERICSERV)) != 0)
        errMsgCode(error, "getnameinfo");
    else
        say(peer.ss_family == AF_INET6 ? "connection %ld: TCP from [%s]:%s\n"
                                       : "connection %ld: TCP from %s:%s\n",
            m->number, host, service);
    startRead(m);
}

static void onRead(Member *m, DWORD bytes, DWORD error)
{
    if (error != 0 || bytes == 0) {
        readEnded(m, error);
    } else if (m->state == CLOSING) {
        m->inLength = 0; /* after the goodbye: dropped */
        startRead(m);
    } else {
        m->inLength += bytes;
        takeFrames(m);
        if (m->state == CONNECTED || m->state == IN_ROOM)
            startRead(m);
    }
}

static void onWritten(Member *m, DWORD bytes, DWORD error)
{
    m->writeInFlight = FALSE;
    if (error == ERROR_OPERATION_ABORTED)
        return;
    if (error != 0) {
        if (error != ERROR_NO_DATA && error != ERROR_BROKEN_PIPE && error != ERROR_NETNAME_DELETED)
            errMsgCode(error, "WriteFile (connection %ld)", m->number);
        hangUp(m, "the connection was closed");
        return;
    }
    memmove(m->out, m->out + bytes, m->queued - bytes);
    m->queued -= bytes;
    if (m->queued != 0)
        startWrite(m);
    else if (m->state == CLOSING && m->isSocket &&
             shutdown((SOCKET)m->handle, SD_SEND) == SOCKET_ERROR) /* our FIN after the BYE */
        errMsgWSA("shutdown (connection %ld)", m->number);
}

static DWORD WINAPI worker(LPVOID unused)
{
    OVERLAPPED *overlapped;
    ULONG_PTR key;
    DWORD bytes, error;
    Operation *op;
    Member *m;
    BOOL ok;

    (void)unused;
    for (;;) {
        ok = GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE);
        if (overlapped == NULL && !ok)
            errExit("GetQueuedCompletionStatus");
        if (overlapped == NULL) /* stop()'s wake-up */
            return 0;
        error = ok ? 0 : GetLastError();
        op = CONTAINING_RECORD(overlapped, Operation, overlapped);
        m = op->member; /* the key says the same; the OVERLAPPED also says which operation */
        EnterCriticalSection(&roomLock);
        if (op == &m->writing)
            onWritten(m, bytes, error);
        else if (m->state == WAITING)
            onConnected(m, error);
        else
            onRead(m, bytes, error);
        dropMarked();
        LeaveCriticalSection(&roomLock);
        release(m); /* the finished operation's */
    }
}

static HANDLE stopEvent;

static BOOL WINAPI onControl(DWORD event) /* the only safe thing here: wake main */
{
    return (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT) && SetEvent(stopEvent);
}

/* Listens on host's first address, starts the workers, and puts LISTENING pipe instances and
 * LISTENING accepts on the port. */
static void start(const char *host, const char *service, HANDLE threads[], long threadCount)
{
    ADDRINFOA hints = {.ai_socktype = SOCK_STREAM}, *found; /* AF_UNSPEC: IPv4 or IPv6 */
    GUID acceptExId = WSAID_ACCEPTEX;
    SOCKADDR_STORAGE bound;
    int length = (int)sizeof bound, error, i;
    char address[NI_MAXHOST], portText[NI_MAXSERV];
    BOOL exclusive = TRUE;
    DWORD bytes;
    WSADATA wsa;

    error = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (error != 0)
        errExitCode((DWORD)error, "WSAStartup");
    port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, (DWORD)threadCount);
    if (port == NULL)
        errExit("CreateIoCompletionPort");
    error = getaddrinfo(host, service, &hints, &found);
    if (error != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);
    listenFamily = found->ai_family;
    listener = socket(listenFamily, SOCK_STREAM, IPPROTO_TCP);
    if (listener == INVALID_SOCKET)
        errExitWSA("socket");
    if (setsockopt(listener, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&exclusive,
                   (int)sizeof exclusive) == SOCKET_ERROR)
        errExitWSA("setsockopt SO_EXCLUSIVEADDRUSE");
    if (bind(listener, found->ai_addr, (int)found->ai_addrlen) == SOCKET_ERROR)
        errExitWSA("bind %s port %s", host, service);
    if (listen(listener, SOMAXCONN) == SOCKET_ERROR)
        errExitWSA("listen");
    freeaddrinfo(found);
    if (getsockname(listener, (struct sockaddr *)&bound, &length) == SOCKET_ERROR)
        errExitWSA("getsockname");
    error = getnameinfo((struct sockaddr *)&bound, length, address, sizeof address, portText,
                        sizeof portText, NI_NUMERICHOST | NI_NUMERICSERV);
    if (error != 0)
        errExitCode((DWORD)error, "getnameinfo");
    /* AcceptEx completes on the listener's port; each accepted socket is then a handle of its own. */
    if (CreateIoCompletionPort((HANDLE)listener, port, 0, 0) == NULL)
        errExit("CreateIoCompletionPort (listener)");
    if (WSAIoctl(listener, SIO_GET_EXTENSION_FUNCTION_POINTER, &acceptExId, sizeof acceptExId,
                 &acceptEx, sizeof acceptEx, &bytes, NULL, NULL) == SOCKET_ERROR)
        errExitWSA("WSAIoctl SIO_GET_EXTENSION_FUNCTION_POINTER");
    for (i = 0; i < threadCount; i++) {
        threads[i] = CreateThread(NULL, 0, worker, NULL, 0, NULL);
        if (threads[i] == NULL)
            errExit("CreateThread");
    }
    EnterCriticalSection(&roomLock);
    for (i = 0; i < LISTENING; i++)
        if (!listenPipe() || !listenTcp())
            exit(1); /* each said why */
    LeaveCriticalSection(&roomLock);
    say(listenFamily == AF_INET6 ? "messenger_server: listening on %s and [%s]:%s, %ld worker "
                                   "threads\n"
                                 : "messenger_server: listening on %s and %s:%s, %ld worker "
                                   "threads\n",
        pipeText, address, portText, threadCount);
}

/* Every member gets its goodbye; pending connects and accepts are cancelled. Members that take
 * theirs and close free their contexts; after STOP_GRACE_MS the rest are cancelled. When no
 * context is left, nothing is in flight: wake the workers with an empty packet, and join them. */
static void stop(HANDLE threads[], long threadCount)
{
    Member *m;
    long t;

    EnterCriticalSection(&roomLock);
    stopping = TRUE;
    say("messenger_server: Ctrl-C, stopping: telling %ld members\n", inRoom);
    for (m = members; m != NULL; m = m->next)
        if (m->state == CONNECTED || m->state == IN_ROOM)
            sayGoodbye(m, "the server is stopping");
        else if (m->state == WAITING && !m->isSocket)
            hangUp(m, "the server is stopping");
    dropMarked();
    LeaveCriticalSection(&roomLock);
    if (closesocket(listener) == SOCKET_ERROR) /* which ends its pending AcceptEx calls */
        errMsgWSA("closesocket (listener)");
    if (WaitForSingleObject(allGone, STOP_GRACE_MS) == WAIT_TIMEOUT) {
        EnterCriticalSection(&roomLock);
        for (m = members; m != NULL; m = m->next)
            if (m->state != GONE)
                hangUp(m, "it did not close after its goodbye");
        LeaveCriticalSection(&roomLock);
    }
    if (WaitForSingleObject(allGone, STOP_WAIT_MS) != WAIT_OBJECT_0)
        fatal("%ld contexts still have I/O in flight after %d s", contexts, STOP_WAIT_MS / 1000);
    for (t = 0; t < threadCount; t++)
        if (!PostQueuedCompletionStatus(port, 0, 0, NULL))
            errExit("PostQueuedCompletionStatus");
    if (WaitForMultipleObjects((DWORD)threadCount, threads, TRUE, INFINITE) == WAIT_FAILED)
        errExit("WaitForMultipleObjects");
    for (t = 0; t < threadCount; t++)
        if (!CloseHandle(threads[t]))
            errExit("CloseHandle (worker thread)");
    if (!CloseHandle(port))
        errExit("CloseHandle (port)");
    if (WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
}

int main(int argc, char *argv[])
{
    const char *host = MS_DEFAULT_HOST, *pipe = MS_DEFAULT_PIPE;
    char service[8] = MS_DEFAULT_PORT;
    HANDLE threads[MAXIMUM_WAIT_OBJECTS];
    long threadCount = 2;
    int i;

    initProgram(&argc, &argv, usage);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--pipe") == 0)
            pipe = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--host") == 0)
            host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--port") == 0)
            snprintf(service, sizeof service, "%ld",
                     getNumber(optionValue(argc, argv, &i), 0, 65535, "--port"));
        else if (strcmp(argv[i], "--threads") == 0)
            threadCount = getNumber(optionValue(argc, argv, &i), 1, MAXIMUM_WAIT_OBJECTS,
                                    "--threads");
        else if (strcmp(argv[i], "--max-queue") == 0)
            maxQueue = (size_t)getNumber(optionValue(argc, argv, &i), 2 * IN_BYTES, 1L << 30,
                                         "--max-queue");
        else
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    if (strlen(pipe) > MS_MAX_PIPE_NAME)
        usageErr("--pipe: a name of at most %d bytes", MS_MAX_PIPE_NAME);
    snprintf(tooSlow, sizeof tooSlow, "it fell more than %lu bytes behind",
             (unsigned long)maxQueue);
    snprintf(pipeText, sizeof pipeText, "\\\\.\\pipe\\%s", pipe);
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, pipeText, -1, pipeName,
                            sizeof pipeName / sizeof pipeName[0]) == 0)
        errExit("MultiByteToWideChar");
    stopEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (stopEvent == NULL)
        errExit("CreateEventW");
    allGone = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (allGone == NULL)
        errExit("CreateEventW");
    if (!SetConsoleCtrlHandler(onControl, TRUE))
        errExit("SetConsoleCtrlHandler");
    InitializeCriticalSection(&roomLock);

    start(host, service, threads, threadCount); /* from here on, the workers serve */
    if (WaitForSingleObject(stopEvent, INFINITE) != WAIT_OBJECT_0)
        errExit("WaitForSingleObject");
    stop(threads, threadCount);

    DeleteCriticalSection(&roomLock);
    if (!CloseHandle(stopEvent))
        errExit("CloseHandle (stop event)");
    if (!CloseHandle(allGone))
        errExit("CloseHandle (all-gone event)");
    say("messenger_server: stopped, %ld connections served, all contexts freed\n", connections);
    return 0;
}
