#!/usr/bin/env python3
"""The raw-transfer peer of `quiver-bench hub`: 4 threads fetching the same manifests and blobs a pull fetches,
each thread over one keep-alive HTTP connection, each answer written to a file. Python's standard library only.

    fetch_peer.py --list FILE --out DIR [--threads 4]

    --list  one URL path per line (`/v2/…/manifests/…` or `/v2/…/blobs/…`), after a first line with the
            server's base URL (`http://127.0.0.1:PORT`)
    --out   a folder for the fetched bytes (one file per line of the list)

Prints one JSON line: {"seconds": S, "bytes": B, "requests": N}. Fails (exit 1) on any answer but 200.
"""

import argparse
import http.client
import json
import os
import threading
import time
import urllib.parse

MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"


def fetch_all(base, paths, out, threads):
    host = urllib.parse.urlsplit(base)
    lock = threading.Lock()
    state = {"next": 0, "bytes": 0, "error": None}

    def worker():
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
        while True:
            with lock:
                index = state["next"]
                if index >= len(paths) or state["error"]:
                    break
                state["next"] += 1
            path = paths[index]
            headers = {"Accept": MANIFEST_TYPES} if "/manifests/" in path else {}
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                with lock:
                    state["error"] = f"GET {path}: {response.status}"
                break
            with open(os.path.join(out, str(index)), "wb") as file:
                file.write(body)
            with lock:
                state["bytes"] += len(body)
        connection.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for worker_thread in workers:
        worker_thread.start()
    for worker_thread in workers:
        worker_thread.join()
    if state["error"]:
        raise SystemExit(state["error"])
    return state["bytes"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=4)
    arguments = parser.parse_args()
    with open(arguments.list) as file:
        lines = [line.strip() for line in file if line.strip()]
    base, paths = lines[0], lines[1:]
    os.makedirs(arguments.out, exist_ok=True)
    start = time.monotonic()
    total = fetch_all(base, paths, arguments.out, arguments.threads)
    print(json.dumps({"seconds": time.monotonic() - start, "bytes": total, "requests": len(paths)}))


if __name__ == "__main__":
    main()
