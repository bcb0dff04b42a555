"""The Elasticsearch cluster launcher's pure parts: node layout, ports, ``elasticsearch.yml`` of a node."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streams.ops.services import ServiceError
from streams.ops.services.es_cluster import LocalElasticsearchCluster, es_cluster_yml
from streams.settings import Settings


def _yml(**overrides) -> dict:
    args = dict(
        cluster_name="c",
        node_name="node-2",
        http_port=19201,
        transport_port=19301,
        seed_transport_ports=[19300, 19301, 19302],
        initial_masters=["node-1", "node-2", "node-3"],
        data_dir=Path("/d/data"),
        logs_dir=Path("/d/logs"),
    )
    return yaml.safe_load(es_cluster_yml(**{**args, **overrides}))


def test_a_node_discovers_the_others_on_loopback_instead_of_running_single_node():
    conf = _yml()
    assert "discovery.type" not in conf  # single-node discovery would never form a cluster
    assert conf["discovery.seed_hosts"] == ["127.0.0.1:19300", "127.0.0.1:19301", "127.0.0.1:19302"]
    assert conf["cluster.initial_master_nodes"] == ["node-1", "node-2", "node-3"]
    assert conf["network.host"] == "127.0.0.1"
    assert (conf["http.port"], conf["transport.port"]) == (19201, 19301)
    assert (conf["cluster.name"], conf["node.name"]) == ("c", "node-2")
    assert (conf["path.data"], conf["path.logs"]) == ("/d/data", "/d/logs")
    # one disk for all nodes: the watermarks must not see the others' data and block allocation
    assert conf["cluster.routing.allocation.disk.threshold_enabled"] is False
    assert conf["xpack.security.enabled"] is False


def test_only_settings_the_integ_test_distribution_knows():
    # the distribution refuses unknown settings at start ("unknown setting"); ingest-geoip is absent
    assert not any(key.startswith("ingest.") for key in _yml())


def test_nodes_get_consecutive_ports_and_a_directory_each(tmp_path):
    cluster = LocalElasticsearchCluster(Settings(), nodes=3, http_base_port=19200, transport_base_port=19300, directory=tmp_path, heap="384m")
    assert [(n.name, n.http_port, n.transport_port) for n in cluster.nodes] == [
        ("node-1", 19200, 19300),
        ("node-2", 19201, 19301),
        ("node-3", 19202, 19302),
    ]
    assert cluster.urls == ["http://127.0.0.1:19200", "http://127.0.0.1:19201", "http://127.0.0.1:19202"]
    assert [n.services.paths.es_dir for n in cluster.nodes] == [tmp_path / f"node-{i}" / "elasticsearch" for i in (1, 2, 3)]
    assert {n.services.settings.es_heap for n in cluster.nodes} == {"384m"}
    assert cluster.node_named("node-3").node_id == 3
    assert not any(cluster.alive(i) for i in (1, 2, 3))  # nothing started by building it


def test_overlapping_port_ranges_are_refused_with_the_fix(tmp_path):
    with pytest.raises(ServiceError, match="overlap.*base ports at least 3 apart"):
        LocalElasticsearchCluster(Settings(), nodes=3, http_base_port=19200, transport_base_port=19202, directory=tmp_path)


def test_a_bad_heap_and_no_nodes_are_refused(tmp_path):
    with pytest.raises(ServiceError, match="es_heap"):
        LocalElasticsearchCluster(Settings(), heap="lots", directory=tmp_path)
    with pytest.raises(ServiceError, match="at least one node"):
        LocalElasticsearchCluster(Settings(), nodes=0, directory=tmp_path)
    with pytest.raises(ServiceError, match="no node 4"):
        LocalElasticsearchCluster(Settings(), directory=tmp_path).node(4)


def test_a_request_with_no_node_running_names_every_node(tmp_path):
    cluster = LocalElasticsearchCluster(Settings(), nodes=2, http_base_port=19250, transport_base_port=19350, directory=tmp_path)
    with pytest.raises(ServiceError, match="node-1: not running; node-2: not running"):
        cluster.health()
