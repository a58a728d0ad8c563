#!/usr/bin/env bash
# Build the one-folder desktop bundle with PyInstaller: dist/int-desk/ (launchers int-desk and
# int-desk-gui inside). Release builds belong on a clean image of the oldest OS you support:
# PyInstaller copies system libraries from the build machine (see docs/packaging.md).
#   bash packaging/build.sh              build
#   bash packaging/build.sh --self-test  build, then run the bundle's --self-test headless
#   bash packaging/build.sh --tarball    build, then pack dist/int-desk-<version>-linux-<arch>.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "build: installing the 'package' extra (PyInstaller)"
  "$PY" -m pip install -q -e ".[package]"
fi

start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --workpath build/pyinstaller --distpath dist packaging/int-desk.spec
bundle=dist/int-desk
echo "build: $bundle in $(( $(date +%s) - start )) s, $(du -sh "$bundle" | cut -f1)"
# Both launchers, or the build failed: int-desk (console) and int-desk-gui (no console window).
for launcher in int-desk int-desk-gui; do
  exe="$bundle/$launcher"
  [ -e "$exe.exe" ] && exe="$exe.exe"
  if [ ! -x "$exe" ]; then
    echo "build: launcher $launcher is missing from $bundle" >&2
    exit 1
  fi
done

for arg in "$@"; do
  case "$arg" in
    --self-test)
      # Headless: no display; the self-test starts Qt offscreen itself. Isolated from the
      # builder's own settings and keyring by the self-test (temporary INT_DESK_HOME).
      env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "$bundle/int-desk" --self-test
      ;;
    --tarball)
      version=$("$bundle/int-desk" --version | awk '{print $3}')
      tarball="dist/int-desk-$version-linux-$(uname -m).tar.gz"
      tar -C dist -czf "$tarball" int-desk
      echo "build: $tarball $(du -h "$tarball" | cut -f1)"
      ;;
    *) echo "build: unknown option $arg" >&2; exit 2 ;;
  esac
done
