"""Planted credentials for the SC tests, and the check that none of them comes back in a finding."""

from __future__ import annotations

from stockade.model.finding import Finding

# Planted credentials. All are fake: documented example keys or random strings made for this test.
AWS_KEY = "AKIAZ7Q3EXAMPLE4KXW2"
GITHUB = "ghp_" + "x7Kq2Lm9Nb4Vc8Zt1Rw5Ys3Pd6Hf0Jg2Ae4U"
SLACK = "xoxb-1234567890-abcdefghijkl"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxkq\n-----END RSA PRIVATE KEY-----\n"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLW5vdC1yZWFs"
RANDOM = "q8Zr2Xk9Lw4Vb7Nm1Pt6Yc3Hd5Jf0Gs"
PASSWORD = "Tr0ub4dor&3-horse"
URL_PASSWORD = "postgres://app:Hx92-kLq7@db.shop:5432/app"
PLANTED = {
    "AWS_KEY": AWS_KEY,
    "GITHUB": GITHUB,
    "SLACK": SLACK,
    "PEM": PEM,
    "JWT": JWT,
    "RANDOM": RANDOM,
    "PASSWORD": PASSWORD,
    "URL": URL_PASSWORD,
}
# Fragments of the planted values that must not leak either (a truncated secret is still a leak).
FRAGMENTS = ("Z7Q3EXAMPLE", "x7Kq2Lm9", "abcdefghijkl", "MIIEowIBAAKCAQEAxkq", "c2lnbmF0dXJl", "q8Zr2Xk9", "Tr0ub4dor",
             "Hx92-kLq7")  # fmt: skip


def assert_no_leak(findings: list[Finding]) -> None:
    for finding in findings:
        text = " ".join((finding.message, finding.remediation, finding.path, finding.fingerprint))
        for value in (*PLANTED.values(), *FRAGMENTS):
            assert value not in text, (value, finding)
