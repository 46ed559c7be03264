"""CEL as Kubernetes policies use it: the package's language plus the Kubernetes libraries
Stockade adds, evaluation errors, and the cost bound."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.policies.cel import COST_LIMIT, CelEnvironment, CelEvaluationError
from stockade.policies.model import PolicyDefinitionError

ENV = CelEnvironment(("object", "oldObject", "params"))


def run(expression: str, **activation: Any) -> Any:
    return ENV.run(ENV.compile(expression, "test"), activation)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # regex
        ("'abc 123 def 456'.find('[0-9]+')", "123"),
        ("'abc'.find('[0-9]+')", ""),
        ("'abc 123 def 456'.findAll('[0-9]+')", ["123", "456"]),
        ("'abc 123 def 456'.findAll('[0-9]+', 1)", ["123"]),
        ("'registry.example.com/app'.matches('^registry\\\\.example\\\\.com/')", True),
        # lists
        ("[1, 2, 3].isSorted()", True),
        ("['b', 'a'].isSorted()", False),
        ("[1, 2, 3].sum()", 6),
        ("[3, 1, 2].min()", 1),
        ("[1, 2, 3, 2].indexOf(2)", 1),
        ("[1, 2, 3, 2].lastIndexOf(2)", 3),
        ("[1, 2].indexOf(9)", -1),
        # strings
        ("'hello %s, %d items, %.2f'.format(['you', 3, 1.5])", "hello you, 3 items, 1.50"),
        ("'%x and %o and %b'.format([255, 8, 5])", "ff and 10 and 101"),
        ("'100%% %s'.format([true])", "100% true"),
        ("'Hello'.lowerAscii()", "hello"),
        ("'a,b,c'.split(',')", ["a", "b", "c"]),
        ("'  x '.trim()", "x"),
        ("'abcabc'.indexOf('c')", 2),
        ("'abcabc'.lastIndexOf('c')", 5),
        # quantity
        ("quantity('1Gi').isGreaterThan(quantity('1000Mi'))", True),
        ("quantity('500m').isLessThan(quantity('1'))", True),
        ("quantity('1').compareTo(quantity('1000m'))", 0),
        ("quantity('1.5').add(quantity('500m')).asInteger()", 2),
        ("quantity('2Ki').sub(2048).sign()", 0),
        ("quantity('1Mi').asApproximateFloat()", 1048576.0),
        ("quantity('1.5').isInteger()", False),
        ("isQuantity('12Gi')", True),
        ("isQuantity('twelve')", False),
        # semver
        ("semver('1.2.3').isLessThan(semver('1.10.0'))", True),
        ("semver('1.0.0-rc.1').isLessThan(semver('1.0.0'))", True),
        ("semver('2.3.4').major()", 2),
        ("semver('2.3.4').patch()", 4),
        ("isSemver('v1.2')", False),
        # URL
        ("url('https://user@example.com:8443/a/b?x=1&x=2').getScheme()", "https"),
        ("url('https://user@example.com:8443/a/b?x=1&x=2').getHost()", "example.com:8443"),
        ("url('https://example.com:8443/a/b').getHostname()", "example.com"),
        ("url('https://example.com:8443/a/b').getPort()", "8443"),
        ("url('https://example.com/a/b').getEscapedPath()", "/a/b"),
        ("url('https://example.com/?x=1&x=2&y=').getQuery()", {"x": ["1", "2"], "y": [""]}),
        ("isURL('not a url')", False),
        ("isURL('/absolute/path')", True),
        # IP and CIDR
        ("isIP('10.0.0.1')", True),
        ("isIP('10.0.0.256')", False),
        ("ip('::1').family()", 6),
        ("ip('127.0.0.1').isLoopback()", True),
        ("ip('10.0.0.1').isGlobalUnicast()", False),
        ("cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))", True),
        ("cidr('10.0.0.0/8').containsIP('11.0.0.1')", False),
        ("cidr('10.0.0.0/8').containsCIDR(cidr('10.1.0.0/16'))", True),
        ("cidr('10.0.0.0/8').containsCIDR('192.168.0.0/16')", False),
        ("cidr('10.1.2.3/8').prefixLength()", 8),
        ("isCIDR('10.0.0.0')", False),
        # the language itself, as policies use it
        ("has(object.metadata.labels) && 'team' in object.metadata.labels", True),
        ("object.spec.containers.all(c, c.image.startsWith('registry.example.com/'))", False),
        ("object.spec.containers.exists_one(c, c.name == 'web')", True),
        ("object.spec.containers.map(c, c.name)", ["web", "sidecar"]),
        ("oldObject == null", True),
        ("optional.of(1).hasValue()", True),
    ],
)
def test_expression(expression: str, expected: Any) -> None:
    obj = {
        "metadata": {"labels": {"team": "shop"}},
        "spec": {
            "containers": [
                {"name": "web", "image": "registry.example.com/web:1"},
                {"name": "sidecar", "image": "docker.io/proxy:2"},
            ]
        },
    }
    assert run(expression, object=obj, oldObject=None) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("object.metadata.annotations['x'] == 'y'", "no such key: annotations"),
        ("quantity('lots')", "is not a quantity"),
        ("semver('1.2').major()", "is not a semantic version"),
        ("url('not a url')", "not an absolute URL"),
        ("cidr('10.0.0.0/8').containsIP('nope')", "expected an IP address"),
        ("'%d'.format(['x'])", "needs an integer"),
        ("'x'.find('(')", "invalid regular expression"),
        ("1 + 1.0", "No such overload"),
    ],
)
def test_evaluation_errors_say_what_failed(expression: str, message: str) -> None:
    with pytest.raises(CelEvaluationError, match=message):
        run(expression, object={"metadata": {}})


def test_an_expression_that_does_not_compile_is_a_definition_error() -> None:
    with pytest.raises(PolicyDefinitionError, match="policy X: the expression does not compile"):
        ENV.compile("object.spec.containers.all(c, ", "policy X")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("object.?spec.orValue({})", "does not compile"),
        ("authorizer.group('').resource('pods').check('get').allowed()", "authorizer library"),
        ("x.all(a, x.all(b, x.all(c, x.all(d, x.all(e, x.all(f, x.all(g, x.all(h, x.all(i, true)))))))))", "cost"),
        ("'" + "a" * 6000 + "' == ''", "longer than"),
    ],
)
def test_what_is_refused_when_read(expression: str, message: str) -> None:
    with pytest.raises(PolicyDefinitionError, match=message):
        ENV.compile(expression, "policy X")


def test_the_cost_bound_refuses_nested_comprehensions_over_large_lists() -> None:
    nested = ENV.compile("object.items.all(a, object.items.all(b, object.items.exists(c, a == b || c != a)))", "t")
    small = {"items": list(range(50))}
    assert ENV.run(nested, {"object": small}) is True  # 50^3 is within the bound
    large = {"items": list(range(int(COST_LIMIT ** (1 / 3)) + 10))}
    with pytest.raises(CelEvaluationError, match="exceeds the limit"):
        ENV.run(nested, {"object": large})


def test_values_do_not_leak_between_evaluations() -> None:
    expression = ENV.compile("has(params.limit) ? params.limit : -1", "t")
    assert ENV.run(expression, {"params": {"limit": 3}}) == 3
    assert ENV.run(expression, {"params": {}}) == -1
    assert ENV.run(ENV.compile("params == null", "t"), {}) is True
