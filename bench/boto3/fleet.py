#!/usr/bin/env python3
"""Audit instances the way a boto3 script does: a thread pool sharing one
client, every page of describe_instance_associations_status, with boto3's
own retry mode ("adaptive" or "standard") and no other pacing. It is the
boto3 peer of "auditor run" in bench/limiter.sh.

    fleet.py --endpoint-url URL --mode adaptive --concurrency 16 [--max-seconds S] IDS-FILE

It prints "instances N seconds S failed F" on stdout: N the instances
audited (after --max-seconds no new one is started), S from the first call
to the last answer, F the instances that ended in an error other than
InvalidInstanceId (not managed).
"""
import argparse
import concurrent.futures
import sys
import threading
import time

import boto3
import botocore.config
import botocore.exceptions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint-url", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--mode", choices=["adaptive", "standard"], required=True)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-attempts", type=int, default=8)
    ap.add_argument("--max-seconds", type=float, default=0)
    ap.add_argument("ids")
    args = ap.parse_args()
    with open(args.ids) as f:
        ids = [line.strip() for line in f if line.strip()]
    cfg = botocore.config.Config(
        region_name=args.region,
        retries={"mode": args.mode, "max_attempts": args.max_attempts},
        max_pool_connections=args.concurrency,
    )
    client = boto3.session.Session().client("ssm", endpoint_url=args.endpoint_url, config=cfg)
    failed = 0
    started = 0
    lock = threading.Lock()

    def audit(instance_id):
        nonlocal failed
        token = None
        try:
            while True:
                kw = {"InstanceId": instance_id}
                if token:
                    kw["NextToken"] = token
                out = client.describe_instance_associations_status(**kw)
                token = out.get("NextToken")
                if not token:
                    return
        except botocore.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") == "InvalidInstanceId":
                return
            with lock:
                failed += 1
        except Exception:  # a dropped connection after every retry
            with lock:
                failed += 1

    start = time.monotonic()

    def worker():
        nonlocal started
        while True:
            with lock:
                if started >= len(ids) or (args.max_seconds and time.monotonic() - start > args.max_seconds):
                    return
                instance_id = ids[started]
                started += 1
            audit(instance_id)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for f in [pool.submit(worker) for _ in range(args.concurrency)]:
            f.result()
    print(f"instances {started} seconds {time.monotonic() - start:.3f} failed {failed}")


if __name__ == "__main__":
    sys.exit(main())
