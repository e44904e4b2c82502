"""Property-based fuzz of the OpenAPI schema (schemathesis): no 5xx, responses as documented.

Bounded for CI: 25 examples per operation. The writes run with the key, against their own copy
of the index, so whatever the fuzzer uploads cannot reach the other tests.

The schema is taken from an app built at import (cheap: an Engine loads nothing until used);
`schemathesis.pytest.from_fixture` would be the lazy way, but 4.32 reads `node._nodeid`, which
pytest 9 no longer has. The live server is checked to serve the same schema.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from api_helpers import API_KEY, api_settings, copy_index, live_server
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from ingest.embedder import Embedder
from rag.edges.api.app import create_app
from rag.engine import Engine


def schema_document(index_dir: Path) -> dict[str, Any]:
    app_settings = api_settings(index_dir, api_key=API_KEY)
    return create_app(Engine(app_settings, index_dir=index_dir), app_settings).openapi()


schema = schemathesis.openapi.from_dict(schema_document(Path("unused-index")))
# A field made longer than its maxLength can also make the body larger than RAG_MAX_BODY_BYTES:
# the 413 that answers it is as much a rejection as a 422.
negative = schema.config.checks.negative_data_rejection
negative.expected_statuses = [*negative.expected_statuses, "413"]


@pytest.fixture(scope="module")
def fuzz_url(
    bundled_index: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[str]:
    index_dir = copy_index(bundled_index, tmp_path_factory.mktemp("fuzz"))
    engine = Engine(api_settings(index_dir), index_dir=index_dir, embedder=embedder)
    app = create_app(engine, api_settings(index_dir, api_key=API_KEY))
    with live_server(app) as url:
        served = httpx.get(f"{url}/openapi.json").json()
        assert served == schema_document(Path("unused-index"))
        yield url


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case: schemathesis.Case, fuzz_url: str) -> None:
    # Rules a JSON schema cannot state, so a schema-valid request may rightly get a 4xx: an
    # upload's type is in its file name, and a chat's question is its last, user, message.
    semantic = {("POST", "/documents"), ("POST", "/v1/chat/completions")}
    excluded = [positive_data_acceptance] if (case.method, case.path) in semantic else []
    case.call_and_validate(
        base_url=fuzz_url, headers={"Authorization": f"Bearer {API_KEY}"}, excluded_checks=excluded
    )
