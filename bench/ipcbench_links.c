/* ipcbench_links.c -- every mechanism behind one Link (ipcbench.h): how each is set up on the
 * bench's side and on the peer's, and how each moves one whole message.
 *
 * Streams (anonymous pipes, byte-mode named pipes, TCP) may deliver a message in pieces, so
 * their receive loops until it has `size` bytes. Message-mode pipes and mailslots deliver a
 * message whole or not at all, so one ReadFile must return exactly `size` bytes. Shared memory
 * copies the message into our half of the view and says so through an event (shm_event), or
 * through a sequence number the receiver spins on before it falls back to the event (shm_spin).
 */
#include "ipcbench.h"
#include "args.h"
#include "mailslot.h"   /* MS_MAX_MESSAGE: the suite's mailslot limit */
#include "named_pipe.h" /* NP_CLIENT_ACCESS: what a client of named_pipe_server asks for */

#include <stdio.h>
#include <string.h>

#define NAME_CHARS (IB_MAX_NAME + 32)

/* The shared view: a header, then one half for each way (0: bench to peer, 1: peer to bench).
 * Each way's counters have a cache line of their own, so the two sides do not fight over one. */
typedef struct {
    volatile LONG sequence; /* messages written this way */
    volatile LONG waiting;  /* 1: the receiver is, or is about to be, asleep on the event */
    char padding[64 - 2 * sizeof(LONG)];
} Way;
#define SHM_HEADER (2 * sizeof(Way))

static Way *way(const Link *link, int which)
{
    return (Way *)link->view + which;
}

static unsigned char *half(const Link *link, int which, DWORD size)
{
    return link->view + SHM_HEADER + (size_t)which * size;
}

/* "\\.\pipe\" + name + suffix, as UTF-16 for the ...W calls. */
static void objectName(const char *prefix, const char *name, const char *suffix, wchar_t *wide)
{
    char text[NAME_CHARS];

    snprintf(text, sizeof text, "%s%s%s", prefix, name, suffix);
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, wide, NAME_CHARS) == 0)
        errExit("MultiByteToWideChar %s", text);
}

static BOOL isEndOfPipe(DWORD error)
{
    return error == ERROR_BROKEN_PIPE || error == ERROR_PIPE_NOT_CONNECTED;
}

/* ---- Pipes and mailslots: WriteFile and ReadFile ---------------------------------------- */

/* A blocking WriteFile on a pipe or a mailslot returns once all of it is written. */
static void sendFile(Link *link, const unsigned char *data, DWORD size)
{
    DWORD written;

    if (!WriteFile(link->out, data, size, &written, NULL) && isEndOfPipe(GetLastError()))
        errExit("%s: WriteFile (the other side has closed its end)", link->side);
    if (written != size)
        errExit("%s: WriteFile (%lu of %lu bytes written)", link->side, written, size);
}

static BOOL receiveStream(Link *link, unsigned char *data, DWORD size)
{
    DWORD got, done = 0;

    while (done < size) {
        if (!ReadFile(link->in, data + done, size - done, &got, NULL)) {
            if (done == 0 && isEndOfPipe(GetLastError()))
                return FALSE;
            errExit("%s: ReadFile (%lu of %lu bytes in)", link->side, done, size);
        }
        done += got;
    }
    return TRUE;
}

/* Message-mode pipes and mailslots: one ReadFile, one message, whole. */
static BOOL receiveMessage(Link *link, unsigned char *data, DWORD size)
{
    DWORD got;

    if (!ReadFile(link->in, data, size, &got, NULL)) {
        if (isEndOfPipe(GetLastError()))
            return FALSE;
        errExit("%s: ReadFile (a message of %lu bytes)", link->side, size);
    }
    if (got != size)
        fatal("%s: ReadFile: a message of %lu bytes, not %lu", link->side, got, size);
    return TRUE;
}

/* ---- TCP: send and recv ------------------------------------------------------------------ */

static void sendSocket(Link *link, const unsigned char *data, DWORD size)
{
    DWORD done = 0;
    int sent;

    while (done < size) {
        sent = send(link->socket, (const char *)data + done, (int)(size - done), 0);
        if (sent == SOCKET_ERROR)
            errExitWSA("%s: send", link->side);
        done += (DWORD)sent;
    }
}

static BOOL receiveSocket(Link *link, unsigned char *data, DWORD size)
{
    DWORD done = 0;
    int got;

    while (done < size) {
        got = recv(link->socket, (char *)data + done, (int)(size - done), 0);
        if (got == SOCKET_ERROR)
            errExitWSA("%s: recv (%lu of %lu bytes in)", link->side, done, size);
        if (got == 0 && done == 0)
            return FALSE;
        if (got == 0)
            fatal("%s: recv: the connection ended %lu bytes into a message", link->side, done);
        done += (DWORD)got;
    }
    return TRUE;
}

static void noDelay(SOCKET s)
{
    BOOL on = TRUE;

    if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&on, sizeof on) == SOCKET_ERROR)
        errExitWSA("setsockopt TCP_NODELAY");
}

/* ---- Shared memory ----------------------------------------------------------------------- */

/* Waits for our event, or for the other process's end, which would otherwise mean for ever. */
static void waitEvent(Link *link)
{
    HANDLE handles[2] = {link->inEvent, link->other};
    DWORD code;

    switch (WaitForMultipleObjects(2, handles, FALSE, INFINITE)) {
    case WAIT_OBJECT_0: return;
    case WAIT_OBJECT_0 + 1:
        if (!GetExitCodeProcess(link->other, &code))
            errExit("%s: GetExitCodeProcess", link->side);
        fatal("%s: the other process exited (exit code %lu) before its message", link->side, code);
    default: errExit("%s: WaitForMultipleObjects", link->side);
    }
}

/* shm_event: copy, then SetEvent; the receiver always sleeps on the event. SetEvent and the
 * wait are full memory barriers, so the copy is seen before the wake-up. */
static void sendShmEvent(Link *link, const unsigned char *data, DWORD size)
{
    memcpy(half(link, link->outWay, size), data, size);
    if (!SetEvent(link->outEvent))
        errExit("%s: SetEvent", link->side);
}

static BOOL receiveShmEvent(Link *link, unsigned char *data, DWORD size)
{
    waitEvent(link);
    memcpy(data, half(link, link->inWay, size), size);
    return TRUE;
}

/* shm_spin, the fast path real systems use: the receiver spins a while on the sequence number
 * of its way, and only then sleeps on the event; the sender calls SetEvent only when the
 * receiver may be asleep. The two agree without a lost wake-up as in Dekker's algorithm:
 *   sender:   write the data; sequence++ (interlocked); if exchange(waiting, 0) was 1: SetEvent
 *   receiver: exchange(waiting, 1); read sequence (interlocked); if it is new: go on, else sleep
 * Every one of those steps is a full barrier, so they happen in one order both sides see, and
 * in any such order either the receiver reads the new sequence (and does not sleep) or the
 * sender reads waiting == 1 (and sets the event). Both may happen: then the event stays set
 * with nothing new behind it, so a receiver woken up checks the sequence again and, if nothing
 * is new, sleeps again -- a spurious wake-up costs a loop, never a message. */
static void sendShmSpin(Link *link, const unsigned char *data, DWORD size)
{
    Way *out = way(link, link->outWay);

    memcpy(half(link, link->outWay, size), data, size);
    InterlockedIncrement(&out->sequence);
    if (InterlockedExchange(&out->waiting, 0) == 1 && !SetEvent(link->outEvent))
        errExit("%s: SetEvent", link->side);
}

static BOOL receiveShmSpin(Link *link, unsigned char *data, DWORD size)
{
    Way *in = way(link, link->inWay);
    LONG expected = link->received + 1;
    int spins;

    for (spins = 0; spins < IB_SPIN_LIMIT && in->sequence != expected; spins++)
        YieldProcessor();
    while (in->sequence != expected) {
        InterlockedExchange(&in->waiting, 1);
        if (InterlockedCompareExchange(&in->sequence, 0, 0) == expected) {
            InterlockedExchange(&in->waiting, 0);
            break;
        }
        waitEvent(link);
    }
    MemoryBarrier(); /* the data is read after the sequence that says it is there */
    memcpy(data, half(link, link->inWay, size), size);
    link->received = expected;
    return TRUE;
}

static void createShared(Link *link, const RunSpec *spec)
{
    DWORD bytes = (DWORD)(SHM_HEADER + 2 * (size_t)spec->size);
    wchar_t name[NAME_CHARS];

    objectName("Local\\", spec->name, "_map", name);
    link->mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, bytes, name);
    if (link->mapping == NULL)
        errExit("CreateFileMappingW Local\\%s_map", spec->name);
    objectName("Local\\", spec->name, "_way0", name);
    link->outEvent = CreateEventW(NULL, FALSE, FALSE, name);
    if (link->outEvent == NULL)
        errExit("CreateEventW Local\\%s_way0", spec->name);
    objectName("Local\\", spec->name, "_way1", name);
    link->inEvent = CreateEventW(NULL, FALSE, FALSE, name);
    if (link->inEvent == NULL)
        errExit("CreateEventW Local\\%s_way1", spec->name);
    link->outWay = 0;
    link->inWay = 1;
}

static void openShared(Link *link, const RunSpec *spec)
{
    wchar_t name[NAME_CHARS];

    objectName("Local\\", spec->name, "_map", name);
    link->mapping = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    if (link->mapping == NULL)
        errExit("peer: OpenFileMappingW Local\\%s_map", spec->name);
    objectName("Local\\", spec->name, "_way0", name);
    link->inEvent = OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, name);
    if (link->inEvent == NULL)
        errExit("peer: OpenEventW Local\\%s_way0", spec->name);
    objectName("Local\\", spec->name, "_way1", name);
    link->outEvent = OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, name);
    if (link->outEvent == NULL)
        errExit("peer: OpenEventW Local\\%s_way1", spec->name);
    link->outWay = 1;
    link->inWay = 0;
}

static void mapShared(Link *link)
{
    link->view = MapViewOfFile(link->mapping, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (link->view == NULL)
        errExit("%s: MapViewOfFile", link->side);
}

static void useShared(Link *link, Mechanism mechanism)
{
    link->send = mechanism == SHM_SPIN ? sendShmSpin : sendShmEvent;
    link->receive = mechanism == SHM_SPIN ? receiveShmSpin : receiveShmEvent;
}

static void useStream(Link *link, BOOL isSocket)
{
    link->send = isSocket ? sendSocket : sendFile;
    link->receive = isSocket ? receiveSocket : receiveStream;
    link->endsWithClose = TRUE;
}

static void useMessages(Link *link)
{
    link->send = sendFile;
    link->receive = receiveMessage;
}

/* ---- The bench's side -------------------------------------------------------------------- */

static void initLink(Link *link, const char *side)
{
    memset(link, 0, sizeof *link);
    link->side = side;
    link->socket = INVALID_SOCKET;
}

static void prepareAnonymousPipes(Link *link)
{
    if (!CreatePipe(&link->childIn, &link->out, NULL, IB_PIPE_BUFFER))
        errExit("CreatePipe (bench to peer)");
    if (!CreatePipe(&link->in, &link->childOut, NULL, IB_PIPE_BUFFER))
        errExit("CreatePipe (peer to bench)");
    /* Only the peer's two ends are inheritable: holding ours, it would never see the end. */
    if (!SetHandleInformation(link->childIn, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT))
        errExit("SetHandleInformation (the peer's stdin)");
    if (!SetHandleInformation(link->childOut, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT))
        errExit("SetHandleInformation (the peer's stdout)");
}

static void prepareNamedPipe(Link *link, const RunSpec *spec)
{
    DWORD type = spec->mechanism == NAMED_PIPE_MESSAGE ? PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE
                                                       : PIPE_TYPE_BYTE | PIPE_READMODE_BYTE;
    wchar_t name[NAME_CHARS];

    objectName("\\\\.\\pipe\\", spec->name, "", name);
    link->in = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                type | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, IB_PIPE_BUFFER,
                                IB_PIPE_BUFFER, 0, NULL);
    if (link->in == INVALID_HANDLE_VALUE)
        errExit("CreateNamedPipeW \\\\.\\pipe\\%s", spec->name);
    link->out = link->in;
}

static HANDLE createSlot(const RunSpec *spec, const char *suffix)
{
    wchar_t name[NAME_CHARS];
    HANDLE slot;

    objectName("\\\\.\\mailslot\\", spec->name, suffix, name);
    slot = CreateMailslotW(name, MS_MAX_MESSAGE, MAILSLOT_WAIT_FOREVER, NULL);
    if (slot == INVALID_HANDLE_VALUE)
        errExit("CreateMailslotW \\\\.\\mailslot\\%s%s", spec->name, suffix);
    return slot;
}

static HANDLE openSlot(const RunSpec *spec, const char *suffix)
{
    wchar_t name[NAME_CHARS];
    HANDLE slot;

    objectName("\\\\.\\mailslot\\", spec->name, suffix, name);
    slot = CreateFileW(name, GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                       FILE_ATTRIBUTE_NORMAL, NULL);
    if (slot == INVALID_HANDLE_VALUE)
        errExit("CreateFileW \\\\.\\mailslot\\%s%s", spec->name, suffix);
    return slot;
}

/* Listens on 127.0.0.1, on a port the system picks; the peer learns it from its command line. */
static void prepareListener(Link *link, RunSpec *spec)
{
    struct sockaddr_in address = {0};
    int length = (int)sizeof address;

    link->socket = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (link->socket == INVALID_SOCKET)
        errExitWSA("socket");
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(link->socket, (struct sockaddr *)&address, (int)sizeof address) == SOCKET_ERROR)
        errExitWSA("bind 127.0.0.1:0");
    if (listen(link->socket, 1) == SOCKET_ERROR)
        errExitWSA("listen");
    if (getsockname(link->socket, (struct sockaddr *)&address, &length) == SOCKET_ERROR)
        errExitWSA("getsockname");
    spec->port = ntohs(address.sin_port);
}

void prepareBenchLink(Link *link, RunSpec *spec)
{
    initLink(link, "bench");
    switch (spec->mechanism) {
    case ANONYMOUS_PIPE:
        prepareAnonymousPipes(link);
        useStream(link, FALSE);
        break;
    case NAMED_PIPE_BYTE:
    case NAMED_PIPE_MESSAGE:
        prepareNamedPipe(link, spec);
        if (spec->mechanism == NAMED_PIPE_BYTE)
            useStream(link, FALSE);
        else
            useMessages(link);
        link->endsWithClose = TRUE;
        break;
    case MAILSLOT:
        link->in = createSlot(spec, "_bench");
        useMessages(link);
        break;
    case SHM_EVENT:
    case SHM_SPIN:
        createShared(link, spec);
        mapShared(link);
        useShared(link, spec->mechanism);
        break;
    case TCP:
    case TCP_IOCP:
        prepareListener(link, spec);
        useStream(link, TRUE);
        break;
    default: fatal("no mechanism %d", (int)spec->mechanism);
    }
}

/* The peer runs. Each call here blocks until it has done its part; if it dies first, the
 * watchdog ends us. */
void connectBenchLink(Link *link, const RunSpec *spec, HANDLE peer)
{
    unsigned char ready;
    SOCKET connection;

    link->other = peer;
    if (spec->mechanism == ANONYMOUS_PIPE) {
        if (!CloseHandle(link->childIn))
            errExit("CloseHandle (the peer's stdin)");
        if (!CloseHandle(link->childOut))
            errExit("CloseHandle (the peer's stdout)");
        link->childIn = link->childOut = NULL;
    } else if (spec->mechanism == NAMED_PIPE_BYTE || spec->mechanism == NAMED_PIPE_MESSAGE) {
        if (!ConnectNamedPipe(link->in, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
            errExit("ConnectNamedPipe \\\\.\\pipe\\%s", spec->name);
    } else if (spec->mechanism == MAILSLOT) {
        /* The peer's slot exists once its one-byte "ready" message is in ours. */
        if (!receiveMessage(link, &ready, 1))
            fatal("bench: the peer's mailslot never said ready");
        link->out = openSlot(spec, "_peer");
    } else if (spec->mechanism == TCP || spec->mechanism == TCP_IOCP) {
        connection = accept(link->socket, NULL, NULL);
        if (connection == INVALID_SOCKET)
            errExitWSA("accept");
        if (closesocket(link->socket) == SOCKET_ERROR)
            errExitWSA("closesocket (the listener)");
        link->socket = connection;
        noDelay(link->socket);
    }
}

/* ---- The peer's side --------------------------------------------------------------------- */

static void openNamedPipe(Link *link, const RunSpec *spec)
{
    DWORD mode = PIPE_READMODE_MESSAGE;
    wchar_t name[NAME_CHARS];

    objectName("\\\\.\\pipe\\", spec->name, "", name);
    link->in = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (link->in == INVALID_HANDLE_VALUE)
        errExit("peer: CreateFileW \\\\.\\pipe\\%s", spec->name);
    link->out = link->in;
    if (spec->mechanism == NAMED_PIPE_MESSAGE &&
        !SetNamedPipeHandleState(link->in, &mode, NULL, NULL))
        errExit("peer: SetNamedPipeHandleState PIPE_READMODE_MESSAGE");
}

static void connectToBench(Link *link, const RunSpec *spec)
{
    struct sockaddr_in address = {0};

    link->socket = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (link->socket == INVALID_SOCKET)
        errExitWSA("peer: socket");
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(spec->port);
    if (connect(link->socket, (struct sockaddr *)&address, (int)sizeof address) == SOCKET_ERROR)
        errExitWSA("peer: connect 127.0.0.1:%u", spec->port);
    noDelay(link->socket);
}

void openPeerLink(Link *link, const RunSpec *spec, HANDLE bench)
{
    const unsigned char ready = 'R';

    initLink(link, "peer");
    link->other = bench;
    switch (spec->mechanism) {
    case ANONYMOUS_PIPE:
        link->in = GetStdHandle(STD_INPUT_HANDLE);
        link->out = GetStdHandle(STD_OUTPUT_HANDLE);
        if (link->in == INVALID_HANDLE_VALUE || link->out == INVALID_HANDLE_VALUE)
            errExit("peer: GetStdHandle");
        useStream(link, FALSE);
        break;
    case NAMED_PIPE_BYTE:
    case NAMED_PIPE_MESSAGE:
        openNamedPipe(link, spec);
        if (spec->mechanism == NAMED_PIPE_BYTE)
            useStream(link, FALSE);
        else
            useMessages(link);
        link->endsWithClose = TRUE;
        break;
    case MAILSLOT:
        link->in = createSlot(spec, "_peer");
        link->out = openSlot(spec, "_bench");
        useMessages(link);
        sendFile(link, &ready, 1);
        break;
    case SHM_EVENT:
    case SHM_SPIN:
        openShared(link, spec);
        mapShared(link);
        useShared(link, spec->mechanism);
        break;
    case TCP:
    case TCP_IOCP:
        connectToBench(link, spec);
        useStream(link, TRUE);
        break;
    default: fatal("peer: no mechanism %d", (int)spec->mechanism);
    }
}

/* ---- The bench as a client of the lab's named_pipe_server ------------------------------- */

/* As named_pipe/client.c opens it: exactly the rights a client uses (named_pipe.h says why not
 * GENERIC_WRITE), then message reads. The server listens before it says so: no busy wait. */
void openServerLink(Link *link, const RunSpec *spec, HANDLE server)
{
    DWORD mode = PIPE_READMODE_MESSAGE;
    wchar_t name[NAME_CHARS];

    initLink(link, "bench");
    link->other = server;
    objectName("\\\\.\\pipe\\", spec->name, "", name);
    link->in = CreateFileW(name, NP_CLIENT_ACCESS, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (link->in == INVALID_HANDLE_VALUE)
        errExit("CreateFileW \\\\.\\pipe\\%s", spec->name);
    link->out = link->in;
    if (!SetNamedPipeHandleState(link->in, &mode, NULL, NULL))
        errExit("SetNamedPipeHandleState PIPE_READMODE_MESSAGE");
    useMessages(link);
}

/* ---- The peer's report (ipcbench.h) ------------------------------------------------------ */

/* The bench creates the block before it starts the peer; the peer opens it. */
PeerReport *openPeerReport(const RunSpec *spec, BOOL create, HANDLE *mapping)
{
    const char *side = create ? "bench" : "peer";
    wchar_t name[NAME_CHARS];
    PeerReport *report;

    objectName("Local\\", spec->name, "_report", name);
    if (create)
        *mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                      (DWORD)sizeof *report, name);
    else
        *mapping = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    if (*mapping == NULL)
        errExit("%s: %s Local\\%s_report", side, create ? "CreateFileMappingW" : "OpenFileMappingW",
                spec->name);
    report = MapViewOfFile(*mapping, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof *report);
    if (report == NULL)
        errExit("%s: MapViewOfFile (the report)", side);
    return report; /* a new mapping is zeros: written == 0 */
}

void closePeerReport(PeerReport *report, HANDLE mapping)
{
    if (!UnmapViewOfFile(report))
        errExit("UnmapViewOfFile (the report)");
    if (!CloseHandle(mapping))
        errExit("CloseHandle (the report's mapping)");
}

/* Releases what the link holds (not link->other, which its owner closes). A TCP end first
 * says it has finished sending, so the other side reads the end of data, not a reset. */
void closeLink(Link *link)
{
    if (link->socket != INVALID_SOCKET && shutdown(link->socket, SD_SEND) == SOCKET_ERROR)
        errMsgWSA("%s: shutdown", link->side); /* the peer may have gone: nothing to tell it */
    if (link->socket != INVALID_SOCKET && closesocket(link->socket) == SOCKET_ERROR)
        errExitWSA("%s: closesocket", link->side);
    if (link->view != NULL && !UnmapViewOfFile(link->view))
        errExit("%s: UnmapViewOfFile", link->side);
    if (link->mapping != NULL && !CloseHandle(link->mapping))
        errExit("%s: CloseHandle (the mapping)", link->side);
    if (link->inEvent != NULL && !CloseHandle(link->inEvent))
        errExit("%s: CloseHandle (an event)", link->side);
    if (link->outEvent != NULL && !CloseHandle(link->outEvent))
        errExit("%s: CloseHandle (an event)", link->side);
    if (link->out != NULL && link->out != link->in && !CloseHandle(link->out))
        errExit("%s: CloseHandle (the way out)", link->side);
    if (link->in != NULL && !CloseHandle(link->in))
        errExit("%s: CloseHandle (the way in)", link->side);
    if (link->childIn != NULL && !CloseHandle(link->childIn))
        errExit("%s: CloseHandle (the peer's stdin)", link->side);
    if (link->childOut != NULL && !CloseHandle(link->childOut))
        errExit("%s: CloseHandle (the peer's stdout)", link->side);
    initLink(link, link->side);
}
