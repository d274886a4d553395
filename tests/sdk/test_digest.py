"""Pure Digest functions against RFC 7616's vectors and httpbin's independent server code."""

from __future__ import annotations

import hashlib
import urllib.request

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookwire._digest import (
    SUPPORTED_ALGORITHMS,
    DigestChallenge,
    build_authorization,
    digest_hash,
    parse_challenge,
)
from hookwire.errors import AuthenticationError, DigestChallengeError

# RFC 7616 section 3.9.1 (the opaque is the RFC's; it does not enter the hash).
NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"  # pragma: allowlist secret
OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"  # pragma: allowlist secret
CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"  # pragma: allowlist secret
RFC_CHALLENGES = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
    f'nonce="{NONCE}", opaque="{OPAQUE}", '
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
    f'nonce="{NONCE}", opaque="{OPAQUE}"'
)
RFC_REQUEST = {
    "username": "Mufasa",
    "password": "Circle of Life",
    "method": "GET",
    "uri": "/dir/index.html",
    "nc": 1,
    "cnonce": CNONCE,
}


def rfc_authorization(algorithm: str, response: str) -> str:
    """The Authorization value printed in RFC 7616 section 3.9.1, on one line."""
    return (
        'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", '
        f'algorithm={algorithm}, nonce="{NONCE}", nc=00000001, cnonce="{CNONCE}", qop=auth, '
        f'response="{response}", opaque="{OPAQUE}"'
    )


def params(authorization: str) -> dict[str, str]:
    """Parse an Authorization value with the stdlib's own list parser (not ours)."""
    scheme, _, rest = authorization.partition(" ")
    assert scheme == "Digest"
    return urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))


# -- RFC 7616 vectors -------------------------------------------------------------------------


def test_rfc7616_sha256_vector_and_strongest_choice() -> None:
    challenge = parse_challenge(RFC_CHALLENGES)
    assert challenge.algorithm == "SHA-256"  # the stronger of the two offered
    assert challenge.qop == ("auth", "auth-int") and challenge.opaque == OPAQUE
    # pragma: allowlist nextline secret
    expected = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    assert build_authorization(challenge, **RFC_REQUEST) == rfc_authorization("SHA-256", expected)


def test_rfc7616_md5_vector() -> None:
    md5_only = RFC_CHALLENGES.split(", Digest ")[1]
    challenge = parse_challenge("Digest " + md5_only)
    assert challenge.algorithm == "MD5"
    expected = "8ca523f5e9506fed4657c9700eebdbec"  # pragma: allowlist secret
    assert build_authorization(challenge, **RFC_REQUEST) == rfc_authorization("MD5", expected)


def test_strongest_wins_whatever_the_order() -> None:
    md5_first = RFC_CHALLENGES.split(", Digest ")
    reordered = "Digest " + md5_first[1] + ", " + md5_first[0]
    assert parse_challenge(reordered).algorithm == "SHA-256"


def test_rfc7616_userhash_and_username_star() -> None:
    # Section 3.9.2's challenge. Its printed hashes are known to be wrong (RFC errata), so the
    # values are checked against the definitions in sections 3.4.4 and 3.4.1 instead.
    challenge = parse_challenge(
        'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, '
        'nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", '  # pragma: allowlist secret
        # pragma: allowlist nextline secret
        'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true'
    )
    assert challenge.userhash and challenge.charset == "UTF-8"
    request = {
        "username": "Jäsøn Doe",
        "password": "Secret, or not?",
        "method": "GET",
        "uri": "/doe.json",
        "nc": 1,
        "cnonce": "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",  # pragma: allowlist secret
    }

    def sha512_256(text: str) -> str:
        return hashlib.new("sha512_256", text.encode()).hexdigest()

    hashed = params(build_authorization(challenge, **request))
    assert hashed["username"] == sha512_256("Jäsøn Doe:api@example.org")
    assert hashed["userhash"] == "true"
    ha1 = sha512_256("Jäsøn Doe:api@example.org:Secret, or not?")
    ha2 = sha512_256("GET:/doe.json")
    assert hashed["response"] == sha512_256(
        f"{ha1}:{challenge.nonce}:00000001:{request['cnonce']}:auth:{ha2}"
    )

    plain = build_authorization(challenge._replace(userhash=False), **request)
    assert plain.startswith("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, ")
    assert params(plain)["response"] == hashed["response"]
    assert "userhash" not in plain


# -- cross-check with httpbin's server-side digest code ---------------------------------------


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512"])
@pytest.mark.parametrize("qop", ["auth", "auth-int", None])
def test_httpbin_accepts_our_answers(algorithm: str, qop: str | None) -> None:
    helpers = pytest.importorskip("httpbin.helpers")
    offered = f', qop="{qop}"' if qop else ""
    challenge = parse_challenge(
        f'Digest realm="me@kennethreitz.com", nonce="abc"{offered}, algorithm={algorithm}'
    )
    body = b'{"x": 1}'
    header = build_authorization(
        challenge,
        username="user",
        password="pa:ss",
        method="post",
        uri="/digest?a=1",
        body=body,
        nc=7,
        cnonce="c0ffee",
    )
    credentials = params(header)
    expected = helpers.response(
        credentials, "pa:ss", {"method": "POST", "uri": "/digest?a=1", "body": body}
    )
    assert credentials["response"] == expected
    assert ("nc" in credentials) == (qop is not None)
    if qop:
        assert credentials["nc"] == "00000007" and credentials["qop"] == qop


def sess_oracle(algorithm: str, qop: str, body: bytes) -> str:
    """RFC 7616 section 3.4.2/3.4.3 spelt out with hashlib directly."""
    name = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256", "SHA-512": "sha512"}[
        algorithm
    ]

    def h(data: bytes) -> str:
        return hashlib.new(name, data).hexdigest()

    ha1 = h(h(b"u:r:p").encode() + b":n0:cn")
    a2 = b"PUT:/x" + (b":" + h(body).encode() if qop == "auth-int" else b"")
    return h(f"{ha1}:n0:00000002:cn:{qop}:{h(a2)}".encode())


@pytest.mark.parametrize("algorithm", SUPPORTED_ALGORITHMS)
@pytest.mark.parametrize("qop", ["auth", "auth-int"])
def test_session_variants(algorithm: str, qop: str) -> None:
    challenge = parse_challenge(
        f'Digest realm="r", nonce="n0", qop="{qop}", algorithm={algorithm}-sess'
    )
    assert challenge.is_session and challenge.base_algorithm == algorithm
    header = build_authorization(
        challenge,
        username="u",
        password="p",
        method="PUT",
        uri="/x",
        body=b"payload",
        nc=2,
        cnonce="cn",
    )
    assert params(header)["response"] == sess_oracle(algorithm, qop, b"payload")
    assert f"algorithm={algorithm}-sess" in header


def test_sha512_256_is_not_truncated_sha512() -> None:
    assert digest_hash("SHA-512-256", b"abc") == hashlib.new("sha512_256", b"abc").hexdigest()
    assert digest_hash("SHA-512-256", b"abc") != hashlib.sha512(b"abc").hexdigest()[:64]


def test_auth_int_body_changes_the_response() -> None:
    challenge = DigestChallenge(realm="r", nonce="n", qop=("auth-int",))
    kwargs = {
        "username": "u",
        "password": "p",
        "method": "POST",
        "uri": "/",
        "nc": 1,
        "cnonce": "c",
    }
    one = params(build_authorization(challenge, body=b"one", **kwargs))["response"]
    two = params(build_authorization(challenge, body=b"two", **kwargs))["response"]
    empty = params(build_authorization(challenge, body=None, **kwargs))["response"]
    assert len({one, two, empty}) == 3
    assert empty == params(build_authorization(challenge, body=b"", **kwargs))["response"]


def test_qop_preference_and_forcing() -> None:
    challenge = DigestChallenge(realm="r", nonce="n", qop=("auth-int", "auth"))
    kwargs = {"username": "u", "password": "p", "method": "GET", "uri": "/", "nc": 1, "cnonce": "c"}
    assert params(build_authorization(challenge, **kwargs))["qop"] == "auth"
    assert params(build_authorization(challenge, qop="auth-int", **kwargs))["qop"] == "auth-int"
    with pytest.raises(DigestChallengeError, match="auth-conf"):
        build_authorization(challenge, qop="auth-conf", **kwargs)


def test_quotes_in_values_are_escaped() -> None:
    challenge = parse_challenge(r'Digest realm="a\"b\\c", nonce="n"')
    assert challenge.realm == 'a"b\\c'
    header = build_authorization(
        challenge, username='we"ird', password="p", method="GET", uri="/", nc=1, cnonce="c"
    )
    assert r'realm="a\"b\\c"' in header and r'username="we\"ird"' in header


@pytest.mark.parametrize(("nc", "cnonce"), [(0, "c"), (2**32, "c"), (1, ""), (1, 'a"b')])
def test_bad_nc_or_cnonce_is_rejected(nc: int, cnonce: str) -> None:
    challenge = DigestChallenge(realm="r", nonce="n", qop=("auth",))
    with pytest.raises(ValueError):
        build_authorization(
            challenge, username="u", password="p", method="GET", uri="/", nc=nc, cnonce=cnonce
        )


# -- parsing ----------------------------------------------------------------------------------


def test_parse_all_fields_among_other_schemes() -> None:
    challenge = parse_challenge(
        'Basic realm="x", Bearer, Digest realm="r", nonce=n1, qop="auth", stale=TRUE, '
        'opaque="o", domain="/a https://h/b", userhash=false, charset=UTF-8, Negotiate abc=='
    )
    assert challenge == DigestChallenge(
        realm="r",
        nonce="n1",
        qop=("auth",),
        algorithm="MD5",
        opaque="o",
        stale=True,
        userhash=False,
        charset="UTF-8",
        domain=("/a", "https://h/b"),
    )


def test_unknown_algorithm_falls_back_to_the_next_supported() -> None:
    header = (
        'Digest realm="r", nonce="n", algorithm=SHA3-256, '
        'Digest realm="r", nonce="n", algorithm=MD5'
    )
    assert parse_challenge(header).algorithm == "MD5"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('Digest realm="r", nonce="n", algorithm=SHA3-256', "'SHA3-256' is not supported"),
        ('Digest realm="r"', "no nonce"),
        ('Digest nonce="n"', "no realm"),
        ('Digest realm="r", nonce="n", qop="auth-conf"', "qop"),
        ('Basic realm="x", Bearer', "schemes: Basic, Bearer"),
        ("", "schemes: none"),
        ('Digest realm="r\nX-Evil: 1", nonce="n"', "CR, LF"),
    ],
)
def test_unanswerable_challenges_raise_a_typed_error(header: str, message: str) -> None:
    with pytest.raises(DigestChallengeError, match=message) as info:
        parse_challenge(header)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AuthenticationError)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.lists(
            st.sampled_from(
                [
                    "Digest",
                    " ",
                    ",",
                    "=",
                    '"',
                    "\\",
                    "realm",
                    "nonce",
                    "qop",
                    "algorithm",
                    "MD5",
                    "SHA-256-sess",
                    "auth",
                    "stale",
                    "true",
                    "x",
                    "\n",
                    "Basic",
                    "é",
                ]
            ),
            max_size=30,
        ).map("".join),
    )
)
def test_parse_challenge_only_ever_raises_its_typed_error(header: str) -> None:
    try:
        challenge = parse_challenge(header)
    except DigestChallengeError:
        return
    # Whatever parsed can be answered.
    build_authorization(
        challenge, username="u", password="p", method="GET", uri="/", nc=1, cnonce="c"
    )
