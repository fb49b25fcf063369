#!/usr/bin/env bash
# Makes the report's pictures: for each chapter, its programs running in real
# console windows, server and client(s) side by side, each under a title bar
# that names the program -- as in the original report's figures -- on a
# virtual X display (Xvfb) with Wine.
#
# Usage: report/pictures/make.sh [BUILD_DIR]   (default: build/linux-mingw)
# Needs a built tree (cmake --workflow --preset linux-mingw, or .ci/tour) and
#   apt-get install xvfb twm xfonts-base xdotool x11-xserver-utils imagemagick optipng
# (optipng is optional: it only makes the files smaller). Writes one PNG per
# chapter next to this script, in a minute or so.
#
# Why twm: Wine's console windows are plain X windows, and with no window
# manager they have no title bar, so nothing in the picture says which window
# is the server. twm is the lightest manager in Debian that draws WM_NAME in a
# title bar; its core X font comes from xfonts-base. Wine's own virtual desktop
# (explorer /desktop=...) draws Windows-like frames too, but its caption
# buttons come out as letters without Windows' Marlett font, and windows inside
# it cannot be moved or typed into one by one with xdotool.
#
# Why the titles are set by this script: Wine's `start` ignores a window title
# argument, so a console is titled with its program's full path (the same for
# two clients), unless the program calls SetConsoleTitle itself. So each
# window is renamed, with xdotool, to the command it runs: what
# `start "TITLE" ...` would show on Windows.
#
# Servers run in consoles of their own (`start`), as a person would start
# them. Clients run in a cmd window, where the command is typed with xdotool:
# the window stays when the client ends, and shows the command line and the
# whole run. Waits for windows are bounded polls, and waits for a run to end
# are fixed pauses: this is a picture-taking script, not a test.
#
# Ports are 16xxx and names start with fig_, so a test run at the same time
# (ports 15100-15399) cannot collide with these runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build/linux-mingw}" && pwd)
run="$build/wine-run"
for tool in Xvfb twm xdotool xmodmap import convert; do
    command -v $tool >/dev/null || {
        echo "make.sh: needs $tool (apt-get install xvfb twm xfonts-base xdotool x11-xserver-utils imagemagick optipng)" >&2
        exit 1
    }
done
[[ -x $run ]] || { echo "make.sh: $run is missing: build the tree first" >&2; exit 1; }

work=$(mktemp -d)
xvfb='' wm=''
cleanup() {
    set +e
    "$run" --stop
    # Waited for, so that a run right after this one finds the display free.
    [[ -n $wm ]] && kill "$wm" 2>/dev/null && wait "$wm" 2>/dev/null
    [[ -n $xvfb ]] && kill "$xvfb" 2>/dev/null && wait "$xvfb" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# A white root window, so that `convert -trim` can crop to the windows. Xvfb
# picks a free display number itself and writes it to fd 3 once it is ready.
Xvfb -displayfd 3 -screen 0 1400x1000x24 -wr -nolisten tcp 3>"$work/display" >/dev/null 2>&1 &
xvfb=$!
for i in $(seq 100); do [[ -s $work/display ]] && break; sleep 0.1; done
[[ -s $work/display ]] || { echo "make.sh: Xvfb did not start" >&2; exit 1; }
export DISPLAY=:$(cat "$work/display")

# The title bar in a bold 9x15 font; windows go where xdotool puts them
# (RandomPlacement: twm would otherwise wait for a click to place each one).
cat >"$work/twmrc" <<'EOF'
NoDefaults
RandomPlacement
UsePPosition "on"
NoGrabServer
NoTitleHighlight
NoMenuShadows
BorderWidth 1
TitleFont "9x15bold"
MenuFont "fixed"
IconFont "fixed"
ResizeFont "fixed"
IconManagerFont "fixed"
Color {
    BorderColor "gray40"
    TitleBackground "gray85"
    TitleForeground "black"
}
EOF
# LANG=C: in a UTF-8 locale twm looks for a font set of every charset and
# warns about each one it lacks; the titles are ASCII.
LANG=C LC_ALL=C twm -f "$work/twmrc" >"$work/twm.log" 2>&1 &
wm=$!
xdotool mousemove 1399 999 # out of the way: twm's focus follows the pointer

# Console windows are 80 columns (657 pixels with the scroll bar) of 16-pixel
# lines; twm adds a 1-pixel border and a title bar above (about 22 pixels).
width=657 gap=22
column() { echo $((1 + $1 * (width + 2 + gap))); }

# The Windows path of a folder of the build, for `start /d`.
winDir() { echo "Z:${build//\//\\}\\$1"; }

# Prints the id of the visible window whose title matches the regular
# expression $1, waiting up to 15 s for it.
window() {
    local id i
    for i in $(seq 150); do
        id=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -1) || true
        [[ -n $id ]] && { echo "$id"; return; }
        sleep 0.1
    done
    echo "make.sh: no window \"$1\" appeared" >&2
    exit 1
}

# The ids of the console windows on the screen, one a line, sorted.
consoles() { xdotool search --onlyvisible --classname '^conhost\.exe$' 2>/dev/null | sort || true; }

# newWindow COMMAND...: runs COMMAND, which opens one console window, and
# prints that window's id, waiting up to 15 s for it. Found by its id, not its
# title: two cmd windows have the same one.
newWindow() {
    local before id i
    before=$(consoles)
    "$@" >/dev/null
    for i in $(seq 150); do
        id=$(comm -13 <(echo "$before") <(consoles) | head -1)
        [[ -n $id ]] && { echo "$id"; return; }
        sleep 0.1
    done
    echo "make.sh: no window appeared for: $*" >&2
    exit 1
}

# title ID TEXT: sets a window's title; snap sets them all again, in case a
# program set its console's title since.
title() {
    xdotool set_window --name "$2" "$1"
    printf '%s %s\n' "$1" "$2" >>"$work/titles"
}

# place ID X Y LINES: sizes the console to LINES lines and puts its top-left
# corner (below the title bar) at X,Y.
place() {
    xdotool windowsize "$1" $width $(($4 * 16 + 4))
    xdotool windowmove "$1" "$2" "$3"
}

# server FOLDER PROGRAM [ARG...]: starts a server in a console of its own,
# titles it "PROGRAM ARG..." and prints its id.
server() {
    local folder=$1 program=$2 id
    shift 2
    id=$(newWindow "$run" start /d "$(winDir "$folder")" "$program.exe" "$@")
    title "$id" "$program${*:+ $*}"
    echo "$id"
}

# shell FOLDER TITLE: opens a cmd window in FOLDER, its prompt "FOLDER>",
# titles it and prints its id.
shell() {
    local id
    id=$(newWindow "$run" start /d "$(winDir "$1")" cmd.exe /k prompt "$1\$G")
    title "$id" "$2"
    echo "$id"
}

# typeLine ID TEXT: clicks into the window and types TEXT and Return, as a
# person would. The click is what makes Wine give the window the keyboard
# (xdotool windowfocus moves the X focus, but the keys still reach the last
# window Wine activated).
typeLine() {
    xdotool mousemove --window "$1" 300 40 click 1
    sleep 0.2
    xdotool type --delay 15 -- "$2"
    xdotool key Return
    sleep 0.5
}

# cyrillicKeys TEXT: puts each Cyrillic letter of TEXT, small and capital, on
# a key of its own, before Wine starts. A character on no key, xdotool maps to
# a spare key just for its key press, and Wine, reading the new map late,
# sometimes types another letter or none. The keys: the empty keycodes, F1 to
# F12 and the multimedia keys, all below keycode 150: Wine types nothing for
# a letter on a keycode above that (measured: 149 works, 154 does not).
cyrillicKeys() {
    local LC_ALL=C.UTF-8 text=${1,,} letters='' c i
    local -a keys
    for ((i = 0; i < ${#text}; i++)); do
        c=${text:i:1}
        [[ $c == [а-яё] && $letters != *$c* ]] && letters+=$c
    done
    keys=($(xmodmap -pke | awk '$2 < 150 && (NF == 3 || $4 ~ /^(F[0-9]+|XF86.*)$/) { print $2 }'))
    ((${#letters} <= ${#keys[@]})) || {
        echo "make.sh: ${#letters} Cyrillic letters, ${#keys[@]} free keys" >&2
        exit 1
    }
    for ((i = 0; i < ${#letters}; i++)); do
        c=${letters:i:1}
        printf 'keycode %s = U%04X U%04X\n' "${keys[i]}" "'$c" "'${c^^}"
    done | xmodmap -
}

# Takes the picture: the screen cropped to the windows, with a white margin,
# in 64 colours (the consoles have few), then squeezed by optipng if present.
snap() {
    local id text
    while read -r id text; do
        xdotool set_window --name "$text" "$id" 2>/dev/null || true
    done <"$work/titles"
    xdotool mousemove 1399 999
    sleep 1
    kill -0 "$wm" 2>/dev/null || {
        echo "make.sh: twm has ended, so the windows have no title bars:" >&2
        cat "$work/twm.log" >&2
        exit 1
    }
    import -window root "$work/screen.png"
    convert "$work/screen.png" -trim +repage -bordercolor white -border 8 \
        +dither -colors 64 "$here/$1"
    if command -v optipng >/dev/null; then optipng -quiet -o2 "$here/$1"; fi
    echo "make.sh: wrote $here/$1 ($(stat -c %s "$here/$1") bytes)"
}

# Ends every program of the chapter and waits (up to 10 s) for its windows to go.
closeAll() {
    local i
    "$run" --stop
    : >"$work/titles"
    for i in $(seq 100); do
        [[ -z $(consoles) ]] && return
        sleep 0.1
    done
    echo "make.sh: windows were left open" >&2
    exit 1
}
: >"$work/titles"

# The Russian lines typed below.
namedPipeRu="Привет через именованный канал"
mailslotRu="Письмо второе"
socketsRu="привет по TCP"
messengerRu="Привет, Анна! Как дела?"
cyrillicKeys "$namedPipeRu $mailslotRu $socketsRu $messengerRu"

top=23           # the first row of windows, below its title bar
row() { echo $((top + $1 * 16 + 4 + gap + 22)); } # the row below one of $1 lines

# 1. Anonymous pipes: the server's console and the client's own console
#    (--new-console), side by side; both wait for Enter (--pause). The client
#    titles its console itself; the server's is found by its program's path.
"$run" start /d "$(winDir anonymous_pipe)" anonymous_pipe_server.exe --count 5 --new-console --pause
s=$(window '\\anonymous_pipe_server\.exe$')
title "$s" "anonymous_pipe_server --count 5 --new-console --pause"
c=$(window '^anonymous_pipe_client$')
place "$s" "$(column 0)" $top 8
place "$c" "$(column 1)" $top 8
snap anonymous_pipe.png
closeAll

# 2. Named pipes: a client's lines at its "cmd>" prompt, echoed by the server.
s=$(server named_pipe named_pipe_server --pipe fig_named_pipe)
t=$(shell named_pipe "named_pipe_client (in cmd)")
place "$s" "$(column 0)" $top 12
place "$t" "$(column 1)" $top 12
typeLine "$t" "named_pipe_client --pipe fig_named_pipe"
typeLine "$t" "Hello over a named pipe"
typeLine "$t" "$namedPipeRu"
typeLine "$t" "exit"
snap named_pipe.png
closeAll

# 3. Mailslots: the listing's three messages (the writer pauses before the
#    third), then two of our own, one in Russian.
s=$(server mailslot mailslot_server --slot fig_mailslot)
t=$(shell mailslot "mailslot_client (in cmd)")
place "$s" "$(column 0)" $top 13
place "$t" "$(column 1)" $top 13
typeLine "$t" "mailslot_client --slot fig_mailslot"
sleep 3
typeLine "$t" "mailslot_client --slot fig_mailslot \"Second writer\" \"$mailslotRu\""
snap mailslot.png
closeAll

# 4. Shared memory: the reader waits for the writer, then they take turns:
#    each number is read once.
w=$(shell shared_memory "shared_memory_writer (in cmd)")
r=$(shell shared_memory "shared_memory_reader (in cmd)")
place "$w" "$(column 0)" $top 14
place "$r" "$(column 1)" $top 14
typeLine "$r" "shared_memory_reader --name fig_shm --count 8 --wait 20000"
typeLine "$w" "shared_memory_writer --name fig_shm --count 8 --interval 300"
sleep 4
snap shared_memory.png
closeAll

# 5. Sockets: a client's lines, sent back upper-cased, then QUIT.
s=$(server sockets sockets_server --port 16050)
t=$(shell sockets "sockets_client (in cmd)")
place "$s" "$(column 0)" $top 14
place "$t" "$(column 1)" $top 14
typeLine "$t" "sockets_client --port 16050"
typeLine "$t" "hello over TCP"
typeLine "$t" "$socketsRu"
typeLine "$t" "QUIT"
snap sockets.png
closeAll

# 6. IOCP: the completion-port server with two clients connected at once.
s=$(server iocp iocp_server --port 16060 --threads 2)
a=$(shell sockets "sockets_client 1 (in cmd)")
b=$(shell sockets "sockets_client 2 (in cmd)")
place "$s" "$(column 0)" $top 27 # as tall as the two clients
place "$a" "$(column 1)" $top 12
place "$b" "$(column 1)" "$(row 12)" 12
typeLine "$a" "sockets_client --port 16060"
typeLine "$b" "sockets_client --port 16060"
typeLine "$a" "first client"
typeLine "$b" "second client"
typeLine "$a" "QUIT"
typeLine "$b" "QUIT"
snap iocp.png
closeAll

# 7. Signals: Ctrl-C pressed three times in the server's console. The server
#    titles its console itself and colours what its handler reports. No
#    signals_client window: under Wine 8, started from cmd (or by a plain
#    `wine`), it prints its "sending" line, exits 1 with no message, and the
#    server sees nothing; only a detached one (DETACHED_PROCESS, as the tests
#    start it) delivers the event.
s=$(newWindow "$run" start /d "$(winDir signals)" signals_server.exe --count 5)
window '^signals_server$' >/dev/null # it has installed its handler by then
place "$s" "$(column 0)" $top 8
for i in 1 2 3; do
    xdotool mousemove --window "$s" 300 40 click 1 key ctrl+c
    sleep 0.5
done
snap signals.png
closeAll

# 8. The messenger: one room, three members -- two over the named pipe, one
#    over TCP -- who talk, ask who is there, and send a private message.
s=$(server messenger messenger_server --pipe fig_chat --port 16070)
a=$(shell messenger "messenger_client anna (in cmd)")
b=$(shell messenger "messenger_client boris (in cmd)")
v=$(shell messenger "messenger_client vera (in cmd)")
place "$s" "$(column 0)" $top 13
place "$a" "$(column 1)" $top 13
place "$b" "$(column 0)" "$(row 13)" 13
place "$v" "$(column 1)" "$(row 13)" 13
typeLine "$a" "messenger_client --pipe fig_chat --nick anna"
typeLine "$b" "messenger_client --port 16070 --nick boris"
typeLine "$v" "messenger_client --pipe fig_chat --nick vera"
typeLine "$a" "Hello, everyone!"
typeLine "$b" "$messengerRu"
typeLine "$v" "/who"
typeLine "$a" "/msg vera lunch at one?"
typeLine "$v" "Sure, see you there"
snap messenger.png
closeAll
