/* signals.h -- what signals_server and signals_client share (the report's
 * listing 13).
 *
 * Console control events are Windows' nearest thing to Unix signals, with a
 * difference that shapes both programs: an event goes to a console, and
 * every process attached to that console receives it. Ctrl-C cannot even be
 * aimed at one process group -- only at all of them (group 0). So to send
 * one, a process attaches itself to the target's console, and makes sure it
 * ignores Ctrl-C itself.
 *
 * Each handler runs on a new thread the system starts for it. Returning TRUE
 * says "handled"; FALSE passes the event on to the next handler, and the last
 * one, the default, ends the process with STATUS_CONTROL_C_EXIT (0xC000013A).
 */
#ifndef SIGNALS_H
#define SIGNALS_H

#include <windows.h>

#define SG_READY "signals_server: waiting for console control events, pid"

static inline const char *eventName(DWORD event)
{
    switch (event) {
    case CTRL_C_EVENT: return "Ctrl-C";
    case CTRL_BREAK_EVENT: return "Ctrl-Break";
    case CTRL_CLOSE_EVENT: return "close";
    case CTRL_LOGOFF_EVENT: return "logoff";
    case CTRL_SHUTDOWN_EVENT: return "shutdown";
    default: return "unknown event";
    }
}

#endif
