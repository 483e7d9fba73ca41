#!/usr/bin/env bash
# Stages the root filesystem of the bookstore/postgres image from Debian's PostgreSQL server, as
# installed on this machine (the `postgresql` package; Debian 12 ships 15, Debian 13 ships 17).
# Nothing is compiled, so it takes a second or two.
#
#   deploy/postgres/stage-rootfs.sh OUT_DIR
#
# deploy/build-rootfs.sh calls it after staging OUT_DIR/common/ (the files every image holds:
# glibc, the loader, /etc/nsswitch.conf), whose libraries it does not copy again. It writes
# (replacing what was there):
#
#   OUT_DIR/postgres/
#     /usr/lib/postgresql/<ver>/bin/   postgres, initdb, pg_isready (the health check), pg_ctl
#                                      (a clean stop in Kubernetes' preStop hook)
#     /usr/lib/postgresql/<ver>/lib/   the server's loadable modules (PL/pgSQL, the encoding
#                                      conversions initdb registers, contrib), without llvmjit:
#                                      LLVM alone would be 100 MB, and the entrypoint turns JIT off
#     /usr/share/postgresql/<ver>/     what initdb and the server read (postgres.bki, extensions,
#                                      time zone sets, text search data)
#     /usr/share/zoneinfo/             time zones (Debian's server uses the system's), but right/
#     the shared libraries those need (ldd), at the same paths
#     /bin/sh                          Debian's dash: initdb runs the server through popen(3)
#     /etc/passwd, /etc/group          the runtime user 65532, named postgres (initdb and the
#                                      server look their user up)
#     /etc/nsswitch.conf               users and groups from the files, hosts as every image
#     /usr/local/bin/                  postgres-entrypoint (deploy/postgres/entrypoint.sh), and
#                                      version-free links to the four programs above
#   OUT_DIR/postgres-home/postgresql/  empty; copied owned by 65532 to /var/lib/postgresql, the
#                                      image's VOLUME, so a new named volume belongs to the user
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib/shared-libraries.sh

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
out="$(realpath -m "$1")"
root="$out/postgres"
common="$out/common"

# The newest server installed.
server=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null |
    sort -V | tail -n 1)
if [[ -z "$server" ]]; then
    echo "no PostgreSQL server in /usr/lib/postgresql: install Debian's postgresql package" \
        "(apt-get install --no-install-recommends postgresql)" >&2
    exit 1
fi
version=$(basename "$(dirname "$(dirname "$server")")")
pkg="/usr/lib/postgresql/$version"
share="/usr/share/postgresql/$version"

rm -rf "$root" "$out/postgres-home"
mkdir -p "$root$pkg/bin" "$root$pkg/lib" "$root/usr/local/bin" "$root/bin" "$root/etc" \
    "$root/usr/share"

for binary in postgres initdb pg_isready pg_ctl; do
    cp -L "$pkg/bin/$binary" "$root$pkg/bin/$binary"
    chmod 0755 "$root$pkg/bin/$binary"
    stage_libraries "$root" "$common" "$pkg/bin/$binary"
    # initdb finds the server beside its own resolved path, and the server its share directory.
    ln -s "$pkg/bin/$binary" "$root/usr/local/bin/$binary"
done
for module in "$pkg"/lib/*.so; do
    [[ "$(basename "$module")" == llvmjit* ]] && continue
    cp -L "$module" "$root$pkg/lib/"
    stage_libraries "$root" "$common" "$module"
done
mkdir -p "$root$share"
cp -rL "$share/." "$root$share/"
cp -a /usr/share/zoneinfo "$root/usr/share/"
rm -rf "$root/usr/share/zoneinfo/right"

cp -L /bin/dash "$root/bin/sh"
stage_libraries "$root" "$common" /bin/dash

echo 'postgres:x:65532:65532:PostgreSQL:/var/lib/postgresql:/sbin/nologin' >"$root/etc/passwd"
echo 'postgres:x:65532:' >"$root/etc/group"
printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
install -m 0755 deploy/postgres/entrypoint.sh "$root/usr/local/bin/postgres-entrypoint"

mkdir -p "$out/postgres-home/postgresql"
chmod 0700 "$out/postgres-home/postgresql"
chmod -R a+rX "$root"
echo "staged PostgreSQL $version into $root"
