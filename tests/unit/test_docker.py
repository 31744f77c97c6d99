"""Docker cannot run here: check that the Dockerfile and compose file agree with the settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from hub.core.settings import Settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def _dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


def test_dockerfile_runs_telehub_serve_as_non_root_on_the_settings_port() -> None:
    text = _dockerfile()
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == ["telehub", "serve"]
    exposed = re.search(r"^EXPOSE (\d+)$", text, re.M)
    assert exposed is not None and int(exposed.group(1)) == Settings().port
    env_port = re.search(r"TELEHUB_PORT=(\d+)", text)
    assert env_port is not None and int(env_port.group(1)) == Settings().port
    assert re.search(r"^USER (?!root)\w+", text, re.M), "the runtime stage must not run as root"
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "multi-stage build expected"


def test_compose_has_hub_and_postgres_with_healthcheck_and_volume() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["postgres"]
    assert compose["volumes"]
    hub = services["telehub"]
    assert hub["command"][:2] == ["telehub", "serve"]
    _host, container_port = hub["ports"][0].split(":")
    assert int(container_port) == Settings().port
    url = hub["environment"]["TELEHUB_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url
    assert services["migrate"]["command"] == ["telehub", "migrate"]
