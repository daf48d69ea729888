"""Scale-out benchmark (issue 13): one `meltano run` over every event vs. one Dagster run per event.

    .venv/bin/python benchmarks/scale_out.py --events 8 --participants 5000 --latency 50 --concurrency 4

Both runs get the same data (reset and reloaded): E events of N new participants each, a share of
them also registered in another event. Sequential: `meltano run sync` over every event (the main
state id). Parallel: the code location (orchestration/dagster, its own venv) as deployed: the event
sensor adds the partitions, `dagster job backfill` queues one `sync` run per event, `dagster-daemon`
launches them through dagster.yaml's run queue (max_concurrent_runs = --concurrency, one run per
partition), each run in its own process and Meltano system directory. Both use a private PostgreSQL
as Meltano's system database. Prints both wall times, their ratio, the Salesforce calls of each and
a duplicate check; writes benchmarks/results/scale_out-<stamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
DAGSTER_DIR = PROJECT / "orchestration" / "dagster"
DAGSTER_BIN = DAGSTER_DIR / ".venv" / "bin"
sys.path.insert(0, str(DAGSTER_DIR / "tests"))

from private_postgres import private_postgres, psql  # noqa: E402
from run import SALESFORCE_API, VENV_BIN, Sandboxes, calls_matching, meltano_env  # noqa: E402

LOGIN = "POST /services/oauth2/token"
STATE_ID = "sandbox:tap-eventmaker-to-target-salesforce-campaign"
# Runs in the code location's venv: evaluate the event sensor once and add the partitions it asks for.
DISCOVER = """
from dagster import DagsterInstance, build_sensor_context
from eventmaker_sync_dagster.automation import eventmaker_events
from eventmaker_sync_dagster.resource import MeltanoProject
instance = DagsterInstance.get()
result = eventmaker_events(build_sensor_context(instance=instance, resources={"meltano": MeltanoProject()}))
for request in getattr(result, "dynamic_partitions_requests", None) or []:
    instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
print(",".join(instance.get_dynamic_partitions("eventmaker_event")))
"""
RUN_STATUSES = """
import json
from dagster import DagsterInstance
records = DagsterInstance.get().get_run_records()
print(json.dumps([{"status": r.dagster_run.status.value, "partition": r.dagster_run.tags.get("dagster/partition"),
                   "start": r.start_time, "end": r.end_time} for r in records]))
"""


def build_dataset(events: int, per_event: int, shared_share: float) -> tuple[dict, dict, list[str]]:
    """(Eventmaker payload, Salesforce records, shared emails): plain, never-synced participants only."""
    from sandbox.seed import generate

    data = generate(participants=int(events * per_event * 1.4) + 100, events=events, seed=0)
    special = {guest_id for ids in data.cases.values() for guest_id in ids}
    event_ids = [event["_id"] for event in data.eventmaker["events"]]
    chosen: dict[str, list[dict]] = {event_id: [] for event_id in event_ids}
    for guest in data.eventmaker["guests"]:
        bucket = chosen[guest["event_id"]]
        if guest["_id"] not in special and len(bucket) < per_event:
            bucket.append(guest)
    if any(len(bucket) < per_event for bucket in chosen.values()):
        raise RuntimeError("the seed gave too few plain participants per event")
    shared = int(per_event * shared_share)
    originals = chosen[event_ids[0]]
    for index, event_id in enumerate(event_ids[1:]):  # people also registered in the first event
        for slot, guest in enumerate(chosen[event_id][:shared]):
            source = originals[(index * shared + slot) % per_event]
            guest.update({name: source[name] for name in ("email", "first_name", "last_name", "company_name")})
    guests = [guest for bucket in chosen.values() for guest in bucket]
    emails = sorted({guest["email"].lower() for event_id in event_ids[1:] for guest in chosen[event_id][:shared]})
    records = {name: rows for name, rows in data.salesforce["records"].items()
               if name not in ("Contact", "Lead", "CampaignMember")}
    return {**data.eventmaker, "guests": guests}, {"records": records}, emails


def load(sandboxes: Sandboxes, eventmaker: dict, salesforce: dict, latency_ms: int) -> None:
    sandboxes.both("POST", "latency", {"ms": 0})
    sandboxes.both("POST", "reset")
    sandboxes.control("eventmaker", "POST", "load", eventmaker)
    sandboxes.control("salesforce", "POST", "load", salesforce)
    sandboxes.both("POST", "latency", {"ms": latency_ms})
    sandboxes.both("DELETE", "requests")


def duplicates(sandboxes: Sandboxes, shared_emails: list[str]) -> dict:
    """People held by several live Contacts/Leads, people twice in a campaign, shared people's memberships."""
    records = sandboxes.control("salesforce", "GET", "snapshot")["records"]
    people = [r for sobject in ("Contact", "Lead") for r in records[sobject] if r.get("Email") and not r.get("IsDeleted")]
    email_of = {r["Id"]: r["Email"].lower() for r in people}
    live = Counter(r["Email"].lower() for r in people if not r.get("IsConverted"))
    members = Counter((m["CampaignId"], email_of.get(m.get("ContactId") or m.get("LeadId")))
                      for m in records["CampaignMember"])
    campaigns_of = Counter(email for (_, email), _n in members.items())
    return {
        "people": len(live),
        "people_held_twice": sum(1 for n in live.values() if n > 1),
        "campaign_members": sum(members.values()),
        "members_twice_in_a_campaign": sum(1 for n in members.values() if n > 1),
        "shared_people": len(shared_emails),
        "shared_people_not_once": sum(1 for email in shared_emails if live[email] != 1),
        "shared_people_not_in_two_campaigns": sum(1 for email in shared_emails if campaigns_of[email] != 2),
    }


def salesforce_calls(sandboxes: Sandboxes) -> dict:
    by_endpoint = sandboxes.control("salesforce", "GET", "counters")["by_endpoint"]
    return {"api_calls": calls_matching(by_endpoint, SALESFORCE_API), "logins": by_endpoint.get(LOGIN, 0)}


def run_sequential(env: dict, log: Path, timeout_s: int) -> tuple[float, int]:
    started = time.monotonic()
    with log.open("ab") as out:
        process = subprocess.Popen([str(VENV_BIN / "meltano"), "run", "sync"], cwd=PROJECT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout_s)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    return time.monotonic() - started, code


def dagster_python(code: str, env: dict) -> str:
    result = subprocess.run([str(DAGSTER_BIN / "python"), "-c", code], cwd=DAGSTER_DIR, env=env,
                            capture_output=True, text=True, timeout=600)
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout.strip()


def finished_partitions(database_uri: str) -> int:
    """Meltano runs of per-event state ids that ended (SUCCESS or FAIL) in the system database."""
    if psql(database_uri, "SELECT to_regclass('runs') IS NULL") == [["t"]]:
        return 0
    rows = psql(database_uri, f"SELECT count(*) FROM runs WHERE job_name LIKE '{STATE_ID}:%' AND state <> 'RUNNING'")
    return int(rows[0][0])


def run_parallel(env: dict, database_uri: str, events: int, log: Path, timeout_s: int) -> tuple[float, list[dict]]:
    partitions = dagster_python(DISCOVER, env).split(",")
    if len(partitions) != events:
        raise RuntimeError(f"the sensor found {len(partitions)} events, expected {events}")
    module = ["-m", "eventmaker_sync_dagster.definitions"]
    with log.open("ab") as out:
        daemon = subprocess.Popen([str(DAGSTER_BIN / "dagster-daemon"), "run", *module], cwd=DAGSTER_DIR, env=env,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            # A deployed daemon is always up: its start-up is not part of the runs' wall time.
            while subprocess.run([str(DAGSTER_BIN / "dagster-daemon"), "liveness-check"], cwd=DAGSTER_DIR, env=env,
                                 capture_output=True, timeout=120).returncode:
                if daemon.poll() is not None:
                    raise RuntimeError("dagster-daemon exited")
                time.sleep(2)
            started = time.monotonic()
            subprocess.run([str(DAGSTER_BIN / "dagster"), "job", "backfill", *module, "-j", "sync",
                            "--partitions", ",".join(partitions), "--noprompt"],
                           cwd=DAGSTER_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, check=True, timeout=300)
            while finished_partitions(database_uri) < events:
                if time.monotonic() - started > timeout_s or daemon.poll() is not None:
                    raise RuntimeError("the parallel runs did not finish")
                time.sleep(1)
            wall = time.monotonic() - started
            runs = json.loads(dagster_python(RUN_STATUSES, env))
            while any(run["status"] in ("QUEUED", "STARTING", "STARTED") for run in runs):
                time.sleep(2)  # the Dagster runs record their end just after Meltano's
                runs = json.loads(dagster_python(RUN_STATUSES, env))
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=60)
    return wall, runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=8)
    parser.add_argument("--participants", type=int, default=5000, help="per event")
    parser.add_argument("--latency", type=int, default=50, help="ms added to every request of both stand-ins")
    parser.add_argument("--concurrency", type=int, default=4, help="Dagster runs at once (max_concurrent_runs)")
    parser.add_argument("--shared", type=float, default=0.05, help="share of each event's people also in the first")
    parser.add_argument("--timeout", type=int, default=7200)
    args = parser.parse_args()

    eventmaker, salesforce, shared = build_dataset(args.events, args.participants, args.shared)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    result = {"events": args.events, "participants_per_event": args.participants, "latency_ms": args.latency,
              "concurrency": args.concurrency, "shared_people": len(shared), "uptime_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="scale-out-") as tmp, private_postgres() as postgres, \
            Sandboxes(Path(tmp)) as sandboxes:
        work = Path(tmp)
        server = postgres.rsplit("/", 1)[0]
        for mode in ("sequential", "parallel"):
            psql(postgres, f"CREATE DATABASE {mode}")
            load(sandboxes, eventmaker, salesforce, args.latency)
            env = {**meltano_env(sandboxes, work / mode), "MELTANO_DATABASE_URI": f"{server}/{mode}",
                   "MELTANO_PROJECT_ROOT": str(PROJECT)}
            log = work / f"{mode}.log"
            print(f"{mode}: {args.events} events x {args.participants} at +{args.latency} ms ...", flush=True)
            if mode == "sequential":
                wall, code = run_sequential(env, log, args.timeout)
                outcome = {"exit_code": code}
            else:
                home = work / "dagster-home"
                home.mkdir()
                shutil.copy(DAGSTER_DIR / "dagster.yaml", home / "dagster.yaml")
                env.update({"DAGSTER_HOME": str(home), "EVENTMAKER_MAX_CONCURRENT_RUNS": str(args.concurrency)})
                wall, runs = run_parallel(env, f"{server}/{mode}", args.events, log, args.timeout)
                outcome = {"dagster_runs": Counter(run["status"] for run in runs),
                           "runs_span_s": round(max(r["end"] for r in runs) - min(r["start"] for r in runs), 1)}
            result[mode] = {"wall_s": round(wall, 1), **outcome, **salesforce_calls(sandboxes),
                            **duplicates(sandboxes, shared), "load_after": os.getloadavg()}
            print(f"  {json.dumps(result[mode])}", flush=True)
            shutil.copy(log, results_dir / f"scale_out-{stamp}-{mode}.log")
    result["ratio_sequential_to_parallel"] = round(result["sequential"]["wall_s"] / result["parallel"]["wall_s"], 2)
    print(f"sequential {result['sequential']['wall_s']} s, parallel ({args.concurrency} at once) "
          f"{result['parallel']['wall_s']} s: {result['ratio_sequential_to_parallel']}x; Salesforce API calls "
          f"{result['sequential']['api_calls']} vs {result['parallel']['api_calls']}; people held twice "
          f"{result['sequential']['people_held_twice']} vs {result['parallel']['people_held_twice']}")
    (results_dir / f"scale_out-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
