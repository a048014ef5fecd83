#!/usr/bin/env bash
# Installs what Quorum needs on a fresh Debian machine, when it is missing.
# Safe to run again: it only installs packages that are absent.
set -euo pipefail

packages=(libblas-dev liblapacke-dev libsqlite3-dev pkg-config libopenblas0-pthread libopenblas-dev)
# The web page's test drives Debian's headless Chromium through its WebDriver.
packages+=(chromium chromium-driver)
# The PostgreSQL store's conformance tests start a throw-away server (scripts/postgres.sh).
packages+=(postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    if [ -x "$dir/swift" ]; then export PATH="$dir:$PATH"; break; fi
  done
fi
command -v swift >/dev/null 2>&1 || {
  echo "setup: Swift 6.1 or newer is needed (https://www.swift.org/install/linux/); 'swift' is not on PATH" >&2
  exit 1
}
