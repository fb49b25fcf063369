#!/usr/bin/env bash
# Makes the report's pictures: the pairs running in real console windows, as
# in the original report's figures, under a virtual X display (Xvfb) and Wine.
#
# Usage: report/pictures/make.sh [BUILD_DIR]   (default: build/linux-mingw)
# Needs a built tree (cmake --workflow --preset linux-mingw, or .ci/tour) and
# Debian's xvfb, xdotool and imagemagick. Writes the PNGs next to this script.
#
# There is no window manager, so every window opens at the same spot: xdotool
# moves them apart, types into them and presses keys, and ImageMagick's
# `import` takes the picture. Waits for windows are bounded polls (this is a
# picture-taking script, not a test).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build/linux-mingw}" && pwd)
run="$build/wine-run"
for tool in Xvfb xdotool import; do
    command -v $tool >/dev/null || { echo "make.sh: needs $tool (apt-get install xvfb xdotool imagemagick)" >&2; exit 1; }
done

display=:$((60 + $$ % 30))
Xvfb $display -screen 0 1340x420x24 >/dev/null 2>&1 &
xvfb=$!
trap '"$run" --stop; kill $xvfb 2>/dev/null' EXIT
export DISPLAY=$display

# The Windows path of a folder of the build, for `start /d`.
winDir() { echo "Z:${build//\//\\}\\$1"; }

# Prints the id of the window titled exactly $1, waiting up to 10 s for it.
window() {
    local id i
    for i in $(seq 100); do
        id=$(xdotool search --name "^$1\$" 2>/dev/null | head -1) || true
        [[ -n $id ]] && { echo "$id"; return; }
        sleep 0.1
    done
    echo "make.sh: no window \"$1\" appeared" >&2
    exit 1
}

snap() { sleep 1; import -window root "$here/$1"; echo "make.sh: wrote $here/$1"; }
closeAll() { "$run" --stop; }

# 1. Anonymous pipes: the server's console and the client's own console
#    (--new-console), side by side; both wait for Enter (--pause).
"$run" start /d "$(winDir anonymous_pipe)" anonymous_pipe_server.exe --count 5 --new-console --pause
server=$(window "$(winDir anonymous_pipe | sed 's/\\/\\\\/g')\\\\anonymous_pipe_server.exe")
client=$(window anonymous_pipe_client)
xdotool windowmove "$server" 0 0
xdotool windowmove "$client" 670 0
snap anonymous_pipe.png
closeAll

# 7. Signals: Ctrl-C pressed three times in the server's console window.
"$run" start /d "$(winDir signals)" signals_server.exe --count 5
server=$(window signals_server)
xdotool windowmove "$server" 0 0
for i in 1 2 3; do
    xdotool key --window "$server" ctrl+c 2>/dev/null
    sleep 0.3
done
sleep 1
import -window root -crop 670x420+0+0 "$here/signals.png"
echo "make.sh: wrote $here/signals.png"
closeAll
