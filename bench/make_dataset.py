"""Generate the event-log benchmark dataset: a seeded CDEvents JSON Lines log of a large organisation.

At --scale 1 (the default): 1,000,000 production deployments of 200 services in 100 repositories over
two years, 3,000,000 `change.merged` events, 50,000 incidents (detected/reported + resolved), 10,000
rollbacks, a few staging deployments, repeated lines and a small share of malformed lines. Lines are
written as templated strings for speed; every kind is checked against the builders in
tools/cdevents.py (byte for byte, on a sample of lines), so the log has exactly the shape they write.

Writes bench/out/events.jsonl and bench/out/dataset.json (the shape), then loads the log into
bench/out/bench.duckdb through the real ingest (dora.jobs.run_eventlog_ingest), for other benches
to reuse. Same seed and scale → the same bytes.

    .venv/bin/python bench/make_dataset.py                 # the full benchmark (~2.5 GB, ~1 min + ingest)
    .venv/bin/python bench/make_dataset.py --scale 0.01    # a quick check
    .venv/bin/python bench/make_dataset.py --no-warehouse  # the log only
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import cdevents  # noqa: E402

OUT = ROOT / "bench" / "out"
START = np.datetime64("2024-01-01T00:00:00", "ms").astype(np.int64)
SPAN_MS = 730 * 86_400_000  # two years
MINUTE = 60_000
HOUR = 60 * MINUTE

SRC_CD = "/acme/deployer"
SRC_GIT = "/acme/github"
SRC_INC = "/acme/pagerduty"
SPEC = cdevents.SPEC_VERSION
T_DEPLOYED = "dev.cdevents.service.deployed.0.3.0"
T_UPGRADED = "dev.cdevents.service.upgraded.0.3.0"
T_ROLLEDBACK = "dev.cdevents.service.rolledback.0.3.0"
T_MERGED = "dev.cdevents.change.merged.0.3.0"
T_DETECTED = "dev.cdevents.incident.detected.0.3.0"
T_REPORTED = "dev.cdevents.incident.reported.0.3.0"
T_RESOLVED = "dev.cdevents.incident.resolved.0.3.0"

# Event kinds in the merged, time-ordered stream.
K_DEPLOY, K_CHANGE, K_ROLLBACK, K_INC_START, K_INC_END = range(5)
CHECK_EVERY = 50_000  # besides the first 20 lines of each kind, every n-th line is checked against the builders


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M deployments, 3M changes, 50k incidents")
    p.add_argument("--seed", type=int, default=20260501)
    p.add_argument("--services", type=int, default=200)
    p.add_argument("--repositories", type=int, default=100)
    p.add_argument("--out", type=Path, default=OUT, help="output directory (default bench/out)")
    p.add_argument("--no-warehouse", action="store_true", help="write the log only, not bench.duckdb")
    return p.parse_args(argv)


def iso(ms: np.ndarray) -> list[str]:
    """RFC 3339 UTC with milliseconds and a Z, exactly as cdevents.format_time writes it."""
    return [s + "Z" for s in np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").tolist()]


def shas(rng: np.random.Generator, n: int) -> list[str]:
    """n random 40-hex commit SHAs."""
    text = rng.bytes(20 * n).hex()
    return [text[i:i + 40] for i in range(0, 40 * n, 40)]


def plan(args: argparse.Namespace) -> dict:
    """Everything random, drawn in a fixed order from one seeded generator, as numpy arrays."""
    rng = np.random.default_rng(args.seed)
    n_dep = int(round(1_000_000 * args.scale))
    n_chg = int(round(3_000_000 * args.scale))
    n_inc = int(round(50_000 * args.scale))
    n_rb = int(round(10_000 * args.scale))
    n_svc, n_repo = args.services, args.repositories

    # Deployments: a few busy services and a long tail, each deploying at random times.
    weights = rng.lognormal(0.0, 1.0, n_svc)
    svc = np.sort(rng.choice(n_svc, size=n_dep, p=weights / weights.sum()))
    t = START + rng.integers(0, SPAN_MS, n_dep)
    order = np.lexsort((t, svc))  # by service, then time
    svc, t = svc[order], t[order]
    # deployments of the same service never finish in the same millisecond
    same = np.r_[False, (svc[1:] == svc[:-1]) & (t[1:] <= t[:-1])]
    while same.any():
        t[same] = t[np.flatnonzero(same) - 1] + 1
        same = np.r_[False, (svc[1:] == svc[:-1]) & (t[1:] <= t[:-1])]
    first_of_svc = np.r_[True, svc[1:] != svc[:-1]]
    prev_t = np.where(first_of_svc, t - 2 * 86_400_000, np.r_[t[0], t[:-1]])
    duration = rng.integers(3 * MINUTE, 30 * MINUTE, n_dep)
    dep = {
        "n": n_dep,
        "svc": svc,
        "t": t,
        "started": t - duration,
        "prev_t": prev_t,
        # 70% list their changes; the rest rely on the merge-window rule
        "explicit": rng.random(n_dep) < 0.7,
        "named_id": rng.random(n_dep) < 0.3,       # customData.deployment_id given
        "upgraded": rng.random(n_dep) < 0.05,      # service.upgraded instead of .deployed
        "env": rng.choice(3, size=n_dep, p=[0.9, 0.07, 0.03]),  # production / prod / Production
        "unplanned": rng.choice(3, size=n_dep, p=[0.6, 0.37, 0.03]),  # absent / false / true
        "second_event": rng.random(n_dep) < 0.01,  # a second region reports the same deployment
        "staging": rng.random(n_dep) < 0.05,       # went through staging first
        "region_delay": rng.integers(1_000, 5 * MINUTE, n_dep),
        "commit": shas(rng, n_dep),
    }
    dep["named_id"] |= dep["second_event"]  # events can share a deployment only by naming it
    dep["region_t"] = dep["t"] + dep["region_delay"]

    # Changes: each shipped by one deployment, merged between its service's previous deployment and it.
    owner = np.sort(rng.integers(0, n_dep, n_chg))
    hi = dep["started"][owner]
    lo = np.minimum(np.maximum(dep["prev_t"][owner], hi - 14 * 86_400_000), hi - MINUTE)
    merged = lo + (rng.random(n_chg) * (hi - lo)).astype(np.int64)
    coding = (rng.lognormal(np.log(20 * HOUR), 1.0, n_chg)).astype(np.int64)
    review = (rng.lognormal(np.log(4 * HOUR), 1.0, n_chg)).astype(np.int64)
    chg = {
        "n": n_chg,
        "owner": owner,
        "merged": merged,
        "first_commit": merged - coding - review,
        "opened": merged - review - (coding * rng.random(n_chg) * 0.3).astype(np.int64),
        "reviewed": np.where(rng.random(n_chg) < 0.85, merged - (review * rng.random(n_chg)).astype(np.int64), -1),
        "commit": shas(rng, n_chg),
        "additions": rng.geometric(1 / 80, n_chg),
        "deletions": rng.geometric(1 / 30, n_chg),
        "author": rng.integers(0, 1500, n_chg),
    }

    # Incidents: most follow a deployment within hours (attributed by the window), some name their cause.
    cause = rng.choice(n_dep, size=n_inc, replace=False)
    after = np.where(rng.random(n_inc) < 0.97, rng.integers(MINUTE, 12 * HOUR, n_inc),
                     rng.integers(30 * HOUR, 72 * HOUR, n_inc))  # some start past the window
    recovery = rng.lognormal(np.log(45 * MINUTE), 1.0, n_inc).astype(np.int64) + MINUTE
    inc = {
        "n": n_inc,
        "cause": cause,
        "start": dep["t"][cause] + after,
        "end": dep["t"][cause] + after + recovery,
        "link": rng.choice(3, size=n_inc, p=[0.85, 0.10, 0.05]),  # window / caused_by_deployment / _commit
        "reported": rng.random(n_inc) < 0.1,
        "resolved": rng.random(n_inc) < 0.99,
        "severity": rng.integers(1, 5, n_inc),
        "wrapped": rng.random(n_inc) < 0.02,  # sent as structured CloudEvents
    }

    # Rollbacks: shortly after the deployment they undo; half name it.
    target = rng.choice(n_dep, size=n_rb, replace=False)
    rb = {
        "n": n_rb,
        "target": target,
        "t": dep["t"][target] + rng.integers(2 * MINUTE, 40 * MINUTE, n_rb),
        "named": rng.random(n_rb) < 0.5,
    }
    noise = {
        "duplicates": int(round(2_000 * args.scale)),
        "malformed": int(round(400 * args.scale)),
    }
    return {"rng": rng, "dep": dep, "chg": chg, "inc": inc, "rb": rb, "noise": noise,
            "services": [f"svc-{i:03d}" for i in range(n_svc)],
            "repos": [f"acme/repo-{i * n_repo // n_svc:03d}" for i in range(n_svc)]}


class Writer:
    """Formats the planned events as CDEvents lines, checking a sample against tools/cdevents.py."""

    ENV_NAMES = ("production", "prod", "Production")

    def __init__(self, p: dict) -> None:
        self.p = p
        dep, chg, inc, rb = p["dep"], p["chg"], p["inc"], p["rb"]
        # plain lists: indexing numpy arrays one element at a time is several times slower
        self.d, self.c, self.n, self.r = ({k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in x.items()}
                                          for x in (dep, chg, inc, rb))
        services, repos = p["services"], p["repos"]
        self.dep_svc = [services[s] for s in self.d["svc"]]
        self.dep_repo = [repos[s] for s in self.d["svc"]]
        self.dep_ts = iso(dep["t"])
        self.dep_started = iso(dep["started"])
        staging, region = np.flatnonzero(dep["staging"]), np.flatnonzero(dep["second_event"])
        self.staging_ts = dict(zip(staging.tolist(), iso(dep["started"][staging] - 20 * MINUTE)))
        self.region_ts = dict(zip(region.tolist(), iso(dep["region_t"][region])))
        self.dep_ids = [f"deploy-{i:07d}" for i in range(dep["n"])]
        # the id incidents and rollbacks name: customData.deployment_id if given, else context.id
        self.dep_deployment_id = [f"rel-{i:07d}" if named else self.dep_ids[i]
                                  for i, named in enumerate(self.d["named_id"])]
        # change ids `repo#number`, numbered per repository in the order of their deployments
        self.chg_repo = [self.dep_repo[o] for o in self.c["owner"]]
        counters: dict[str, int] = {}
        self.chg_ids = []
        for repo in self.chg_repo:
            counters[repo] = counters.get(repo, 0) + 1
            self.chg_ids.append(f"{repo}#{counters[repo]}")
        self.dep_changes = np.searchsorted(chg["owner"], np.arange(dep["n"] + 1)).tolist()
        self.chg_merged = iso(chg["merged"])
        self.chg_first = iso(chg["first_commit"])
        self.chg_opened = iso(chg["opened"])
        self.chg_reviewed = iso(np.maximum(chg["reviewed"], 0))
        self.inc_start = iso(inc["start"])
        self.inc_end = iso(inc["end"])
        self.rb_ts = iso(rb["t"])
        self.checked: dict[tuple[int, int], int] = {}

    def _deployment_time(self, i: int, region: int, staging: bool) -> str:
        if staging:
            return self.staging_ts[i]
        return self.region_ts[i] if region else self.dep_ts[i]

    # -- one formatter per kind; each returns the line's text (without the newline) ----------------

    def deployment(self, i: int, *, region: int = 0, staging: bool = False) -> str:
        d = self.d
        svc, commit = self.dep_svc[i], d["commit"][i]
        env = "staging" if staging else self.ENV_NAMES[d["env"][i]]
        cid = self.dep_ids[i] + ("-stg" if staging else "") + (f"-r{region}" if region else "")
        ts = self._deployment_time(i, region, staging)
        kind = T_UPGRADED if d["upgraded"][i] else T_DEPLOYED
        custom = []
        if d["named_id"][i] and not staging:
            custom.append(f'"deployment_id":"{self.dep_deployment_id[i]}"')
        custom.append(f'"commit":"{commit}","repository":"{self.dep_repo[i]}"')
        if d["explicit"][i]:
            lo, hi = self.dep_changes[i], self.dep_changes[i + 1]
            custom.append('"changes":[' + ",".join(f'"{c}"' for c in self.chg_ids[lo:hi]) + "]")
        if not staging:
            custom.append(f'"started_at":"{self.dep_started[i]}"')
            u = d["unplanned"][i]
            if u:
                custom.append('"unplanned":' + ("true" if u == 2 else "false"))
        return (f'{{"context":{{"specversion":"{SPEC}","id":"{cid}","source":"{SRC_CD}","type":"{kind}",'
                f'"timestamp":"{ts}"}},"subject":{{"id":"{svc}","source":"{SRC_CD}","content":'
                f'{{"environment":{{"id":"{env}"}},"artifactId":"pkg:generic/{svc}@{commit}"}}}},'
                f'"customData":{{{",".join(custom)}}}}}')

    def deployment_ref(self, i: int, *, region: int = 0, staging: bool = False) -> dict:
        d = self.d
        lo, hi = self.dep_changes[i], self.dep_changes[i + 1]
        u = d["unplanned"][i]
        return cdevents.deployed(
            id=self.dep_ids[i] + ("-stg" if staging else "") + (f"-r{region}" if region else ""),
            at=self._deployment_time(i, region, staging),
            service=self.dep_svc[i], environment="staging" if staging else self.ENV_NAMES[d["env"][i]],
            deployment_id=self.dep_deployment_id[i] if d["named_id"][i] and not staging else None,
            commit=d["commit"][i], repository=self.dep_repo[i],
            changes=self.chg_ids[lo:hi] if d["explicit"][i] else None,
            started_at=None if staging else self.dep_started[i],
            unplanned=None if staging or not u else u == 2,
            source=SRC_CD, kind="service.upgraded" if d["upgraded"][i] else "service.deployed",
        )

    def change(self, j: int) -> str:
        c = self.c
        repo, cid = self.chg_repo[j], self.chg_ids[j]
        review = f'"first_review_at":"{self.chg_reviewed[j]}",' if c["reviewed"][j] >= 0 else ""
        return (f'{{"context":{{"specversion":"{SPEC}","id":"c{j:08d}","source":"{SRC_GIT}","type":"{T_MERGED}",'
                f'"timestamp":"{self.chg_merged[j]}"}},"subject":{{"id":"{cid}","source":"{SRC_GIT}",'
                f'"content":{{"repository":{{"id":"{repo}"}}}}}},"customData":{{"first_commit_at":"{self.chg_first[j]}",'
                f'"opened_at":"{self.chg_opened[j]}",{review}"merged_at":"{self.chg_merged[j]}",'
                f'"commit":"{c["commit"][j]}","repository":"{repo}","additions":{c["additions"][j]},'
                f'"deletions":{c["deletions"][j]},"author":"dev{c["author"][j]}","title":"Change {cid}"}}}}')

    def change_ref(self, j: int) -> dict:
        c = self.c
        cid = self.chg_ids[j]
        return cdevents.merged(
            id=f"c{j:08d}", at=self.chg_merged[j], change=cid, repository=self.chg_repo[j],
            first_commit_at=self.chg_first[j], opened_at=self.chg_opened[j],
            first_review_at=self.chg_reviewed[j] if c["reviewed"][j] >= 0 else None,
            merged_at=self.chg_merged[j], commit=c["commit"][j], additions=int(c["additions"][j]),
            deletions=int(c["deletions"][j]), author=f"dev{c['author'][j]}", title=f"Change {cid}",
            source=SRC_GIT,
        )

    def rollback(self, k: int) -> str:
        r = self.r
        i = r["target"][k]
        svc = self.dep_svc[i]
        custom = f',"customData":{{"rolled_back_deployment":"{self.dep_deployment_id[i]}"}}' if r["named"][k] else ""
        return (f'{{"context":{{"specversion":"{SPEC}","id":"rb{k:06d}","source":"{SRC_CD}","type":"{T_ROLLEDBACK}",'
                f'"timestamp":"{self.rb_ts[k]}"}},"subject":{{"id":"{svc}","source":"{SRC_CD}","content":'
                f'{{"environment":{{"id":"production"}},"artifactId":"pkg:generic/{svc}"}}}}{custom}}}')

    def rollback_ref(self, k: int) -> dict:
        r = self.r
        i = r["target"][k]
        return cdevents.rolledback(
            id=f"rb{k:06d}", at=self.rb_ts[k], service=self.dep_svc[i],
            rolled_back_deployment=self.dep_deployment_id[i] if r["named"][k] else None, source=SRC_CD)

    def incident_start(self, k: int) -> str:
        n = self.n
        i = n["cause"][k]
        svc = self.dep_svc[i]
        reported = n["reported"][k]
        link = n["link"][k]
        custom = f'"severity":"SEV{n["severity"][k]}"'
        if link == 1:
            custom += f',"caused_by_deployment":"{self.dep_deployment_id[i]}"'
        elif link == 2:
            custom += f',"caused_by_commit":"{self.d["commit"][i]}"'
        ticket = f',"ticketURI":"https://tickets.example/inc-{k:06d}"' if reported else ""
        line = (f'{{"context":{{"specversion":"{SPEC}","id":"inc-{k:06d}-start","source":"{SRC_INC}",'
                f'"type":"{T_REPORTED if reported else T_DETECTED}","timestamp":"{self.inc_start[k]}"}},'
                f'"subject":{{"id":"inc-{k:06d}","source":"{SRC_INC}","content":{{"environment":{{"id":"production"}},'
                f'"service":{{"id":"{svc}"}}{ticket}}}}},"customData":{{{custom}}}}}')
        return self._wrap(line, k, f"inc-{k:06d}-start", T_REPORTED if reported else T_DETECTED, self.inc_start[k])

    def incident_start_ref(self, k: int) -> dict:
        n = self.n
        i = n["cause"][k]
        link = n["link"][k]
        event = cdevents.incident_detected(
            id=f"inc-{k:06d}-start", at=self.inc_start[k], incident=f"inc-{k:06d}", service=self.dep_svc[i],
            severity=f"SEV{n['severity'][k]}",
            caused_by_deployment=self.dep_deployment_id[i] if link == 1 else None,
            caused_by_commit=self.d["commit"][i] if link == 2 else None,
            source=SRC_INC, kind="incident.reported" if n["reported"][k] else "incident.detected",
        )
        return cdevents.wrap_cloudevent(event) if n["wrapped"][k] else event

    def incident_end(self, k: int) -> str:
        svc = self.dep_svc[self.n["cause"][k]]
        line = (f'{{"context":{{"specversion":"{SPEC}","id":"inc-{k:06d}-end","source":"{SRC_INC}",'
                f'"type":"{T_RESOLVED}","timestamp":"{self.inc_end[k]}"}},"subject":{{"id":"inc-{k:06d}",'
                f'"source":"{SRC_INC}","content":{{"environment":{{"id":"production"}},"service":{{"id":"{svc}"}}}}}}}}')
        return self._wrap(line, k, f"inc-{k:06d}-end", T_RESOLVED, self.inc_end[k])

    def incident_end_ref(self, k: int) -> dict:
        n = self.n
        event = cdevents.incident_resolved(
            id=f"inc-{k:06d}-end", at=self.inc_end[k], incident=f"inc-{k:06d}",
            service=self.dep_svc[n["cause"][k]], source=SRC_INC)
        return cdevents.wrap_cloudevent(event) if n["wrapped"][k] else event

    def _wrap(self, line: str, k: int, cid: str, kind: str, ts: str) -> str:
        if not self.n["wrapped"][k]:
            return line
        return (f'{{"specversion":"1.0","id":"{cid}","source":"{SRC_INC}","type":"{kind}","time":"{ts}",'
                f'"datacontenttype":"application/json","data":{line}}}')

    def check(self, kind: int, line: str, ref: dict) -> None:
        """The templated line must be exactly what the builders + to_jsonl write."""
        want = cdevents.to_jsonl([ref])[:-1]
        if line != want:
            raise AssertionError(f"template drifted from tools/cdevents.py:\n got {line}\nwant {want}")
        self.checked[kind] = self.checked.get(kind, 0) + 1


def malformed_lines(base: str, n: int) -> list[str]:
    """Bad lines of the kinds real logs have, from a valid deployment line: truncated writes, log
    noise, missing or malformed fields."""
    out = []
    for k in range(n):
        v = k % 6
        if v == 0:
            out.append(base[: len(base) // 2])                          # truncated write
        elif v == 1:
            out.append(f"2025-03-0{k % 9 + 1} 12:00:00 ERROR deployer: connection reset")  # log noise
        elif v == 2:
            out.append(base.replace('"id":"', '"id_":"', 1))            # no context.id
        elif v == 3:
            out.append(base.replace('Z"', '"', 1))                       # timestamp without offset
        elif v == 4:
            out.append("[" + base + "]")                                  # a JSON array, not an object
        else:
            out.append(base.replace('"environment":{"id":', '"env":{"id":', 1))  # deployment lacks environment
    return out


def write_log(p: dict, path: Path) -> dict:
    """Write every event in (roughly) time order, with repeats and bad lines mixed in."""
    rng = p["rng"]
    dep, chg, inc, rb = p["dep"], p["chg"], p["inc"], p["rb"]
    w = Writer(p)
    # (time, kind, index, variant): variant 0 = the event, 1 = a second region's event, 2 = staging
    parts = [
        (dep["t"], K_DEPLOY, np.arange(dep["n"]), 0),
        (dep["region_t"][dep["second_event"]], K_DEPLOY, np.flatnonzero(dep["second_event"]), 1),
        (dep["started"][dep["staging"]] - 20 * MINUTE, K_DEPLOY, np.flatnonzero(dep["staging"]), 2),
        (chg["merged"], K_CHANGE, np.arange(chg["n"]), 0),
        (rb["t"], K_ROLLBACK, np.arange(rb["n"]), 0),
        (inc["start"], K_INC_START, np.arange(inc["n"]), 0),
        (inc["end"][inc["resolved"]], K_INC_END, np.flatnonzero(inc["resolved"]), 0),
    ]
    when = np.concatenate([t for t, *_ in parts])
    kind = np.concatenate([np.full(len(t), k, np.int8) for t, k, *_ in parts])
    index = np.concatenate([i for _, _, i, _ in parts])
    variant = np.concatenate([np.full(len(t), v, np.int8) for t, _, _, v in parts])
    # pipelines report late now and then: up to 10 minutes out of order
    order = np.argsort(when + rng.integers(0, 10 * MINUTE, len(when)), kind="stable")
    n_events = len(order)

    dups = np.sort(rng.choice(n_events, size=min(p["noise"]["duplicates"], n_events), replace=False))
    bad_at = np.sort(rng.choice(n_events, size=min(p["noise"]["malformed"], n_events), replace=False))
    dup_set, bad_set = set(dups.tolist()), set(bad_at.tolist())
    pending_dups: list[str] = []
    bad_iter = iter(malformed_lines(w.deployment(0), len(bad_at)))
    lines_out = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        buf: list[str] = []
        for pos, (k, i, v) in enumerate(zip(kind[order].tolist(), index[order].tolist(), variant[order].tolist())):
            if k == K_DEPLOY:
                line = w.deployment(i, region=2 if v == 1 else 0, staging=v == 2)
            elif k == K_CHANGE:
                line = w.change(i)
            elif k == K_ROLLBACK:
                line = w.rollback(i)
            elif k == K_INC_START:
                line = w.incident_start(i)
            else:
                line = w.incident_end(i)
            if pos % CHECK_EVERY == 0 or w.checked.get((k, v), 0) < 20:
                ref = {
                    K_DEPLOY: lambda: w.deployment_ref(i, region=2 if v == 1 else 0, staging=v == 2),
                    K_CHANGE: lambda: w.change_ref(i),
                    K_ROLLBACK: lambda: w.rollback_ref(i),
                    K_INC_START: lambda: w.incident_start_ref(i),
                    K_INC_END: lambda: w.incident_end_ref(i),
                }[k]()
                w.check((k, v), line, ref)
            buf.append(line)
            if pos in dup_set:  # the same line again a little later (an overlapping retry)
                pending_dups.append(line)
            if pos in bad_set:
                buf.append(next(bad_iter))
            if pending_dups and pos % 997 == 0:
                buf.extend(pending_dups)
                pending_dups.clear()
            if len(buf) >= 100_000:
                lines_out += len(buf)
                fh.write("\n".join(buf) + "\n")
                buf.clear()
        buf.extend(pending_dups)
        lines_out += len(buf)
        if buf:
            fh.write("\n".join(buf) + "\n")
    return {
        "lines": lines_out,
        "events": n_events,
        "production_deployments": dep["n"],
        "deployment_events": int(dep["n"] + dep["second_event"].sum()),
        "staging_deployments": int(dep["staging"].sum()),
        "deployments_with_change_list": int(dep["explicit"].sum()),
        "unplanned_deployments": int((dep["unplanned"] == 2).sum()),
        "changes_merged": chg["n"],
        "incidents": inc["n"],
        "incidents_resolved": int(inc["resolved"].sum()),
        "incidents_caused_by_deployment": int((inc["link"] == 1).sum()),
        "incidents_caused_by_commit": int((inc["link"] == 2).sum()),
        "incidents_cloudevent_wrapped": int(inc["wrapped"].sum()),
        "rollbacks": rb["n"],
        "rollbacks_naming_target": int(rb["named"].sum()),
        "repeated_lines": len(dups),
        "malformed_lines": len(bad_at),
        "services": len(p["services"]),
        "repositories": len(set(p["repos"])),
        "first_deployment_at": w.dep_ts[int(np.argmin(dep["t"]))] if dep["n"] else None,
        "last_deployment_at": w.dep_ts[int(np.argmax(dep["t"]))] if dep["n"] else None,
        "lines_checked_against_builders": sum(w.checked.values()),
    }


def build_warehouse(log: Path, db: Path) -> dict:
    """Load the log into a fresh warehouse through the real ingest job, for other benches to reuse."""
    from dora.jobs import run_eventlog_ingest
    from ingest.warehouse import open_warehouse, snapshot_path
    from metrics.build import MetricSettings

    tmp = db.with_name(db.stem + ".building.duckdb")
    for f in (tmp, Path(f"{tmp}.wal"), snapshot_path(tmp)):
        f.unlink(missing_ok=True)
    started = time.perf_counter()
    con = open_warehouse(tmp)
    run = run_eventlog_ingest(con, tmp, [str(log)], MetricSettings())
    con.close()
    snapshot_path(tmp).unlink(missing_ok=True)
    os.replace(tmp, db)
    snapshot_path(db).unlink(missing_ok=True)  # stale: readers of bench.duckdb open it directly
    c = run.counts
    return {"seconds": round(time.perf_counter() - started, 1), "records": c.records, "loaded": c.loaded,
            "duplicates": c.duplicates, "rejected": c.rejected}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "events.jsonl"
    started = time.perf_counter()
    p = plan(args)
    shape = write_log(p, log)
    shape.update(scale=args.scale, seed=args.seed, bytes=log.stat().st_size, file=str(log.relative_to(ROOT))
                 if log.is_relative_to(ROOT) else str(log))
    manifest = args.out / "dataset.json"
    manifest.write_text(json.dumps(shape, indent=2) + "\n")
    print(f"wrote {log} ({shape['bytes'] / 1e9:.2f} GB, {shape['lines']:,} lines) in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    if not args.no_warehouse:
        built = build_warehouse(log, args.out / "bench.duckdb")
        print(f"built {args.out / 'bench.duckdb'} in {built['seconds']} s: {built}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
