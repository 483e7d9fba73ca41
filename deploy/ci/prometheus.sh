#!/usr/bin/env bash
# Checks the Prometheus configuration in deploy/prometheus/ offline, with Debian's promtool:
#
#   deploy/ci/prometheus.sh
#
# 1. `promtool check config` on the compose configuration (prometheus.yml) and the Kubernetes
#    one (kubernetes.yml), which also checks every rule file they load;
# 2. `promtool check rules` on every rule file, linted (duplicate rules are errors);
# 3. `promtool test rules` on deploy/prometheus/tests/*.test.yml: the recording rules compute
#    what they claim, and each alert fires on a synthetic burn and stays quiet otherwise.
# Installs Debian's prometheus package first if promtool is missing. Takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/ci/lib/prometheus.sh

ensure_prometheus
promtool --version | head -n 1
cd deploy/prometheus
timeout 60 promtool check config prometheus.yml kubernetes.yml
timeout 60 promtool check rules --lint=all --lint-fatal rules/*.yml
timeout 300 promtool test rules tests/*.test.yml
echo "ok: deploy/prometheus: configurations, rules and rule tests"
