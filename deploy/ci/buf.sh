#!/usr/bin/env bash
# Lints the protobuf API contract and checks it for breaking changes, with buf.
#
#   deploy/ci/buf.sh
#
# Installs buf from npm (@bufbuild/buf, pinned below) into target/deploy-tools/buf if it is not
# there yet, then runs, on the module in proto/ (configured by proto/buf.yaml):
#   1. `buf lint` (STANDARD rules; the frozen legacy protos are exempt from the rules they cannot meet);
#   2. `buf breaking` (FILE rules, legacy protos included) against the protos of the previous
#      commit, HEAD~1 by default, or of any git revision named by BUF_AGAINST (e.g. origin/main).
# A repository with no previous commit (the first one, or a shallow clone) or one whose previous
# commit has no proto/ skips the breaking check with a loud SKIP line; anything else that fails fails.
# Needs: git, node and npm. Takes a few seconds once buf is installed. Idempotent; leaves nothing
# behind but the tool directory under target/.
set -euo pipefail
cd "$(dirname "$0")/../.."

readonly BUF_VERSION=1.75.0
readonly TOOLS=target/deploy-tools/buf
readonly BUF="$TOOLS/node_modules/.bin/buf"

if [[ ! -x "$BUF" ]] || [[ "$("$BUF" --version 2>/dev/null)" != "$BUF_VERSION" ]]; then
    echo "installing @bufbuild/buf@$BUF_VERSION into $TOOLS"
    mkdir -p "$TOOLS"
    timeout 300 npm install --silent --no-audit --no-fund --prefix "$TOOLS" "@bufbuild/buf@$BUF_VERSION"
fi
echo "buf $("$BUF" --version)"

timeout 120 "$BUF" lint proto
echo "buf lint: ok"

against="${BUF_AGAINST:-HEAD~1}"
if ! base=$(git rev-parse --verify --quiet "$against^{commit}"); then
    if [[ "$(git rev-parse --is-shallow-repository)" == true ]]; then
        echo "SKIP buf breaking: $against is not in this shallow clone (fetch more history to check)"
    else
        echo "SKIP buf breaking: no revision $against here (a first commit has nothing to compare with)"
    fi
    exit 0
fi
if ! git cat-file -e "$base:proto" 2>/dev/null; then
    echo "SKIP buf breaking: $against ($base) has no proto/ directory"
    exit 0
fi
timeout 120 "$BUF" breaking proto --against ".git#ref=$base,subdir=proto"
echo "buf breaking against $against ($(git rev-parse --short "$base")): ok"
