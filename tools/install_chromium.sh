#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver for the browser test of the web page
# (seg2vid_tf/web/), when they are missing. Never fails the build: the test itself
# reports (and skips with the reason) when no browser could be installed.
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_chromium: no apt-get here; install chromium and chromium-driver yourself." >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "install_chromium: not root and no passwordless sudo; skipping." >&2
    exit 0
  fi
fi
echo "install_chromium: installing chromium and chromium-driver (Debian packages)..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends chromium chromium-driver >/tmp/install_chromium.log 2>&1; then
  $SUDO apt-get update >>/tmp/install_chromium.log 2>&1 || true
  $SUDO apt-get install -y --no-install-recommends chromium chromium-driver >>/tmp/install_chromium.log 2>&1 \
    || echo "install_chromium: apt-get failed (see /tmp/install_chromium.log)." >&2
fi
exit 0
