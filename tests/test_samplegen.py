"""The bundled sample is exactly what its seeded generator writes, and carries its quirks."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from tools import samplegen

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    assert samplegen.main(["--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("name", samplegen.SAMPLE_FILES)
def test_regenerating_from_the_seed_reproduces_the_committed_file(regenerated: Path, name: str) -> None:
    fresh = (regenerated / name).read_bytes()
    committed = (SAMPLE_DIR / name).read_bytes()
    assert fresh == committed, (
        f"data/sample/{name} is not what `python -m tools.samplegen` writes: regenerate it and commit both")


def test_another_seed_gives_another_year() -> None:
    assert samplegen.generate_sample(seed=7).events_jsonl != (SAMPLE_DIR / "events.jsonl").read_text("utf-8")


def test_the_log_stays_within_its_size_budget() -> None:
    # 6 MB before rollouts; the 25/50/100% steps of about 2,400 rollouts add about 2.8 MB
    assert (SAMPLE_DIR / "events.jsonl").stat().st_size <= 9_000_000


def _events() -> list[dict]:
    """The log's valid events (CloudEvents unwrapped), skipping the deliberately bad lines."""
    events = []
    for line in (SAMPLE_DIR / "events.jsonl").read_text("utf-8").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            obj = obj.get("data", obj) if "context" not in obj else obj
            context = obj.get("context", {}) if isinstance(obj, dict) else {}
            try:
                datetime.fromisoformat(context["timestamp"].replace("Z", "+00:00"))
            except (KeyError, ValueError):
                continue
            if "id" in context:
                events.append(obj)
    return events


def test_the_log_carries_every_quirk_its_readme_promises() -> None:
    text = (SAMPLE_DIR / "events.jsonl").read_text("utf-8")
    lines = text.splitlines()
    events = _events()
    kinds = {".".join(e["context"]["type"].split(".")[2:4]) for e in events}
    environments = {e["subject"]["content"].get("environment", {}).get("id") for e in events}
    custom = [e.get("customData", {}) for e in events]
    incidents = [e for e in events if e["context"]["type"].startswith("dev.cdevents.incident.")]
    tasks = {e["subject"]["content"].get("taskName") for e in events if ".taskrun." in e["context"]["type"]}

    assert {"change.merged", "service.deployed", "service.upgraded", "service.rolledback",
            "incident.detected", "incident.reported", "incident.resolved", "pipelinerun.started",
            "pipelinerun.finished", "taskrun.started", "taskrun.finished"} <= kinds
    assert {"production", "prod", "Production", "staging"} <= environments
    assert sorted(n for line, n in Counter(lines).items() if line and n > 1) == [2]  # one exact duplicate
    assert "" in lines  # a blank line
    assert sum(1 for line in lines if line.startswith('{"specversion":"1.0"')) > 100  # CloudEvents
    assert any("+01:00" in line for line in lines) and any("+02:00" in line for line in lines)
    assert any("changes" not in c for c in custom if "deployment_id" in c and c.get("traffic_percent", 5) == 5)
    assert any(c.get("unplanned") is True for c in custom)
    assert any("rolled_back_deployment" in c for c in custom)
    assert any(e["context"]["type"].startswith("dev.cdevents.service.rolledback")
               and "rolled_back_deployment" not in e.get("customData", {}) for e in events)
    assert any("caused_by_deployment" in e.get("customData", {}) for e in incidents)
    assert any("caused_by_commit" in e.get("customData", {}) for e in incidents)
    assert any("caused_by_change" in e.get("customData", {}) for e in incidents)
    assert any("service" not in e["subject"]["content"] for e in incidents)
    started = {e["subject"]["id"] for e in incidents if ".resolved." not in e["context"]["type"]}
    resolved = {e["subject"]["id"] for e in incidents if ".resolved." in e["context"]["type"]}
    assert 1 <= len(started - resolved) <= 2  # still open when the log ends
    assert {"build", "test", "approval", "deploy", "staging", "canary-5", "rollout-25", "rollout-50",
            "rollout-100"} <= tasks
    assert any(e["subject"]["content"].get("taskName") == "canary-5"
               and e["subject"]["content"].get("outcome") == "failure" for e in events)
    times = [e["context"]["timestamp"] for e in events if e["context"]["timestamp"].endswith("Z")]
    assert times != sorted(times)  # out of time order in places


def test_the_counts_add_up_to_the_lines() -> None:
    sample = samplegen.generate_sample()
    assert sum(sample.counts.values()) == len(sample.events_jsonl.splitlines())
    assert sample.counts["(malformed)"] == 7


def _rollouts(events: list[dict]) -> dict[str, list[dict]]:
    """Production deployment events by deployment id, in time order (the duplicate line once)."""
    by_id: dict[str, list[dict]] = {}
    for e in {(e["context"]["source"], e["context"]["id"]): e for e in events}.values():
        kind = e["context"]["type"]
        if (kind.startswith(("dev.cdevents.service.deployed.", "dev.cdevents.service.upgraded."))
                and e["subject"]["content"].get("environment", {}).get("id", "").lower() in ("production", "prod")):
            by_id.setdefault(e["customData"]["deployment_id"], []).append(e)
    for steps in by_id.values():
        steps.sort(key=lambda e: e["context"]["timestamp"])
    return by_id


def test_from_phase_3_every_production_deployment_is_a_progressive_rollout() -> None:
    phase_3 = next(a.on.isoformat() for a in samplegen.PHASES if a.name.startswith("Phase 3"))
    rollouts = _rollouts(_events())
    steps = {d: tuple(e.get("customData", {}).get("traffic_percent") for e in events)
             for d, events in rollouts.items()}
    before = {d for d, events in rollouts.items() if events[0]["context"]["timestamp"] < phase_3}
    after = set(rollouts) - before
    assert before and all(steps[d] == (None,) for d in before)  # one event, the whole environment at once
    shapes = Counter(steps[d] for d in after)
    assert set(shapes) == {(5, 25, 50, 100), (5,), (5, 25)}  # complete, or stopped by a gate at 5% or 25%
    assert shapes[(5, 25, 50, 100)] > 2000 and shapes[(5,)] > shapes[(5, 25)] > 0
    # the steps are minutes apart, and both event kinds carry them
    times = [datetime.fromisoformat(e["context"]["timestamp"].replace("Z", "+00:00")) for e in rollouts[min(after)]]
    assert all(60 <= (b - a).total_seconds() <= 15 * 60 for a, b in zip(times, times[1:]))
    assert {e["context"]["type"].split(".")[3] for d in after for e in rollouts[d][1:]} == {"deployed", "upgraded"}


def test_gate_stopped_canaries_are_rolled_back_within_minutes_in_both_forms() -> None:
    events = _events()
    rollouts = _rollouts(events)
    stopped = {d: e for d, e in rollouts.items() if e[-1].get("customData", {}).get("traffic_percent") in (5, 25)}
    rollbacks = [e for e in events if e["context"]["type"].startswith("dev.cdevents.service.rolledback.")]
    named = {e["customData"]["rolled_back_deployment"] for e in rollbacks if "customData" in e}
    assert stopped and len(named & set(stopped)) < len(stopped)  # some stopped canaries are rolled back unnamed
    assert named & set(stopped)
    for d, steps in stopped.items():
        last = steps[-1]["context"]["timestamp"]
        service = steps[-1]["subject"]["id"]
        first_after = min(e["context"]["timestamp"] for e in rollbacks
                          if e["subject"]["id"] == service and e["context"]["timestamp"] > last)
        gap = datetime.fromisoformat(first_after.replace("Z", "+00:00")) - datetime.fromisoformat(last.replace("Z", "+00:00"))
        assert gap.total_seconds() <= 5 * 60, d


def test_some_incidents_start_mid_rollout_and_name_no_cause() -> None:
    events = _events()
    spans: dict[str, list[tuple[str, str]]] = {}
    for steps in _rollouts(events).values():
        if len(steps) > 1:
            spans.setdefault(steps[0]["subject"]["id"], []).append(
                (steps[0]["context"]["timestamp"], steps[-1]["context"]["timestamp"]))
    starts = [e for e in events if e["context"]["type"].startswith(("dev.cdevents.incident.detected.",
                                                                     "dev.cdevents.incident.reported."))
              and not any(k.startswith("caused_by_") for k in e.get("customData", {}))]
    mid_rollout = [e for e in starts
                   if any(first < e["context"]["timestamp"] < last
                          for first, last in spans.get(e["subject"]["content"].get("service", {}).get("id"), []))]
    assert len(mid_rollout) >= 3
