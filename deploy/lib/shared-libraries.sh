# shellcheck shell=bash
# Sourced by deploy/build-rootfs.sh and deploy/postgres/stage-rootfs.sh: finds and copies the
# shared libraries a binary needs, so that an image FROM scratch runs it as built.
#
#   source deploy/lib/shared-libraries.sh
#   shared_libraries BINARY                    # prints their absolute paths (and the loader's)
#   stage_libraries ROOT SKIP_ROOT BINARY      # copies those SKIP_ROOT lacks into ROOT
#
# "The shared libraries it needs" are exactly those `ldd` names, copied (dereferenced) to the
# same paths. A static binary needs none; a library ldd cannot find is an error.

# Prints the absolute paths of the shared libraries (and the loader) a binary needs.
shared_libraries() {
    local listing
    if ! listing=$(ldd "$1" 2>&1); then
        # A static binary needs nothing; anything else is an error worth stopping for.
        [[ "$listing" == *"not a dynamic executable"* ]] && return 0
        echo "ldd $1: $listing" >&2
        return 1
    fi
    if [[ "$listing" == *"not found"* ]]; then
        echo "ldd $1: missing libraries:"$'\n'"$listing" >&2
        return 1
    fi
    awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$listing"
}

# Copies the libraries `binary` needs into `root`, at the same paths, but for those already in
# `skip_root` (empty: copy them all) or in `root`.
stage_libraries() {
    local root="$1" skip_root="$2" binary="$3" library libraries
    libraries=$(shared_libraries "$binary")
    for library in $libraries; do
        if [[ -n "$skip_root" && -e "$skip_root$library" ]] || [[ -e "$root$library" ]]; then
            continue
        fi
        mkdir -p "$root$(dirname "$library")"
        cp -L "$library" "$root$library"
        chmod 0755 "$root$library"
    done
}
