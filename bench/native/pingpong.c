/* pingpong.c -- the machine's floor: a native Linux ping-pong, a reference, NOT winipc.
 *
 * The same method as bench/ipcbench, done with Linux's own calls and no Wine in the way, so the
 * Wine figures have a floor to be read against: fork a peer; for each channel (a pair of pipes, a
 * UNIX stream socket pair, TCP loopback with Nagle off) and each size, send `count` messages
 * (after `warmup` untimed ones), the peer echoes each one whole, and every reply is checked byte
 * for byte (the payload differs per message, so a stale or shifted reply is caught). Each round
 * trip is timed with clock_gettime(CLOCK_MONOTONIC). CPU time: what each process used during the
 * measured round trips (getrusage RUSAGE_SELF; the peer leaves its figure in a shared page).
 *
 * Prints bench's CSV (the ipcbench header) with mechanisms linux_pipe, linux_unix_socket and
 * linux_tcp. MB/s counts the bytes both ways: count * size * 2 / time, MB = 10^6 bytes.
 * bench/run.sh builds it with the host's cc (it is not part of the MinGW build).
 *
 * Usage: pingpong [--count N] [--warmup N] [--size BYTES]...  (defaults: ipcbench's, 2000 and 200)
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZES 8
#define MAX_SIZE (16L * 1024 * 1024)
/* In double quotes: the note holds a comma, and a CSV field with one must be quoted. */
#define NOTE "\"native Linux reference, not winipc\""

typedef struct { /* one channel: what each side reads from and writes to */
    int benchRead, benchWrite, peerRead, peerWrite;
} Channel;

typedef enum { PIPE_PAIR, UNIX_SOCKET, TCP_LOOPBACK } Kind;
static const char *const names[] = {"linux_pipe", "linux_unix_socket", "linux_tcp"};

static void errExit(const char *call)
{
    fprintf(stderr, "pingpong: ERROR [%s] %s\n", strerror(errno), call);
    exit(EXIT_FAILURE);
}

static long getLong(const char *text, long min, long max, const char *name)
{
    char *end;
    long value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
        fprintf(stderr, "pingpong: %s must be a number from %ld to %ld, not \"%s\"\n", name, min,
                max, text);
        exit(EXIT_FAILURE);
    }
    return value;
}

static void writeAll(int fd, const unsigned char *buffer, size_t length)
{
    ssize_t n;

    for (; length > 0; buffer += n, length -= (size_t)n)
        if ((n = write(fd, buffer, length)) == -1 && errno != EINTR)
            errExit("write");
        else if (n == -1)
            n = 0;
}

/* Returns 0 at end of data before the message is whole, 1 when it is. */
static int readAll(int fd, unsigned char *buffer, size_t length)
{
    ssize_t n;

    for (; length > 0; buffer += n, length -= (size_t)n)
        if ((n = read(fd, buffer, length)) == -1 && errno != EINTR)
            errExit("read");
        else if (n == 0)
            return 0;
        else if (n == -1)
            n = 0;
    return 1;
}

static void noDelay(int socket)
{
    int on = 1;

    if (setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == -1)
        errExit("setsockopt TCP_NODELAY");
}

/* TCP loopback: listen on an ephemeral port (no fixed port to collide with), connect, accept. */
static void openTcp(Channel *channel)
{
    struct sockaddr_in address = {.sin_family = AF_INET};
    socklen_t length = sizeof address;
    int listener;

    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((listener = socket(AF_INET, SOCK_STREAM, 0)) == -1)
        errExit("socket");
    if (bind(listener, (struct sockaddr *)&address, sizeof address) == -1)
        errExit("bind");
    if (listen(listener, 1) == -1)
        errExit("listen");
    if (getsockname(listener, (struct sockaddr *)&address, &length) == -1)
        errExit("getsockname");
    if ((channel->benchRead = socket(AF_INET, SOCK_STREAM, 0)) == -1)
        errExit("socket");
    if (connect(channel->benchRead, (struct sockaddr *)&address, sizeof address) == -1)
        errExit("connect");
    if ((channel->peerRead = accept(listener, NULL, NULL)) == -1)
        errExit("accept");
    if (close(listener) == -1)
        errExit("close");
    noDelay(channel->benchRead);
    noDelay(channel->peerRead);
    channel->benchWrite = channel->benchRead;
    channel->peerWrite = channel->peerRead;
}

static void openChannel(Kind kind, Channel *channel)
{
    int toPeer[2], fromPeer[2];

    if (kind == PIPE_PAIR) {
        if (pipe(toPeer) == -1 || pipe(fromPeer) == -1)
            errExit("pipe");
        *channel = (Channel){fromPeer[0], toPeer[1], toPeer[0], fromPeer[1]};
    } else if (kind == UNIX_SOCKET) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, toPeer) == -1)
            errExit("socketpair");
        *channel = (Channel){toPeer[0], toPeer[0], toPeer[1], toPeer[1]};
    } else {
        openTcp(channel);
    }
}

/* Closes both descriptors of one side (once, when read and write are the same socket). */
static void closeSide(int readEnd, int writeEnd)
{
    if (close(readEnd) == -1)
        errExit("close");
    if (writeEnd != readEnd && close(writeEnd) == -1)
        errExit("close");
}

static double cpuMs(int who)
{
    struct rusage usage;

    if (getrusage(who, &usage) == -1)
        errExit("getrusage");
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
           (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

/* The peer: echo each message whole until the bench closes its end; leave in *cpu the CPU ms
 * it used from the first measured message on. */
static void echo(const Channel *channel, size_t size, long warmup, double *cpu)
{
    unsigned char *buffer = malloc(size);
    double start = 0;
    long i;

    if (buffer == NULL)
        errExit("malloc");
    closeSide(channel->benchRead, channel->benchWrite);
    for (i = 0; readAll(channel->peerRead, buffer, size); i++) {
        if (i == warmup)
            start = cpuMs(RUSAGE_SELF);
        writeAll(channel->peerWrite, buffer, size);
    }
    *cpu = cpuMs(RUSAGE_SELF) - start;
    free(buffer);
    _exit(EXIT_SUCCESS);
}

/* A different pattern per message: a stale, shifted or partial reply cannot match. */
static void fill(unsigned char *message, size_t size, long number)
{
    size_t j;

    for (j = 0; j < size; j++)
        message[j] = (unsigned char)((unsigned long)number * 131u + j * 7u + (j >> 8));
}

static void check(const unsigned char *sent, const unsigned char *reply, size_t size, long number)
{
    size_t j;

    for (j = 0; j < size; j++)
        if (sent[j] != reply[j]) {
            fprintf(stderr, "pingpong: reply %ld differs at byte %zu: sent 0x%02x, got 0x%02x\n",
                    number, j, sent[j], reply[j]);
            exit(EXIT_FAILURE);
        }
}

static double seconds(void)
{
    struct timespec now;

    if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
        errExit("clock_gettime");
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int compareDoubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least `fraction` of the samples at or below it. */
static double percentile(const double *sorted, long count, double fraction)
{
    long rank = (long)(fraction * (double)count + 0.999999);

    return sorted[rank < 1 ? 0 : rank - 1];
}

static void run(Kind kind, size_t size, long count, long warmup)
{
    unsigned char *sent = malloc(size), *reply = malloc(size);
    double *microseconds = malloc((size_t)count * sizeof *microseconds);
    double cpuBench = 0, start, total = 0;
    double *cpuPeer; /* a page both processes share: the peer's figure */
    Channel channel;
    pid_t peer;
    long i;
    int status;

    if (sent == NULL || reply == NULL || microseconds == NULL)
        errExit("malloc");
    cpuPeer = mmap(NULL, sizeof *cpuPeer, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                   0);
    if (cpuPeer == MAP_FAILED)
        errExit("mmap");
    openChannel(kind, &channel);
    if ((peer = fork()) == -1)
        errExit("fork");
    if (peer == 0)
        echo(&channel, size, warmup, cpuPeer);
    closeSide(channel.peerRead, channel.peerWrite);
    for (i = -warmup; i < count; i++) {
        fill(sent, size, i);
        if (i == 0)
            cpuBench = cpuMs(RUSAGE_SELF);
        start = seconds();
        writeAll(channel.benchWrite, sent, size);
        if (!readAll(channel.benchRead, reply, size)) {
            fprintf(stderr, "pingpong: %s: the peer closed before reply %ld\n", names[kind], i);
            exit(EXIT_FAILURE);
        }
        if (i >= 0)
            total += microseconds[i] = (seconds() - start) * 1e6;
        check(sent, reply, size, i);
    }
    cpuBench = cpuMs(RUSAGE_SELF) - cpuBench;
    closeSide(channel.benchRead, channel.benchWrite); /* the peer sees end of data and exits */
    if (waitpid(peer, &status, 0) == -1)
        errExit("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "pingpong: %s: the peer failed (status 0x%x)\n", names[kind], status);
        exit(EXIT_FAILURE);
    }
    qsort(microseconds, (size_t)count, sizeof *microseconds, compareDoubles);
    printf("%s,%zu,%ld,%.2f,%.2f,%.2f,%.0f,%.2f,%.1f,%.1f,%s\n", names[kind], size, count,
           percentile(microseconds, count, 0.50), percentile(microseconds, count, 0.99),
           microseconds[count - 1], (double)count / (total / 1e6),
           (double)count * (double)size * 2 / total, cpuBench, *cpuPeer, NOTE);
    fflush(stdout);
    if (munmap(cpuPeer, sizeof *cpuPeer) == -1)
        errExit("munmap");
    free(microseconds);
    free(reply);
    free(sent);
}

int main(int argc, char *argv[])
{
    long count = 2000, warmup = 200, sizes[MAX_SIZES] = {64, 4096, 65536};
    int nSizes = 0, i, kind;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = getLong(argv[++i], 1, 100000000, "--count");
        else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc)
            warmup = getLong(argv[++i], 0, 100000000, "--warmup");
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc && nSizes < MAX_SIZES)
            sizes[nSizes++] = getLong(argv[++i], 1, MAX_SIZE, "--size");
        else {
            fprintf(stderr, "Usage: pingpong [--count N] [--warmup N] [--size BYTES]...\n"
                            "Native Linux reference ping-pong (not winipc); CSV on stdout.\n"
                            "  --count N       timed round trips per channel and size (2000)\n"
                            "  --warmup N      untimed round trips first (200)\n"
                            "  --size BYTES    message size, repeatable (64 4096 65536)\n");
            exit(strcmp(argv[i], "--help") == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
        }
    }
    if (nSizes == 0)
        nSizes = 3;
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) /* a dead peer: EPIPE from write, not a signal */
        errExit("signal");
    printf("mechanism,bytes,count,p50_us,p99_us,max_us,messages_per_s,mb_per_s,"
           "cpu_ms_bench,cpu_ms_peer,note\n");
    for (kind = PIPE_PAIR; kind <= TCP_LOOPBACK; kind++)
        for (i = 0; i < nSizes; i++)
            run((Kind)kind, (size_t)sizes[i], count, warmup);
    return EXIT_SUCCESS;
}
