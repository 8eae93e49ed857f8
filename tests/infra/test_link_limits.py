"""The acknowledgement link's limits: its own WAF rate rule per source address, answered with a page a clinician
reads, the API's rule no longer counting link requests, and the link methods' throttle far above one address."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

from stacks.config import load
from tests.synth import Synth
from tests.unit.test_config import CONTEXT

LINK_PREFIX = "/v1/l/"  # the stage's name, then the link route (the URI path the WAF sees)


def _rules(s: Synth) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    (acl,) = s.resources("AWS::WAFv2::WebACL").values()
    return acl["Properties"], {r["Name"]: r for r in acl["Properties"]["Rules"]}


def _link_match(statement: dict[str, Any]) -> bool:
    match = statement.get("ByteMatchStatement") or {}
    return (
        match.get("FieldToMatch") == {"UriPath": {}}
        and match.get("PositionalConstraint") == "STARTS_WITH"
        and match.get("SearchString") == LINK_PREFIX
    )


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_each_address_has_its_own_link_rate_and_over_it_gets_a_429_page(dev: Synth, prod: Synth) -> None:
    for s, env in ((dev, "dev"), (prod, "prod")):
        # Given the WAF's rules and the configured link rate per address
        acl, rules = _rules(s)
        limit = load(CONTEXT, {"env": env}).waf_link_rate_limit_per_min
        # Then a rule counts each address's requests to the link route alone, over a minute
        rule = rules["LinkRatePerIp"]
        rate = rule["Statement"]["RateBasedStatement"]
        assert (rate["AggregateKeyType"], rate["Limit"], rate["EvaluationWindowSec"]) == ("IP", limit, 60)
        assert _link_match(rate["ScopeDownStatement"])
        # And over it the clinician gets 429 with Retry-After and a page, not JSON
        answer = rule["Action"]["Block"]["CustomResponse"]
        headers = {h["Name"]: h["Value"] for h in answer["ResponseHeaders"]}
        assert answer["ResponseCode"] == 429 and headers["Retry-After"] == "60"
        assert headers["Cache-Control"] == "no-store" and "default-src 'none'" in headers["Content-Security-Policy"]
        body = acl["CustomResponseBodies"][answer["CustomResponseBodyKey"]]
        assert body["ContentType"] == "TEXT_HTML" and len(body["Content"].encode()) <= 4096  # WAF's limit
        page = _Text()
        page.feed(body["Content"])
        words = " ".join(page.text)
        assert {"html", "title", "h1", "p"} <= set(page.tags) and "script" not in page.tags
        assert "Too many requests" in words and "Wait a minute" in words


def test_the_apis_rate_rule_no_longer_counts_link_requests(dev: Synth) -> None:
    # Given the API's rate rule per address
    _, rules = _rules(dev)
    rate = rules["RatePerIp"]["Statement"]["RateBasedStatement"]
    # Then it counts every request but the link route's: a hospital's systems calling the API from its address do
    # not block a clinician's click from behind it, nor do link floods block the API
    assert _link_match(rate["ScopeDownStatement"]["NotStatement"]["Statement"])
    assert rate["EvaluationWindowSec"] == 300
    # And the link's rule is its own, apart from the API's in Clarion's JSON format
    api_body = rules["RatePerIp"]["Action"]["Block"]["CustomResponse"]["CustomResponseBodyKey"]
    link_body = rules["LinkRatePerIp"]["Action"]["Block"]["CustomResponse"]["CustomResponseBodyKey"]
    assert api_body != link_body


def test_the_link_methods_throttle_is_far_above_what_one_address_may_send(dev: Synth, prod: Synth) -> None:
    for s, env in ((dev, "dev"), (prod, "prod")):
        # Given the link methods' throttle and the WAF's link rate per address
        (stage,) = s.resources("AWS::ApiGateway::Stage").values()
        by_path = {(m["ResourcePath"], m["HttpMethod"]): m for m in stage["Properties"]["MethodSettings"]}
        per_address_per_s = load(CONTEXT, {"env": env}).waf_link_rate_limit_per_min / 60
        for method in ("GET", "POST"):
            link = by_path[("/~1l~1{token}", method)]
            # Then random tokens from one address, or a few dozen, cannot spend the bucket every clinician shares
            assert link["ThrottlingRateLimit"] >= 50 * per_address_per_s
            assert link["ThrottlingBurstLimit"] >= 2 * link["ThrottlingRateLimit"]


def test_the_link_rule_matches_the_routes_the_api_serves(dev: Synth) -> None:
    # Given the API's resources: the link route is /l/{token} on the stage the WAF prefix names
    resources = {r["Properties"].get("PathPart") for r in dev.resources("AWS::ApiGateway::Resource").values()}
    (stage,) = dev.resources("AWS::ApiGateway::Stage").values()
    assert {"l", "{token}"} <= resources
    assert f"/{stage['Properties']['StageName']}/l/" == LINK_PREFIX
    assert json.dumps(_rules(dev)[1]["LinkRatePerIp"]).count(LINK_PREFIX) == 1
