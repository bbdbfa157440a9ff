#!/usr/bin/python3
"""Presigned URLs from botocore (Debian's python3-botocore) at a fixed time, for comparing
with our signer. Reads JSON cases on stdin, prints one URL per case.
Each case: {method, url, region, expires, access_key, secret_key, headers:{...}, time:"YYYYmmddTHHMMSSZ"}
"""
import datetime
import json
import sys
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials


def presign(case):
    creds = botocore.credentials.Credentials(case["access_key"], case["secret_key"])
    auth = botocore.auth.S3SigV4QueryAuth(creds, "s3", case["region"], expires=case["expires"])
    request = botocore.awsrequest.AWSRequest(method=case["method"], url=case["url"],
                                             headers=case.get("headers", {}))
    fixed = datetime.datetime.strptime(case["time"], "%Y%m%dT%H%M%SZ")
    # botocore stamps the request with utcnow(); pin it so both sides sign the same instant.
    if hasattr(botocore.auth, "get_current_datetime"):  # newer botocore
        with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
            auth.add_auth(request)
    else:
        with mock.patch("botocore.auth.datetime") as dt:
            dt.datetime.utcnow.return_value = fixed
            auth.add_auth(request)
    return request.prepare().url


for case in json.load(sys.stdin):
    print(presign(case))
