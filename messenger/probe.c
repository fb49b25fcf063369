/* probe.c -- messenger_probe: test-only. Not a lab program, and nothing a
 * student needs to read: the members nobody would write -- a crowd, a flood,
 * a member that never reads, garbage -- to show that messenger_server keeps
 * the promises of messenger.h through them. The messenger's reliability tests
 * run it; each mode prints what it saw, or "MODE: FAIL: ..." and exits 1.
 *
 * Usage: messenger_probe MODE [--pipe NAME] [--host ADDR] [--port N] [OPTION...]
 * A member connects to \\.\pipe\NAME or to ADDR:N (default 127.0.0.1), as
 * messenger_client does.
 *   crowd --members N --room R --messages M --tag T        (--pipe and --port)
 *       N members, T01 to TN, alternately over the pipe and TCP. Each waits
 *       for a room of R (other probes bring the rest), says M messages, one
 *       round at a time, and must receive the M of every other member, once,
 *       never its own, in the room's one order: every member of ours that
 *       sees event #K sees the same one. Prints a digest of that order, to
 *       compare with the other probes'.
 *   stall --memory-limit KIB [--server-pid PID]            (--pipe or --port)
 *       "staller" joins and never reads; "flooder" says 1000-byte messages,
 *       no faster than "witness" reads them, until the room hears that
 *       staller was disconnected; the witness must receive every one, in
 *       order. With PID, the server's private bytes meanwhile must grow by
 *       at most KIB.
 *   oversize   a frame header over MS_MAX_FRAME: the server must hang up.
 *   truncated  10 bytes of a 100-byte frame, then our end closes.
 *   nicks --nick NICK                                      (--pipe and --port)
 *       NICK joins over the pipe; a second NICK over TCP must be refused (a
 *       second client could not know when to ask), and so must nicks no
 *       client sends: empty (CMake drops an empty argument), not UTF-8, a tab.
 *   fuzz --inputs N [--seed S]                             (--pipe and --port)
 *       N random frames, valid and not, on a new connection every 1 to 50;
 *       the server must hang up on each one that sent garbage, and keep
 *       serving a member who stays in the room throughout.
 * A probe that stops making progress for 40 s ends with FAIL and its step.
 * Exit status 0: the server held; 1: it did not (or a call failed); 2: usage.
 */
#include "messenger.h"
#include "testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCHDOG_MS 40000         /* a step this long is stuck */
#define IN_BYTES 16384            /* one read takes many frames */
#define CLOSE_WAIT_MS 10000       /* the server hangs up within this, when it must */
#define THREAD_STACK (256 * 1024) /* a member's thread: a Link, a Frame */
#define SHOWN 200                 /* untrusted text, as printed */
#define STALL_MAX_MESSAGES 200000 /* socket buffers may take a few MB; then the queue */
#define STALL_TEXT 1000           /* bytes in a flood message */
#define STALL_LOOK_EVERY 10       /* flood messages between looks at the server's memory */

static const char usage[] =
    "Usage: messenger_probe MODE [--pipe NAME] [--host ADDR] [--port N] [OPTION...]\n"
    "  crowd --members N --room R --messages M --tag T   (needs --pipe and --port)\n"
    "  stall --memory-limit KIB [--server-pid PID]       (--pipe or --port)\n"
    "  oversize                                          (--pipe or --port)\n"
    "  truncated                                         (--pipe or --port)\n"
    "  nicks --nick NICK                                 (needs --pipe and --port)\n"
    "  fuzz --inputs N [--seed S]                        (needs --pipe and --port)\n"
    "Test-only: see the top of messenger/probe.c.\n";

/* Where the server is, and the mode for FAIL lines: set by main before any thread. */
static wchar_t pipePath[MS_MAX_PIPE_NAME + 10];
static char pipeText[MS_MAX_PIPE_NAME + 10];
static const char *host = MS_DEFAULT_HOST, *mode;
static char port[8];
static struct addrinfo *server;

enum { GOT_FRAME, ENDED, TIMED_OUT }; /* what nextFrame() found */

/* One connection to the server. The pipe is opened for overlapped I/O, each
 * direction waiting on its own event: on a synchronous handle Windows makes a
 * WriteFile wait for another thread's ReadFile. stop (pipe) ends a read. */
typedef struct {
    BOOL overPipe;
    HANDLE pipe, readDone, writeDone, stop;
    SOCKET socket;
    size_t start, used; /* in[start, used): received, not yet taken as frames */
    char in[IN_BYTES];
} Link;

/* A connection read by a thread of its own until the server says MS_BYE or
 * hangs up: the thread's handle is signalled then. */
typedef struct {
    Link link;
    HANDLE thread;
    char bye[SHOWN]; /* MS_BYE's reason; "" if none came */
} Peer;

static const char *show(const char *text, char *out) /* out: SHOWN bytes */
{
    return printable(text, strlen(text), out, SHOWN);
}

static BOOL peerIsGone(DWORD error)
{
    return error == ERROR_BROKEN_PIPE || error == ERROR_NO_DATA ||
           error == ERROR_PIPE_NOT_CONNECTED || error == WSAECONNRESET || error == WSAECONNABORTED;
}

/* Whether h is signalled within waitMs. */
static BOOL signalled(HANDLE h, DWORD waitMs)
{
    DWORD result = WaitForSingleObject(h, waitMs);

    if (result == WAIT_FAILED)
        errExit("WaitForSingleObject");
    return result == WAIT_OBJECT_0;
}

static HANDLE newEvent(void)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);

    if (event == NULL)
        errExit("CreateEventW");
    return event;
}

static HANDLE startThread(LPTHREAD_START_ROUTINE routine, void *param)
{
    HANDLE thread = CreateThread(NULL, THREAD_STACK, routine, param,
                                 STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);

    if (thread == NULL)
        errExit("CreateThread");
    return thread;
}

static void closeHandle(HANDLE h)
{
    if (!CloseHandle(h))
        errExit("CloseHandle");
}

static void openLink(Link *l, BOOL overPipe)
{
    ULONGLONG deadline = GetTickCount64() + MS_CONNECT_WAIT_MS;
    BOOL on = TRUE;

    progress("connecting", -1);
    l->overPipe = overPipe;
    l->start = l->used = 0;
    if (!overPipe) {
        l->socket = socket(server->ai_family, server->ai_socktype, server->ai_protocol);
        if (l->socket == INVALID_SOCKET)
            errExitWSA("socket");
        if (connect(l->socket, server->ai_addr, (int)server->ai_addrlen) == SOCKET_ERROR)
            errExitWSA("connect %s:%s", host, port);
        /* A frame goes in one send; Nagle would hold the next back for an ACK. */
        if (setsockopt(l->socket, IPPROTO_TCP, TCP_NODELAY, (const char *)&on, (int)sizeof on) ==
            SOCKET_ERROR)
            errExitWSA("setsockopt TCP_NODELAY");
        return;
    }
    for (;;) {
        l->pipe = CreateFileW(pipePath, GENERIC_READ | FILE_WRITE_DATA, 0, NULL, OPEN_EXISTING,
                              FILE_FLAG_OVERLAPPED, NULL);
        if (l->pipe != INVALID_HANDLE_VALUE)
            break;
        if (GetLastError() != ERROR_PIPE_BUSY)
            errExit("CreateFileW %s", pipeText);
        if (GetTickCount64() >= deadline) /* every instance taken, and none freed */
            fatal("%s: FAIL: %s stayed busy for %d s", mode, pipeText, MS_CONNECT_WAIT_MS / 1000);
        if (!WaitNamedPipeW(pipePath, (DWORD)(deadline - GetTickCount64())) &&
            GetLastError() != ERROR_SEM_TIMEOUT && GetLastError() != ERROR_FILE_NOT_FOUND)
            errExit("WaitNamedPipeW %s", pipeText);
    }
    l->readDone = newEvent();
    l->writeDone = newEvent();
    l->stop = newEvent();
}

static void closeLink(Link *l)
{
    if (!l->overPipe) {
        if (closesocket(l->socket) == SOCKET_ERROR)
            errExitWSA("closesocket");
        return;
    }
    closeHandle(l->pipe);
    closeHandle(l->readDone);
    closeHandle(l->writeDone);
    closeHandle(l->stop);
}

/* Sends every byte; FALSE if the server has hung up. */
static BOOL sendBytes(Link *l, const char *data, size_t length)
{
    OVERLAPPED write;
    DWORD n;
    int sent;

    progress("sending", -1);
    if (!l->overPipe) {
        for (; length > 0; data += sent, length -= (size_t)sent) {
            sent = send(l->socket, data, (int)length, 0);
            if (sent == SOCKET_ERROR && peerIsGone((DWORD)WSAGetLastError()))
                return FALSE;
            if (sent == SOCKET_ERROR)
                errExitWSA("send");
        }
        return TRUE;
    }
    ZeroMemory(&write, sizeof write);
    write.hEvent = l->writeDone;
    if (!WriteFile(l->pipe, data, (DWORD)length, NULL, &write) &&
        GetLastError() != ERROR_IO_PENDING) {
        if (peerIsGone(GetLastError()))
            return FALSE;
        errExit("WriteFile");
    }
    if (!GetOverlappedResult(l->pipe, &write, &n, TRUE)) {
        if (peerIsGone(GetLastError()))
            return FALSE;
        errExit("GetOverlappedResult (WriteFile)");
    }
    if (n != length)
        fatal("WriteFile wrote %lu of %lu bytes", n, (unsigned long)length);
    return TRUE;
}

static BOOL sendFrame(Link *l, char type, int count, const char *const fields[])
{
    char frame[MS_HEADER + MS_MAX_FRAME];
    size_t size = buildFrame(frame, type, count, fields);

    if (size == 0)
        fatal("buildFrame: the fields of a '%c' frame do not fit", type);
    return sendBytes(l, frame, size);
}

/* Reads what has come into in[used...]: how many bytes; 0 when the server
 * hung up (or the pipe's stop event ended the read); -1 after waitMs of nothing. */
static long receiveBytes(Link *l, DWORD waitMs)
{
    DWORD room = (DWORD)(sizeof l->in - l->used), n;
    HANDLE events[2];
    OVERLAPPED read;
    WSAPOLLFD poll = {0};
    long why = 0; /* to return if the read is cancelled: -1 timed out, 0 stopped */
    int got;

    if (!l->overPipe) {
        poll.fd = l->socket;
        poll.events = POLLRDNORM;
        if (waitMs != INFINITE && (got = WSAPoll(&poll, 1, (INT)waitMs)) <= 0) {
            if (got == SOCKET_ERROR)
                errExitWSA("WSAPoll");
            return -1;
        }
        got = recv(l->socket, l->in + l->used, (int)room, 0);
        if (got == SOCKET_ERROR && peerIsGone((DWORD)WSAGetLastError()))
            return 0;
        if (got == SOCKET_ERROR)
            errExitWSA("recv");
        return got;
    }
    if (signalled(l->stop, 0))
        return 0;
    ZeroMemory(&read, sizeof read);
    read.hEvent = l->readDone;
    if (!ReadFile(l->pipe, l->in + l->used, room, NULL, &read)) {
        if (peerIsGone(GetLastError()))
            return 0;
        if (GetLastError() != ERROR_IO_PENDING)
            errExit("ReadFile");
        events[0] = l->readDone;
        events[1] = l->stop;
        switch (WaitForMultipleObjects(2, events, FALSE, waitMs)) {
        case WAIT_OBJECT_0: break;
        case WAIT_TIMEOUT: why = -1; /* fall through */
        case WAIT_OBJECT_0 + 1:
            if (!CancelIoEx(l->pipe, &read) && GetLastError() != ERROR_NOT_FOUND)
                errExit("CancelIoEx");
            break;
        default: errExit("WaitForMultipleObjects");
        }
    }
    if (!GetOverlappedResult(l->pipe, &read, &n, TRUE)) { /* a cancelled read ends too */
        if (GetLastError() == ERROR_OPERATION_ABORTED)
            return why;
        if (peerIsGone(GetLastError()))
            return 0;
        errExit("GetOverlappedResult (ReadFile)");
    }
    return (long)n;
}

/* The next frame from the server into f. A frame that breaks messenger.h's
 * rules is the server's failure. */
static int nextFrame(Link *l, Frame *f, DWORD waitMs)
{
    size_t have;
    DWORD length;
    const char *wrong;
    long n;

    for (;;) {
        have = l->used - l->start;
        length = have >= MS_HEADER ? frameLength((unsigned char *)l->in + l->start) : 0;
        if (have >= MS_HEADER && length == 0)
            fatal("%s: FAIL: the server sent a frame length of 0 or over %d", mode, MS_MAX_FRAME);
        if (length != 0 && have >= MS_HEADER + length) {
            wrong = parseFrame(l->in + l->start + MS_HEADER, length, TRUE, f);
            if (wrong != NULL)
                fatal("%s: FAIL: the server sent %s", mode, wrong);
            l->start += MS_HEADER + length;
            return GOT_FRAME;
        }
        memmove(l->in, l->in + l->start, have);
        l->start = 0;
        l->used = have;
        n = receiveBytes(l, waitMs);
        if (n <= 0)
            return n == 0 ? ENDED : TIMED_OUT;
        l->used += (size_t)n;
    }
}

/* MS_HELLO as nick, then MS_WELCOME and MS_MEMBERS: how many are in the room. */
static long join(Link *l, const char *nick, Frame *f)
{
    char shown[SHOWN];

    if (!sendFrame(l, MS_HELLO, 1, &nick))
        fatal("%s: FAIL: the server hung up on %s's MS_HELLO", mode, nick);
    progress("waiting for MS_WELCOME", -1);
    if (nextFrame(l, f, INFINITE) != GOT_FRAME)
        fatal("%s: FAIL: the server hung up on %s before MS_WELCOME", mode, nick);
    if (f->type == MS_ERROR)
        fatal("%s: FAIL: %s was refused: %s", mode, nick, show(f->field[0], shown));
    if (f->type != MS_WELCOME || strcmp(f->field[0], nick) != 0)
        fatal("%s: FAIL: %s's MS_HELLO was answered with '%c', not MS_WELCOME", mode, nick,
              f->type);
    if (nextFrame(l, f, INFINITE) != GOT_FRAME || f->type != MS_MEMBERS)
        fatal("%s: FAIL: no MS_MEMBERS after %s's MS_WELCOME", mode, nick);
    return strtol(f->field[0], NULL, 10);
}

/* Reads l until the room says nick has joined. */
static void awaitJoin(Link *l, const char *nick, Frame *f)
{
    do {
        progress("waiting for a member to join", -1);
        if (nextFrame(l, f, INFINITE) != GOT_FRAME)
            fatal("%s: FAIL: the server hung up while %s joined", mode, nick);
    } while (f->type != MS_JOINED || strcmp(f->field[2], nick) != 0);
}

static DWORD WINAPI drain(LPVOID param)
{
    Peer *p = param;
    Frame f;

    p->bye[0] = '\0';
    while (nextFrame(&p->link, &f, INFINITE) == GOT_FRAME) {
        progress("draining", -1);
        if (f.type == MS_BYE) { /* the server closes after, or waits for us to */
            show(f.field[0], p->bye);
            break;
        }
    }
    return 0;
}

/* Ends p's connection. If the server has not hung up already, our end
 * closes -- TCP: our FIN, which the server must answer by closing -- and the
 * reader stops. TRUE if the server hung up first. */
static BOOL hangUp(Peer *p)
{
    BOOL serverFirst = signalled(p->thread, 0);

    if (!serverFirst && p->link.overPipe && !SetEvent(p->link.stop))
        errExit("SetEvent");
    if (!serverFirst && !p->link.overPipe && shutdown(p->link.socket, SD_SEND) == SOCKET_ERROR &&
        !peerIsGone((DWORD)WSAGetLastError()))
        errExitWSA("shutdown");
    if (!signalled(p->thread, CLOSE_WAIT_MS))
        fatal("%s: FAIL: the server kept a connection open %d s after our end closed", mode,
              CLOSE_WAIT_MS / 1000);
    closeHandle(p->thread);
    closeLink(&p->link);
    return serverFirst;
}

/* ---- crowd ------------------------------------------------------------ */

typedef struct {
    unsigned long number; /* the event's; 0: a free slot */
    char nick[MS_MAX_NICK + 1];
    char text[MS_MAX_NICK + 24]; /* "NICK message K" */
} Seen;

typedef struct {
    long members, room, messages;
    CRITICAL_SECTION lock; /* over seen and taken */
    Seen *seen;            /* open addressing, by number */
    size_t size, taken;
} Crowd;

typedef struct {
    char nick[MS_MAX_NICK + 1];
    long next; /* the K its next message must say */
} Sender;

typedef struct {
    Crowd *crowd;
    BOOL overPipe;
    char nick[MS_MAX_NICK + 1];
    long inRoom, received, senders;
    unsigned long last; /* the last event's number */
    Sender *from;       /* room - 1 of them */
} Member;

/* Message number as a member of ours saw it: every other member of ours must see the same. */
static void record(Crowd *c, const Member *m, unsigned long number, const char *nick,
                   const char *text)
{
    size_t i;
    Seen *s;

    EnterCriticalSection(&c->lock);
    for (i = number & (c->size - 1); c->seen[i].number != 0 && c->seen[i].number != number;)
        i = (i + 1) & (c->size - 1);
    s = &c->seen[i];
    if (s->number == 0) {
        if (++c->taken > c->size / 2)
            fatal("crowd: FAIL: over %lu different messages", (unsigned long)(c->size / 2));
        s->number = number;
        snprintf(s->nick, sizeof s->nick, "%s", nick);
        snprintf(s->text, sizeof s->text, "%s", text);
    } else if (strcmp(s->nick, nick) != 0 || strcmp(s->text, text) != 0) {
        /* (both passed crowdEvent's check of the text: printable as they are) */
        fatal("crowd: FAIL: %s got #%lu as %s: \"%s\"; another member as %s: \"%s\"", m->nick,
              number, nick, text, s->nick, s->text);
    }
    LeaveCriticalSection(&c->lock);
}

/* One frame to member m: checked, counted, and recorded. */
static void crowdEvent(Member *m, const Frame *f, BOOL quitting)
{
    Crowd *c = m->crowd;
    char shown[SHOWN], shownNick[SHOWN], expected[MS_MAX_NICK + 24];
    const char *nick = f->field[2], *text = f->field[3];
    unsigned long number;
    long i;

    if (f->type == MS_ERROR)
        fatal("crowd: FAIL: %s was refused: %s", m->nick, show(f->field[0], shown));
    if (f->type == MS_BYE && !quitting)
        fatal("crowd: FAIL: the server said goodbye to %s after %ld messages: %s", m->nick,
              m->received, show(f->field[0], shown));
    if (f->type != MS_JOINED && f->type != MS_LEFT && f->type != MS_MESSAGE &&
        f->type != MS_RENAMED)
        return; /* not a room event */
    number = strtoul(f->field[0], NULL, 10);
    if (strspn(f->field[0], "0123456789") != strlen(f->field[0]) || strlen(f->field[0]) > 9 ||
        number <= m->last)
        fatal("crowd: FAIL: %s got event #%s after #%lu", m->nick, show(f->field[0], shown),
              m->last);
    m->last = number;
    if (f->type == MS_JOINED && strcmp(nick, m->nick) != 0)
        m->inRoom++;
    if (f->type == MS_LEFT)
        m->inRoom--;
    if (f->type != MS_MESSAGE)
        return;
    if (strcmp(nick, m->nick) == 0)
        fatal("crowd: FAIL: %s got its own message #%lu back", m->nick, number);
    if (quitting)
        fatal("crowd: FAIL: %s got message #%lu after all of its %ld", m->nick, number,
              m->received);
    for (i = 0; i < m->senders && strcmp(m->from[i].nick, nick) != 0; i++)
        continue;
    if (i == m->senders && (m->senders == c->room - 1 || strlen(nick) > MS_MAX_NICK))
        fatal("crowd: FAIL: %s got #%lu from one member too many, %s", m->nick, number,
              show(nick, shown));
    if (i == m->senders) {
        snprintf(m->from[i].nick, sizeof m->from[i].nick, "%s", nick);
        m->from[i].next = 1;
        m->senders++;
    }
    snprintf(expected, sizeof expected, "%s message %ld", nick, m->from[i].next);
    if (m->from[i].next > c->messages || strcmp(text, expected) != 0)
        fatal("crowd: FAIL: %s got #%lu from %s, \"%s\": message %ld was due, of %ld", m->nick,
              number, show(nick, shownNick), show(text, shown), m->from[i].next, c->messages);
    m->from[i].next++;
    m->received++;
    record(c, m, number, nick, text);
}

static DWORD WINAPI crowdMember(LPVOID param)
{
    Member *m = param;
    Crowd *c = m->crowd;
    long wanted = (c->room - 1) * c->messages, k;
    char text[MS_MAX_NICK + 24];
    const char *fields[1];
    Link l;
    Frame f;

    fields[0] = text;
    openLink(&l, m->overPipe);
    m->inRoom = join(&l, m->nick, &f);
    while (m->inRoom < c->room) {
        progress("crowd: waiting for the room to fill", -1);
        if (nextFrame(&l, &f, INFINITE) != GOT_FRAME)
            fatal("crowd: FAIL: the server hung up on %s while the room filled", m->nick);
        crowdEvent(m, &f, FALSE);
    }
    /* Message k once round k - 1 is in from everyone else: no member is then more than a
     * round ahead of another, so no queue holds more than two rounds (a burst of all R * M
     * messages at once would be over 64 KiB for each member, past MS_DEFAULT_QUEUE). */
    for (k = 1; k <= c->messages || m->received < wanted;) {
        if (k <= c->messages && m->received >= (k - 1) * (c->room - 1)) {
            snprintf(text, sizeof text, "%s message %ld", m->nick, k++);
            if (!sendFrame(&l, MS_SAY, 1, fields))
                fatal("crowd: FAIL: the server hung up on %s as it spoke", m->nick);
            continue;
        }
        progress("crowd: receiving messages", -1);
        if (nextFrame(&l, &f, INFINITE) != GOT_FRAME)
            fatal("crowd: FAIL: the server hung up on %s after %ld of %ld messages", m->nick,
                  m->received, wanted);
        crowdEvent(m, &f, FALSE);
    }
    if (!sendFrame(&l, MS_QUIT, 0, NULL))
        fatal("crowd: FAIL: the server hung up on %s's MS_QUIT", m->nick);
    for (;;) { /* until MS_BYE: then the server waits for our end to close */
        progress("crowd: waiting for MS_BYE", -1);
        if (nextFrame(&l, &f, INFINITE) != GOT_FRAME)
            break;
        crowdEvent(m, &f, TRUE);
        if (f.type == MS_BYE)
            break;
    }
    closeLink(&l);
    return 0;
}

static int byNumber(const void *a, const void *b)
{
    unsigned long x = ((const Seen *)a)->number, y = ((const Seen *)b)->number;

    return (x > y) - (x < y);
}

/* FNV-1a, 32 bits, over length bytes. */
static DWORD fnv1a(DWORD hash, const char *bytes, size_t length)
{
    size_t i;

    for (i = 0; i < length; i++)
        hash = (hash ^ (unsigned char)bytes[i]) * 16777619u;
    return hash;
}

static void crowd(long members, long room, long messages, const char *tag)
{
    Crowd c;
    HANDLE heap = GetProcessHeap(), *threads;
    DWORD digest = 2166136261u;
    char number[16];
    Member *m;
    long i;
    size_t s;

    ZeroMemory(&c, sizeof c);
    c.members = members;
    c.room = room;
    c.messages = messages;
    for (c.size = 64; c.size < 4 * (size_t)room * (size_t)messages;)
        c.size *= 2;
    c.seen = HeapAlloc(heap, HEAP_ZERO_MEMORY, c.size * sizeof *c.seen);
    m = HeapAlloc(heap, HEAP_ZERO_MEMORY, (size_t)members * sizeof *m);
    threads = HeapAlloc(heap, 0, (size_t)members * sizeof *threads);
    if (c.seen == NULL || m == NULL || threads == NULL)
        fatal("HeapAlloc: no memory for a crowd of %ld", members);
    InitializeCriticalSection(&c.lock);
    for (i = 0; i < members; i++) {
        m[i].crowd = &c;
        m[i].overPipe = i % 2 == 0;
        snprintf(m[i].nick, sizeof m[i].nick, "%s%02ld", tag, i + 1);
        m[i].from = HeapAlloc(heap, 0, (size_t)room * sizeof *m[i].from);
        if (m[i].from == NULL)
            fatal("HeapAlloc: no memory for a member");
        threads[i] = startThread(crowdMember, &m[i]);
    }
    for (i = 0; i < members; i++) {
        signalled(threads[i], INFINITE); /* each FAILs on its own, or ends */
        closeHandle(threads[i]);
        if (!HeapFree(heap, 0, m[i].from))
            errExit("HeapFree");
    }
    qsort(c.seen, c.size, sizeof *c.seen, byNumber); /* the free slots, 0, go first */
    for (s = c.size - c.taken; s < c.size; s++) {
        snprintf(number, sizeof number, "%lu", c.seen[s].number);
        digest = fnv1a(digest, number, strlen(number) + 1);
        digest = fnv1a(digest, c.seen[s].nick, strlen(c.seen[s].nick) + 1);
        digest = fnv1a(digest, c.seen[s].text, strlen(c.seen[s].text) + 1);
    }
    say("crowd: %s: %ld members (%ld over the pipe, %ld over TCP), each received %ld messages "
        "from the %ld others, in one order\n",
        tag, members, (members + 1) / 2, members / 2, (room - 1) * messages, room - 1);
    say("crowd: order digest %08lX over %lu messages\n", digest, (unsigned long)c.taken);
    DeleteCriticalSection(&c.lock);
    if (!HeapFree(heap, 0, threads) || !HeapFree(heap, 0, m) || !HeapFree(heap, 0, c.seen))
        errExit("HeapFree");
}

/* ---- stall ------------------------------------------------------------ */

typedef struct {
    Peer peer;
    HANDLE stallerLeft;   /* set at staller's MS_LEFT */
    char why[SHOWN];      /* ... and its reason */
    volatile LONG floods; /* flood messages received, in order */
    HANDLE gotFlood;      /* set at each (auto-reset) */
} Witness;

/* Flood message k: STALL_TEXT bytes that say which they are. */
static void floodText(char *text, long k)
{
    int n = snprintf(text, STALL_TEXT + 1, "flood message %ld ", k);

    memset(text + n, 'a' + (int)(k % 26), (size_t)(STALL_TEXT - n));
    text[STALL_TEXT] = '\0';
}

static DWORD WINAPI witness(LPVOID param)
{
    Witness *w = param;
    char expected[STALL_TEXT + 1], shown[SHOWN];
    Frame f;

    w->peer.bye[0] = '\0';
    while (nextFrame(&w->peer.link, &f, INFINITE) == GOT_FRAME) {
        progress("stall: the witness reads", -1);
        if (f.type == MS_LEFT && strcmp(f.field[2], "staller") == 0) {
            show(f.field[3], w->why);
            if (!SetEvent(w->stallerLeft))
                errExit("SetEvent");
        } else if (f.type == MS_MESSAGE && strcmp(f.field[2], "flooder") == 0) {
            floodText(expected, w->floods + 1);
            if (strcmp(f.field[3], expected) != 0)
                fatal("stall: FAIL: the witness got #%s, \"%s\", where flood message %ld was due",
                      f.field[0], show(f.field[3], shown), (long)w->floods + 1);
            InterlockedIncrement(&w->floods);
            if (!SetEvent(w->gotFlood))
                errExit("SetEvent");
        } else if (f.type == MS_BYE) {
            show(f.field[0], w->peer.bye);
            break;
        }
    }
    return 0;
}

static void stall(BOOL overPipe, long limitKib, DWORD serverPid)
{
    static Witness w;
    static Peer flooder;
    static Link staller;
    static Frame f;
    char text[STALL_TEXT + 1];
    const char *fields[1], *nick = "staller";
    Resources before, now;
    LONG64 growth = 0;
    long sent;
    HANDLE witnessEvents[2];

    fields[0] = text;
    openLink(&w.peer.link, overPipe);
    join(&w.peer.link, "witness", &f);
    openLink(&staller, overPipe);
    if (!sendFrame(&staller, MS_HELLO, 1, &nick)) /* and never another read */
        fatal("stall: FAIL: the server hung up on staller's MS_HELLO");
    awaitJoin(&w.peer.link, "staller", &f);
    openLink(&flooder.link, overPipe);
    join(&flooder.link, "flooder", &f);
    awaitJoin(&w.peer.link, "flooder", &f);
    if (serverPid != 0)
        readResources(serverPid, &before);
    w.stallerLeft = newEvent();
    w.gotFlood = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (w.gotFlood == NULL)
        errExit("CreateEventW");
    w.peer.thread = startThread(witness, &w);
    flooder.thread = startThread(drain, &flooder); /* so that the flooder never stalls */
    witnessEvents[0] = w.gotFlood;
    witnessEvents[1] = w.peer.thread;

    for (sent = 0; !signalled(w.stallerLeft, 0); sent++) {
        progress("stall: flooding, at message", sent);
        if (sent == STALL_MAX_MESSAGES)
            fatal("stall: FAIL: staller was never disconnected");
        /* The witness must not fall behind too: each message waits until it has the last. Its
         * queue then holds two frames at most -- the next, and the last if the server has yet
         * to take that write's completion -- within even the smallest --max-queue. (Three
         * ahead got it disconnected at 4104 bytes, in two runs of three.) */
        while (w.floods < sent && !signalled(w.peer.thread, 0))
            if (WaitForMultipleObjects(2, witnessEvents, FALSE, INFINITE) == WAIT_FAILED)
                errExit("WaitForMultipleObjects");
        if (signalled(w.peer.thread, 0))
            fatal("stall: FAIL: the server hung up on the witness after %ld messages: %s", sent,
                  w.peer.bye[0] != '\0' ? w.peer.bye : "without a word");
        floodText(text, sent + 1);
        if (!sendFrame(&flooder.link, MS_SAY, 1, fields))
            fatal("stall: FAIL: the server hung up on flooder after %ld messages", sent);
        if (serverPid != 0 && sent % STALL_LOOK_EVERY == 0) { /* messages 1, 11, 21... */
            readResources(serverPid, &now);
            if ((LONG64)now.privateBytes - (LONG64)before.privateBytes > growth)
                growth = (LONG64)now.privateBytes - (LONG64)before.privateBytes;
        }
    }
    say("stall: staller was disconnected after %ld messages (%ld KiB) were sent to the room: "
        "%s\n",
        sent, (long)((LONG64)sent * (MS_HEADER + 1 + STALL_TEXT) / 1024), w.why);

    /* The flooder's goodbye follows all its messages, so the witness's follows them too. */
    if (!sendFrame(&flooder.link, MS_QUIT, 0, NULL) || !signalled(flooder.thread, CLOSE_WAIT_MS) ||
        flooder.bye[0] == '\0')
        fatal("stall: FAIL: no MS_BYE for flooder's MS_QUIT");
    hangUp(&flooder);
    if (!sendFrame(&w.peer.link, MS_QUIT, 0, NULL))
        fatal("stall: FAIL: the server hung up on the witness");
    signalled(w.peer.thread, INFINITE); /* it reads the flood's tail first */
    if (w.peer.bye[0] == '\0')
        fatal("stall: FAIL: the witness was disconnected after %ld messages", (long)w.floods);
    hangUp(&w.peer);
    closeHandle(w.stallerLeft);
    closeHandle(w.gotFlood);
    closeLink(&staller);
    if (w.floods != sent)
        fatal("stall: FAIL: the witness received %ld of the %ld messages", (long)w.floods, sent);
    say("stall: the witness received all %ld messages, in order\n", sent);
    if (serverPid == 0)
        return;
    say("stall: the server's private bytes grew by at most %ld KiB while staller was behind "
        "(limit %ld KiB)\n",
        (long)(growth / 1024), limitKib);
    if (growth / 1024 > limitKib)
        fatal("stall: FAIL: the server's private bytes grew past the limit");
}

/* ---- oversize and truncated -------------------------------------------- */

static void oversize(BOOL overPipe)
{
    static char frame[MS_HEADER + MS_MAX_FRAME + 1];
    static Link l;
    static Frame f;
    ULONGLONG deadline, now;
    char why[SHOWN] = "without a word";
    DWORD length = MS_MAX_FRAME + 1, i;
    int got;

    openLink(&l, overPipe);
    join(&l, "big", &f);
    for (i = 0; i < MS_HEADER; i++)
        frame[i] = (char)((length >> (8 * i)) & 0xFF);
    frame[MS_HEADER] = MS_SAY;
    memset(frame + MS_HEADER + 1, 'x', length - 1);
    sendBytes(&l, frame, MS_HEADER + length); /* the server may hang up before the end */
    deadline = GetTickCount64() + CLOSE_WAIT_MS;
    for (;;) { /* until the end, or MS_BYE: then the server waits for our end to close */
        progress("oversize: waiting for the server to hang up", -1);
        now = GetTickCount64();
        got = now < deadline ? nextFrame(&l, &f, (DWORD)(deadline - now)) : TIMED_OUT;
        if (got != GOT_FRAME)
            break;
        if (f.type == MS_BYE) {
            show(f.field[0], why);
            break;
        }
    }
    if (got == TIMED_OUT)
        fatal("oversize: FAIL: still connected after %d s", CLOSE_WAIT_MS / 1000);
    say("oversize: the server disconnected us: %s\n", why);
    closeLink(&l);
}

static void truncated(BOOL overPipe)
{
    static Link l;
    static Frame f;
    char frame[MS_HEADER + 10] = {100, 0, 0, 0, MS_SAY}; /* says 100 bytes; 10 follow */
    int got;

    memcpy(frame + MS_HEADER + 1, "cut short", 9);
    openLink(&l, overPipe);
    join(&l, "cut", &f);
    if (!sendBytes(&l, frame, sizeof frame))
        fatal("truncated: FAIL: the server hung up on a member in the room");
    /* TCP: our FIN ends the stream inside the frame; the server must close. (A pipe has no
     * half-close: it just ends.) */
    if (!l.overPipe) {
        if (shutdown(l.socket, SD_SEND) == SOCKET_ERROR)
            errExitWSA("shutdown");
        while ((got = nextFrame(&l, &f, CLOSE_WAIT_MS)) == GOT_FRAME)
            progress("truncated: waiting for the server to hang up", -1);
        if (got == TIMED_OUT)
            fatal("truncated: FAIL: still connected %d s after our end closed",
                  CLOSE_WAIT_MS / 1000);
    }
    closeLink(&l);
    say("truncated: sent 10 bytes of a 100-byte frame, then closed\n");
}

/* HELLO as nick, over the pipe or TCP: refused, with why. */
static void refused(BOOL overPipe, const char *nick, char *why)
{
    static Link l;
    static Frame f;

    openLink(&l, overPipe);
    if (!sendFrame(&l, MS_HELLO, 1, &nick))
        fatal("nicks: FAIL: the server hung up on an MS_HELLO");
    if (nextFrame(&l, &f, CLOSE_WAIT_MS) != GOT_FRAME || f.type != MS_ERROR)
        fatal("nicks: FAIL: the nick \"%s\" was not refused", show(nick, why));
    show(f.field[0], why);
    if (nextFrame(&l, &f, CLOSE_WAIT_MS) != GOT_FRAME || f.type != MS_BYE)
        fatal("nicks: FAIL: no MS_BYE after a refusal");
    closeLink(&l);
}

/* nick joins over the pipe; then a twin over TCP, and nicks no client could send (empty, not
 * UTF-8, a control character), must each be refused. */
static void nicks(const char *nick)
{
    static const char *const bad[] = {"", "\xff\xfe", "tab\there", "\xd0"};
    static Link first;
    static Frame f;
    char why[SHOWN];
    size_t i;

    openLink(&first, TRUE);
    join(&first, nick, &f);
    refused(FALSE, nick, why);
    say("nicks: a second %s was refused: %s\n", nick, why);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        refused(i % 2 == 0, bad[i], why);
        say("nicks: refused: %s\n", why);
    }
    closeLink(&first);
}

/* ---- fuzz -------------------------------------------------------------- */

enum { MAY_KEEP, HANGS_UP, WE_CLOSE }; /* what a fuzz frame means for its connection */

#define FUZZ_FIELD (MS_MAX_TEXT + 64) /* a field, over the limits at times */

typedef struct {
    DWORD random;
    long fresh;          /* nicks made so far: each new one is unique */
    const char *taken;   /* the resident member's nick */
    BOOL first;          /* the connection's first frame is next */
    const char *garbage; /* why the server must hang up, after HANGS_UP */
} Fuzzer;

/* Text for a field: words, Cyrillic, bytes that are not UTF-8, control
 * characters; at times empty, or around MS_MAX_TEXT. Never a '\0': that
 * would end the field. */
static void fuzzText(Fuzzer *z, char *out)
{
    static const char *const pieces[] = {"hello", " ",    "привет",  "\xff\xfe", "\xc0\xaf",
                                         "\xd0",  "\r\n", "\x1b[2J", "ёжик",     "\xed\xa0\x80",
                                         "\t",    "\x7f", "a"};
    DWORD kind = randomBelow(&z->random, 12), i;
    const char *piece;
    size_t length = 0;

    if (kind == 0) { /* 1016 to 1031 bytes: either side of MS_MAX_TEXT */
        length = MS_MAX_TEXT - 8 + randomBelow(&z->random, 16);
        memset(out, 'x', length);
    }
    for (i = 1; i < kind; i++) { /* kind 1: empty */
        piece = pieces[randomBelow(&z->random, sizeof pieces / sizeof pieces[0])];
        memcpy(out + length, piece, strlen(piece));
        length += strlen(piece);
    }
    out[length] = '\0';
}

/* A nick: new and fit, taken, or unfit in one of the ways checkNick knows. */
static void fuzzNick(Fuzzer *z, char *out)
{
    long fresh = ++z->fresh;

    switch (randomBelow(&z->random, 8)) {
    case 0: snprintf(out, FUZZ_FIELD, "%s", z->taken); break;
    case 1: out[0] = '\0'; break;
    case 2: snprintf(out, FUZZ_FIELD, "%0*ld", MS_MAX_NICK + 1, fresh); break; /* too long */
    case 3: snprintf(out, FUZZ_FIELD, "bad\xff%ld", fresh); break;
    case 4: snprintf(out, FUZZ_FIELD, "two words%ld", fresh); break;
    case 5: snprintf(out, FUZZ_FIELD, "tab\t%ld", fresh); break;
    case 6: snprintf(out, FUZZ_FIELD, "ёжик%ld", fresh); break;
    default: snprintf(out, FUZZ_FIELD, "fz%ld", fresh);
    }
}

/* What messenger.h says the server does with the whole frame just made:
 * hang up after garbage, a refused or second MS_HELLO, a first frame that is
 * not MS_HELLO, or MS_QUIT. The rest it may answer, or refuse, or act on. */
static int fuzzExpect(Fuzzer *z, const char *frame)
{
    static Frame f;
    DWORD length = frameLength((const unsigned char *)frame);
    BOOL first = z->first;

    z->first = FALSE;
    z->garbage = "a frame length of 0 or over MS_MAX_FRAME";
    if (length == 0)
        return HANGS_UP;
    z->garbage = parseFrame(frame + MS_HEADER, length, FALSE, &f);
    if (z->garbage != NULL)
        return HANGS_UP;
    z->garbage = first ? "a first frame that was not MS_HELLO" : "a second MS_HELLO";
    if (first != (f.type == MS_HELLO))
        return HANGS_UP;
    z->garbage = "a refused MS_HELLO";
    if (first && (checkNick(f.field[0]) != NULL || strcmp(f.field[0], z->taken) == 0))
        return HANGS_UP;
    z->garbage = "MS_QUIT";
    return f.type == MS_QUIT ? HANGS_UP : MAY_KEEP;
}

/* One fuzz input into frame (MS_HEADER + MS_MAX_FRAME bytes): its size. */
static size_t fuzzFrame(Fuzzer *z, char *frame, int *expect)
{
    static const char clientTypes[] = "HSPWNQ";
    static char a[FUZZ_FIELD], b[FUZZ_FIELD];
    const char *fields[3] = {a, b, "three"};
    DWORD kind = randomBelow(&z->random, 100), length, i;
    size_t size;
    char type;

    if (z->first && randomBelow(&z->random, 5) < 4)
        kind = 100; /* most connections begin as a member's would */
    if (kind == 100) {
        snprintf(a, sizeof a, "fz%ld", ++z->fresh);
        size = buildFrame(frame, MS_HELLO, 1, fields);
    } else if (kind < 45) {
        fuzzText(z, a);
        size = buildFrame(frame, MS_SAY, 1, fields);
    } else if (kind < 59) {
        fuzzNick(z, a);
        fuzzText(z, b);
        size = buildFrame(frame, MS_PRIVATE, 2, fields);
    } else if (kind < 73) {
        fuzzNick(z, a);
        size = buildFrame(frame, MS_RENAME, 1, fields);
    } else if (kind < 81) {
        size = buildFrame(frame, MS_WHO, 0, fields);
    } else if (kind < 84) { /* after the first frame, a second MS_HELLO */
        fuzzNick(z, a);
        size = buildFrame(frame, MS_HELLO, 1, fields);
    } else if (kind < 86) {
        size = buildFrame(frame, MS_QUIT, 0, fields);
    } else if (kind < 89) { /* a type no client sends, '\0' among them */
        do
            type = (char)randomBelow(&z->random, 256);
        while (memchr(clientTypes, type, sizeof clientTypes - 1) != NULL);
        snprintf(a, sizeof a, "one");
        size = buildFrame(frame, type, (int)randomBelow(&z->random, 3), fields);
    } else if (kind < 92) { /* a client's type, with 0 to 3 fields: often the wrong number */
        snprintf(a, sizeof a, "one");
        snprintf(b, sizeof b, "two");
        size = buildFrame(frame, clientTypes[randomBelow(&z->random, 6)],
                          (int)randomBelow(&z->random, 4), fields);
    } else if (kind < 94) { /* a length of 0, or over MS_MAX_FRAME; then a few bytes */
        length = kind < 93 ? 0 : MS_MAX_FRAME + 1 + randomBelow(&z->random, 0x7FFFFFFF);
        for (i = 0; i < MS_HEADER; i++)
            frame[i] = (char)((length >> (8 * i)) & 0xFF);
        size = MS_HEADER + randomBelow(&z->random, 64);
        for (i = MS_HEADER; i < size; i++)
            frame[i] = (char)randomBelow(&z->random, 256);
    } else if (kind < 97) { /* bytes, any: our end closes after them */
        size = 1 + randomBelow(&z->random, 300);
        for (i = 0; i < size; i++)
            frame[i] = (char)randomBelow(&z->random, 256);
        *expect = WE_CLOSE;
        return size;
    } else { /* a frame cut short: our end closes in the middle of it */
        fuzzText(z, a);
        size = buildFrame(frame, MS_SAY, 1, fields);
        *expect = WE_CLOSE;
        return 1 + randomBelow(&z->random, (DWORD)size - 1);
    }
    if (size == 0)
        fatal("fuzz: buildFrame: the fields do not fit");
    *expect = fuzzExpect(z, frame);
    return size;
}

static void fuzz(long inputs, DWORD seed)
{
    static char frame[MS_HEADER + MS_MAX_FRAME];
    static Peer resident, c;
    static Frame f;
    char nick[MS_MAX_NICK + 1];
    Fuzzer z;
    long i, left = 0, connections = 0, pipes = 0, byServer = 0;
    BOOL open = FALSE, sent;
    size_t size, cut;
    int expect;

    say("fuzz: seed %lu\n", (unsigned long)seed);
    snprintf(nick, sizeof nick, "resident%lu", (unsigned long)seed);
    z.random = seed;
    z.fresh = 0;
    z.taken = nick;
    openLink(&resident.link, FALSE); /* in the room throughout: it must stay served */
    join(&resident.link, nick, &f);
    resident.thread = startThread(drain, &resident);

    for (i = 0; i < inputs; i++) {
        progress("fuzz: at frame", i);
        if (!open) {
            openLink(&c.link, connections % 2 == 0);
            pipes += connections % 2 == 0;
            connections++;
            c.thread = startThread(drain, &c); /* reads all the server says */
            left = 1 + (long)randomBelow(&z.random, 50);
            z.first = open = TRUE;
        }
        size = fuzzFrame(&z, frame, &expect);
        /* In one piece or two: the server must take a frame however it comes. */
        cut = size > 1 && randomBelow(&z.random, 3) == 0
                  ? 1 + randomBelow(&z.random, (DWORD)size - 1)
                  : size;
        sent = sendBytes(&c.link, frame, cut) &&
               (cut == size || sendBytes(&c.link, frame + cut, size - cut));
        if (expect == HANGS_UP && !signalled(c.thread, CLOSE_WAIT_MS))
            fatal("fuzz: FAIL (seed %lu): frame %ld: the server kept the connection open after "
                  "%s",
                  (unsigned long)seed, i, z.garbage);
        if (!sent || expect != MAY_KEEP || --left == 0 || signalled(c.thread, 0)) {
            if (hangUp(&c) || !sent)
                byServer++;
            open = FALSE;
        }
    }
    if (open && hangUp(&c))
        byServer++;

    if (signalled(resident.thread, 0))
        fatal("fuzz: FAIL (seed %lu): the server hung up on the resident member: %s",
              (unsigned long)seed, resident.bye[0] != '\0' ? resident.bye : "without a word");
    if (!sendFrame(&resident.link, MS_QUIT, 0, NULL) ||
        !signalled(resident.thread, CLOSE_WAIT_MS) || resident.bye[0] == '\0')
        fatal("fuzz: FAIL (seed %lu): no MS_BYE for the resident member's MS_QUIT",
              (unsigned long)seed);
    hangUp(&resident);
    say("fuzz: %ld frames on %ld connections (%ld over the pipe, %ld over TCP), %ld closed by "
        "the server\n",
        inputs, connections, pipes, connections - pipes, byServer);
}

static BOOL isMode(const char *name)
{
    return strcmp(mode, name) == 0;
}

int main(int argc, char *argv[])
{
    ProbeOptions options = {0, 0, 0, 0};
    long members = 0, room = 0, messages = 0, memoryLimit = -1;
    const char *tag = NULL, *pipeName = NULL, *nick = NULL;
    char lastNick[MS_MAX_NICK + 8];
    struct addrinfo hints;
    BOOL overPipe, overTcp;
    WSADATA wsa;
    int error, i;

    initProgram(&argc, &argv, usage);
    if (argc < 2)
        usageErr("which mode?");
    if (strcmp(argv[1], "--help") == 0)
        showHelp();
    mode = argv[1];
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--pipe") == 0)
            pipeName = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--host") == 0)
            host = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--port") == 0)
            snprintf(port, sizeof port, "%ld",
                     getNumber(optionValue(argc, argv, &i), 1, 65535, "--port"));
        else if (strcmp(argv[i], "--members") == 0)
            members = getNumber(optionValue(argc, argv, &i), 1, 1000, "--members");
        else if (strcmp(argv[i], "--room") == 0)
            room = getNumber(optionValue(argc, argv, &i), 2, 10000, "--room");
        else if (strcmp(argv[i], "--messages") == 0)
            messages = getNumber(optionValue(argc, argv, &i), 1, 100000, "--messages");
        else if (strcmp(argv[i], "--nick") == 0)
            nick = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--tag") == 0)
            tag = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--memory-limit") == 0)
            memoryLimit = getNumber(optionValue(argc, argv, &i), 0, 0x7FFFFFFF, "--memory-limit");
        else if (!takeProbeOption(argc, argv, &i, &options))
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    finishProbeOptions(&options);
    if (!isMode("crowd") && !isMode("stall") && !isMode("oversize") && !isMode("truncated") &&
        !isMode("fuzz") && !isMode("nicks"))
        usageErr("no mode \"%s\"", mode);
    overPipe = pipeName != NULL;
    overTcp = port[0] != '\0';
    if ((isMode("crowd") || isMode("fuzz") || isMode("nicks")) && (!overPipe || !overTcp))
        usageErr("%s needs --pipe and --port", mode);
    if (!isMode("crowd") && !isMode("fuzz") && !isMode("nicks") && overPipe == overTcp)
        usageErr("%s takes --pipe or --port, one of them", mode);
    if (isMode("crowd") && (members == 0 || room == 0 || messages == 0 || tag == NULL))
        usageErr("crowd needs --members, --room, --messages and --tag");
    if (isMode("crowd") && room < members)
        usageErr("--room: at least --members");
    if (isMode("crowd"))
        snprintf(lastNick, sizeof lastNick, "%s%02ld", tag, members);
    if (isMode("crowd") && checkNick(lastNick) != NULL)
        usageErr("--tag: \"%s\" %s", lastNick, checkNick(lastNick));
    if (isMode("nicks") && nick == NULL)
        usageErr("nicks needs --nick");
    if (isMode("stall") && memoryLimit < 0)
        usageErr("stall needs --memory-limit");
    if (isMode("fuzz") && options.inputs == 0)
        usageErr("fuzz needs --inputs");

    if (overPipe && strlen(pipeName) > MS_MAX_PIPE_NAME)
        usageErr("--pipe: a name of at most %d bytes", MS_MAX_PIPE_NAME);
    snprintf(pipeText, sizeof pipeText, "\\\\.\\pipe\\%s", overPipe ? pipeName : "");
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, pipeText, -1, pipePath,
                            (int)(sizeof pipePath / sizeof pipePath[0])) == 0)
        errExit("MultiByteToWideChar");
    error = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (error != 0)
        errExitCode((DWORD)error, "WSAStartup");
    ZeroMemory(&hints, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    if (overTcp && (error = getaddrinfo(host, port, &hints, &server)) != 0)
        errExitCode((DWORD)error, "getaddrinfo %s", host);
    startWatchdog(WATCHDOG_MS);

    if (isMode("crowd"))
        crowd(members, room, messages, tag);
    else if (isMode("stall"))
        stall(overPipe, memoryLimit, options.serverPid);
    else if (isMode("oversize"))
        oversize(overPipe);
    else if (isMode("truncated"))
        truncated(overPipe);
    else if (isMode("nicks"))
        nicks(nick);
    else
        fuzz(options.inputs, options.seed);

    if (server != NULL)
        freeaddrinfo(server);
    if (WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
    return 0;
}
