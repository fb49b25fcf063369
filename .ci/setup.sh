# Sourced by .ci/run and .ci/tour: installs what the Linux build needs when it
# is missing -- CMake, make, the MinGW-w64 cross compiler, Wine, iproute2,
# Xvfb, tmux -- from Debian's (or Ubuntu's) packages. Needs root, or sudo.
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v make >/dev/null || missing+=(make)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
command -v wine >/dev/null || missing+=(wine wine64)
command -v flock >/dev/null || missing+=(util-linux)
command -v ip >/dev/null || missing+=(iproute2) # the two-host tests' namespaces
command -v xvfb-run >/dev/null || missing+=(xvfb xauth) # consoles under Wine
command -v tmux >/dev/null || missing+=(tmux) # a real terminal for the interactive clients
if ((${#missing[@]} > 0)); then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
# The wineserver keeps a descriptor for every socket of every program.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
