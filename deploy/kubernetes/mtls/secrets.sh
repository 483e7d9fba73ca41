#!/usr/bin/env bash
# Prints the Secrets the mTLS overlay mounts, one per service, from a `bookstore certs` directory:
#
#   deploy/kubernetes/mtls/secrets.sh certs/ | kubectl apply -f -
#
# Each Secret <service>-tls (type kubernetes.io/tls) holds the service's certificate (tls.crt),
# its private key (tls.key) and the CA certificate (ca.crt) -- never the CA's key. Nothing is
# written anywhere: the Secrets go to standard output only, so no key lands in a file or in git.
# Applying again with new certificates updates the Secrets in place (rotation without restart).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 CERTS_DIR   (a directory written by \`bookstore certs\`)" >&2
    exit 2
fi
dir="$1"
services=(recommendations marketplace factorial ncr-gateway demo)

for file in ca.pem "${services[@]/%/.pem}" "${services[@]/%/.key}"; do
    if [[ ! -r "$dir/$file" ]]; then
        echo "$0: $dir/$file is missing or unreadable (run: bookstore certs $dir)" >&2
        exit 1
    fi
done

for service in "${services[@]}"; do
    cat <<SECRET
---
apiVersion: v1
kind: Secret
metadata:
  name: $service-tls
  labels:
    app.kubernetes.io/name: $service
    app.kubernetes.io/part-of: online-books-for-you
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 <"$dir/$service.pem")
  tls.key: $(base64 -w0 <"$dir/$service.key")
  ca.crt: $(base64 -w0 <"$dir/ca.pem")
SECRET
done
