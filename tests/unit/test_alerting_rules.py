"""The alerting rules (stack/prometheus/rules.yml) are valid and do what their tests say: `promtool check rules`
and `promtool test rules` (Debian's prometheus, installed by `make install`)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.processes import ROOT

RULES = ROOT / "stack" / "prometheus"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool comes with `make install` (Debian prometheus)")
@pytest.mark.parametrize("command", [["check", "rules", "rules.yml"], ["test", "rules", "rules.test.yml"]])
def test_promtool(command):
    done = subprocess.run(["promtool", *command], cwd=RULES, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_the_issue_names_has_a_rule_and_a_test():
    rules, tests = (RULES / "rules.yml").read_text(), (RULES / "rules.test.yml").read_text()
    for alert in (
        "PartitionHalted",
        "ConsumerLagGrowing",
        "KafkaUnderReplicatedPartitions",
        "ShardWithoutSynchronousStandby",
        "ReplicaLagging",
        "PostgresFailover",
        "RedisWithoutReplica",
        "HoldsOverdue",
    ):
        assert f"alert: {alert}" in rules and f"alertname: {alert}" in tests, alert


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool comes with `make install` (Debian prometheus)")
def test_compose_s_prometheus_config_is_valid(tmp_path):
    config = (
        (RULES / "compose-prometheus.yml").read_text().replace("/etc/prometheus/rules.yml", str(RULES / "rules.yml"))
    )
    (tmp_path / "prometheus.yml").write_text(config)
    done = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
