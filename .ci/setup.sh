# Sourced by .ci/run and .ci/tour: installs what the Linux build needs when it
# is missing -- CMake, make, the MinGW-w64 cross compiler, Wine, iproute2,
# Xvfb, tmux, clang-format 14 -- from Debian's (or Ubuntu's) packages. Needs root, or sudo.
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v make >/dev/null || missing+=(make)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
command -v wine >/dev/null || missing+=(wine wine64)
command -v flock >/dev/null || missing+=(util-linux)
command -v ip >/dev/null || missing+=(iproute2) # the two-host tests' namespaces
command -v xvfb-run >/dev/null || missing+=(xvfb xauth) # consoles under Wine
command -v tmux >/dev/null || missing+=(tmux) # a real terminal for the interactive clients
# wine64's preloader reserves the addresses Windows programs need before
# anything else can land there. Without it, now and then a library already
# sits where Windows' shared user data must go: the new process dies as it
# starts ("wine: failed to map the shared user data: c0000018") and
# CreateProcess fails with error 1359 -- about one start in a thousand here.
# Debian packages the preloader on its own, and does not install it with
# wine64; we do, wherever it is packaged so.
wantsPreloader() {
    ! dpkg -s wine64-preloader >/dev/null 2>&1 &&
        apt-cache show wine64-preloader >/dev/null 2>&1
}
# .ci/run's layout check wants clang-format 14 itself: each version lays
# code out a little differently. Where no such package is (then the check
# is skipped, saying so), nothing is asked for.
wantsFormatter() {
    ! command -v clang-format-14 >/dev/null && apt-cache show clang-format-14 >/dev/null 2>&1
}
if ((${#missing[@]} > 0)) || wantsPreloader || ! command -v clang-format-14 >/dev/null; then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update
    wantsPreloader && missing+=(wine64-preloader)
    wantsFormatter && missing+=(clang-format-14)
    echo "setup: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
# The wineserver keeps a descriptor for every socket of every program.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
