#!/bin/bash
# terminal.sh -- test-only, under Wine: a server and its interactive client,
# each in a real terminal (tmux), someone typing Cyrillic at the client's
# prompt, and the screens read back: what a person sees, not what a pipe
# carries. Wine gives a program started from a terminal a console of its
# own, and text written to it badly (the C runtime's fwrite of UTF-8) shows
# as "Ð¿ÑÐ¸Ð²ÐµÑ" instead of "привет". A third program, a peer, may join in a
# window of its own: another member of a chat that talks to the client
# while someone is typing there.
#
# Usage: terminal.sh WINE_RUN READY -- SERVER_EXE [ARG...] -- CLIENT_EXE [ARG...]
#                    [--peer PEER_EXE [ARG...]] -- STEP...
#   READY            a line the server's screen shows when it is ready
#   --peer           the peer's command; it starts at the step start-peer
#                    (no word of a command may be "--" or "--peer")
#   STEP prompt:TEXT wait until the client's last line is TEXT -- its prompt,
#                    and what has been typed at it so far. Blanks at the end
#                    of a line do not show on a screen: when TEXT ends in
#                    blanks, the cursor must stand right after them
#        type:TEXT   type TEXT at the client, then Enter
#        keys:TEXT   type TEXT at the client, without Enter
#        enter       press Enter at the client
#        start-peer  open the peer's window and start it there
#        WINDOW:LINE wait until WINDOW's screen has the line LINE (exactly);
#                    WINDOW is server, client or peer
#        WINDOW~GLOB wait until a line of WINDOW's screen, blanks at its end
#                    removed, matches GLOB as a whole: a bash pattern, * ?
#                    [...] (and "[[]" for a "["), "\" quotes the character
#                    after it, "*(" "?(" "+(" "@(" "!(" begin extended ones.
#                    "[[]#*] bob: hi" matches "[#3 19:06:07] bob: hi"
#        WINDOW#N~GLOB  wait until exactly N lines of WINDOW's screen match
#                    GLOB: after prompt:"> половина ", "client#1~*половина*"
#                    says that the half-typed line, redrawn below an incoming
#                    one, was not left above it too. Use it where the screen
#                    has settled (after a prompt: step): a screen being
#                    redrawn may match for a moment
#        client-exits, peer-exits
#                    wait until that program has exited, with status 0
# Every screen is checked at the end: no line may hold "Ð" or "Ñ" (UTF-8
# shown as Latin-1). Exit status: 0 pass, 1 fail, 2 bad arguments, 77
# cannot run here (not under Wine, or no tmux). A screen is looked at every
# 100 ms for at most 60 s: nothing signals that a terminal has drawn a line.
set -u
windows=(server client) # those opened so far
fail() {
    echo "terminal: FAIL: $*"
    for w in "${windows[@]}"; do
        echo "---- the $w's screen ----"
        tmux -L "$socket" capture-pane -p -t "winipc:$w" 2>/dev/null | sed '/^$/d'
    done
    exit 1
}
usage() { echo "terminal: $*; usage: see the top of terminal.sh" >&2; exit 2; }
[ $# -ge 6 ] || usage "too few arguments"
wine_run=$1 ready=$2
shift 2
grep -q "^export WINEPREFIX=" "$wine_run" 2>/dev/null ||
    { echo "terminal: skipped: $wine_run is not the wine-run wrapper (not under Wine)"; exit 77; }
command -v tmux >/dev/null ||
    { echo "terminal: skipped: no tmux (Debian: apt-get install tmux)"; exit 77; }
[ "$1" = "--" ] || usage "expected -- before the server"
shift
server=() client=() peer=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do server+=("$1"); shift; done
[ $# -gt 0 ] || usage "expected -- before the client"
shift
while [ $# -gt 0 ] && [ "$1" != "--" ] && [ "$1" != "--peer" ]; do client+=("$1"); shift; done
if [ $# -gt 0 ] && [ "$1" = "--peer" ]; then
    shift
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do peer+=("$1"); shift; done
    [ ${#peer[@]} -gt 0 ] || usage "--peer wants a command"
fi
[ $# -gt 0 ] || usage "expected -- before the steps"
shift
if [ ${#server[@]} = 0 ] || [ ${#client[@]} = 0 ]; then usage "a server and a client are needed"; fi

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
# screen WINDOW: its lines, each without the blanks at its end.
screen() { tmux -L "$socket" capture-pane -p -t "winipc:$1" | sed 's/[[:space:]]*$//'; }

# cursor: where the client's cursor stands, "COLUMN ROW", each from 0.
cursor() { tmux -L "$socket" display-message -p -t winipc:client '#{cursor_x} #{cursor_y}'; }

# The checks a step waits for, each tried once: true when it holds.
hasLine() { screen "$1" | grep -qxF -- "$2"; } # hasLine WINDOW LINE
hasMatch() { hasMatches "$1" any "$2"; }        # hasMatch WINDOW GLOB
hasMatches() {                                  # hasMatches WINDOW N|any GLOB
    local line found=0
    while IFS= read -r line; do
        # shellcheck disable=SC2053 # unquoted on purpose: GLOB is a pattern
        [[ $line == $3 ]] && found=$((found + 1))
    done < <(screen "$1")
    if [ "$2" = any ]; then [ $found -gt 0 ]; else [ $found = "$2" ]; fi
}
isPrompt() { # isPrompt TEXT: see prompt: above
    local text=${1%"${1##*[![:space:]]}"} lines last
    mapfile -t lines < <(screen client)
    for ((last = ${#lines[@]} - 1; last >= 0; last--)); do
        [ -n "${lines[last]}" ] && break
    done
    [ "$last" -ge 0 ] && [ "${lines[last]}" = "$text" ] || return 1
    [ "$text" = "$1" ] || [ "$(cursor)" = "${#1} $last" ]
}
# waitFor CHECK [ARG...]: try it every 100 ms, for at most 60 s.
waitFor() {
    local i
    for ((i = 0; i < 600; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
opened() { [[ " ${windows[*]} " == *" $1 "* ]]; }

"$wine_run" --start || fail "cannot start Wine"
export LANG=C.UTF-8 LC_ALL=C.UTF-8 # ${#TEXT} counts characters, not bytes
tmux -u -L "$socket" -f "$work/tmux.conf" new-session -d -s winipc -n server -x 120 -y 30 \
    "$(inWindow "$wine_run" "${server[@]}")" || fail "tmux cannot start"
waitFor hasLine server "$ready" || fail "the server did not show: $ready"
tmux -L "$socket" new-window -d -t winipc -n client "$(inWindow "$wine_run" "${client[@]}")" ||
    fail "tmux cannot open the client's window"

for step in "$@"; do
    case $step in
    prompt:*)
        if ! waitFor isPrompt "${step#prompt:}"; then
            read -r column row <<<"$(cursor)"
            fail "the client did not prompt: ${step#prompt:} (its cursor: column $column, row $row)"
        fi
        echo "terminal: the client's last line is: ${step#prompt:}"
        ;;
    type:* | keys:*)
        tmux -L "$socket" send-keys -t winipc:client -l "${step#*:}" || fail "cannot type $step"
        if [ "${step%%:*}" = type ]; then
            tmux -L "$socket" send-keys -t winipc:client Enter || fail "cannot press Enter"
            echo "terminal: typed ${step#*:}, then Enter"
        else
            echo "terminal: typed ${step#*:}"
        fi
        ;;
    enter)
        tmux -L "$socket" send-keys -t winipc:client Enter || fail "cannot press Enter"
        echo "terminal: pressed Enter"
        ;;
    start-peer)
        [ ${#peer[@]} -gt 0 ] || usage "start-peer, but no --peer command"
        ! opened peer || usage "start-peer twice"
        tmux -L "$socket" new-window -d -t winipc -n peer "$(inWindow "$wine_run" "${peer[@]}")" ||
            fail "tmux cannot open the peer's window"
        windows+=(peer)
        echo "terminal: started the peer"
        ;;
    server:* | client:* | peer:*)
        opened "${step%%:*}" || usage "$step: the ${step%%:*} has not been started"
        waitFor hasLine "${step%%:*}" "${step#*:}" ||
            fail "the ${step%%:*} did not show: ${step#*:}"
        echo "terminal: the ${step%%:*}'s screen shows: ${step#*:}"
        ;;
    server#*~* | client#*~* | peer#*~*)
        window=${step%%#*} count=${step#*#} glob=${step#*"~"}
        count=${count%%"~"*}
        [[ $count =~ ^[0-9]+$ ]] || usage "$step: not a number of lines: $count"
        opened "$window" || usage "$step: the $window has not been started"
        waitFor hasMatches "$window" "$count" "$glob" ||
            fail "the $window did not show $count lines matching: $glob"
        echo "terminal: the $window's screen has $count lines matching: $glob"
        ;;
    server~* | client~* | peer~*)
        opened "${step%%"~"*}" || usage "$step: the ${step%%"~"*} has not been started"
        waitFor hasMatch "${step%%"~"*}" "${step#*"~"}" ||
            fail "the ${step%%"~"*} showed no line matching: ${step#*"~"}"
        echo "terminal: the ${step%%"~"*}'s screen has a line matching: ${step#*"~"}"
        ;;
    client-exits | peer-exits)
        opened "${step%-exits}" || usage "$step: the ${step%-exits} has not been started"
        waitFor hasLine "${step%-exits}" "[exited with 0]" ||
            fail "the ${step%-exits} did not exit with status 0"
        echo "terminal: the ${step%-exits} exited with status 0"
        ;;
    *) usage "unknown step $step" ;;
    esac
done
for w in "${windows[@]}"; do
    screen "$w" | grep -q '[ÐÑ]' && fail "the $w's screen shows UTF-8 as Latin-1 (Ð, Ñ)"
done
echo "terminal: PASS: every screen shows every line as it was typed"
