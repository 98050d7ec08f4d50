"""deploy/ checked offline (issue "deploy"; no container runtime or cluster here): the Kubernetes manifests
against the Kubernetes schemas (kubernetes-validate, strict), the kustomization and the objects referring to
each other, every metric the Grafana dashboard and the autoscaler query being one that an exporter really
exports (ours, read from the engine's registry; vLLM's, by its documented name), and the Dockerfiles' copied
paths and command."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
DASHBOARD = DEPLOY / "grafana" / "roost-dashboard.json"
KUBERNETES_VERSION = "1.33"
DOCKERFILES = sorted((DEPLOY / "docker").glob("Dockerfile.*"))

# A metric name inside a PromQL expression: ours and vLLM's (colons are legal in Prometheus names).
QUERIED_NAME = re.compile(r"\b((?:roost_|vllm:)[A-Za-z0-9_:]+)")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def load_yaml(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization() -> dict[str, Any]:
    return load_yaml(K8S / "kustomization.yaml")[0]


def manifests() -> dict[str, dict[str, Any]]:
    """Every object the kustomization lists, by kind."""
    objects = {}
    for resource in kustomization()["resources"]:
        for doc in load_yaml(K8S / resource):
            objects[doc["kind"]] = doc
    return objects


def metric_catalogue() -> dict[str, dict[str, str]]:
    data = tomllib.loads((DEPLOY / "metrics.toml").read_text())
    return {entry["name"]: entry for entry in data["metric"]}


def base_name(queried: str) -> str:
    for suffix in HISTOGRAM_SUFFIXES:
        if queried.endswith(suffix):
            return queried[: -len(suffix)]
    return queried


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def autoscaler_queries() -> list[str]:
    values = load_yaml(K8S / "prometheus-adapter-values.yaml")[0]
    return [rule["seriesQuery"] for rule in values["rules"]["custom"]]


# ------------------------------------------------------------------------------------------ Kubernetes


def test_every_listed_resource_exists_and_is_valid_against_the_kubernetes_schemas() -> None:
    import kubernetes_validate

    checked = 0
    for resource in kustomization()["resources"]:
        for doc in load_yaml(K8S / resource):
            if doc["apiVersion"].startswith("monitoring.coreos.com/"):
                continue  # a CRD: no schema in kubernetes-validate; checked against the Service below
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            checked += 1
    assert checked >= 6


def test_the_schema_check_catches_a_misspelt_field() -> None:
    """The validation above is not vacuous: strict mode rejects an unknown field."""
    import kubernetes_validate

    hpa = manifests()["HorizontalPodAutoscaler"]
    broken = {**hpa, "spec": {**hpa["spec"], "maxReplica": 4}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_objects_refer_to_each_other() -> None:
    objects = manifests()
    deployment, service, hpa = objects["Deployment"], objects["Service"], objects["HorizontalPodAutoscaler"]
    monitor, claim = objects["ServiceMonitor"], objects["PersistentVolumeClaim"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert service["spec"]["ports"][0]["targetPort"] in {port["name"] for port in container["ports"]}
    # The ServiceMonitor (a CRD) selects the Service and scrapes one of its named ports.
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= {p["name"] for p in service["spec"]["ports"]}
    assert all(e["path"] == "/metrics" for e in monitor["spec"]["endpoints"])
    # The HPA scales the Deployment; the volume is the claim.
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert claim["metadata"]["name"] in {v.get("persistentVolumeClaim", {}).get("claimName") for v in volumes}
    # The API key comes from the generated Secret; its env file is made from the committed example.
    generator = kustomization()["secretGenerator"][0]
    key_refs = [e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e]
    assert key_refs and all(ref["name"] == generator["name"] for ref in key_refs)
    example = (K8S / (generator["envs"][0] + ".example")).read_text()
    assert all(f"{ref['key']}=" in example for ref in key_refs)


def test_the_autoscaler_reads_queue_depth_through_the_adapter_rule() -> None:
    hpa = manifests()["HorizontalPodAutoscaler"]
    values = load_yaml(K8S / "prometheus-adapter-values.yaml")[0]
    exposed = {rule["name"]["as"]: rule["seriesQuery"] for rule in values["rules"]["custom"]}
    for metric in hpa["spec"]["metrics"]:
        name = metric["pods"]["metric"]["name"]
        assert name in exposed, f"the HPA reads {name}, which no prometheus-adapter rule exposes"
        assert "num_requests_waiting" in exposed[name]


# ------------------------------------------------------------------------------------------ metrics


def test_every_queried_metric_is_in_the_catalogue() -> None:
    catalogue = metric_catalogue()
    queried = {
        base_name(name)
        for expr in dashboard_expressions() + autoscaler_queries()
        for name in QUERIED_NAME.findall(expr)
    }
    assert queried, "the dashboard queries nothing"
    assert queried <= catalogue.keys(), f"not in deploy/metrics.toml: {sorted(queried - catalogue.keys())}"
    assert all(entry["source"] in {"roost", "vllm"} for entry in catalogue.values())


def test_our_catalogued_metrics_are_really_exported() -> None:
    """Each ``roost`` entry is a family of the engine's registry — NVML's included, read through a fake
    NVML module (no GPU here) — with the catalogued type."""
    from prometheus_client import CollectorRegistry

    from roost.engine.metrics import ENGINE_REGISTRY, NvmlCollector

    nvml_registry = CollectorRegistry()
    one_gpu = SimpleNamespace(  # a stand-in for the pynvml module: one device
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda index: index,
        nvmlDeviceGetUtilizationRates=lambda handle: SimpleNamespace(gpu=50),
        nvmlDeviceGetMemoryInfo=lambda handle: SimpleNamespace(used=1, total=2),
    )
    nvml_registry.register(NvmlCollector(load=lambda: one_gpu))
    exported = {family.name: family.type for family in ENGINE_REGISTRY.collect()}
    exported |= {family.name: family.type for family in nvml_registry.collect()}
    for name, entry in metric_catalogue().items():
        if entry["source"] != "roost":
            continue
        family = name.removesuffix("_total") if entry["type"] == "counter" else name
        assert family in exported, f"{name} is catalogued but roost.engine.metrics does not export it"
        assert exported[family] == entry["type"], name


def test_vllm_metrics_name_their_documentation() -> None:
    for name, entry in metric_catalogue().items():
        if entry["source"] == "vllm":
            assert name.startswith("vllm:") and entry["reference"].startswith("https://docs.vllm.ai/"), name


def test_the_dashboard_covers_the_seeds_figures() -> None:
    expressions = "\n".join(dashboard_expressions())
    for needed in (
        "histogram_quantile(0.5, sum by (le, stage) (rate(roost_engine_stage_seconds_bucket",
        "histogram_quantile(0.99, sum by (le, stage) (rate(roost_engine_stage_seconds_bucket",
        "roost_engine_queue_depth",
        "rate(roost_engine_generated_tokens_total",
        "roost_engine_gpu_utilization_percent",
        "vllm:num_requests_waiting",
        "rate(vllm:generation_tokens_total",
    ):
        assert needed in expressions, needed


# ------------------------------------------------------------------------------------------ Docker


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_the_dockerfile_copies_paths_that_exist(dockerfile: Path) -> None:
    copies = [args for keyword, args in dockerfile_instructions(dockerfile) if keyword == "COPY"]
    assert copies
    for args in copies:
        *sources, _destination = shlex.split(args)
        assert not any(s.startswith("--from") for s in sources), "no multi-stage copies expected"
        for source in sources:
            assert (REPO / source).exists(), (
                f"{dockerfile.name} copies {source}, which is not in the repository"
            )
    # What setup.py packages and pyproject's license-files need to build the wheel is copied.
    copied = {s.rstrip("/") for args in copies for s in shlex.split(args)[:-1]}
    assert {"pyproject.toml", "setup.py", "README.md", "LICENSE", "lsp", "context", "engine"} <= copied


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_the_dockerfile_command_is_a_valid_engine_serve(dockerfile: Path) -> None:
    """ENTRYPOINT + CMD parse with the real ``roost`` argument parser as ``roost engine serve``, bound
    beyond loopback (so the image refuses to start without ROOST_ENGINE_API_KEY)."""
    from roost.lsp.cli import build_parser

    instructions = dict(dockerfile_instructions(dockerfile))
    command = json.loads(instructions["ENTRYPOINT"]) + json.loads(instructions["CMD"])
    assert command[:3] == ["roost", "engine", "serve"]
    args = build_parser().parse_args(command[1:])
    assert args.engine_action == "serve" and args.host == "0.0.0.0" and args.port == 8917
    assert f"EXPOSE {args.port}" in dockerfile.read_text()
    assert "/health" in instructions["HEALTHCHECK"]


def test_compose_builds_the_dockerfiles_and_scrapes_the_engine() -> None:
    compose = load_yaml(DEPLOY / "compose" / "compose.yaml")[0]
    for name in ("engine", "engine-gpu"):
        build = compose["services"][name]["build"]
        context = (DEPLOY / "compose" / build["context"]).resolve()
        assert context == REPO and (context / build["dockerfile"]).is_file()
    for volume in compose["services"]["grafana"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("."):
            assert (DEPLOY / "compose" / source).exists(), source
    prometheus = load_yaml(DEPLOY / "compose" / "prometheus.yml")[0]
    job = prometheus["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and job["static_configs"][0]["targets"] == ["engine:8917"]
    # The engine accepts the Host Prometheus sends, and Prometheus sends the key /metrics needs.
    assert "engine" in compose["services"]["engine"]["command"]
    assert job["authorization"]["credentials_file"] == "/run/secrets/engine_api_key"
