#!/usr/bin/env bash
# The project's one entry point for people and CI.
#   ./dev.sh demo         crawl the bundled offline copy of the site twice, show what changed
#   ./dev.sh test [ARGS]  the whole test suite, every tier (unit, integration, e2e); ARGS go to
#                         pytest: `./dev.sh test -m "not e2e"` runs the fast tiers only
#   ./dev.sh bench [ARGS] the benchmarks (python -m bench), rewriting docs/benchmarks.md
#   ./dev.sh lint         ruff and mypy (.ci/run runs lint, test, and the benchmark smoke)
# Needs only python3 (3.10+) and, for the browser and WARC-interop tests, Debian's chromium and
# wget, which it installs with apt-get when run as root and they are missing.
set -euo pipefail
cd "$(dirname "$0")"
VENV="${COOP_VENV:-.venv}"

ensure_venv() {
    # Reinstall when pyproject.toml changed since the last install, so a pulled change that adds
    # a dependency cannot leave a stale environment behind; and when the compiled walk's source
    # (scraper/_cwalk.pyx, built in place by the install) changed, so it is never stale either.
    # An lxml upgraded in the venv since (its folder is newer) also rebuilds the compiled
    # walk, which is used only with the lxml it was built against.
    local lxml_dir="" dir
    for dir in "$VENV"/lib/python3*/site-packages/lxml; do  # none before the first install
        [ -d "$dir" ] && lxml_dir=$dir
    done
    if [ ! -x "$VENV/bin/coop-archive" ] || [ pyproject.toml -nt "$VENV/.installed" ] ||
       [ scraper/_cwalk.pyx -nt "$VENV/.installed" ] || [ setup.py -nt "$VENV/.installed" ] ||
       { [ -n "$lxml_dir" ] && [ "$lxml_dir" -nt "$VENV/.installed" ]; }; then
        echo "dev.sh: installing into $VENV (log: $VENV/install.log)" >&2
        python3 -m venv "$VENV"
        # The installers' chatter goes to a log, shown only when something fails.
        if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
               "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".[test]"; } \
                > "$VENV/install.log" 2>&1; then
            cat "$VENV/install.log" >&2
            echo "dev.sh: installation failed" >&2
            exit 1
        fi
        touch "$VENV/.installed"
    fi
}

ensure_system() {
    local need=()
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    command -v wget >/dev/null 2>&1 || need+=(wget)
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "dev.sh: installing ${need[*]} from Debian's packages" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${need[@]}" >/dev/null
    else
        echo "dev.sh: the browser/WARC tests need: ${need[*]} (apt-get install ${need[*]})" >&2
    fi
}

cmd="${1:-help}"
shift || true
case "$cmd" in
    demo)
        ensure_venv
        exec "$VENV/bin/coop-archive" demo "$@"
        ;;
    test)
        ensure_venv
        ensure_system
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    bench)
        ensure_venv
        exec "$VENV/bin/python" -m bench "$@"
        ;;
    lint)
        ensure_venv
        "$VENV/bin/ruff" check scraper archive tests bench
        exec "$VENV/bin/mypy"
        ;;
    *)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        [ "$cmd" = help ] || exit 2
        ;;
esac
