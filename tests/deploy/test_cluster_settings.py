"""What `make cluster` gives the processes it starts (cluster/__main__.py cluster_env), without
starting them: tests/cluster starts whole clusters."""
from cluster.__main__ import cluster_env, torch_threads
from cluster.settings import from_env


def settings(**env):
    return from_env({"CLUSTER_DIR": "/tmp/kindred-cluster-settings-test", **env})


def test_workers_share_the_cores_instead_of_oversubscribing_them():
    # 2 workers of 2 torch threads on 2 cores spin-wait on each other (39 tokens in 80 s)
    assert torch_threads(settings(CLUSTER_INFERENCE="redis", CLUSTER_WORKERS="2"), cores=2) == 1
    assert torch_threads(settings(CLUSTER_INFERENCE="redis", CLUSTER_WORKERS="1"), cores=2) == 2
    assert torch_threads(settings(CLUSTER_INFERENCE="redis", CLUSTER_WORKERS="3"), cores=8) == 2
    assert torch_threads(settings(CLUSTER_INFERENCE="redis", CLUSTER_WORKERS="4"), cores=2) == 1


def test_with_the_model_in_every_web_process_the_web_processes_share_them():
    assert torch_threads(settings(CLUSTER_INFERENCE="local", CLUSTER_WEBS="2"), cores=4) == 2
    assert torch_threads(settings(CLUSTER_INFERENCE="local", CLUSTER_WEBS="1"), cores=4) == 4


def test_an_operators_own_torch_threads_setting_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_THREADS", "3")
    env = cluster_env(from_env({"CLUSTER_DIR": str(tmp_path), "CLUSTER_INFERENCE": "redis"}))
    assert env["TORCH_THREADS"] == "3"
    monkeypatch.delenv("TORCH_THREADS")
    env = cluster_env(from_env({"CLUSTER_DIR": str(tmp_path), "CLUSTER_INFERENCE": "redis"}))
    assert env["TORCH_THREADS"] == str(torch_threads(from_env({"CLUSTER_INFERENCE": "redis"})))
    assert env["INFERENCE"] == "redis"
