"""The OpenAPI description the worker serves, checked by schemathesis against the running
worker: generated requests to every operation get no 5xx, and every answer's status, media
type, headers and body are the ones described."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from smm_pulse.web.auth import sha256_hex

pytestmark = pytest.mark.integration

CONFIG = f"""
brands: {{acme: {{}}}}
ingest_http:
  collectors: {{tests: {{token_sha256: {sha256_hex("collector-token")}}}}}
webhooks:
  vk: {{shop: {{brand: acme, group_id: 1, confirmation: c0nf1rm, secret: s3cr3t}}}}
  telegram: {{news: {{brand: acme, channel_id: -100, secret_token: tg-secret}}}}
"""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = 8  # per operation: about a hundred requests, some seconds in all


def test_every_operation_answers_as_described_and_never_5xx(service):
    base = f"http://127.0.0.1:{service.port}"
    served = requests.get(f"{base}/api/openapi.json", timeout=10)
    assert served.status_code == 200
    schema = schemathesis.openapi.from_dict(served.json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def answers_as_described(case: schemathesis.Case) -> None:
            # Sent with requests itself: schemathesis's transport counts pooled connections
            # in a way urllib3-future's pools do not support.
            kwargs = case.as_transport_kwargs(base_url=base)
            response = requests.request(**kwargs, timeout=10, allow_redirects=False)
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

        answers_as_described()
