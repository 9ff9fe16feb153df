#!/usr/bin/env bash
# Print the path of a headless-capable chromium, installing Debian's package when it is missing.
# Exits non-zero with a message on stderr saying why when it cannot (not root, no apt, no mirror).
set -u
find_chromium() {
  for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}
if path=$(find_chromium); then echo "$path"; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed and apt-get is not available: install Debian's 'chromium' package" >&2
  exit 1
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is not installed and installing it needs root: run 'apt-get update && apt-get install -y chromium' as root" >&2
  exit 1
fi
echo "chromium is missing: installing Debian's chromium package (apt-get update && apt-get install -y chromium)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -q >&2 || ! apt-get install -y -q --no-install-recommends chromium >&2; then
  echo "could not install chromium with apt-get (see the apt output above): is a package mirror reachable?" >&2
  exit 1
fi
if path=$(find_chromium); then echo "$path"; exit 0; fi
echo "apt-get installed the chromium package but no chromium executable is on PATH" >&2
exit 1
