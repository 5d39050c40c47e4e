"""A model server's Prometheus text, labelled by model and merged under one /metrics."""

from cluster.engines.engine_metrics import labelled, merged

SERVER = """# HELP llamacpp:requests_processing Number of requests processing
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 2
# HELP llamacpp:tokens_predicted_total Number of generation tokens processed
# TYPE llamacpp:tokens_predicted_total counter
llamacpp:tokens_predicted_total 71
"""


def test_every_sample_gets_the_labels() -> None:
    text = labelled(SERVER + 'other{kind="x"} 1.5 1700000000\n', {"model": 'a"b'})
    lines = text.splitlines()
    assert 'llamacpp:requests_processing{model="a\\"b"} 2' in lines
    assert 'llamacpp:tokens_predicted_total{model="a\\"b"} 71' in lines
    assert 'other{kind="x",model="a\\"b"} 1.5 1700000000' in lines
    assert lines[0] == "# HELP llamacpp:requests_processing Number of requests processing"
    assert labelled("", {"model": "m"}) == ""


def test_two_engines_share_one_header_per_family() -> None:
    text = merged([labelled(SERVER, {"model": "a"}), labelled(SERVER, {"model": "b"})])
    lines = text.splitlines()
    assert lines.count("# TYPE llamacpp:requests_processing gauge") == 1
    assert sum(line.startswith("# HELP llamacpp:tokens_predicted_total") for line in lines) == 1
    start = lines.index("# TYPE llamacpp:requests_processing gauge")
    assert lines[start + 1 : start + 3] == [
        'llamacpp:requests_processing{model="a"} 2',
        'llamacpp:requests_processing{model="b"} 2',
    ]
    assert merged([]) == ""
