"""compose.yaml cannot run here (no Docker engine); it must at least parse, name every process the local
stack starts, and run the very NGINX config the local stack runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bench.processes import free_port
from tests.support.processes import ROOT

NGINX_CONF = ROOT / "stack" / "nginx" / "boxoffice.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _services_sh(command: str, **env: str) -> str:
    result = subprocess.run(
        [str(ROOT / "stack" / "services.sh"), command],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=30,
        check=True,
    )
    return result.stdout


def _mounts(service: dict) -> dict[str, Path]:
    """container path -> host path, for the bind mounts (./…) of a compose service."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts[target] = (ROOT / source).resolve()
    return mounts


def test_compose_names_every_process_the_local_stack_starts(compose):
    services = compose["services"]
    started = [line.split() for line in _services_sh("list", BOXOFFICE_INTAKE_INSTANCES="2").splitlines()]
    assert [name for name, _, _ in started][:2] == ["intake-1", "intake-2"]
    for name, module, _port in started:
        service = services[re.sub(r"-\d+$", "", name)]  # intake-1, intake-2, … are the replicas of intake
        assert service["command"][-1] == module, name
        assert service["environment"]["BOXOFFICE_KAFKA_BOOTSTRAP"] == "kafka-1:9092,kafka-2:9092,kafka-3:9092"
    assert services["intake"]["deploy"]["replicas"] == sum(name.startswith("intake-") for name, _, _ in started)
    assert {"nginx", "nginx_exporter", "prometheus", "postgres_exporter", "redis_exporter"} <= set(services)


def test_compose_runs_the_highly_available_engines(compose):
    services = compose["services"]
    kafka = [services[f"kafka-{i}"] for i in (1, 2, 3)]
    assert all(k["image"].startswith("apache/kafka:4.1") and "healthcheck" in k for k in kafka)
    env = kafka[0]["environment"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
    assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == (3, 2)
    assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
    assert {k["environment"]["KAFKA_NODE_ID"] for k in kafka} == {1, 2, 3}
    # PostgreSQL: two Patroni nodes per shard over a 3-member etcd, in synchronous mode.
    assert {f"etcd-{i}" for i in (1, 2, 3)} <= set(services)
    for shard in (0, 1):
        nodes = [services[f"pg-{shard}{n}"] for n in "ab"]
        assert {n["environment"]["PATRONI_SCOPE"] for n in nodes} == {f"boxoffice-shard{shard}"}
        assert all(n["build"]["dockerfile"] == "Dockerfile.patroni" for n in nodes)
    patroni = yaml.safe_load((ROOT / "stack" / "postgres" / "compose-patroni.yml").read_text())
    dcs = patroni["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True and dcs["postgresql"]["use_pg_rewind"] is True
    assert patroni["etcd3"]["hosts"] == "etcd-1:2379,etcd-2:2379,etcd-3:2379"
    assert (ROOT / "stack" / "postgres" / "Dockerfile.patroni").is_file() and (ROOT / "Dockerfile").is_file()
    shard_dsns = services["intake"]["environment"]["BOXOFFICE_PG_SHARD_DSNS"].split()
    assert shard_dsns == [
        f"postgresql://boxoffice@pg-{s}a:5432,pg-{s}b:5432/boxoffice?target_session_attrs=read-write" for s in (0, 1)
    ]
    assert "prefer-standby" in services["intake"]["environment"]["BOXOFFICE_PG_READ_DSN"]
    # Redis: a primary, a replica and three sentinels, which the clients ask.
    assert services["redis-2"]["command"][-3:] == ["--replicaof", "redis-1", "6379"]
    assert services["intake"]["environment"]["BOXOFFICE_REDIS_SENTINELS"] == (
        "sentinel-1:26379,sentinel-2:26379,sentinel-3:26379"
    )
    assert all(f"sentinel-{i}" in services for i in (1, 2, 3))
    # Prometheus runs the alerting rules the local stack runs.
    mounts = _mounts(services["prometheus"])
    assert mounts["/etc/prometheus/rules.yml"] == ROOT / "stack" / "prometheus" / "rules.yml"


def test_compose_nginx_runs_the_config_file_the_local_stack_runs(compose, tmp_path):
    nginx = compose["services"]["nginx"]
    assert nginx["image"].startswith("nginx:1.")
    assert nginx["ports"] == ["8000:80"]
    mounts = _mounts(nginx)
    assert mounts["/etc/nginx/conf.d/default.conf"] == NGINX_CONF  # the very file, not a copy

    # The local stack's NGINX, rendered by the script services.sh runs, includes that same file.
    prefix = tmp_path / "local"
    render = subprocess.run(
        [
            str(ROOT / "stack" / "nginx.sh"),
            "render",
            "--prefix",
            str(prefix),
            "--listen",
            str(free_port()),
            "--upstream",
            "127.0.0.1:1",
            "--upstream",
            "127.0.0.1:2",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert render.returncode == 0, render.stderr
    dump = subprocess.run(
        [NGINX, "-T", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "logs" / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert dump.returncode == 0, dump.stderr
    assert f"# configuration file {NGINX_CONF}:" in dump.stdout
    assert f"include {NGINX_CONF};" in (prefix / "nginx.conf").read_text()
    # …and so does a running local stack's NGINX, if there is one.
    running_conf = Path(os.environ.get("BOXOFFICE_STACK_DIR", ROOT / ".stack")) / "nginx" / "nginx.conf"
    if running_conf.exists():
        assert f"include {NGINX_CONF};" in running_conf.read_text()

    # compose's layout is valid too: the image's /etc/nginx rebuilt here from compose's mounts (its
    # nginx.conf includes conf.d/*.conf in http), host names and container paths made local.
    etc = tmp_path / "etc-nginx"
    for target, source in mounts.items():
        if not target.startswith("/etc/nginx/"):
            continue
        dest = etc / target.removeprefix("/etc/nginx/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, dest)
    (etc / "logs").mkdir()
    (etc / "temp").mkdir()
    (etc / "cache").mkdir()  # the image's /var/cache/nginx
    for conf in (etc / "boxoffice.d").iterdir():
        text = conf.read_text().replace("intake:8000", "127.0.0.1:8000").replace("/var/log/nginx/", f"{etc}/logs/")
        text = text.replace("/var/cache/nginx/", f"{etc}/cache/")
        text = text.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
        conf.write_text(text.replace("listen 8081;", f"listen 127.0.0.1:{free_port()};"))
    temp = "".join(
        f"{kind}_temp_path {etc}/temp/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (etc / "nginx.conf").write_text(
        f"pid {etc}/nginx.pid;\nerror_log {etc}/logs/error.log;\nevents {{}}\n"
        f"http {{ include /etc/nginx/mime.types; {temp} include conf.d/*.conf; }}\n"
    )
    test = subprocess.run(
        [NGINX, "-t", "-p", f"{etc}/", "-c", str(etc / "nginx.conf"), "-e", str(etc / "logs" / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert test.returncode == 0, test.stderr
