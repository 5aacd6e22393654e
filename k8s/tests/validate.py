"""Validates every object the overlays render, strictly, offline.

Built-in kinds go through kubernetes-validate (its bundled OpenAPI-derived schemas, strict:
an unknown field is an error) for the oldest Kubernetes we support and the newest it knows.
Custom resources (Strimzi, KEDA, Prometheus Operator) go against the openAPIV3Schema of their
published CRDs, committed in k8s/schemas/ (see its README), made strict the same way: an
object schema with properties rejects any other property unless the CRD marks it
x-kubernetes-preserve-unknown-fields. A kind with no schema is an error, never a skip.
Every PromQL expression (PrometheusRule alerts, the Grafana dashboard's panels) must parse.

Usage: python validate.py DIR...   (exit 1 on any failure, naming object and field)
"""

import copy
import json
import pathlib
import sys

import jsonschema
import kubernetes_validate
import promql_parser

from render import render

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "schemas"
# Oldest supported (matchLabelKeys in topology spread is on by default from 1.27; we say 1.30
# in docs/deploy.md) and the newest the validator bundles.
KUBERNETES_VERSIONS = ["1.30.0", kubernetes_validate.utils.latest_version()]


def strict(schema):
    """A copy of `schema` where every object with properties rejects unknown ones."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def crd_schema(obj):
    """The committed schema of a custom resource's kind and version; None for the others
    (built-in kinds, which kubernetes-validate knows or reports as unknown)."""
    group, _, version = obj["apiVersion"].rpartition("/")
    path = SCHEMAS / f"{obj['kind'].lower()}-{group.split('.')[0]}-{version}.json"
    return json.loads(path.read_text()) if group and path.exists() else None


def promql(obj):
    """(where, expression) of every PromQL expression in an object."""
    if obj["kind"] == "PrometheusRule":
        for group in obj["spec"]["groups"]:
            for rule in group["rules"]:
                yield rule.get("alert") or rule.get("record"), rule["expr"]
    elif obj["kind"] == "ConfigMap" and obj["metadata"].get("labels", {}).get("grafana_dashboard"):
        for text in obj["data"].values():
            for panel in json.loads(text)["panels"]:
                for target in panel["targets"]:
                    # Grafana's variables, as Grafana substitutes them.
                    expr = target["expr"].replace("$__rate_interval", "5m")
                    yield panel["title"], expr.replace("$namespace", "takedown")


def check(obj):
    """Failure messages for one object (empty when valid)."""
    where = f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}"
    failures = []
    for name, expr in promql(obj):
        try:
            promql_parser.parse(expr)
        except ValueError as e:
            failures.append(f"{where}: {name}: PromQL does not parse ({e}): {expr}")
    schema = crd_schema(obj)
    if schema is not None:
        validator = jsonschema.Draft7Validator(strict(schema))
        return failures + [
            f"{where}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(obj)
        ]
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.utils.ValidationError as e:
            path = "/".join(map(str, e.path)) or "(root)"
            failures.append(f"{where} (Kubernetes {version}): {path}: {e.message}")
        except kubernetes_validate.utils.SchemaNotFoundError as e:
            failures.append(f"{where}: no schema: {e.message}")
    return failures


def self_test(objects):
    """Proves the checks can fail: broken copies of rendered objects must be rejected."""
    def broken(kind, change):
        found = [o for o in objects if o["kind"] == kind]
        if not found:
            return None  # not rendered this run: nothing to break
        obj = copy.deepcopy(found[0])
        change(obj)
        return check(obj)

    cases = {
        "unknown container field": broken(
            "Deployment", lambda o: o["spec"]["template"]["spec"]["containers"][0].update(imagePolicy="x")),
        "wrong type": broken("Deployment", lambda o: o["spec"].update(replicas="two")),
        "unknown CRD field": broken("KafkaTopic", lambda o: o["spec"].update(partitons=3)),
        "CRD wrong type": broken("KafkaTopic", lambda o: o["spec"].update(partitions="12")),
        "unknown kind": broken("Service", lambda o: o.update(kind="Servise")),
    }
    cases["PromQL syntax"] = broken(
        "PrometheusRule", lambda o: o["spec"]["groups"][0]["rules"][0].update(expr="sum(rate(x[5m])")
    )
    missed = [name for name, failures in cases.items() if failures == []]
    for name in missed:
        print(f"self-test: a broken object passed validation: {name}", file=sys.stderr)
    return missed


def main(directories):
    failures = []
    rendered = []
    for directory in directories:
        objects = render(directory)
        for obj in objects:
            failures += [f"{directory}: {f}" for f in check(obj)]
        kinds = sorted({o["kind"] for o in objects})
        print(f"{directory}: {len(objects)} objects ({', '.join(kinds)})", file=sys.stderr)
        rendered += objects
    failures += self_test(rendered)
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
