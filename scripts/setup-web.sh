#!/usr/bin/env bash
# Installs the web UI's front-end packages (CesiumJS) from the npm registry and copies the built library
# into src/orbitwatch/web/static/vendor/ (gitignored), so that the UI is served entirely by orbitwatch
# itself: no CDN and no internet at run time.
#
# Idempotent and quick when nothing changed: a stamp records the lock file's digest, and the install is
# skipped while the stamp and the copied files are present. Versions are pinned by
# src/orbitwatch/web/npm/package-lock.json (`npm ci`, integrity-checked, install scripts disabled).
#
# Environment:
#   ORBITWATCH_WEB_NPM_DIR   where npm installs (default: var/web-npm, gitignored)
#   ORBITWATCH_SKIP_WEB=1    do nothing (machines without npm that only need the API)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NPM_SRC="$ROOT/src/orbitwatch/web/npm"
VENDOR="$ROOT/src/orbitwatch/web/static/vendor"
WORK="${ORBITWATCH_WEB_NPM_DIR:-$ROOT/var/web-npm}"
STAMP="$VENDOR/.installed"

if [[ "${ORBITWATCH_SKIP_WEB:-0}" == "1" ]]; then
  echo "setup-web: ORBITWATCH_SKIP_WEB=1, skipping the web UI's front-end packages"
  exit 0
fi

digest() { sha256sum "$NPM_SRC/package.json" "$NPM_SRC/package-lock.json" | sha256sum | cut -c1-16; }
WANT="$(digest)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -f "$VENDOR/cesium/Cesium.js" \
      && -d "$VENDOR/cesium/Assets/Textures/NaturalEarthII" ]]; then
  exit 0  # already installed at the pinned versions
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "setup-web: npm not found. Install Node.js (Debian: apt-get install -y nodejs npm), then rerun" \
       "scripts/setup-web.sh; or set ORBITWATCH_SKIP_WEB=1 to run the API without the web UI." >&2
  exit 1
fi

echo "setup-web: installing CesiumJS from the npm registry into $WORK"
mkdir -p "$WORK"
cp "$NPM_SRC/package.json" "$NPM_SRC/package-lock.json" "$WORK/"
# --ignore-scripts: nothing from the registry runs at install time; we only copy built files.
( cd "$WORK" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error )

SRC_CESIUM="$WORK/node_modules/cesium/Build/Cesium"
if [[ ! -f "$SRC_CESIUM/Cesium.js" ]]; then
  echo "setup-web: $SRC_CESIUM/Cesium.js missing after npm ci; the cesium package layout changed?" >&2
  exit 1
fi

# Copy into a fresh folder, then swap, so a half-copied vendor folder is never served.
rm -rf "$VENDOR.tmp"
mkdir -p "$VENDOR.tmp"
cp -R "$SRC_CESIUM" "$VENDOR.tmp/cesium"
cp "$WORK/node_modules/cesium/LICENSE.md" "$VENDOR.tmp/cesium/LICENSE.md" 2>/dev/null || true
VERSION="$(node -e 'console.log(require(process.argv[1]).version)' "$WORK/node_modules/cesium/package.json")"
echo "{\"cesium\": \"$VERSION\"}" > "$VENDOR.tmp/versions.json"
rm -rf "$VENDOR"
mv "$VENDOR.tmp" "$VENDOR"
echo "$WANT" > "$STAMP"
echo "setup-web: CesiumJS $VERSION installed in ${VENDOR#"$ROOT/"}"
