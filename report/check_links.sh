#!/bin/bash
# check_links.sh -- every link from the report (and the top README) into this
# repository must lead somewhere: the file must exist, and a link to a line,
# [`CreateNamedPipeW`](../named_pipe/server.c#L120), must land on a line that
# holds the link's text (without its backticks, up to a "(" if it has one).
# So a link that drifts when the code moves fails, instead of pointing at the
# wrong line for ever.
#
# Usage: check_links.sh [FILE.md...]   (default: README.md and report/*.md)
# Links to the web (http:, https:, mailto:) and to a heading (#...) are not
# followed; links inside fenced code blocks are not links. Exit status: 0 all
# good, 1 a link is broken (each one is listed), 2 usage.
set -u
cd "$(dirname "$0")/.." || exit 2
[ $# -gt 0 ] || set -- README.md report/*.md
broken=0 checked=0

# Prints "LINE<TAB>TEXT<TAB>TARGET" for every link of a Markdown file,
# outside fenced code blocks.
linksOf() {
    awk '/^[[:space:]]*```/ { fenced = !fenced; next }
         !fenced {
             line = $0
             while (match(line, /\[[^]]*\]\([^) ]+\)/)) {
                 link = substr(line, RSTART, RLENGTH)
                 line = substr(line, RSTART + RLENGTH)
                 middle = index(link, "](")
                 printf "%d\t%s\t%s\n", FNR, substr(link, 2, middle - 2),
                        substr(link, middle + 2, length(link) - middle - 2)
             }
         }' "$1"
}

for md in "$@"; do
    [ -f "$md" ] || { echo "check_links: no file $md" >&2; exit 2; }
    while IFS=$'\t' read -r at text target; do
        case $target in http:* | https:* | mailto:* | '#'*) continue ;; esac
        checked=$((checked + 1))
        path=${target%%#*} anchor=
        [ "$path" != "$target" ] && anchor=${target#*#}
        file=$(dirname "$md")/$path
        if [ ! -e "$file" ]; then
            echo "check_links: $md:$at: [$text]($target): no such file"
            broken=$((broken + 1))
            continue
        fi
        [[ $anchor =~ ^L([0-9]+)$ ]] || continue
        want=${text//\`/}
        want=${want%%(*}
        if ! sed -n "${BASH_REMATCH[1]}p" "$file" | grep -qF -- "$want"; then
            echo "check_links: $md:$at: [$text]($target): line ${BASH_REMATCH[1]} of $path does not hold \"$want\""
            broken=$((broken + 1))
        fi
    done < <(linksOf "$md")
done
if [ "$broken" -gt 0 ]; then
    echo "check_links: FAIL: $broken of $checked links are broken"
    exit 1
fi
echo "check_links: all $checked links into the repository lead where they say"
