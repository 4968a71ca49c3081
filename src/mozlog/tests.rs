//! Unit tests of the parent module.

use super::*;
use serde_json::Value;

fn envelope() -> Envelope {
    Envelope {
        kind: "stdout",
        logger: "app".into(),
        hostname: "web-1".into(),
        severity: 6,
        pid: 7,
    }
}

fn records(chunks: &[&[u8]], limit: usize) -> Vec<Value> {
    let mut f = Framer::new(&envelope(), limit);
    let mut out = Vec::new();
    for c in chunks {
        f.push(c, 1795346849916119552, &mut out);
    }
    f.finish(1795346849916119553, &mut out);
    let text = String::from_utf8(out).expect("output is UTF-8");
    text.lines()
        .map(|l| {
            assert!(l.len() < limit, "record of {} bytes", l.len() + 1);
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))
        })
        .collect()
}

fn msgs(chunks: &[&[u8]]) -> Vec<String> {
    records(chunks, MAX_RECORD)
        .iter()
        .map(|r| r["Fields"]["msg"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn envelope_fields() {
    let r = &records(&[b"hello\n"], MAX_RECORD)[0];
    assert_eq!(r["Timestamp"], 1795346849916119552u64);
    assert_eq!(r["Type"], "stdout");
    assert_eq!(r["Logger"], "app");
    assert_eq!(r["Hostname"], "web-1");
    assert_eq!(r["EnvVersion"], "2.0");
    assert_eq!(r["Severity"], 6);
    assert_eq!(r["Pid"], 7);
    assert_eq!(r["Fields"]["msg"], "hello");
}

#[test]
fn line_rules_table() {
    let cases: &[(&[&[u8]], &[&str])] = &[
        (&[b"\n\n"], &["", ""]),
        (&[b"a\r\n"], &["a"]),
        (&[b"a\r\r\n"], &["a\r"]),
        (&[b"tab\there\n"], &["tab\there"]),
        (&[b"nul\0esc\x1b[0m\n"], &["nul\u{0}esc\u{1b}[0m"]),
        (&[b"bad \xff\xfe utf8\n"], &["bad \u{FFFD}\u{FFFD} utf8"]),
        (&[b"cut \xe2\x82\n"], &["cut \u{FFFD}"]),
        (&[b"no newline"], &["no newline"]),
        (
            &[b"sp", b"lit\nacross", b" reads\n"],
            &["split", "across reads"],
        ),
        (&[b"euro \xe2", b"\x82\xac\n"], &["euro \u{20ac}"]),
        (&[b"{\"a\":1}\n"], &["{\"a\":1}"]),
        (&[b"quote \" back \\ slash\n"], &["quote \" back \\ slash"]),
        (
            &[b"\xed\xa0\x80 surrogate\n"],
            &["\u{FFFD}\u{FFFD}\u{FFFD} surrogate"],
        ),
    ];
    for (chunks, want) in cases {
        assert_eq!(msgs(chunks), *want, "{chunks:?}");
    }
}

#[test]
fn mozlog_lines_pass_through() {
    let line = br#"{"Timestamp":1,"Type":"app.event","Logger":"x","Severity":4,"Fields":{"msg":"m","n":[1,2]}}"#;
    let mut input = line.to_vec();
    input.push(b'\n');
    let mut f = Framer::new(&envelope(), MAX_RECORD);
    let mut out = Vec::new();
    f.push(&input, 5, &mut out);
    assert_eq!(out, input);
    for not_record in [
        &br#"{"Timestamp":"1","Type":"x"}"#[..],
        br#"{"Timestamp":1,"Type":"x","extra":1}"#,
        br#"{"Timestamp":1,"Type":"x","Severity":9}"#,
        br#"{"Timestamp":1,"Type":"x","Fields":{}}"#,
        br#"{"Timestamp":1,"Type":"x","Fields":{"a":[]}}"#,
        br#"{"Timestamp":1,"Type":"x","Fields":{"a":{"b":1}}}"#,
        br#"{"Timestamp":-1,"Type":"x"}"#,
        br#"{"Timestamp":1}"#,
        b"[1]",
    ] {
        assert!(
            !is_mozlog_record(not_record),
            "{}",
            String::from_utf8_lossy(not_record)
        );
    }
}

fn joined(records: &[Value]) -> (String, usize) {
    let mut text = String::new();
    let mut pieces = 0;
    for (i, r) in records.iter().enumerate() {
        let fields = &r["Fields"];
        text.push_str(fields["msg"].as_str().unwrap());
        if fields.get("partial_id").is_some() {
            pieces += 1;
            assert_eq!(fields["partial_ordinal"], (i + 1) as u64);
            assert_eq!(fields["partial_last"], i + 1 == records.len());
            assert_eq!(fields["partial_id"], records[0]["Fields"]["partial_id"]);
        }
    }
    (text, pieces)
}

#[test]
fn long_lines_split_at_character_boundaries() {
    // 4-byte characters across every possible cut position.
    for shift in 0..4 {
        let mut line = "x".repeat(shift);
        while line.len() < 40_000 {
            line.push('\u{1F600}');
        }
        let mut input = line.clone().into_bytes();
        input.push(b'\n');
        let recs = records(&[&input], MAX_RECORD);
        assert!(recs.len() >= 3);
        let (text, pieces) = joined(&recs);
        assert_eq!(text, line);
        assert_eq!(pieces, recs.len());
    }
}

#[test]
fn escapes_count_towards_the_limit() {
    let line = vec![0u8; 20_000];
    let mut input = line.clone();
    input.push(b'\n');
    let recs = records(&[&input], MAX_RECORD);
    let (text, _) = joined(&recs);
    assert_eq!(text.len(), 20_000);
    assert!(text.bytes().all(|b| b == 0));
}

#[test]
fn memory_stays_bounded_on_endless_line() {
    let mut f = Framer::new(&envelope(), MAX_RECORD);
    let chunk = vec![b'a'; 65536];
    let mut out = Vec::new();
    for _ in 0..160 {
        f.push(&chunk, 1, &mut out);
        assert!(f.pending.len() < MAX_RECORD);
        out.clear();
    }
    f.push(b"\n", 1, &mut out);
    let last: Value = serde_json::from_slice(out.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(last["Fields"]["partial_last"], true);
}

/// The escaper as first written (from_utf8 over the rest, then a
/// byte loop), kept as the reference the fast one must match exactly.
fn reference_escape(
    input: &[u8],
    budget: usize,
    at_end: bool,
    out: &mut Vec<u8>,
) -> (usize, usize) {
    let start_len = out.len();
    let mut pos = 0;
    while pos < input.len() {
        let rest = &input[pos..];
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(_) => (rest.len(), None),
            Err(e) => (e.valid_up_to(), Some(e.error_len())),
        };
        let mut used = 0;
        for ch in std::str::from_utf8(&rest[..valid]).unwrap().chars() {
            let mut enc = Vec::new();
            let b = ch as u32;
            match ch {
                '"' => enc.extend_from_slice(b"\\\""),
                '\\' => enc.extend_from_slice(b"\\\\"),
                '\n' => enc.extend_from_slice(b"\\n"),
                '\r' => enc.extend_from_slice(b"\\r"),
                '\t' => enc.extend_from_slice(b"\\t"),
                '\u{8}' => enc.extend_from_slice(b"\\b"),
                '\u{c}' => enc.extend_from_slice(b"\\f"),
                _ if b < 0x20 => enc.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                c => enc.extend_from_slice(c.to_string().as_bytes()),
            }
            if enc.len() > budget - (out.len() - start_len) {
                return (pos + used, out.len() - start_len);
            }
            out.extend_from_slice(&enc);
            used += ch.len_utf8();
        }
        pos += used;
        match bad {
            None => break,
            Some(None) if !at_end => break,
            Some(len) => {
                if budget - (out.len() - start_len) < 3 {
                    break;
                }
                out.extend_from_slice("\u{FFFD}".as_bytes());
                pos += len.unwrap_or(rest.len() - valid);
            }
        }
    }
    (pos, out.len() - start_len)
}

#[test]
fn fast_paths_match_the_reference() {
    // A small deterministic generator over bytes that exercise every
    // branch: plain ASCII, escapes, controls, valid and broken UTF-8.
    let alphabet: &[&[u8]] = &[
        b"a",
        b"Z",
        b" ",
        b"0",
        b"~",
        b"\"",
        b"\\",
        b"\n",
        b"\r",
        b"\t",
        b"\0",
        b"\x1b",
        b"\x7f",
        "é".as_bytes(),
        "€".as_bytes(),
        "😀".as_bytes(),
        b"\xe2\x82",
        b"\xf0\x9f",
        b"\xff",
        b"\x80",
        b"\xed\xa0\x80",
        b"\xc0\xaf",
        b"plain text run ",
        b"0123456789abcdef",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let mut input = Vec::new();
        for _ in 0..(next() % 24) {
            input.extend_from_slice(alphabet[(next() % alphabet.len() as u64) as usize]);
        }
        let budget = if next() % 4 == 0 {
            usize::MAX
        } else {
            (next() % 80) as usize
        };
        let at_end = next() % 2 == 0;
        let (mut a, mut b) = (vec![b'x'], vec![b'x']);
        let got = escape_limited(&input, budget, at_end, &mut a);
        let want = reference_escape(&input, budget, at_end, &mut b);
        assert_eq!(
            (got, &a),
            (want, &b),
            "{input:?} budget {budget} at_end {at_end}"
        );
        for start in 0..input.len().min(9) {
            let s = &input[start..];
            assert_eq!(find_newline(s), s.iter().position(|&b| b == b'\n'));
        }
    }
}

#[test]
fn small_limits_hold() {
    for limit in [320, 400, 1000] {
        let line = "é\u{0}\"".repeat(500);
        let input = format!("{line}\n");
        let recs = records(&[input.as_bytes()], limit);
        assert_eq!(joined(&recs).0, line);
    }
}
