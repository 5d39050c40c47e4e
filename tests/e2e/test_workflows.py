"""Workflows end to end on `chorus serve`: create (validated), run blocking and
streamed, stored run records, the HTTP node through the SSRF guard, code in the
sandbox, typed failures, and a real Dify export imported and run on the local model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "dify_dsl"


@pytest.fixture(scope="module")
def api(server: str) -> httpx.Client:
    return auth.client(base_url=server + "/api", timeout=180)


MEAN_CODE = "def main(data):\n    t = data['temps']\n    return {'mean': sum(t) / len(t)}\n"


def weather_workflow(site: str) -> dict[str, Any]:
    return {
        "name": "weather",
        "description": "Is it warm in a city?",
        "nodes": [
            {"id": "start", "type": "start",
             "data": {"variables": [{"variable": "city", "type": "string"}]}},
            {"id": "fetch", "type": "http-request",
             "data": {"url": site + "/api/weather?city={{#start.city#}}"}},
            {"id": "mean", "type": "code", "data": {
                "code": MEAN_CODE,
                "variables": [{"variable": "data", "value_selector": ["fetch", "json"]}],
                "outputs": {"mean": {"type": "number"}}}},
            {"id": "check", "type": "if-else", "data": {"cases": [{"case_id": "warm",
                "conditions": [{"variable_selector": ["mean", "mean"],
                                "comparison_operator": ">", "value": 5}]}]}},
            {"id": "warm", "type": "template-transform", "data": {"template": "warm ({{ m }})",
                "variables": [{"variable": "m", "value_selector": ["mean", "mean"]}]}},
            {"id": "cold", "type": "template-transform", "data": {"template": "cold ({{ m }})",
                "variables": [{"variable": "m", "value_selector": ["mean", "mean"]}]}},
            {"id": "merge", "type": "variable-aggregator", "data": {
                "variables": [["warm", "output"], ["cold", "output"]], "output_type": "string"}},
            {"id": "end", "type": "end", "data": {"outputs": [
                {"variable": "verdict", "value_selector": ["merge", "output"]},
                {"variable": "city", "value_selector": ["start", "city"]}]}},
        ],
        "edges": [
            {"source": "start", "target": "fetch"}, {"source": "fetch", "target": "mean"},
            {"source": "mean", "target": "check"},
            {"source": "check", "target": "warm", "source_handle": "warm"},
            {"source": "check", "target": "cold", "source_handle": "false"},
            {"source": "warm", "target": "merge"}, {"source": "cold", "target": "merge"},
            {"source": "merge", "target": "end"},
        ],
    }  # fmt: skip


def sse(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:")]


def test_create_run_and_records(api: httpx.Client, local_site: str) -> None:
    created = api.post("/workflows", json=weather_workflow(local_site))
    assert created.status_code == 201, created.text
    wf = created.json()["id"]
    assert wf in [w["id"] for w in api.get("/workflows").json()["data"]]

    result = api.post(f"/workflows/{wf}/run", json={"inputs": {"city": "Zorblax"}}).json()
    assert result["status"] == "succeeded", result
    assert result["outputs"] == {"verdict": "warm (6.0)", "city": "Zorblax"}

    with api.stream(
        "POST", f"/workflows/{wf}/run", json={"inputs": {"city": "Z"}, "stream": True}
    ) as resp:
        events = sse(resp)
    types = [e["type"] for e in events]
    assert types[0] == "workflow_started" and types[-1] == "workflow_finished"
    finished = {e["node_id"]: e for e in events if e["type"] == "node_finished"}
    assert finished["cold"]["status"] == "skipped" and finished["warm"]["status"] == "succeeded"
    assert finished["mean"]["outputs"] == {"mean": 6.0} and finished["mean"]["elapsed_ms"] > 0

    record = api.get(f"/workflows/runs/{events[-1]['run_id']}").json()
    assert record["status"] == "succeeded" and record["inputs"] == {"city": "Z"}
    assert {n["node_id"] for n in record["nodes"]} >= {"start", "fetch", "mean", "end"}
    assert (
        api.get(
            f"/workflows/runs/{events[-1]['run_id']}", headers=auth.other_workspace()
        ).status_code
        == 404
    )

    exported = api.get(f"/workflows/{wf}/export")
    assert exported.status_code == 200 and "chorus-workflow" in exported.text
    again = api.post("/workflows/import", json={"dsl": exported.text})
    assert again.status_code == 201, again.text


def test_bad_workflows_and_inputs_are_typed_errors(api: httpx.Client, local_site: str) -> None:
    bad = weather_workflow(local_site)
    bad["nodes"][2]["data"]["variables"][0]["value_selector"] = ["ghost", "json"]
    resp = api.post("/workflows", json=bad)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "workflow_invalid" and "mean" in error["message"]
    assert error["details"]["errors"][0]["field"] == "data.variables.0.value_selector"
    check = api.post("/workflows/validate", json=bad).json()
    assert check["valid"] is False and check["errors"][0]["node_id"] == "mean"

    wf = api.post("/workflows", json=weather_workflow(local_site)).json()["id"]
    missing = api.post(f"/workflows/{wf}/run", json={"inputs": {}}).json()
    assert missing["status"] == "failed" and missing["error"]["code"] == "workflow_input_invalid"
    assert api.post("/workflows/nope/run", json={}).status_code == 404


def test_failures_inside_nodes_follow_their_error_strategy(
    api: httpx.Client, local_site: str
) -> None:
    spec = weather_workflow(local_site)
    spec["nodes"][1]["data"]["url"] = "http://10.0.0.1/metadata"  # a private address
    blocked = api.post(f"/workflows/{api.post('/workflows', json=spec).json()['id']}/run",
                       json={"inputs": {"city": "x"}}).json()  # fmt: skip
    assert blocked["status"] == "failed" and blocked["error"]["code"] == "url_blocked"
    assert blocked["error"]["node_id"] == "fetch"

    spec = weather_workflow(local_site)
    spec["nodes"][1]["data"]["url"] = local_site + "/api/broken"
    spec["nodes"][1]["data"]["error_strategy"] = "default_value"
    spec["nodes"][1]["data"]["default_value"] = {"json": {"temps": [1, 2]}}
    rescued = api.post(f"/workflows/{api.post('/workflows', json=spec).json()['id']}/run",
                       json={"inputs": {"city": "x"}}).json()  # fmt: skip
    assert rescued["status"] == "succeeded" and rescued["outputs"]["verdict"] == "cold (1.5)"

    spec = weather_workflow(local_site)
    spec["nodes"][2]["data"]["code"] = "def main(data):\n    return {'mean': 1 / 0}\n"
    crashed = api.post(f"/workflows/{api.post('/workflows', json=spec).json()['id']}/run",
                       json={"inputs": {"city": "x"}}).json()  # fmt: skip
    assert crashed["status"] == "failed" and crashed["error"]["node_id"] == "mean"
    assert "ZeroDivisionError" in crashed["error"]["message"]


def test_a_dify_export_imports_and_runs_on_the_local_model(api: httpx.Client) -> None:
    if not FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is absent (CI always has it)")
    dsl = (FIXTURES / "svcvit__seo_slug_generator.yml").read_text()
    imported = api.post("/workflows/import", json={"dsl": dsl})
    assert imported.status_code == 201, imported.text
    body = imported.json()
    wf = body["workflow"]["id"]
    start = next(n for n in body["spec"]["nodes"] if n["type"] == "start")
    inputs = {
        v["variable"]: "Ray makes distributed Python simple" for v in start["data"]["variables"]
    }
    with api.stream(
        "POST", f"/workflows/{wf}/run", json={"inputs": inputs, "stream": True}
    ) as resp:
        events = sse(resp)
    done = events[-1]
    assert done["type"] == "workflow_finished" and done["status"] == "succeeded", events[-3:]
    llm = [e for e in events if e["type"] == "node_finished" and e["node_type"] == "llm"]
    assert llm and llm[0]["tokens"] > 0 and llm[0]["outputs"]["text"]
    assert any(e["type"] == "delta" and e["node_id"] == llm[0]["node_id"] for e in events)
    assert done["total_tokens"] > 0 and any(v for v in done["outputs"].values())
