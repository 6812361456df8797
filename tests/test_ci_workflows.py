"""The GitHub workflows: they run what this repository really has (make targets,
scripts, zoo names) in the order publishing needs, and take credentials only
from the repository's secrets. GitHub itself is not reachable from here, so
this is what can be checked of them."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name):
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def make_targets():
    return set(re.findall(r"^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text(), re.M))


def run_lines(job):
    return [step["run"] for step in job["steps"] if "run" in step]


def test_test_workflow_runs_the_ci_entry_point_on_debian():
    workflow = load("test.yml")
    job = workflow["jobs"]["test"]
    assert "bookworm" in job["container"]
    assert "bash .ci/run" in run_lines(job)
    assert (ROOT / ".ci" / "run").exists() and (ROOT / ".ci" / "system-packages").exists()


def test_publish_workflow_order_and_secrets():
    workflow = load("publish.yml")
    assert list(workflow["on"]) == ["push"] and workflow["on"]["push"]["tags"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    job = workflow["jobs"]["publish"]
    commands = "\n".join(run_lines(job))
    order = [commands.index(c) for c in ("make setup", "make export-all", "make test", "make publish")]
    assert order == sorted(order)
    for target in re.findall(r"\bmake ([a-z][a-z0-9-]*)", commands):
        assert target in make_targets(), target
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["with"]["path"].rstrip("/") == "web_demo/models"
    publish_step = next(s for s in job["steps"] if "make publish" in s.get("run", ""))
    assert publish_step["env"]["AWS_SECRET_ACCESS_KEY"] == "${{ secrets.AWS_SECRET_ACCESS_KEY }}"
    assert publish_step["env"]["AWS_ACCESS_KEY_ID"] == "${{ secrets.AWS_ACCESS_KEY_ID }}"
    text = (WORKFLOWS / "publish.yml").read_text()
    assert not re.search(r"AKIA[0-9A-Z]{12}", text)  # no literal AWS key ids


def test_publish_workflow_checks_every_zoo_model_through_the_cdn():
    from models import zoo

    job = load("publish.yml")["jobs"]["publish"]
    loop = next(line for line in "\n".join(run_lines(job)).splitlines() if line.strip().startswith("for m in"))
    assert sorted(loop.split(" in ", 1)[1].split(";")[0].split()) == sorted(zoo.names())
