#!/usr/bin/env bash
# Install a built bundle for the current user (no root): the program under ~/.local/opt/int-desk,
# `int-desk` on PATH via ~/.local/bin, the menu entry, its icon and the AppStream metadata.
#   bash packaging/linux/install.sh [BUNDLE_DIR]       (default: dist/int-desk)
#   bash packaging/linux/install.sh --uninstall
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
opt="$HOME/.local/opt/int-desk"
bin="$HOME/.local/bin/int-desk"
app_id=uk.nhs.intdesk.IntDesk
if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$opt" "$bin" "$prefix/applications/$app_id.desktop" \
    "$prefix/icons/hicolor/scalable/apps/$app_id.svg" "$prefix/metainfo/$app_id.metainfo.xml"
  echo "INT Desk removed (your workspaces and settings are kept)."
  exit 0
fi
bundle="${1:-$here/../../dist/int-desk}"
[ -x "$bundle/int-desk" ] || { echo "no bundle at $bundle (run packaging/build.sh)" >&2; exit 1; }
mkdir -p "$(dirname "$opt")" "$(dirname "$bin")" "$prefix/applications" \
  "$prefix/icons/hicolor/scalable/apps" "$prefix/metainfo"
rm -rf "$opt"
cp -a "$bundle" "$opt"
ln -sf "$opt/int-desk" "$bin"
sed "s|^Exec=int-desk|Exec=$opt/int-desk|; s|^TryExec=int-desk|TryExec=$opt/int-desk|" \
  "$here/$app_id.desktop" > "$prefix/applications/$app_id.desktop"
cp "$opt/_internal/resources/icons/int-desk.svg" "$prefix/icons/hicolor/scalable/apps/$app_id.svg"
cp "$here/$app_id.metainfo.xml" "$prefix/metainfo/"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/applications" || true
echo "INT Desk installed: $bin (menu: Office > INT Desk)"
