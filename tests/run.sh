#!/usr/bin/env bash
# The one test command: installs what the tests need (Debian's chromium and postgresql too, when
# missing and possible), then runs every test, browser tests included. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements.txt -r tests/requirements.txt

# Debian packages the tests need, installed in one apt run when missing.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# tests/test_snippets.py runs the cURL snippet.
command -v curl >/dev/null || missing+=(curl)
# tests/pg_server.py starts its own throwaway server from these binaries (its own port and data
# directory; the cluster the package may start on 5432 is never used).
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's ${missing[*]} for the browser and PostgreSQL tests..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
      echo "WARNING: could not install ${missing[*]}; their tests will be skipped (or fail, with CI set)." >&2
  else
    echo "WARNING: ${missing[*]} missing and cannot be installed here; their tests will be skipped" \
         "(PostgreSQL tests fail instead when CI is set)." >&2
  fi
fi

exec python -m pytest tests -p no:cacheprovider --timeout=300 -q "$@"
