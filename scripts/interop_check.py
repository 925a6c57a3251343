"""Helpers of scripts/interop: read objects back from moto's S3 and Azurite with
independent clients (boto3, plain HTTP with a SAS), and compare what the export
programs stored with a run into a local folder.

  interop_check.py s3-get-tree BUCKET PREFIX DIR      # every object under PREFIX into DIR
  interop_check.py s3-wait BUCKET KEY SECONDS          # until KEY exists
  interop_check.py s3-keys BUCKET PREFIX               # the keys under PREFIX, one a line
  interop_check.py azure-get-tree URL PREFIX DIR SAS   # URL: http://host/account/container
  interop_check.py check-days REFERENCE DIR            # same days, same bytes, manifests agree
  interop_check.py check-parquet DIR                   # each day's .parquet read by pyarrow
  interop_check.py s3-put BUCKET KEY TEXT              # overwrite an object (tampering)
  interop_check.py azure-put URL NAME TEXT SAS         # overwrite a blob (tampering)
"""
import hashlib
import json
import os
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

S3_ENDPOINT = "http://127.0.0.1:5000"


def s3():
    import boto3

    return boto3.client("s3", endpoint_url=S3_ENDPOINT, region_name=os.environ.get("AWS_REGION", "us-east-1"))


def s3_keys(bucket, prefix):
    keys = []
    for page in s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def write(folder, relative, body):
    path = os.path.join(folder, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(body)


def s3_get_tree(bucket, prefix, folder):
    client = s3()
    for key in s3_keys(bucket, prefix):
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        write(folder, key[len(prefix):].lstrip("/"), body)


def s3_wait(bucket, key, seconds):
    client = s3()
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        try:
            client.head_object(Bucket=bucket, Key=key)
            return
        except client.exceptions.ClientError:
            time.sleep(0.02)
    sys.exit(f"interop: {key} did not appear within {seconds} s")


def azure_get_tree(url, prefix, folder, sas):
    query = f"restype=container&comp=list&prefix={urllib.parse.quote(prefix)}&{sas}"
    listing = ET.fromstring(urllib.request.urlopen(f"{url}?{query}").read())
    for name in [blob.findtext("Name") for blob in listing.iter("Blob")]:
        body = urllib.request.urlopen(f"{url}/{urllib.parse.quote(name)}?{sas}").read()
        write(folder, name[len(prefix):].lstrip("/"), body)


def files(folder):
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = open(path, "rb").read()
    return found


def check_days(reference, folder):
    expected, got = files(reference), files(folder)
    expected.pop("demo-plan.json", None)
    if sorted(expected) != sorted(got):
        sys.exit(f"interop: other objects than the reference's: {sorted(set(expected) ^ set(got))}")
    days = [name for name in got if not name.endswith(".manifest.json")]
    for name in days:
        if got[name] != expected[name]:
            sys.exit(f"interop: {name} differs from the reference run's")
        manifest = json.loads(got[name + ".manifest.json"])
        if manifest["sha256"] != hashlib.sha256(got[name]).hexdigest() or manifest["revision"] != 1:
            sys.exit(f"interop: the manifest of {name} does not describe it")
    print(f"{len(days)} days, each byte for byte the reference's, each with its manifest")


def parse_time_ns(text):
    from datetime import datetime

    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (int(moment.timestamp()) * 1_000_000 + moment.microsecond) * 1000


def stored_records(name, body):
    """The (timestamp ns, signal id, value text) of a stored day, parsed independently."""
    if name.endswith(".ndjson"):
        records = [json.loads(line, parse_float=str, parse_int=str) for line in body.splitlines() if line.strip()]
    elif name.endswith(".json"):
        document = json.loads(body, parse_float=str, parse_int=str)
        records = document["values"] if isinstance(document, dict) else document
    else:
        return None
    return [(parse_time_ns(r["timestamp"]), r["signalId"], r["value"]) for r in records]


def check_parquet(folder):
    import pyarrow.parquet as pq

    checked = 0
    for name, body in sorted(files(folder).items()):
        if not name.endswith(".parquet"):
            continue
        stored_name = name[: -len(".parquet")]
        table = pq.read_table(os.path.join(folder, name))
        schema = table.schema
        if str(schema.field("timestamp").type) != "timestamp[ns, tz=UTC]":
            sys.exit(f"interop: {name}: timestamp is {schema.field('timestamp').type}")
        if not str(schema.field("signal_id").type).startswith("dictionary<values=string"):
            sys.exit(f"interop: {name}: signal_id is {schema.field('signal_id').type}")
        rows = table.to_pylist()
        stored = stored_records(stored_name, open(os.path.join(folder, stored_name), "rb").read())
        if stored is None:
            # CSV: a value per non-empty signal cell.
            lines = open(os.path.join(folder, stored_name), encoding="utf-8").read().splitlines()[1:]
            cells = sum(1 for line in lines for cell in line.split(";")[1:] if cell)
            if cells != len(rows):
                sys.exit(f"interop: {name}: {len(rows)} rows for {cells} values")
            checked += 1
            continue
        if len(stored) != len(rows):
            sys.exit(f"interop: {name}: {len(rows)} rows for {len(stored)} records")
        times = table.column("timestamp").cast("int64").to_pylist()
        for (time, signal, text), row, ns in zip(stored, rows, times):
            exact = row["value_text"] if row["value_text"] is not None else None
            if ns != time or row["signal_id"] != signal:
                sys.exit(f"interop: {name}: {row} is not {time} {signal}")
            # The value exactly: its text where f64 cannot hold it, else the f64 that the
            # text denotes.
            if exact is not None:
                if exact != text:
                    sys.exit(f"interop: {name}: value_text {exact!r} is not {text!r}")
            elif row["value"] != float(text):
                sys.exit(f"interop: {name}: value {row['value']!r} is not {text}")
        checked += 1
    if checked == 0:
        sys.exit("interop: no Parquet file to check")
    print(f"{checked} Parquet files read by pyarrow, every value exact")


def s3_put(bucket, key, text):
    s3().put_object(Bucket=bucket, Key=key, Body=text.encode())


def azure_put(url, name, text, sas):
    request = urllib.request.Request(
        f"{url}/{urllib.parse.quote(name)}?{sas}",
        data=text.encode(),
        method="PUT",
        headers={"x-ms-blob-type": "BlockBlob"},
    )
    urllib.request.urlopen(request).read()


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "s3-get-tree":
        s3_get_tree(*args)
    elif command == "s3-wait":
        s3_wait(*args)
    elif command == "s3-keys":
        print("\n".join(s3_keys(*args)))
    elif command == "azure-get-tree":
        azure_get_tree(*args)
    elif command == "check-days":
        check_days(*args)
    elif command == "check-parquet":
        check_parquet(*args)
    elif command == "s3-put":
        s3_put(*args)
    elif command == "azure-put":
        azure_put(*args)
    else:
        sys.exit(f"interop_check.py: unknown command {command}")
