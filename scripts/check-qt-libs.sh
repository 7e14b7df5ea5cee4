#!/bin/sh
# Run by `make run` before the window opens. On Linux, Qt's xcb platform plugin (X11) links
# system libraries that minimal installs lack (libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1,
# ...). Without them the window never opens, and Qt's message names only the first one. This
# asks ldd which of the plugin's libraries are missing and prints the one apt-get command that
# installs all of them, then fails. Elsewhere, or when nothing is missing, it does nothing.
#
# Usage: scripts/check-qt-libs.sh [PYTHON]   (SEED_QT_XCB_PLUGIN overrides the plugin path)
set -eu
[ "$(uname -s)" = Linux ] || exit 0
command -v ldd >/dev/null 2>&1 || exit 0
plugin=${SEED_QT_XCB_PLUGIN:-}
if [ -z "$plugin" ]; then
    plugin=$("${1:-python3}" -c 'import pathlib, PySide6
print(pathlib.Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so")' 2>/dev/null) || exit 0
fi
[ -f "$plugin" ] || exit 0
# libfoo.so.4 -> libfoo4; libfoo-x11.so.0 -> libfoo-x11-0 (Debian's package names for sonames)
missing=$(ldd "$plugin" 2>/dev/null | awk '/not found/ {print $1}' \
    | sed -E 's/^(.*[0-9])\.so\.([0-9]+)$/\1-\2/; t; s/^(.*)\.so\.([0-9]+)$/\1\2/' | sort -u | tr '\n' ' ')
missing=${missing% }
[ -n "$missing" ] || exit 0
echo "The Seed Studio window cannot open: Qt's X11 plugin needs system libraries that are missing." >&2
echo "Install them with:" >&2
echo "" >&2
echo "    sudo apt-get install -y $missing" >&2
echo "" >&2
exit 1
