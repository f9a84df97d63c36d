"""The robot environment (conda.yaml) and the Python package declare the same pinned set."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import REPO


def _normalise(requirement: str) -> str:
    name, _, version = requirement.partition("==")
    name = re.sub(r"\[.*\]", "", name).strip().lower().replace("_", "-")
    return f"{name}=={version.strip()}"


def test_conda_yaml_lists_the_pyproject_pins() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = {_normalise(d) for d in project["dependencies"]}
    assert all("==" in d for d in project["dependencies"]), "every runtime dependency is pinned"

    conda = yaml.safe_load((REPO / "conda.yaml").read_text())
    pip_section = next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))
    assert {_normalise(d) for d in pip_section} == pinned


def test_robot_yaml_tasks_use_robocorp_tasks_and_the_conda_env() -> None:
    robot = yaml.safe_load((REPO / "robot.yaml").read_text())
    assert robot["environmentConfigs"] == ["conda.yaml"]
    for name, task in robot["tasks"].items():
        assert task["shell"].startswith("python -m robocorp.tasks run robots/tasks.py -t "), name
