//! Unit tests of the parent module.

use super::*;

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn response(raw: &[u8]) -> Result<(Head, Body), ProbeError> {
    let mut wire = Wire::new(raw);
    let head = read_head(&mut wire)?;
    let body = read_body(&mut wire, head.framing)?;
    Ok((head, body))
}

#[test]
fn durations() {
    let ok = [
        ("500ms", 500),
        ("2s", 2000),
        ("1m", 60_000),
        ("60m", 3_600_000),
    ];
    for (text, ms) in ok {
        assert_eq!(
            parse_duration(text),
            Ok(Duration::from_millis(ms)),
            "{text}"
        );
    }
    for text in [
        "",
        "5",
        "0s",
        "-1s",
        "1.5s",
        "s",
        "1h",
        "61m",
        "+2s",
        "99999999999999999999m",
    ] {
        assert!(parse_duration(text).is_err(), "{text}");
    }
}

#[test]
fn statuses() {
    assert_eq!(parse_statuses("200,204"), Ok(vec![(200, 200), (204, 204)]));
    assert_eq!(parse_statuses("200-399"), Ok(vec![(200, 399)]));
    assert_eq!(
        parse_statuses("200, 300-302"),
        Ok(vec![(200, 200), (300, 302)])
    );
    for text in ["", "abc", "99", "600", "300-200", "200,", "200-"] {
        assert!(parse_statuses(text).is_err(), "{text}");
    }
}

#[test]
fn headers() {
    assert_eq!(parse_header("X-A: b c "), Ok(("X-A".into(), "b c".into())));
    assert_eq!(parse_header("X-A:"), Ok(("X-A".into(), String::new())));
    for text in ["nocolon", ": v", "X A: v", "X-A: a\r\nX-B: b", "X-A: \u{1}"] {
        assert!(parse_header(text).is_err(), "{text:?}");
    }
}

#[test]
fn targets() {
    let http = |host: &str, port, hh: &str, path: &str| Target {
        address: Address::Inet {
            host: host.into(),
            port,
        },
        http: Some(HttpTarget {
            host_header: hh.into(),
            path: path.into(),
        }),
    };
    let cases = [
        (
            "http://127.0.0.1:8000/__heartbeat__",
            http("127.0.0.1", 8000, "127.0.0.1:8000", "/__heartbeat__"),
        ),
        ("http://[::1]:8000/x", http("::1", 8000, "[::1]:8000", "/x")),
        (
            "http://localhost:8000",
            http("localhost", 8000, "localhost:8000", "/"),
        ),
        (
            "http://10.0.0.1?a=b#frag",
            http("10.0.0.1", 80, "10.0.0.1", "/?a=b"),
        ),
        ("http://[::1]/", http("::1", 80, "[::1]", "/")),
    ];
    for (url, want) in cases {
        assert_eq!(parse_target(url), Ok(want), "{url}");
    }
    assert_eq!(
        parse_target("unix:/run/app.sock:/__heartbeat__"),
        Ok(Target {
            address: Address::Unix("/run/app.sock".into()),
            http: Some(HttpTarget {
                host_header: "localhost".into(),
                path: "/__heartbeat__".into()
            }),
        })
    );
    assert_eq!(
        parse_target("unix:/run/a.sock").map(|t| t.http.map(|h| h.path)),
        Ok(Some("/".into()))
    );
    assert_eq!(
        parse_target("tcp://127.0.0.1:5432"),
        Ok(Target {
            address: Address::Inet {
                host: "127.0.0.1".into(),
                port: 5432
            },
            http: None
        })
    );
    let bad = [
        "https://127.0.0.1/",
        "ftp://x",
        "127.0.0.1:80",
        "http://",
        "http://:80/",
        "http://::1:80/",
        "http://[::1/",
        "http://[zz]:80/",
        "http://127.0.0.1:0/",
        "http://127.0.0.1:70000/",
        "http://127.0.0.1:+80/",
        "http://u:p@127.0.0.1/",
        "http://127.0.0.1/b c",
        "http://127.0.0.1/\u{e9}",
        "tcp://127.0.0.1",
        "http://[127.0.0.1]/",
        "unix:",
        "unix:/s:x",
    ];
    for url in bad {
        assert!(parse_target(url).is_err(), "{url}");
    }
    // No resolver: host names other than localhost are bad arguments.
    for url in [
        "http://app:8000/",
        "http://example.com/",
        "tcp://db:5432",
        "http://1.2.3/",
        "http://127.0.0.1.nip.io/",
    ] {
        match parse_target(url) {
            Err(why) => assert!(why.starts_with(NO_RESOLVER), "{url}: {why}"),
            Ok(t) => panic!("{url}: {t:?}"),
        }
    }
    assert!(parse_target("http://LOCALHOST/").is_ok());
}

#[test]
fn addresses_are_numeric_or_localhost() {
    let ips = |host| {
        addresses(host)
            .into_iter()
            .map(|(ip, text)| match ip {
                Ip::V4(o) => (Ipv4Addr::from(o).to_string(), text),
                Ip::V6(o) => (Ipv6Addr::from(o).to_string(), text),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ips("localhost"),
        [("127.0.0.1".into(), "127.0.0.1"), ("::1".into(), "::1")]
    );
    assert_eq!(ips("10.1.2.3"), [("10.1.2.3".into(), "10.1.2.3")]);
    assert_eq!(ips("fe80::1"), [("fe80::1".into(), "fe80::1")]);
    assert!(ips("app").is_empty());
}

#[test]
fn arguments() {
    assert!(matches!(parse_args(&os(&["--help"])), Ok(Command::Help)));
    assert!(matches!(
        parse_args(&os(&["http://app/", "-h"])),
        Ok(Command::Help)
    ));
    let args = os(&[
        "--timeout=300ms",
        "--header",
        "X-A: 1",
        "--header=X-B: 2",
        "--status",
        "204",
        "--expect-body",
        "ok",
        "--",
        "tcp://127.0.0.1:1",
    ]);
    let Ok(Command::Probe(p)) = parse_args(&args) else {
        panic!("valid arguments rejected");
    };
    assert_eq!(p.timeout, Duration::from_millis(300));
    assert_eq!(p.timeout_text, "300ms");
    assert_eq!(
        p.headers,
        vec![("X-A".into(), "1".into()), ("X-B".into(), "2".into())]
    );
    assert_eq!(p.statuses, vec![(204, 204)]);
    assert_eq!(p.expect_body.as_deref(), Some("ok"));
    assert!(p.target.http.is_none());
}

#[test]
fn bad_arguments() {
    let cases: &[&[&str]] = &[
        &[],
        &["--timeout"],
        &["--bogus", "http://127.0.0.1/"],
        &["-H", "X: y", "http://127.0.0.1/"],
        &["http://127.0.0.1/", "http://[::1]/"],
        &["--timeout", "5", "http://127.0.0.1/"],
        &["--expect-body", "", "http://127.0.0.1/"],
        &["http://app/"],
    ];
    for args in cases {
        assert!(parse_args(&os(args)).is_err(), "{args:?}");
    }
}

#[test]
fn request_has_defaults_and_overrides() {
    let http = HttpTarget {
        host_header: "127.0.0.1:8000".into(),
        path: "/__heartbeat__".into(),
    };
    let req = String::from_utf8(build_request(&http, &[("Host".into(), "app".into())])).unwrap();
    assert!(req.starts_with("GET /__heartbeat__ HTTP/1.1\r\n"), "{req}");
    assert!(
        req.contains("\r\nHost: app\r\n") && !req.contains("127.0.0.1"),
        "{req}"
    );
    assert!(req.contains("User-Agent: hardinit-health/") && req.contains("Connection: close\r\n"));
    assert!(req.ends_with("\r\n\r\n"));
}

#[test]
fn responses() {
    let ok = |raw: &[u8], status, body: &[u8]| {
        let (head, got) = response(raw).unwrap_or_else(|e| panic!("{e}: {raw:?}"));
        assert_eq!(
            (head.status, got.bytes.as_slice()),
            (status, body),
            "{raw:?}"
        );
    };
    ok(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
        200,
        b"ok",
    );
    ok(b"HTTP/1.0 503\r\n\r\ndown", 503, b"down");
    ok(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 200, b"ok");
    ok(
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        204,
        b"",
    );
    ok(
        b"HTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk",
        200,
        b"k",
    );
    ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\n", 200, b"ok0123456789");
    ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 99\r\n\r\n1\r\nz\r\n0\r\n\r\n", 200, b"z");
    ok(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw",
        200,
        b"raw",
    );
    ok(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nX-Bin: \xff\xfe\r\n\r\nabc",
        200,
        b"abc",
    );
}

#[test]
fn malformed_responses() {
    let huge_header = [
        b"HTTP/1.1 200 OK\r\nX: ".as_slice(),
        &[b'a'; 70_000],
        b"\r\n\r\n",
    ]
    .concat();
    let many_headers = [
        b"HTTP/1.1 200 OK\r\n".as_slice(),
        &b"X: y\r\n".repeat(20_000),
        b"\r\n",
    ]
    .concat();
    let cases: &[(&[u8], &str)] = &[
        (b"", "empty reply"),
        (b"garbage\r\n\r\n", "bad status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "bad status line"),
        (b"HTTP/1.1 099 X\r\n\r\n", "bad status line"),
        (b"HTTP/2 200\r\n\r\n", "bad status line"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10",
            "connection closed in the response headers",
        ),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "bad header line"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "bad Content-Length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "bad Content-Length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "conflicting",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            "body truncated",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "invalid chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n",
            "invalid chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
            "invalid chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            "body truncated",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n0\r\n\r\n",
            "chunk data longer",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n",
            "connection closed in the chunk size",
        ),
        (&huge_header, "longer than 64 KiB"),
        (&many_headers, "longer than 64 KiB"),
        (&b"HTTP/1.1 100 Continue\r\n\r\n".repeat(20), "interim"),
    ];
    for (raw, want) in cases {
        match response(raw) {
            Err(ProbeError::Malformed(why)) => assert!(why.contains(want), "{why} vs {want}"),
            other => panic!("{:?}: {other:?}", quote(raw)),
        }
    }
}

#[test]
fn body_is_capped() {
    let raw = [
        b"HTTP/1.1 200 OK\r\n\r\n".as_slice(),
        &vec![b'x'; BODY_CAP + 10],
    ]
    .concat();
    let (_, body) = response(&raw).unwrap();
    assert_eq!((body.bytes.len(), body.capped), (BODY_CAP, true));
    let raw = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n".as_slice(),
        &vec![b'x'; BODY_CAP],
    ]
    .concat();
    let (_, body) = response(&raw).unwrap();
    assert_eq!((body.bytes.len(), body.capped), (BODY_CAP, true));
    let raw = [b"HTTP/1.1 200 OK\r\n\r\n".as_slice(), &vec![b'x'; BODY_CAP]].concat();
    let (_, body) = response(&raw).unwrap();
    assert_eq!(body.bytes.len(), BODY_CAP);
}
