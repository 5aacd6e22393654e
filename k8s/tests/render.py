"""Renders a kustomization with `kubectl kustomize` and prints its objects as one JSON array.

The manifests-run test (tests/manifests_run.rs) reads rendered objects as JSON; YAML is parsed
here, with PyYAML from the k8s tools venv (scripts/k8s-tools-venv), so the Rust test needs no
YAML crate. Usage: python render.py DIR
"""

import json
import subprocess
import sys

import yaml


def render(directory):
    """The objects `kubectl kustomize DIR` renders, in order."""
    out = subprocess.run(
        ["kubectl", "kustomize", directory], check=True, capture_output=True, text=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc is not None]


if __name__ == "__main__":
    json.dump(render(sys.argv[1]), sys.stdout)
