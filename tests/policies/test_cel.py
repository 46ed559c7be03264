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
        ("ip('10.0.0.1').isGlobalUnicast()", True),  # Go counts private ranges
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


# The Kubernetes libraries as https://kubernetes.io/docs/reference/using-api/cel/ documents them.
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # lists
        ("[1, 2, 3].max()", 3),
        ("[].sum()", 0),
        ("[1, 2, 2, 3].isSorted()", True),
        ("[1.0, 2.0].indexOf(2.0)", 1),
        # regex
        ("'123 abc 456'.findAll('[0-9]+', 0)", []),
        ("'abc'.findAll('x')", []),
        # quantity: values compare as values, whatever the suffix
        ("quantity('1') == quantity('1000m')", True),
        ("quantity('1Ki') == quantity('1024')", True),
        ("quantity('50M').sub(quantity('10M')) == quantity('40M')", True),
        ("quantity('50k').add(20) == quantity('50020')", True),
        ("quantity('1.5G').isGreaterThan(quantity('1Gi'))", True),
        ("quantity('200M').isLessThan(quantity('0.2G'))", False),
        ("quantity('200M').compareTo(quantity('0.2G'))", 0),
        ("quantity('-1').sign()", -1),
        ("quantity('1e3').asInteger()", 1000),
        ("quantity('0.0000000001').isGreaterThan(quantity('0'))", True),  # rounded up to 1n
        ("quantity('9999999999999999999').isInteger()", False),
        ("isQuantity('1.5Gi')", True),
        ("isQuantity('1gi')", False),
        ("isQuantity('')", False),
        # semver
        ("semver('1.2.3') == semver('1.2.3')", True),
        ("semver('1.2.3').compareTo(semver('2.0.0'))", -1),
        ("semver('1.0.0-alpha').isLessThan(semver('1.0.0-alpha.1'))", True),
        ("semver('1.0.0-alpha.2').isLessThan(semver('1.0.0-alpha.10'))", True),  # numeric identifiers
        ("semver('1.0.0-rc.1').isLessThan(semver('1.0.0-beta'))", False),
        ("semver('1.2.3').minor()", 2),
        ("isSemver('1.2.3-beta.1+build.5')", True),
        ("isSemver('01.2.3')", False),
        ("isSemver('v1.0', true)", True),
        ("semver('v1.0', true) == semver('1.0.0')", True),
        ("semver('01.01.01', true).major()", 1),
        # URL
        ("url('https://example.com:80/').getHost()", "example.com:80"),
        ("url('https://[::1]:80/').getHost()", "[::1]:80"),
        ("url('https://[::1]:80/').getHostname()", "::1"),
        ("url('https://Example.COM/').getHostname()", "Example.COM"),
        ("url('https://[::1]/').getPort()", ""),
        ("url('https://example.com/').getPort()", ""),
        ("url('/absolute-path').getScheme()", ""),
        ("url('/absolute-path').getHost()", ""),
        ("url('https://example.com/path with spaces/').getEscapedPath()", "/path%20with%20spaces/"),
        ("url('https://example.com/a%2Fb').getEscapedPath()", "/a%2Fb"),
        ("url('https://example.com/path?k1=a&k2=b&k2=c').getQuery()", {"k1": ["a"], "k2": ["b", "c"]}),
        ("url('https://example.com/').getQuery()", {}),
        ("isURL('https://example.com:80/')", True),
        ("isURL('../relative-path')", False),
        ("isURL('example.com')", False),
        ("isURL('https://example.com:port/')", False),
        ("isURL('mailto:someone@example.com')", False),
        # IP: Go's netip semantics
        ("ip('127.0.0.1') == ip('127.0.0.1')", True),
        ("ip('2001:db8:0:0::1') == ip('2001:db8::1')", True),
        ("ip('192.168.0.1').family()", 4),
        ("ip('0.0.0.0').isUnspecified()", True),
        ("ip('::').isUnspecified()", True),
        ("ip('::1').isLoopback()", True),
        ("ip('224.0.0.1').isLinkLocalMulticast()", True),
        ("ip('224.0.1.1').isLinkLocalMulticast()", False),
        ("ip('ff02::1').isLinkLocalMulticast()", True),
        ("ip('169.254.169.254').isLinkLocalUnicast()", True),
        ("ip('fe80::1').isLinkLocalUnicast()", True),
        ("ip('192.168.0.1').isGlobalUnicast()", True),
        ("ip('8.8.8.8').isGlobalUnicast()", True),
        ("ip('255.255.255.255').isGlobalUnicast()", False),
        ("ip('224.0.0.1').isGlobalUnicast()", False),
        ("ip.isCanonical('127.0.0.1')", True),
        ("ip.isCanonical('2001:db8::abcd')", True),
        ("ip.isCanonical('2001:DB8::ABCD')", False),
        ("ip.isCanonical('2001:db8:0:0::1')", False),
        ("isIP('::ffff:1.2.3.4')", False),  # IPv4-mapped IPv6 is refused
        ("isIP('fe80::1%eth0')", False),  # so is a zone
        ("isIP('127.0.0.01')", False),  # and leading zeros
        ("isIP('1.2.3.4/8')", False),
        # CIDR
        ("cidr('192.168.0.0/24') == cidr('192.168.0.0/24')", True),
        ("cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", True),
        ("cidr('192.168.0.0/24').containsIP('192.168.1.1')", False),
        ("cidr('192.168.0.0/24').containsCIDR('192.168.0.0/25')", True),
        ("cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/16'))", False),
        ("cidr('::1/128').containsIP('127.0.0.1')", False),
        ("cidr('192.168.0.1/24').ip() == ip('192.168.0.1')", True),
        ("cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')", True),
        ("cidr('2001:db8::/32').prefixLength()", 32),
        ("cidr('192.168.0.1/24') == cidr('192.168.0.0/24')", False),  # the written address counts
        ("isCIDR('192.168.0.0/255.255.255.0')", False),
        ("isCIDR('192.168.0.0/33')", False),
        ("isCIDR('192.168.0.0/08')", False),
        ("isCIDR('::ffff:1.2.3.4/128')", False),
        # strings and format
        ("'%s and %s'.format(['a', null])", "a and null"),
        ("'%s'.format([['a', 1, true, [2.5]]])", '["a", 1, true, [2.5]]'),
        ("'%s'.format([{'k': 'v'}])", '{"k": "v"}'),
        ("'%.3f'.format([2.0])", "2.000"),
        ("'%e'.format([1234.5])", "1.234500e+03"),
        ("'%X'.format(['hi'])", "6869"),
        ("'%c'.format([65])", "A"),
        ("'hello'.charAt(1)", "e"),
        ("'hello'.substring(1, 3)", "el"),
        ("'a-b-c'.replace('-', '+', 1)", "a+b-c"),
        ("'hello'.upperAscii()", "HELLO"),
        ("['a', 'b'].join('/')", "a/b"),
        ("'abc'.reverse()", "cba"),
        ("strings.quote('a\"b')", '"a\\"b"'),
        ("[3, 1, 2].sort()", [1, 2, 3]),
        ("[1, 2, 3, 4].slice(1, 3)", [2, 3]),
        ("[[1, 2], [3]].flatten()", [1, 2, 3]),
        ("[1, 1, 2].distinct()", [1, 2]),
        ("sets.contains([1, 2, 3], [2, 3])", True),
        ("sets.intersects([1, 2], [3])", False),
        ("math.greatest(1, 5, 3)", 5),
        ("base64.encode(b'hi')", "aGk="),
    ],
)
def test_kubernetes_library(expression: str, expected: Any) -> None:
    assert run(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("[].min()", "at least one argument"),
        ("quantity('1.5').asInteger()", "without losing precision"),
        ("quantity('1').add('x')", "expected a quantity"),
        ("quantity('1').compareTo(semver('1.0.0'))", "expected a quantity"),
        ("ip('::ffff:1.2.3.4')", "expected an IP address"),
        ("ip('1.2.3.4').isLoopback() || ip('x').isLoopback()", "expected an IP address"),
        ("cidr('10.0.0.0')", "expected a CIDR"),
        ("ip.isCanonical('nope')", "expected an IP address"),
        ("semver('v1.0.0')", "not a semantic version"),
        ("url('https://example.com').getScheme() == url('x').getScheme()", "not an absolute URL"),
        ("'%s %s'.format(['only one'])", "too few arguments"),
        ("('x' * 2).size()", "Unsupported operation"),
    ],
)
def test_kubernetes_library_errors(expression: str, message: str) -> None:
    # (an error on one side of && or || is absorbed when the other side decides: CEL is commutative)
    with pytest.raises(CelEvaluationError, match=message):
        run(expression)


def test_an_error_is_absorbed_by_the_side_that_decides() -> None:
    assert run("ip('x').isLoopback() && false") is False
    assert run("true || quantity('x').isInteger()") is True
