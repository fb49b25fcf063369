/* ipcbench_report.c -- from round-trip times to figures, and the figures on stdout: an aligned
 * table under a line that names the platform and the CPU, the CSV contract of issue #10
 * (mechanism,bytes,count,p50_us,...,note), or a JSON array of objects with the same keys. A
 * figure not measured is n/a (JSON: null), never a false 0.
 */
#include "ipcbench.h"
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLUMNS 11
#define CELL 64

static const char *const keys[COLUMNS] = {
    "mechanism",      "bytes",    "count",        "p50_us",      "p99_us", "max_us",
    "messages_per_s", "mb_per_s", "cpu_ms_bench", "cpu_ms_peer", "note"};

static int compareTicks(const void *a, const void *b)
{
    LONGLONG x = *(const LONGLONG *)a, y = *(const LONGLONG *)b;

    return (x > y) - (x < y);
}

/* The nearest-rank percentile: the smallest time that at least percent% of the trips took. */
static double percentileUs(const LONGLONG *sorted, long count, long percent, double usPerTick)
{
    long rank = (percent * count + 99) / 100;

    return (double)sorted[rank > 0 ? rank - 1 : 0] * usPerTick;
}

void summarise(Result *result, LONGLONG *ticks, long count, LONGLONG frequency)
{
    double usPerTick = 1e6 / (double)frequency, totalUs = 0;
    long i;

    qsort(ticks, (size_t)count, sizeof *ticks, compareTicks);
    for (i = 0; i < count; i++)
        totalUs += (double)ticks[i] * usPerTick;
    result->p50Us = percentileUs(ticks, count, 50, usPerTick);
    result->p99Us = percentileUs(ticks, count, 99, usPerTick);
    result->maxUs = (double)ticks[count - 1] * usPerTick;
    result->messagesPerS = (double)count / (totalUs / 1e6);
    result->mbPerS = (double)count * (double)result->size * 2 / totalUs; /* bytes/us = MB/s */
}

static double fileTimeMs(FILETIME time)
{
    ULARGE_INTEGER hundredNs;

    hundredNs.LowPart = time.dwLowDateTime;
    hundredNs.HighPart = time.dwHighDateTime;
    return (double)hundredNs.QuadPart / 10000.0;
}

double cpuMs(HANDLE process)
{
    FILETIME created, exited, kernel, user;

    if (!GetProcessTimes(process, &created, &exited, &kernel, &user))
        errExit("GetProcessTimes");
    return fileTimeMs(kernel) + fileTimeMs(user);
}

/* ---- The platform and the CPU, for the table's header ----------------------------------- */

typedef const char *(CDECL *WineGetVersion)(void);
typedef LONG(WINAPI *RtlGetVersionCall)(OSVERSIONINFOW *);

static HMODULE ntdll(void)
{
    HMODULE module = GetModuleHandleW(L"ntdll.dll");

    if (module == NULL)
        errExit("GetModuleHandleW ntdll.dll");
    return module;
}

/* Wine's ntdll exports wine_get_version, which Windows' does not: the one sure sign of Wine.
 * It matters here because Wine 8's GetProcessTimes on another process returns the caller's
 * own times: ipcbench's own peer times itself, but the lab server's CPU time is n/a under Wine. */
BOOL runsOnWine(void)
{
    return GetProcAddress(ntdll(), "wine_get_version") != NULL;
}

/* On Windows RtlGetVersion tells the truth, where GetVersionEx lies to unmanifested programs. */
static void describePlatform(char *text, size_t size)
{
    FARPROC wine = GetProcAddress(ntdll(), "wine_get_version"), rtlGetVersion;
    OSVERSIONINFOW version = {.dwOSVersionInfoSize = sizeof version};

    if (wine != NULL) {
        snprintf(text, size, "Wine %s", ((WineGetVersion)(void (*)(void))wine)());
        return;
    }
    rtlGetVersion = GetProcAddress(ntdll(), "RtlGetVersion");
    if (rtlGetVersion == NULL)
        errExit("GetProcAddress RtlGetVersion");
    if (((RtlGetVersionCall)(void (*)(void))rtlGetVersion)(&version) != 0)
        fatal("RtlGetVersion failed");
    snprintf(text, size, "Windows %lu.%lu (build %lu)", version.dwMajorVersion,
             version.dwMinorVersion, version.dwBuildNumber);
}

static void describeCpu(char *text, int size)
{
    wchar_t name[128];
    DWORD bytes = sizeof name;
    LSTATUS status = RegGetValueW(HKEY_LOCAL_MACHINE,
                                  L"HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0",
                                  L"ProcessorNameString", RRF_RT_REG_SZ, NULL, name, &bytes);
    const wchar_t *start = name;

    if (status != ERROR_SUCCESS) {
        errMsgCode((DWORD)status, "RegGetValueW ProcessorNameString");
        snprintf(text, (size_t)size, "an unknown CPU");
        return;
    }
    while (*start == L' ') /* Intel pads the name on the left */
        start++;
    if (WideCharToMultiByte(CP_UTF8, 0, start, -1, text, size, NULL, NULL) == 0)
        errExit("WideCharToMultiByte");
}

/* ---- The three formats ------------------------------------------------------------------- */

static void figure(char *cell, BOOL measured, const char *format, double value)
{
    if (measured)
        snprintf(cell, CELL, format, value);
    else
        snprintf(cell, CELL, "n/a");
}

static void cells(const Result *r, char cell[COLUMNS][CELL])
{
    snprintf(cell[0], CELL, "%s", mechanismNames[r->mechanism]);
    snprintf(cell[1], CELL, "%ld", r->size);
    snprintf(cell[2], CELL, "%ld", r->count);
    figure(cell[3], r->measured, "%.1f", r->p50Us);
    figure(cell[4], r->measured, "%.1f", r->p99Us);
    figure(cell[5], r->measured, "%.1f", r->maxUs);
    figure(cell[6], r->measured, "%.0f", r->messagesPerS);
    figure(cell[7], r->measured, "%.2f", r->mbPerS);
    figure(cell[8], r->measured, "%.1f", r->cpuMsBench);
    figure(cell[9], r->measured && r->peerCpuKnown, "%.1f", r->cpuMsPeer);
    snprintf(cell[10], CELL, "%s", r->note);
}

static void printTable(const Result *results, int count, long warmup)
{
    static const char row[] = "%-18s %8s %7s %9s %9s %9s %14s %9s %12s %11s  %s\n";
    char platform[128], cpu[256], cell[COLUMNS][CELL];
    int i;

    describePlatform(platform, sizeof platform);
    describeCpu(cpu, (int)sizeof cpu);
    say("ipcbench on %s, %s\n", platform, cpu);
    say("round trips after %ld warm-up, times in us, MB/s = count * bytes * 2 / time\n", warmup);
    say(row, keys[0], keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7], keys[8],
        keys[9], keys[10]);
    for (i = 0; i < count; i++) {
        cells(&results[i], cell);
        say(row, cell[0], cell[1], cell[2], cell[3], cell[4], cell[5], cell[6], cell[7], cell[8],
            cell[9], cell[10]);
    }
}

static void printCsv(const Result *results, int count)
{
    char cell[COLUMNS][CELL];
    int i;

    say("%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", keys[0], keys[1], keys[2], keys[3], keys[4], keys[5],
        keys[6], keys[7], keys[8], keys[9], keys[10]);
    for (i = 0; i < count; i++) {
        cells(&results[i], cell);
        say("%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", cell[0], cell[1], cell[2], cell[3], cell[4],
            cell[5], cell[6], cell[7], cell[8], cell[9], cell[10]);
    }
}

/* One object a line. Names and notes are our own text: no character in them needs escaping. */
static void printJson(const Result *results, int count)
{
    char cell[COLUMNS][CELL], line[1024];
    size_t used;
    int i, c;

    say("[\n");
    for (i = 0; i < count; i++) {
        cells(&results[i], cell);
        used = (size_t)snprintf(line, sizeof line, "  {");
        for (c = 0; c < COLUMNS; c++) {
            BOOL text = c == 0 || c == COLUMNS - 1, missing = strcmp(cell[c], "n/a") == 0;
            used += (size_t)snprintf(line + used, sizeof line - used, "%s\"%s\": %s%s%s",
                                     c > 0 ? ", " : "", keys[c], text ? "\"" : "",
                                     missing && !text ? "null" : cell[c], text ? "\"" : "");
        }
        say("%s}%s\n", line, i + 1 < count ? "," : "");
    }
    say("]\n");
}

void printResults(const Result *results, int count, Format format, long warmup)
{
    if (format == FORMAT_CSV)
        printCsv(results, count);
    else if (format == FORMAT_JSON)
        printJson(results, count);
    else
        printTable(results, count, warmup);
}
