#!/usr/bin/env bash
# The one test command: installs what the tests need (Debian's chromium too, when missing and
# possible), then runs every test, browser tests included. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements.txt -r tests/requirements.txt

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
      echo "WARNING: could not install chromium; browser tests will be skipped." >&2
  else
    echo "WARNING: /usr/bin/chromium is missing and cannot be installed here; browser tests will be skipped." >&2
  fi
fi

exec python -m pytest tests -p no:cacheprovider --timeout=300 -q "$@"
