#!/usr/bin/env python3
"""The Python peer of the Preventos typed stream: the document's recipe ("Client secret
example in Python": requests.get(url, headers=..., params=..., stream=True)) reading an
NDJSON values response with requests and json.loads per line, counting the records.

    bench_peer.py PATH [NAME=VALUE ...]

PATH is the values path relative to DATA_API_BASE_URL (for instance
environments/1/sites/bench/signals/Fast/values) and each NAME=VALUE a query parameter
(format=ndjson, from=..., to=...). The variables are the document's (DATA_API_BASE_URL,
DATA_API_TENANT_ID, DATA_API_SCOPE, DATA_API_CLIENT_ID, DATA_API_CLIENT_SECRET,
DATA_API_SUBSCRIPTION_KEY) and DATA_API_AUTHORITY where set (the sandbox sets it; the
token endpoint is {authority}oauth2/v2.0/token, as for the Rust client). The token is
taken with a plain client-credentials POST (what MSAL sends); only the values request is
timed: from sending it to the last line decoded.

Prints one JSON object on standard output: {"records", "bytes", "seconds"}.
scripts/bench installs requests into target/bench-peer/venv and the stream benchmark
(preventos-client/benches/stream.rs, case `python`) runs this with that interpreter.
"""

import json
import os
import sys
import time

import requests

# The chunk size of the document's recipe (iter_content(chunk_size=1024 * 1024)); the
# default of iter_lines (512 bytes) would make the peer several times slower.
CHUNK_SIZE = 1024 * 1024


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = argv[1]
    params = dict(arg.split("=", 1) for arg in argv[2:])

    tenant_id = os.environ["DATA_API_TENANT_ID"]
    base_url = os.environ["DATA_API_BASE_URL"]
    scope = os.environ["DATA_API_SCOPE"]
    client_id = os.environ["DATA_API_CLIENT_ID"]
    client_secret = os.environ["DATA_API_CLIENT_SECRET"]
    subscription_key = os.environ["DATA_API_SUBSCRIPTION_KEY"]
    authority = os.environ.get("DATA_API_AUTHORITY") or f"https://{tenant_id}.ciamlogin.com/{tenant_id}/"

    token = requests.post(
        f"{authority.rstrip('/')}/oauth2/v2.0/token",
        data={
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
            "grant_type": "client_credentials",
        },
        timeout=30,
    )
    token.raise_for_status()
    headers = {
        "Authorization": f"Bearer {token.json()['access_token']}",
        "Ocp-Apim-Subscription-Key": subscription_key,
        "Accept": "application/x-ndjson",
    }

    url = f"{base_url.rstrip('/')}/{path.lstrip('/')}"
    records = 0
    started = time.perf_counter()
    with requests.get(url, headers=headers, params=params, stream=True, timeout=120) as response:
        response.raise_for_status()
        for line in response.iter_lines(chunk_size=CHUNK_SIZE):
            if line:
                json.loads(line)
                records += 1
        received = response.raw.tell()
    seconds = time.perf_counter() - started
    print(json.dumps({"records": records, "bytes": received, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
