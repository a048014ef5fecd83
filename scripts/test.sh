#!/usr/bin/env bash
# Sets up the machine if needed, builds, and runs every test (unit and end-to-end).
#
# When PostgreSQL is installed, a throw-away cluster is started for the run
# (scripts/postgres.sh) and QUORUM_TEST_POSTGRES_URL names it, so the store
# conformance suite runs against PostgreSQL as well as SQLite; the cluster is
# removed when the script exits. Without PostgreSQL the tests run on SQLite
# alone, and the script says so.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build --build-tests

if [ -n "${QUORUM_TEST_POSTGRES_URL:-}" ]; then
  echo "test.sh: PostgreSQL tests use the server at QUORUM_TEST_POSTGRES_URL" >&2
elif compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  cluster=$(mktemp -d "${TMPDIR:-/tmp}/quorum-pg.XXXXXX")
  trap 'scripts/postgres.sh stop "$cluster"' EXIT
  QUORUM_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$cluster")
  export QUORUM_TEST_POSTGRES_URL
  echo "test.sh: PostgreSQL tests use a throw-away cluster at $QUORUM_TEST_POSTGRES_URL" >&2
else
  echo "test.sh: PostgreSQL is not installed: the store conformance tests run on SQLite only (scripts/setup.sh installs it)" >&2
fi
swift test --skip-build "$@"
