#!/bin/bash
# terminal.sh -- test-only, under Wine: a server and its interactive client,
# each in a real terminal (tmux), someone typing Cyrillic at the client's
# prompt, and the screens read back: what a person sees, not what a pipe
# carries. Wine gives a program started from a terminal a console of its
# own, and text written to it badly (the C runtime's fwrite of UTF-8) shows
# as "Ð¿ÑÐ¸Ð²ÐµÑ" instead of "привет".
#
# Usage: terminal.sh WINE_RUN READY -- SERVER_EXE [ARG...] -- CLIENT_EXE [ARG...] -- STEP...
#   READY            a line the server's screen shows when it is ready
#   STEP prompt:TEXT wait until the client's screen ends with the line TEXT
#                    (its prompt: type only when the client waits for a line)
#        type:TEXT   type TEXT, then Enter
#        client:LINE wait until the client's screen has the line LINE
#        server:LINE the same for the server's screen
#        client-exits  wait until the client has exited, with status 0
# Every screen is checked at the end: no line may hold "Ð" or "Ñ" (UTF-8
# shown as Latin-1). Exit status: 0 pass, 1 fail, 77 cannot run here (not
# under Wine, or no tmux). A screen is looked at every 100 ms for at most
# 60 s: nothing signals that a terminal has drawn a line.
set -u
fail() {
    echo "terminal: FAIL: $*"
    for w in server client; do
        echo "---- the $w's screen ----"
        tmux -L "$socket" capture-pane -p -t "winipc:$w" 2>/dev/null | sed '/^$/d'
    done
    exit 1
}
[ $# -ge 6 ] || { echo "usage: see the top of terminal.sh" >&2; exit 2; }
wine_run=$1 ready=$2
shift 2
grep -q "^export WINEPREFIX=" "$wine_run" 2>/dev/null ||
    { echo "terminal: skipped: $wine_run is not the wine-run wrapper (not under Wine)"; exit 77; }
command -v tmux >/dev/null ||
    { echo "terminal: skipped: no tmux (Debian: apt-get install tmux)"; exit 77; }
[ "$1" = "--" ] || { echo "terminal: expected -- before the server" >&2; exit 2; }
shift
server=() client=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do server+=("$1"); shift; done
shift
while [ $# -gt 0 ] && [ "$1" != "--" ]; do client+=("$1"); shift; done
shift

socket=winipc_$$ # a tmux server of our own
work=$(mktemp -d) || exit 1
cleanup() {
    tmux -L "$socket" kill-server 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
: >"$work/tmux.conf" # an empty configuration: never the user's ~/.tmux.conf
# What a window runs: the program, then a shell that stays. Were the
# program the window's first process, its end would hang up the terminal,
# and Wine's console process (conhost), still copying the last lines to the
# screen, would die of SIGHUP with them unshown.
inWindow() { printf '%q ' "$@"; printf '; echo "[exited with $?]"; exec cat'; }

# screenHas WINDOW LINE: wait until the window's screen has the line LINE.
screenHas() {
    local i
    for ((i = 0; i < 600; i++)); do
        tmux -L "$socket" capture-pane -p -t "winipc:$1" | grep -qxF -- "$2" && return 0
        sleep 0.1
    done
    return 1
}
# endsWith LINE: wait until the client's last line (trailing blanks aside) is LINE.
endsWith() {
    local i
    for ((i = 0; i < 600; i++)); do
        [ "$(tmux -L "$socket" capture-pane -p -t winipc:client | sed 's/[[:space:]]*$//' |
            sed '/^$/d' | tail -n 1)" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

"$wine_run" --start || fail "cannot start Wine"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
tmux -u -L "$socket" -f "$work/tmux.conf" new-session -d -s winipc -n server -x 120 -y 30 \
    "$(inWindow "$wine_run" "${server[@]}")" || fail "tmux cannot start"
screenHas server "$ready" || fail "the server did not show: $ready"
tmux -L "$socket" new-window -d -t winipc -n client "$(inWindow "$wine_run" "${client[@]}")" ||
    fail "tmux cannot open the client's window"

for step in "$@"; do
    case $step in
    prompt:*)
        endsWith "${step#prompt:}" || fail "the client did not prompt: ${step#prompt:}"
        ;;
    type:*)
        tmux -L "$socket" send-keys -t winipc:client -l "${step#type:}" &&
            tmux -L "$socket" send-keys -t winipc:client Enter || fail "cannot type $step"
        echo "terminal: typed ${step#type:}"
        ;;
    client:* | server:*)
        screenHas "${step%%:*}" "${step#*:}" || fail "the ${step%%:*} did not show: ${step#*:}"
        echo "terminal: the ${step%%:*}'s screen shows: ${step#*:}"
        ;;
    client-exits)
        screenHas client "[exited with 0]" || fail "the client did not exit with status 0"
        echo "terminal: the client exited with status 0"
        ;;
    *) echo "terminal: unknown step $step" >&2; exit 2 ;;
    esac
done
for w in server client; do
    tmux -L "$socket" capture-pane -p -t "winipc:$w" | grep -q '[ÐÑ]' &&
        fail "the $w's screen shows UTF-8 as Latin-1 (Ð, Ñ)"
done
echo "terminal: PASS: both screens show every line as it was typed"
