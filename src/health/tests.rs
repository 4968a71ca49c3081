//! Unit tests of the parent module.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Response bytes in reads of at most `step` bytes.
struct Trickle<'a> {
    rest: &'a [u8],
    step: usize,
}

impl Source for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = buf.len().min(self.rest.len()).min(self.step);
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

/// The head and body, or the message for a malformed response.
fn parse(rest: &[u8], step: usize) -> Result<(Head, Body), String> {
    let mut buf = Vec::new();
    let mut wire = Wire::new(Trickle { rest, step }, &mut buf);
    let result = read_head(&mut wire).and_then(|head| {
        let body = read_body(&mut wire, head.framing)?;
        Ok((head, body))
    });
    result.map_err(|fail| {
        // Malformed, not a system call failure.
        assert_eq!(fail.errno, None, "{rest:?}");
        text_of(&wire.quote_line(fail))
    })
}

/// Parses `raw` as read at once and, if small, in 7-byte reads too, so
/// that every line and body boundary also falls between reads: both must
/// give the same result.
fn response(raw: &[u8]) -> Result<(Head, Body), String> {
    let whole = parse(raw, usize::MAX);
    if raw.len() < 4096 {
        let trickled = parse(raw, 7);
        assert_eq!(format!("{trickled:?}"), format!("{whole:?}"), "{raw:?}");
    }
    whole
}

/// The message line for `fail`, with a 300ms timeout.
fn text_of(fail: &Fail) -> String {
    String::from_utf8(message(fail, b"300ms")).unwrap()
}

#[test]
fn messages() {
    let cases: &[(Fail, &str)] = &[
        (
            Fail {
                errno: Some(Errno::ECONNREFUSED),
                ..fail("connecting to ", Detail::Plain(b"[::1]:80"), "")
            },
            "connecting to [::1]:80: Connection refused",
        ),
        (
            Fail {
                errno: Some(Errno::ETIMEDOUT),
                ..fail("waiting for the response", Detail::None, "")
            },
            "timeout after 300ms waiting for the response",
        ),
        (
            fail("status ", Detail::Status(503, b"200-299"), ""),
            "status 503 (expected 200-299)",
        ),
        (
            fail("short by ", Detail::Number(u64::MAX), " bytes"),
            "short by 18446744073709551615 bytes",
        ),
        (fail("n=", Detail::Number(0), ""), "n=0"),
        (
            fail("x ", Detail::Quoted(b"a\"b\\c\r\n\x7f\xc3\xa9"), ": y"),
            "x \"a\\\"b\\\\c\\x0d\\x0a\\x7f\u{e9}\": y",
        ),
        (fail("bad ", Detail::Peer(b"short"), ""), "bad \"short\""),
        (
            fail("bad ", Detail::Peer(&[b'a'; 41]), ""),
            &format!("bad \"{}\"...", "a".repeat(40)),
        ),
        (
            fail("bad ", Detail::Peer(&[b'a'; 40]), ""),
            &format!("bad \"{}\"", "a".repeat(40)),
        ),
    ];
    for (fail, want) in cases {
        assert_eq!(text_of(fail), format!("hardinit health: {want}\n"));
    }
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
        assert_eq!(parse_duration(text.as_bytes()), Some(ms), "{text}");
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
        assert_eq!(parse_duration(text.as_bytes()), None, "{text}");
    }
}

#[test]
fn statuses() {
    let listed = |list: &str, status| status_listed(list.as_bytes(), status);
    for status in [200, 204] {
        assert_eq!(listed("200,204", status), Some(true), "{status}");
    }
    for status in [199, 201, 203, 205, 0] {
        assert_eq!(listed("200,204", status), Some(false), "{status}");
    }
    for (status, want) in [(199, false), (200, true), (399, true), (400, false)] {
        assert_eq!(listed("200-399", status), Some(want), "{status}");
    }
    for (status, want) in [(200, true), (201, false), (301, true), (303, false)] {
        assert_eq!(listed("200, 300-302", status), Some(want), "{status}");
    }
    assert_eq!(listed("100-599", 599), Some(true));
    // Malformed anywhere, even after an item that matches.
    for list in [
        "",
        "abc",
        "99",
        "600",
        "300-200",
        "200,",
        "200-",
        "-200",
        "200-300-400",
        "200,abc",
        "+200",
    ] {
        assert_eq!(listed(list, 200), None, "{list}");
    }
}

#[test]
fn headers() {
    let ok: &[(&[u8], &[u8], &[u8])] = &[
        (b"X-A: b c ", b"X-A", b"b c"),
        (b"X-A:", b"X-A", b""),
        (b"X-A:\tv:w", b"X-A", b"v:w"),
        (b"X-A: caf\xc3\xa9 \xff", b"X-A", b"caf\xc3\xa9 \xff"),
    ];
    for &(arg, name, value) in ok {
        assert_eq!(parse_header(arg), Ok((name, value)), "{arg:?}");
    }
    for arg in [
        "nocolon",
        ": v",
        "X A: v",
        "X-A: a\r\nX-B: b",
        "X-A: \u{1}",
        "X-A: v\n",
        "X-A: v\r",
        "X-A: \u{7f}",
        "X\u{e9}: v",
    ] {
        assert!(parse_header(arg.as_bytes()).is_err(), "{arg:?}");
    }
}

#[test]
fn targets() {
    let http = |host: &'static str, port, host_header: &'static str, path: &'static str| Target {
        address: Address::Inet {
            host: host.as_bytes(),
            port,
        },
        shown: host_header.as_bytes(),
        http: Some(HttpTarget {
            host_header: host_header.as_bytes(),
            path: path.as_bytes(),
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
            http("localhost", 8000, "localhost:8000", ""),
        ),
        (
            "http://10.0.0.1?a=b#frag",
            http("10.0.0.1", 80, "10.0.0.1", "?a=b"),
        ),
        ("http://[::1]/", http("::1", 80, "[::1]", "/")),
        (
            "http://[::ffff:10.0.0.1]:65535/a/b?c#d",
            http(
                "::ffff:10.0.0.1",
                65535,
                "[::ffff:10.0.0.1]:65535",
                "/a/b?c",
            ),
        ),
    ];
    for (url, want) in cases {
        assert_eq!(parse_target(url.as_bytes()), Ok(want), "{url}");
    }
    assert_eq!(
        parse_target(b"unix:/run/app.sock:/__heartbeat__"),
        Ok(Target {
            address: Address::Unix(b"/run/app.sock"),
            shown: b"/run/app.sock",
            http: Some(HttpTarget {
                host_header: b"localhost",
                path: b"/__heartbeat__"
            }),
        })
    );
    assert_eq!(
        parse_target(b"unix:/run/a.sock").map(|t| t.http.map(|h| h.path)),
        Ok(Some(b"/".as_slice()))
    );
    // A socket path need not be UTF-8.
    assert_eq!(
        parse_target(b"unix:/run/\xff.sock").map(|t| t.address),
        Ok(Address::Unix(b"/run/\xff.sock"))
    );
    assert_eq!(
        parse_target(b"tcp://127.0.0.1:5432"),
        Ok(Target {
            address: Address::Inet {
                host: b"127.0.0.1",
                port: 5432
            },
            shown: b"127.0.0.1:5432",
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
        "http://[::1]80/",
        "http://[fe80::1%lo]:80/",
        "http://127.0.0.1:0/",
        "http://127.0.0.1:70000/",
        "http://127.0.0.1:+80/",
        "http://127.0.0.1:/",
        "http://u:p@127.0.0.1/",
        "http://127.0.0.1/b c",
        "http://127.0.0.1/\u{e9}",
        "tcp://127.0.0.1",
        "http://[127.0.0.1]/",
        "unix:",
        "unix::/x",
        "unix:/s:x",
        "unix:/s:/b c",
    ];
    for url in bad {
        assert!(parse_target(url.as_bytes()).is_err(), "{url}");
    }
    // No resolver: host names other than localhost are bad arguments.
    for url in [
        "http://app:8000/",
        "http://example.com/",
        "tcp://db:5432",
        "http://1.2.3/",
        "http://127.0.0.1.nip.io/",
        "http://010.0.0.1/",
    ] {
        match parse_target(url.as_bytes()) {
            Err(why) => assert_eq!(why, NO_RESOLVER, "{url}"),
            Ok(t) => panic!("{url}: {t:?}"),
        }
    }
    assert!(parse_target(b"http://LOCALHOST/").is_ok());
}

#[test]
fn addresses_are_numeric_or_localhost() {
    let mut v6 = [0; 16];
    v6[15] = 1;
    let loopback = [Some(Ip::V4([127, 0, 0, 1])), Some(Ip::V6(v6))];
    assert_eq!(addresses(b"localhost"), loopback);
    assert_eq!(addresses(b"LocalHost"), loopback);
    assert_eq!(addresses(b"10.1.2.3"), [Some(Ip::V4([10, 1, 2, 3])), None]);
    v6[..2].copy_from_slice(&[0xfe, 0x80]);
    assert_eq!(addresses(b"fe80::1"), [Some(Ip::V6(v6)), None]);
    for host in ["app", "", "localhost.", "127.0.0.1.nip.io", "1.2.3"] {
        assert_eq!(addresses(host.as_bytes()), [None, None], "{host}");
    }
}

/// The address parsers agree with the standard library's on every form.
#[test]
fn ip_parsers_match_std() {
    let inputs = [
        "0.0.0.0",
        "127.0.0.1",
        "255.255.255.255",
        "1.2.3.4",
        "256.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "01.2.3.4",
        "1.2.3.00",
        "1..2.3",
        ".1.2.3",
        "1.2.3.",
        "+1.2.3.4",
        "1.2.3.4 ",
        "0x1.2.3.4",
        "",
        "::",
        "::1",
        "1::",
        "1::2",
        "fe80::1",
        "FE80::A:b:C",
        "2001:db8:0:0:0:0:2:1",
        "2001:db8::2:1",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7::8",
        "1::2::3",
        ":::",
        ":1::",
        "1:",
        ":1",
        "1:::2",
        "12345::",
        "0001:02:3::",
        "g::",
        "::ffff:1.2.3.4",
        "::1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5::1.2.3.4",
        "1:2:3:4:5:6::1.2.3.4",
        "::1.2.3",
        "::1.2.3.4:1",
        "1.2.3.4::",
        "::01.2.3.4",
        "fe80::1%lo",
        "[::1]",
        " ::1",
        "1.2.3.04",
        "1.2.3.256",
        "4294967296.1.1.1",
        "1.2.3.4.",
        "0::0",
        "a:b:c:d:e:f:1:2",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
        "::1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:",
        "::1.2.3.4.5",
        "::ffff:0:1.2.3.4",
        "1::1.2.3.4",
        "00000::",
        "::0000",
    ];
    for input in inputs {
        let want4 = input.parse::<Ipv4Addr>().ok().map(|a| a.octets());
        assert_eq!(parse_ipv4(input.as_bytes()), want4, "{input}");
        let want6 = input.parse::<Ipv6Addr>().ok().map(|a| a.octets());
        assert_eq!(parse_ipv6(input.as_bytes()), want6, "{input}");
    }
}

#[test]
fn arguments() {
    assert!(matches!(parse_args(&os(&["--help"])), Ok(Command::Help)));
    assert!(matches!(
        parse_args(&os(&["http://app/", "-h"])),
        Ok(Command::Help)
    ));
    assert!(matches!(
        parse_args(&os(&["http://a/", "http://b/", "--help"])),
        Ok(Command::Help)
    ));
    let args = os(&[
        "--timeout=300ms",
        "--header",
        "X-A: 1",
        "--header=X-B: 2=3",
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
    assert_eq!(p.timeout_ms, 300);
    assert_eq!(p.timeout_text, b"300ms");
    assert_eq!(
        p.headers,
        [(b"X-A".as_slice(), b"1".as_slice()), (b"X-B", b"2=3")]
    );
    assert_eq!(p.statuses, b"204");
    assert_eq!(p.expect_body, Some(b"ok".as_slice()));
    assert!(p.target.http.is_none());
    let args = os(&["http://127.0.0.1/"]);
    let Ok(Command::Probe(p)) = parse_args(&args) else {
        panic!("valid arguments rejected");
    };
    assert_eq!((p.timeout_ms, p.timeout_text), (5000, b"5s".as_slice()));
    assert_eq!(p.statuses, b"200-299");
    assert!(p.headers.is_empty() && p.expect_body.is_none());
}

#[test]
fn bad_arguments() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "missing URL"),
        (&["--timeout"], "--timeout needs a value"),
        (
            &["--timeout=\n", "http://127.0.0.1/"],
            "invalid --timeout \"\\x0a\": use e.g.",
        ),
        (&["--bogus", "http://127.0.0.1/"], "unknown option --bogus"),
        (&["-H", "X: y", "http://127.0.0.1/"], "unknown option -H"),
        (
            &["http://127.0.0.1/", "http://[::1]/"],
            "unexpected argument \"http://[::1]/\": give one URL",
        ),
        (
            &["--timeout", "5", "http://127.0.0.1/"],
            "invalid --timeout \"5\"",
        ),
        (
            &["--status", "200,", "http://127.0.0.1/"],
            "invalid --status \"200,\"",
        ),
        (
            &["--header", "X", "http://127.0.0.1/"],
            "invalid --header \"X\": expected 'Name: value'",
        ),
        (
            &["--expect-body", "", "http://127.0.0.1/"],
            "--expect-body must not be empty",
        ),
        (
            &["http://app/"],
            "invalid URL \"http://app/\": only numeric addresses and localhost",
        ),
        (
            &["ftp://x"],
            "invalid URL \"ftp://x\": use http://, unix: or tcp://",
        ),
        (
            &["http://[zz]/"],
            "invalid URL \"http://[zz]/\": not an IPv6 address",
        ),
        (
            &["http://127.0.0.1:0/"],
            "invalid URL \"http://127.0.0.1:0/\": the port must be 1-65535",
        ),
        (
            &["unix:/s:x"],
            "invalid URL \"unix:/s:x\": the request path must start with '/'",
        ),
        (
            &["http://[::1]/\u{e9}"],
            "invalid URL \"http://[::1]/\u{e9}\": the path has spaces or non-ASCII",
        ),
    ];
    for (args, want) in cases {
        match parse_args(&os(args)) {
            Err(fail) => {
                let line = text_of(&fail);
                let want = format!("hardinit health: {want}");
                assert!(line.starts_with(&want), "{args:?}: {line}");
            }
            Ok(_) => panic!("{args:?} accepted"),
        }
    }
}

#[test]
fn request_has_defaults_and_overrides() {
    let http = HttpTarget {
        host_header: b"127.0.0.1:8000",
        path: b"/__heartbeat__",
    };
    let req = build_request(&http, &[(b"host", b"app")]);
    let req = String::from_utf8(req).unwrap();
    assert!(req.starts_with("GET /__heartbeat__ HTTP/1.1\r\n"), "{req}");
    assert!(
        req.contains("\r\nhost: app\r\n") && !req.contains("127.0.0.1"),
        "{req}"
    );
    assert!(req.contains("User-Agent: hardinit-health/") && req.contains("Connection: close\r\n"));
    assert!(req.ends_with("\r\n\r\n"));
    assert_eq!(req.matches("\r\n").count(), 6, "{req}");
    // A URL without a path asks for `/`.
    for (path, line) in [("", "GET / HTTP"), ("?a=b", "GET /?a=b HTTP")] {
        let http = HttpTarget {
            host_header: b"h",
            path: path.as_bytes(),
        };
        let req = String::from_utf8(build_request(&http, &[])).unwrap();
        assert!(req.starts_with(line), "{req}");
    }
}

#[test]
fn responses() {
    let ok = |raw: &[u8], status, body: &[u8]| {
        let (head, got) = response(raw).unwrap_or_else(|e| panic!("{e:?}: {raw:?}"));
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
        (
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            "bad response header line \"no colon\"",
        ),
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
            Err(line) => assert!(line.contains(want), "{line} vs {want}"),
            other => panic!("{want}: {other:?}"),
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
