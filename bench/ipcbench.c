/* ipcbench.c -- ipcbench: every mechanism measured by one method (issue #10). A tool, not one
 * of the report's listings.
 *
 * For each mechanism and message size it starts a peer (this .exe with --peer), then sends
 * `count` messages one at a time, each after the one before has come back: a ping-pong. The
 * peer echoes each message whole, and every reply is checked byte for byte against what was
 * sent. Each message has its own bytes (fillMessage), so a stale, shifted or mixed-up reply
 * cannot pass. A round trip is timed with QueryPerformanceCounter from the send to the last
 * byte of the reply. Mechanisms: ipcbench_links.c; the peer: ipcbench_peer.c. With
 * --lab-server the peer is the lab's named_pipe_server (ipcbench_lab.c): its figure, set
 * against named_pipe_message's, is what the lab server costs over the raw mechanism.
 *
 * Usage: ipcbench [--mechanism NAME|all]... [--size BYTES]... [--count N] [--warmup N]
 *                 [--format table|csv|json] [--lab-server PATH] [--flip-byte N]
 */
#include "ipcbench.h"
#include "args.h"
#include "mailslot.h"
#include "named_pipe.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_COUNT 2000
#define DEFAULT_WARMUP 200
#define MAX_SIZES 16

/* The usage text gives these numbers as written; the compiler checks that they still agree. */
_Static_assert(MS_MAX_MESSAGE == 424, "the usage text gives mailslot.h's limit as 424 bytes");
_Static_assert(NP_MAX_MESSAGE == 65536, "the usage text and a note give named_pipe.h's limit");
_Static_assert(IB_MAX_SIZE == 16777216, "the usage text gives IB_MAX_SIZE as 16777216");
_Static_assert(DEFAULT_COUNT == 2000 && DEFAULT_WARMUP == 200, "the usage text gives them");

static const char usage[] =
    "Usage: ipcbench [--mechanism NAME|all]... [--size BYTES]... [--count N] [--warmup N]\n"
    "                [--format table|csv|json] [--lab-server PATH] [--flip-byte N]\n"
    "Ping-pongs messages between this program and a peer it starts (itself), one mechanism\n"
    "and size at a time; the peer echoes each message whole, and every reply is checked byte\n"
    "for byte. Results on stdout, progress on stderr; exit 1 if any reply differs.\n"
    "  --mechanism NAME  anonymous_pipe, named_pipe_byte, named_pipe_message, mailslot,\n"
    "                    shm_event, shm_spin, tcp, tcp_iocp, or all (the default); may repeat;\n"
    "                    named_pipe_server: see --lab-server\n"
    "  --size BYTES      message size, 1 to 16777216 (16 MiB); may repeat (default 64, 4096\n"
    "                    and 65536). Mailslot messages stop at 424 bytes (mailslot.h's\n"
    "                    MS_MAX_MESSAGE): a bigger size is not run, and its row says so\n"
    "  --count N         measured round trips per mechanism and size (default 2000)\n"
    "  --warmup N        round trips before measuring, checked but not timed (default 200)\n"
    "  --format F        table (the default), csv or json\n"
    "  --lab-server PATH also runs mechanism named_pipe_server (alone if no --mechanism):\n"
    "                    the lab's named_pipe_server at PATH as the peer, started with\n"
    "                    --max-clients 1 and driven as a client, \"exit\" at the end; its\n"
    "                    log is read and its count of messages checked. Compare its row\n"
    "                    with named_pipe_message's. Sizes over 65536 bytes (named_pipe.h's\n"
    "                    NP_MAX_MESSAGE) are not run\n"
    "  --flip-byte N     for tests: ipcbench's own peer corrupts the middle byte of its reply\n"
    "                    to message N (counting the warm-up), and ipcbench must catch it\n"
    "  --help            show this text\n"
    "Figures per mechanism and size: p50, p99 and max of the round trips in microseconds;\n"
    "messages/s is round trips per second; MB/s counts the bytes that crossed, both ways:\n"
    "count * size * 2 / the time of the measured round trips, in 10^6 bytes per second;\n"
    "cpu_ms_bench and cpu_ms_peer are user + kernel CPU milliseconds each process used during\n"
    "the measured round trips, each by GetProcessTimes on itself: the peer hands its figure\n"
    "back as it exits. named_pipe_server cannot: ipcbench times it from outside, which Wine\n"
    "does not allow (its GetProcessTimes on another process gives the caller's own), so there\n"
    "its cpu_ms_peer is n/a, and the note says so. n/a: not measured.\n"
    "With the defaults, --mechanism all takes about 20 s under Wine.\n";

typedef struct {
    BOOL chosen[MECHANISM_COUNT];
    long sizes[MAX_SIZES];
    int sizeCount;
    long count, warmup, flipMessage;
    Format format;
    const char *labServer; /* --lab-server: named_pipe_server's .exe; NULL: none */
    BOOL peer;             /* the hidden --peer mode: the rest is in spec and benchPid */
    RunSpec spec;
    DWORD benchPid;
} Options;

const char *const mechanismNames[MECHANISM_COUNT] = {"anonymous_pipe",
                                                     "named_pipe_byte",
                                                     "named_pipe_message",
                                                     "mailslot",
                                                     "shm_event",
                                                     "shm_spin",
                                                     "tcp",
                                                     "tcp_iocp",
                                                     "named_pipe_server"};

static Mechanism mechanismNamed(const char *name)
{
    int m;

    for (m = 0; m < MECHANISM_COUNT; m++)
        if (strcmp(name, mechanismNames[m]) == 0)
            return (Mechanism)m;
    usageErr("no mechanism \"%s\"", name);
}

static void chooseMechanism(const char *name, Options *options)
{
    int m;

    if (strcmp(name, "all") != 0) {
        options->chosen[mechanismNamed(name)] = TRUE;
        return;
    }
    for (m = 0; m < PEERED_COUNT; m++) /* named_pipe_server comes with its --lab-server */
        options->chosen[m] = TRUE;
}

static Format formatNamed(const char *name)
{
    if (strcmp(name, "table") == 0)
        return FORMAT_TABLE;
    if (strcmp(name, "csv") == 0)
        return FORMAT_CSV;
    if (strcmp(name, "json") == 0)
        return FORMAT_JSON;
    usageErr("--format wants table, csv or json, not \"%s\"", name);
}

static void addSize(const char *text, Options *options)
{
    if (options->sizeCount == MAX_SIZES)
        usageErr("at most %d sizes", MAX_SIZES);
    options->sizes[options->sizeCount++] = getNumber(text, 1, IB_MAX_SIZE, "--size");
}

/* The hidden options startPeer() gives the peer, besides --size, --count, --warmup and
 * --flip-byte. */
static BOOL peerOption(int argc, char *argv[], int *i, Options *options)
{
    const char *option = argv[*i];

    if (strcmp(option, "--peer") == 0) {
        options->peer = TRUE;
        options->spec.mechanism = mechanismNamed(optionValue(argc, argv, i));
    } else if (strcmp(option, "--name") == 0) {
        snprintf(options->spec.name, IB_MAX_NAME, "%s", optionValue(argc, argv, i));
    } else if (strcmp(option, "--bench-pid") == 0) {
        options->benchPid = (DWORD)getNumber(optionValue(argc, argv, i), 1, LONG_MAX, option);
    } else if (strcmp(option, "--port") == 0) {
        options->spec.port = (unsigned short)getNumber(optionValue(argc, argv, i), 0, 65535,
                                                       option);
    } else {
        return FALSE;
    }
    return TRUE;
}

static void parseOptions(int argc, char *argv[], Options *options)
{
    int i, m, chosen = 0;

    memset(options, 0, sizeof *options);
    options->count = DEFAULT_COUNT;
    options->warmup = DEFAULT_WARMUP;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            showHelp();
        else if (strcmp(argv[i], "--mechanism") == 0)
            chooseMechanism(optionValue(argc, argv, &i), options);
        else if (strcmp(argv[i], "--size") == 0)
            addSize(optionValue(argc, argv, &i), options);
        else if (strcmp(argv[i], "--count") == 0)
            options->count = getNumber(optionValue(argc, argv, &i), 1, IB_MAX_COUNT, "--count");
        else if (strcmp(argv[i], "--warmup") == 0)
            options->warmup = getNumber(optionValue(argc, argv, &i), 0, IB_MAX_COUNT, "--warmup");
        else if (strcmp(argv[i], "--format") == 0)
            options->format = formatNamed(optionValue(argc, argv, &i));
        else if (strcmp(argv[i], "--lab-server") == 0)
            options->labServer = optionValue(argc, argv, &i);
        else if (strcmp(argv[i], "--flip-byte") == 0)
            options->flipMessage = getNumber(optionValue(argc, argv, &i), 1, 2 * IB_MAX_COUNT,
                                             "--flip-byte");
        else if (!peerOption(argc, argv, &i, options))
            usageErr("unknown argument \"%s\"", argv[i]);
    }
    for (m = 0; m < MECHANISM_COUNT; m++)
        chosen += options->chosen[m];
    if (options->chosen[NAMED_PIPE_SERVER] && options->labServer == NULL)
        usageErr("named_pipe_server wants --lab-server PATH");
    options->chosen[NAMED_PIPE_SERVER] = options->labServer != NULL;
    /* No --mechanism: all of ipcbench's own, unless --lab-server asks for the server alone. */
    for (m = 0; m < PEERED_COUNT && chosen == 0 && options->labServer == NULL; m++)
        options->chosen[m] = TRUE;
    if (options->sizeCount == 0) {
        options->sizes[0] = 64;
        options->sizes[1] = 4096;
        options->sizes[2] = 65536;
        options->sizeCount = 3;
    }
}

/* The peer's run, from its command line: --count is the total, the warm-up included. */
static void peerSpec(Options *options)
{
    if (options->sizeCount != 1 || options->spec.name[0] == '\0' || options->benchPid == 0 ||
        options->spec.mechanism >= PEERED_COUNT || options->warmup >= options->count)
        usageErr("--peer wants one of ipcbench's mechanisms, one --size, --name, --bench-pid, "
                 "and a --warmup under --count");
    options->spec.size = options->sizes[0];
    options->spec.total = options->count;
    options->spec.warmup = options->warmup;
    options->spec.flipMessage = options->flipMessage;
}

/* ---- One run ----------------------------------------------------------------------------- */

static void *allocate(size_t bytes)
{
    void *block = HeapAlloc(GetProcessHeap(), 0, bytes);

    if (block == NULL)
        fatal("HeapAlloc of %lu bytes failed", (unsigned long)bytes); /* sets no last error */
    return block;
}

static void release(void *block)
{
    if (!HeapFree(GetProcessHeap(), 0, block))
        errExit("HeapFree");
}

/* Starts the peer: this .exe with --peer and the run on its command line. Its stderr is ours,
 * so its errors show; anonymous_pipe gives it the two pipes as stdin and stdout. */
static PROCESS_INFORMATION startPeer(const RunSpec *spec, const Link *link)
{
    STARTUPINFOW startup = {.cb = sizeof startup, .dwFlags = STARTF_USESTDHANDLES};
    PROCESS_INFORMATION peer;
    wchar_t path[MAX_PATH], arguments[512], commandLine[MAX_PATH + 520];
    char text[512], flip[40] = "";
    DWORD length = GetModuleFileNameW(NULL, path, MAX_PATH);

    if (length == 0 || length == MAX_PATH)
        errExit("GetModuleFileNameW");
    if (spec->flipMessage > 0)
        snprintf(flip, sizeof flip, " --flip-byte %ld", spec->flipMessage);
    snprintf(text, sizeof text,
             "--peer %s --size %ld --count %ld --warmup %ld --name %s --bench-pid %lu --port %u%s",
             mechanismNames[spec->mechanism], spec->size, spec->total, spec->warmup, spec->name,
             GetCurrentProcessId(), spec->port, flip);
    if (MultiByteToWideChar(CP_UTF8, 0, text, -1, arguments, ARRAYSIZE(arguments)) == 0)
        errExit("MultiByteToWideChar");
    swprintf(commandLine, ARRAYSIZE(commandLine), L"\"%ls\" %ls", path, arguments);
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE); /* may be NULL: none */
    if (startup.hStdError == INVALID_HANDLE_VALUE)
        errExit("GetStdHandle");
    startup.hStdInput = link->childIn;
    startup.hStdOutput = link->childOut != NULL ? link->childOut : startup.hStdError;
    if (!CreateProcessW(path, commandLine, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &peer))
        errExit("CreateProcessW (the peer)");
    return peer;
}

/* Every byte depends on the message number and on its place, and the pattern does not repeat
 * every 256 bytes, so a reply from another message or shifted by some bytes differs. */
static void fillMessage(unsigned char *data, long size, long message)
{
    long i;

    for (i = 0; i < size; i++)
        data[i] = (unsigned char)(message * 131 + i * 7 + (i >> 8));
}

static LONGLONG roundTrip(Link *link, const RunSpec *spec, long message, const unsigned char *sent,
                          unsigned char *reply)
{
    LARGE_INTEGER start, end;

    if (!QueryPerformanceCounter(&start))
        errExit("QueryPerformanceCounter");
    link->send(link, sent, (DWORD)spec->size);
    if (!link->receive(link, reply, (DWORD)spec->size))
        fatal("%s: the peer closed the link before its reply to message %ld",
              mechanismNames[spec->mechanism], message);
    if (!QueryPerformanceCounter(&end))
        errExit("QueryPerformanceCounter");
    return end.QuadPart - start.QuadPart;
}

static void checkReply(const RunSpec *spec, long message, const unsigned char *sent,
                       const unsigned char *reply, HANDLE peer, Watchdog *watch)
{
    long i = 0;

    if (memcmp(sent, reply, (size_t)spec->size) == 0)
        return;
    while (sent[i] == reply[i])
        i++;
    InterlockedExchange(&watch->ending, 1); /* the peer's end is ours now */
    if (!TerminateProcess(peer, 1))
        errMsg("TerminateProcess (the peer)");
    fatal("FAIL: %s, %ld bytes: the reply to message %ld differs at byte %ld (from 0): sent "
          "0x%02X, got 0x%02X",
          mechanismNames[spec->mechanism], spec->size, message, i, sent[i], reply[i]);
}

/* The warm-up, then the measured round trips; the CPU times cover only the latter. The bench
 * times the other process only if timeOther (the lab server, not under Wine: runsOnWine()); its
 * own peer times itself, and run() takes that figure from its report. */
static void measure(Link *link, const RunSpec *spec, HANDLE other, BOOL timeOther, Watchdog *watch,
                    Result *result)
{
    unsigned char *sent = allocate((size_t)spec->size), *reply = allocate((size_t)spec->size);
    LONGLONG *ticks = allocate((size_t)result->count * sizeof *ticks);
    double cpuBench = 0, cpuOther = 0;
    LARGE_INTEGER frequency;
    LONGLONG ticksTaken;
    long message;

    for (message = 1; message <= spec->total; message++) {
        if (message == spec->warmup + 1) {
            cpuBench = cpuMs(GetCurrentProcess());
            cpuOther = timeOther ? cpuMs(other) : 0;
        }
        fillMessage(sent, spec->size, message);
        ticksTaken = roundTrip(link, spec, message, sent, reply);
        checkReply(spec, message, sent, reply, other, watch);
        if (message > spec->warmup)
            ticks[message - spec->warmup - 1] = ticksTaken;
        InterlockedIncrement(&watch->progress);
    }
    result->cpuMsBench = cpuMs(GetCurrentProcess()) - cpuBench;
    result->cpuMsPeer = timeOther ? cpuMs(other) - cpuOther : 0;
    result->peerCpuKnown = timeOther;
    if (!QueryPerformanceFrequency(&frequency))
        errExit("QueryPerformanceFrequency");
    summarise(result, ticks, result->count, frequency.QuadPart);
    release(ticks);
    release(reply);
    release(sent);
}

/* The link is closed: a stream's peer reads its end and exits 0, any other when it is done. */
static void awaitPeer(HANDLE peer, const char *name)
{
    DWORD code;

    switch (WaitForSingleObject(peer, IB_IDLE_LIMIT_MS)) {
    case WAIT_OBJECT_0: break;
    case WAIT_TIMEOUT:
        if (!TerminateProcess(peer, 1))
            errMsg("TerminateProcess (%s)", name);
        fatal("%s did not exit within %d s of the run's end (ended)", name,
              IB_IDLE_LIMIT_MS / 1000);
    default: errExit("WaitForSingleObject (%s)", name);
    }
    if (!GetExitCodeProcess(peer, &code))
        errExit("GetExitCodeProcess (%s)", name);
    if (code != 0)
        fatal("%s exited with code %lu", name, code);
}

/* ipcbench's own peer: it hands back its CPU time in the report once it has exited. */
static void runWithPeer(RunSpec *spec, Result *result)
{
    PROCESS_INFORMATION peer;
    PeerReport *report;
    HANDLE reportMapping;
    Watchdog watch;
    Link link;

    report = openPeerReport(spec, TRUE, &reportMapping);
    prepareBenchLink(&link, spec);
    peer = startPeer(spec, &link);
    startWatchdog(&watch, peer.hProcess, "the peer", TRUE, IB_IDLE_LIMIT_MS);
    connectBenchLink(&link, spec, peer.hProcess);
    measure(&link, spec, peer.hProcess, FALSE, &watch, result);
    InterlockedExchange(&watch.ending, 1);
    closeLink(&link);
    awaitPeer(peer.hProcess, "the peer");
    stopWatchdog(&watch);
    result->peerCpuKnown = report->written == 1;
    result->cpuMsPeer = report->cpuMs;
    closePeerReport(report, reportMapping);
    if (!CloseHandle(peer.hThread))
        errExit("CloseHandle (the peer's thread)");
    if (!CloseHandle(peer.hProcess))
        errExit("CloseHandle (the peer)");
}

/* The lab's named_pipe_server as the peer: "exit" ends its session, and it exits. */
static void runWithLabServer(const char *path, RunSpec *spec, Result *result)
{
    LabServer lab;
    Watchdog watch;
    Link link;

    startLabServer(&lab, path, spec);
    startWatchdog(&watch, lab.process.hProcess, "named_pipe_server", TRUE, IB_IDLE_LIMIT_MS);
    openServerLink(&link, spec, lab.process.hProcess);
    measure(&link, spec, lab.process.hProcess, !runsOnWine(), &watch, result);
    sayExit(&link);
    InterlockedExchange(&watch.ending, 1);
    closeLink(&link);
    awaitPeer(lab.process.hProcess, "named_pipe_server");
    stopWatchdog(&watch);
    endLabServer(&lab, spec);
    if (!result->peerCpuKnown)
        result->note = "server CPU n/a: Wine cannot time another process";
}

/* Why a run cannot be made, or NULL: a message over the limit of what carries it. */
static const char *notRunnable(Mechanism mechanism, long size)
{
    if (mechanism == MAILSLOT && size > MS_MAX_MESSAGE)
        return "not run: over the " MS_TEXT(MS_MAX_MESSAGE) "-byte mailslot limit";
    if (mechanism == NAMED_PIPE_SERVER && size > NP_MAX_MESSAGE)
        return "not run: over the 65536-byte named_pipe_server limit";
    return NULL;
}

static void run(const Options *options, Mechanism mechanism, long size, int number, Result *result)
{
    RunSpec spec = {mechanism,           size, options->warmup + options->count,
                    options->warmup,     "",   0,
                    options->flipMessage};
    const char *why = notRunnable(mechanism, size);

    memset(result, 0, sizeof *result);
    result->mechanism = mechanism;
    result->size = size;
    result->note = why != NULL ? why : "";
    if (why != NULL)
        return;
    result->count = options->count;
    result->measured = TRUE;
    snprintf(spec.name, sizeof spec.name, "winipc_ipcbench_%lu_%d", GetCurrentProcessId(), number);
    if (mechanism == NAMED_PIPE_SERVER)
        runWithLabServer(options->labServer, &spec, result);
    else
        runWithPeer(&spec, result);
}

int main(int argc, char *argv[])
{
    Options options;
    Result *results;
    WSADATA wsa;
    int m, s, runs = 0, planned = 0, status;
    long checked = 0;

    initProgram(&argc, &argv, usage);
    parseOptions(argc, argv, &options);
    if (options.peer) {
        peerSpec(&options);
        return runPeer(&options.spec, options.benchPid);
    }
    if ((status = WSAStartup(MAKEWORD(2, 2), &wsa)) != 0)
        errExitCode((DWORD)status, "WSAStartup");
    for (m = 0; m < MECHANISM_COUNT; m++)
        planned += options.chosen[m] ? options.sizeCount : 0;
    results = allocate((size_t)planned * sizeof *results);
    for (m = 0; m < MECHANISM_COUNT; m++) {
        for (s = 0; s < options.sizeCount && options.chosen[m]; s++, runs++) {
            if (planned > 1)
                warn("%d/%d: %s, %ld bytes", runs + 1, planned, mechanismNames[m],
                     options.sizes[s]);
            run(&options, (Mechanism)m, options.sizes[s], runs, &results[runs]);
            checked += results[runs].measured ? options.warmup + options.count : 0;
        }
    }
    printResults(results, runs, options.format, options.warmup);
    warn("%d runs: all %ld replies checked byte for byte, as sent", runs, checked);
    release(results);
    if (WSACleanup() == SOCKET_ERROR)
        errExitWSA("WSACleanup");
    return 0;
}
