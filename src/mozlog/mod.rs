//! mozlog records: line framing and JSON encoding of what the child prints.
//!
//! Pure logic, no I/O: the event loop hands in bytes as they are read and
//! gets whole records appended to its output buffer. Memory stays bounded:
//! a line longer than one record is emitted in pieces as it arrives, never
//! buffered whole.

use std::io::Write as _;

/// Docker and containerd split log lines longer than 16 KiB; a record never
/// exceeds this, including its newline.
pub const MAX_RECORD: usize = 16 * 1024;

/// Room kept for `","partial_id":"...","partial_ordinal":N,"partial_last":false}}\n`.
const PARTIAL_SUFFIX_ROOM: usize = 112;

/// Keys of the mozlog envelope; a line made only of these (with an integer
/// Timestamp) is already a record and passes through unchanged.
const ENVELOPE: &[&str] = &[
    "Timestamp",
    "Type",
    "Logger",
    "Hostname",
    "EnvVersion",
    "Severity",
    "Pid",
    "Fields",
];

/// The parts of a record that do not change from line to line.
pub struct Envelope {
    pub kind: &'static str,
    pub logger: String,
    pub hostname: String,
    pub severity: u8,
    pub pid: u32,
}

impl Envelope {
    /// `,"Type":...,"Fields":{"msg":"` : everything between the timestamp and
    /// the message. Logger and Hostname are cut to 255 bytes so the envelope
    /// always leaves room for the message.
    fn middle(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(128);
        m.extend_from_slice(b",\"Type\":\"");
        escape_limited(self.kind.as_bytes(), 255, true, &mut m);
        m.extend_from_slice(b"\",\"Logger\":\"");
        escape_limited(self.logger.as_bytes(), 255, true, &mut m);
        m.extend_from_slice(b"\",\"Hostname\":\"");
        escape_limited(self.hostname.as_bytes(), 255, true, &mut m);
        let _ = write!(
            m,
            "\",\"EnvVersion\":\"2.0\",\"Severity\":{},\"Pid\":{},\"Fields\":{{\"msg\":\"",
            self.severity, self.pid
        );
        m
    }
}

/// Turns one stream of bytes (the child's stdout or stderr) into records.
pub struct Framer {
    middle: Vec<u8>,
    /// `{"Timestamp":N` + `middle` for the last timestamp seen: lines read
    /// together share a timestamp, so its digits are formatted once a read.
    head: Vec<u8>,
    head_ts: Option<u64>,
    kind: &'static str,
    limit: usize,
    /// The start of a line that has no newline yet; never more than `limit`.
    pending: Vec<u8>,
    /// Set while a long line is being emitted in pieces: (id, next ordinal).
    partial: Option<(u64, u32)>,
    next_partial_id: u64,
    pid: u32,
}

impl Framer {
    pub fn new(envelope: &Envelope, limit: usize) -> Framer {
        let middle = envelope.middle();
        // Every record must have room for some text after its envelope.
        let floor = (middle.len() + 32 + PARTIAL_SUFFIX_ROOM + 64).min(MAX_RECORD);
        Framer {
            head: Vec::with_capacity(middle.len() + 40),
            head_ts: None,
            middle,
            kind: envelope.kind,
            limit: limit.clamp(floor.max(256), MAX_RECORD),
            pending: Vec::with_capacity(limit),
            partial: None,
            next_partial_id: 1,
            pid: envelope.pid,
        }
    }

    /// Feed bytes read at `ts` (ns since the epoch); append records to `out`.
    pub fn push(&mut self, mut data: &[u8], ts: u64, out: &mut Vec<u8>) {
        while let Some(pos) = find_newline(data) {
            let line = &data[..pos];
            if self.pending.is_empty() {
                self.emit_line(line, ts, out);
            } else {
                let mut pending = std::mem::take(&mut self.pending);
                pending.extend_from_slice(line);
                self.emit_line(&pending, ts, out);
                pending.clear();
                self.pending = pending;
            }
            data = &data[pos + 1..];
        }
        self.pending.extend_from_slice(data);
        // Bounded memory: emit the head of an over-long line as pieces now.
        while self.pending.len() >= self.limit {
            let mut pending = std::mem::take(&mut self.pending);
            // Hold back a trailing '\r': it may be the one to strip.
            let usable = pending.len() - usize::from(pending.last() == Some(&b'\r'));
            let used = self.emit_piece(&pending[..usable], ts, false, false, out);
            pending.drain(..used);
            self.pending = pending;
            if used == 0 {
                break;
            }
        }
    }

    /// End of stream: a last line without newline is still a line.
    pub fn finish(&mut self, ts: u64, out: &mut Vec<u8>) {
        if !self.pending.is_empty() || self.partial.is_some() {
            let pending = std::mem::take(&mut self.pending);
            self.emit_line(&pending, ts, out);
        }
    }

    fn emit_line(&mut self, line: &[u8], ts: u64, out: &mut Vec<u8>) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if self.partial.is_none() {
            if is_mozlog_record(line) && line.len() < self.limit {
                out.extend_from_slice(line);
                out.push(b'\n');
                return;
            }
            // The common case: the whole line fits in one record.
            let start = out.len();
            self.write_head(ts, out);
            let budget = self.limit.saturating_sub(out.len() - start + 4);
            let (used, _) = escape_limited(line, budget, true, out);
            if used == line.len() {
                out.extend_from_slice(b"\"}}\n");
                return;
            }
            out.truncate(start);
        }
        let mut rest = line;
        loop {
            let used = self.emit_piece(rest, ts, true, true, out);
            rest = &rest[used..];
            // The limit leaves room for at least one character, so every
            // piece makes progress; the check keeps a bug from looping.
            if self.partial.is_none() || used == 0 {
                self.partial = None;
                break;
            }
        }
    }

    /// Emit one record holding as much of `data` as fits, marked as part of
    /// a split line. `at_end`: `data` ends the line (so an incomplete UTF-8
    /// sequence at its end is invalid, not "more to come"). Returns the
    /// number of bytes of `data` used; clears `partial` after the last piece.
    fn emit_piece(
        &mut self,
        data: &[u8],
        ts: u64,
        at_end: bool,
        may_close: bool,
        out: &mut Vec<u8>,
    ) -> usize {
        let (id, ordinal) = match self.partial {
            Some(p) => p,
            None => {
                let id = self.next_partial_id;
                self.next_partial_id += 1;
                (id, 1)
            }
        };
        let start = out.len();
        self.write_head(ts, out);
        let budget = self
            .limit
            .saturating_sub(out.len() - start + PARTIAL_SUFFIX_ROOM);
        let (used, _) = escape_limited(data, budget, at_end, out);
        let last = may_close && used == data.len();
        let _ = writeln!(
            out,
            "\",\"partial_id\":\"{}-{}-{}\",\"partial_ordinal\":{},\"partial_last\":{}}}}}",
            self.pid, self.kind, id, ordinal, last
        );
        debug_assert!(out.len() - start <= self.limit);
        self.partial = if last { None } else { Some((id, ordinal + 1)) };
        used
    }

    /// Everything before the message: `{"Timestamp":N,"Type":...,"msg":"`.
    fn write_head(&mut self, ts: u64, out: &mut Vec<u8>) {
        if self.head_ts != Some(ts) {
            self.head.clear();
            self.head.extend_from_slice(b"{\"Timestamp\":");
            push_u64(ts, &mut self.head);
            self.head.extend_from_slice(&self.middle);
            self.head_ts = Some(ts);
        }
        out.extend_from_slice(&self.head);
    }
}

pub fn push_u64(mut n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

// Word-at-a-time byte classification (SWAR): the hot loops look at eight
// bytes per step instead of one. Each test below is exact as a yes/no for
// the whole word; the position is then found byte by byte in that word.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Some byte of `v` is zero.
#[inline]
fn has_zero(v: u64) -> bool {
    v.wrapping_sub(ONES) & !v & HIGHS != 0
}

#[inline]
fn word(chunk: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    u64::from_le_bytes(w)
}

fn find_newline(data: &[u8]) -> Option<usize> {
    let mut chunks = data.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        if has_zero(word(c) ^ (ONES * u64::from(b'\n'))) {
            break;
        }
        base += 8;
    }
    data[base..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| base + p)
}

#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Length of the prefix of `s` that JSON takes as is: ASCII without control
/// characters, quote or backslash.
#[inline]
fn plain_prefix(s: &[u8]) -> usize {
    let plain = |b: u8| b < 0x80 && !needs_escape(b);
    let mut base = 0;
    for c in s.chunks_exact(8) {
        let v = word(c);
        // High bit set, or below 0x20 (exact for the word since no byte
        // has its high bit set once the first test passed), or '"', or '\'.
        let special = v & HIGHS != 0
            || v.wrapping_sub(ONES * 0x20) & !v & HIGHS != 0
            || has_zero(v ^ (ONES * u64::from(b'"')))
            || has_zero(v ^ (ONES * u64::from(b'\\')));
        if special {
            break;
        }
        base += 8;
    }
    base + s[base..]
        .iter()
        .position(|&b| !plain(b))
        .unwrap_or(s.len() - base)
}

/// Length of the UTF-8 sequence a lead byte starts; 1 for a byte that
/// cannot start one (it is then invalid on its own).
#[inline]
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

/// JSON-escape `input` into `out`, writing at most `budget` bytes.
/// Invalid UTF-8 becomes U+FFFD (one per invalid sequence, as
/// `String::from_utf8_lossy` does, so no lone surrogate can appear); control
/// bytes become `\n`, `\t`, ... or `\u00XX`. Stops before a character that
/// would not fit, or (when `!at_end`) before an incomplete sequence at the
/// end. Returns (bytes of input used, bytes written).
///
/// One pass: runs of plain ASCII are copied whole; anything else is taken
/// one character at a time.
pub fn escape_limited(
    input: &[u8],
    budget: usize,
    at_end: bool,
    out: &mut Vec<u8>,
) -> (usize, usize) {
    let start_len = out.len();
    let mut pos = 0;
    while pos < input.len() {
        let left = budget - (out.len() - start_len);
        let rest = &input[pos..];
        let run = plain_prefix(rest);
        if run > 0 {
            // ASCII: any cut is a character boundary.
            let take = run.min(left);
            out.extend_from_slice(&rest[..take]);
            pos += take;
            if take < run {
                break;
            }
            continue;
        }
        let b = rest[0];
        if b < 0x80 {
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                _ => b"",
            };
            let need = if esc.is_empty() { 6 } else { esc.len() };
            if need > left {
                break;
            }
            if esc.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 15) as usize],
                ]);
            } else {
                out.extend_from_slice(esc);
            }
            pos += 1;
            continue;
        }
        // Multi-byte: validate just this character. The standard library
        // decides what one invalid sequence is (error_len), so the
        // replacement count is the one from_utf8_lossy gives.
        let window = &rest[..utf8_width(b).min(rest.len())];
        match std::str::from_utf8(window) {
            Ok(_) => {
                if window.len() > left {
                    break;
                }
                out.extend_from_slice(window);
                pos += window.len();
            }
            // Cut short by the end of the input: maybe more to come.
            Err(e) if e.error_len().is_none() && !at_end => break,
            Err(e) => {
                if left < 3 {
                    break;
                }
                out.extend_from_slice("\u{FFFD}".as_bytes());
                pos += e.error_len().unwrap_or(rest.len());
            }
        }
    }
    (pos, out.len() - start_len)
}

/// Is this line already a schema-valid mozlog record? Only objects made of
/// envelope keys with an integer Timestamp qualify; anything else, JSON or
/// not, becomes a `msg` string.
pub fn is_mozlog_record(line: &[u8]) -> bool {
    if line.first() != Some(&b'{') || line.last() != Some(&b'}') {
        return false;
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(line)
    else {
        return false;
    };
    if !map.get("Timestamp").is_some_and(|t| t.is_u64())
        || !map.keys().all(|k| ENVELOPE.contains(&k.as_str()))
    {
        return false;
    }
    if !(map.contains_key("Type") || map.contains_key("Logger") || map.contains_key("Fields")) {
        return false;
    }
    let string_or_absent = |k: &str| map.get(k).is_none_or(|v| v.is_string());
    let int_in = |k: &str, max: u64| {
        map.get(k)
            .is_none_or(|v| v.as_u64().is_some_and(|n| n <= max))
    };
    string_or_absent("Type")
        && string_or_absent("Logger")
        && string_or_absent("Hostname")
        && map
            .get("EnvVersion")
            .is_none_or(|v| v.as_str().is_some_and(valid_env_version))
        && int_in("Severity", 7)
        && int_in("Pid", u64::MAX)
        && map.get("Fields").is_none_or(valid_fields)
}

fn valid_env_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() <= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Fields: an object with at least one key, each value a scalar, a
/// non-empty array of one scalar type, or an object with a `value`.
fn valid_fields(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let array = |v: &Value| match v {
        Value::Array(a) if !a.is_empty() => {
            a.iter().all(|x| x.is_string())
                || a.iter().all(|x| x.is_number())
                || a.iter().all(|x| x.is_boolean())
        }
        _ => false,
    };
    let Value::Object(fields) = v else {
        return false;
    };
    !fields.is_empty()
        && fields.values().all(|f| {
            scalar(f)
                || array(f)
                || match f {
                    Value::Object(o) => {
                        o.get("value").is_some_and(|x| scalar(x) || array(x))
                            && o.get("representation").is_none_or(|r| r.is_string())
                    }
                    _ => false,
                }
        })
}

#[cfg(test)]
mod tests;
