#!/usr/bin/env bash
# Validates the Kubernetes manifests of deploy/k8s offline, against the API schemas of
# Kubernetes 1.28 (the first whose StatefulSet pods carry the pod-index label the paxoskv pods
# read) and of 1.37 (the newest that kubernetes-validate 1.37.0 knows), rejecting unknown fields:
# kubectl kustomize renders them (with a throwaway cluster.key), kubernetes-validate (PyPI:
# pip install kubernetes-validate) checks every resource. Without kubectl, the manifests are
# checked as they are, without the generated Secret. Exit status 1 if any resource is invalid.
set -euo pipefail
cd "$(dirname "$0")/k8s"

command -v kubernetes-validate >/dev/null || {
  echo "check-k8s.sh: kubernetes-validate is not installed (pip install kubernetes-validate)" >&2
  exit 3
}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if command -v kubectl >/dev/null; then
  cp ./*.yaml "$work/"
  echo "a throwaway key for validation only" > "$work/cluster.key"
  kubectl kustomize "$work" > "$work/rendered.yaml"
  files=("$work/rendered.yaml")
else
  echo "check-k8s.sh: no kubectl: checking the manifests without kustomize's Secret"
  files=(paxoskv.yaml pbkv.yaml)
fi
count="$(grep -c '^kind:' "${files[@]}" | awk -F: '{ n += $NF } END { print n }')"
for version in 1.28 1.37; do
  kubernetes-validate --strict --quiet --kubernetes-version "$version" "${files[@]}"
  echo "deploy/k8s: $count resources valid against Kubernetes $version (strict)"
done
