# tools/lib.sh - set-up shared by tools/demo and tools/test: install what
# is missing from Debian, configure meson build directories, build.
# Sourced, not run.

set -eu
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

# Packages the build needs.  The default configuration builds the unit
# tests too (meson's "tests" option), so cmocka is one of them: without it
# `meson setup build` fails on a fresh machine, demo or not.
build_packages="gcc pkg-config meson ninja-build libxml2-dev libyaml-dev
    libcurl4-openssl-dev libjansson-dev libcmocka-dev tzdata ca-certificates scdoc"

say() { printf '==> %s\n' "$*" >&2; }

# ensure_packages PKG...: apt-get install the ones not installed yet.
ensure_packages() {
    local missing=()
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing: ${missing[*]}"
    local sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# ensure_build DIR [MESON-OPTION...]: configure DIR once, then build it.
ensure_build() {
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        say "meson setup $dir $*"
        # meson prints its errors on stdout: keep them for a failed setup.
        local log
        if ! log=$(meson setup --fatal-meson-warnings "$dir" "$@" 2>&1); then
            printf '%s\n' "$log" >&2
            say "FAILED: meson setup $dir"
            exit 1
        fi
    fi
    if ! ninja -C "$dir" >"$dir/ninja.log" 2>&1; then
        cat "$dir/ninja.log" >&2
        say "FAILED: ninja -C $dir"
        exit 1
    fi
}
