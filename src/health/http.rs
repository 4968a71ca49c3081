//! Response parsing, pure over any `Read` (unit-tested on byte slices).

use super::*;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Framing {
    /// 1xx, 204 and 304 carry no body.
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

#[derive(Debug, PartialEq)]
pub(super) struct Head {
    pub(super) status: u16,
    pub(super) framing: Framing,
}

#[derive(Debug, PartialEq)]
pub(super) struct Body {
    pub(super) bytes: Vec<u8>,
    /// More body followed that was not read (over `BODY_CAP`).
    pub(super) capped: bool,
}

/// A read buffer over the connection: lines for the head and chunk sizes,
/// exact byte counts for the body.
pub(super) struct Wire<R> {
    pub(super) inner: R,
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
}

impl<R: Read> Wire<R> {
    pub(super) fn new(inner: R) -> Self {
        Wire {
            inner,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Reads more bytes into the buffer; false at end of stream.
    pub(super) fn fill(&mut self) -> Result<bool, ProbeError> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.inner.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ProbeError::Read(e)),
            }
        }
    }

    /// The next line without its LF or CRLF, at most `max` bytes. `what`
    /// names it in errors, `cap` is the limit those errors quote (the head
    /// budget shrinks line by line, the limit does not).
    pub(super) fn take_line(
        &mut self,
        max: usize,
        cap: usize,
        what: &str,
    ) -> Result<Vec<u8>, ProbeError> {
        let mut scanned = 0;
        loop {
            let pending = &self.buf[self.pos..];
            if let Some(i) = pending[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + i;
                if end > max {
                    break;
                }
                let line = pending[..end]
                    .strip_suffix(b"\r")
                    .unwrap_or(&pending[..end])
                    .to_vec();
                self.pos += end + 1;
                return Ok(line);
            }
            scanned = pending.len();
            if scanned > max {
                break;
            }
            if !self.fill()? {
                let why = if self.buf[self.pos..].is_empty() && what == "status line" {
                    "empty reply (connection closed before the status line)".to_owned()
                } else {
                    ["connection closed in the ", what].concat()
                };
                return Err(ProbeError::Malformed(why));
            }
        }
        let kib = (cap / 1024).to_string();
        Err(ProbeError::Malformed(
            [what, " longer than ", &kib, " KiB"].concat(),
        ))
    }

    /// Appends up to `n` body bytes to `body`, stopping at `BODY_CAP`.
    pub(super) fn take_exact(&mut self, n: u64, body: &mut Body) -> Result<(), ProbeError> {
        let mut left = n;
        while left > 0 {
            let room = BODY_CAP - body.bytes.len();
            if room == 0 {
                body.capped = true;
                return Ok(());
            }
            if self.pos == self.buf.len() && !self.fill()? {
                let left = left.to_string();
                let why = ["body truncated: connection closed ", &left, " bytes short"];
                return Err(ProbeError::Malformed(why.concat()));
            }
            let take = (self.buf.len() - self.pos)
                .min(room)
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            body.bytes
                .extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            left -= take as u64;
        }
        Ok(())
    }
}

/// Reads the status line and header fields of the final response.
#[inline(never)]
pub(super) fn read_head<R: Read>(wire: &mut Wire<R>) -> Result<Head, ProbeError> {
    for _ in 0..=MAX_INTERIM {
        let line = wire.take_line(HEAD_CAP, HEAD_CAP, "status line")?;
        let status = parse_status_line(&line)?;
        let mut budget = HEAD_CAP - line.len();
        let (mut length, mut chunked, mut encoded) = (None, false, false);
        loop {
            let field = wire.take_line(budget, HEAD_CAP, "response headers")?;
            if field.is_empty() {
                break;
            }
            budget = budget.saturating_sub(field.len() + 2);
            let (name, value) = parse_field(&field)?;
            if eq_ic(name, "content-length") {
                let n = parse_content_length(value)?;
                if length.is_some_and(|old| old != n) {
                    return Err(ProbeError::Malformed("conflicting Content-Length".into()));
                }
                length = Some(n);
            } else if eq_ic(name, "transfer-encoding") {
                // RFC 9112 6.3: chunked must be the last coding; any other
                // final coding means the body runs until the connection closes.
                encoded = true;
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|c| eq_ic(c.trim(), "chunked"));
            }
        }
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let framing = match (status, encoded, chunked, length) {
            (100..=199 | 204 | 304, ..) => Framing::Empty,
            (_, true, true, _) => Framing::Chunked,
            (_, true, false, _) => Framing::UntilClose,
            (_, false, _, Some(n)) => Framing::Length(n),
            _ => Framing::UntilClose,
        };
        return Ok(Head { status, framing });
    }
    const _: () = assert!(MAX_INTERIM == 8, "update the message");
    Err(ProbeError::Malformed(
        "more than 8 interim 1xx responses".into(),
    ))
}

/// `HTTP/1.x NNN reason`.
pub(super) fn parse_status_line(line: &[u8]) -> Result<u16, ProbeError> {
    let status = match line {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', v, b' ', d @ ..]
            if v.is_ascii_digit() && d.len() >= 3 =>
        {
            let (code, rest) = d.split_at(3);
            let digits = code.iter().all(u8::is_ascii_digit);
            (digits && (rest.is_empty() || rest[0] == b' '))
                .then(|| code.iter().fold(0u16, |n, &b| n * 10 + u16::from(b - b'0')))
        }
        _ => None,
    };
    match status {
        Some(n) if n >= 100 => Ok(n),
        _ => Err(ProbeError::Malformed(
            ["bad status line ", &quote(line)].concat(),
        )),
    }
}

pub(super) fn parse_field(field: &[u8]) -> Result<(&str, &str), ProbeError> {
    let bad = || ProbeError::Malformed(["bad header line ", &quote(field)].concat());
    let colon = field.iter().position(|&b| b == b':').ok_or_else(bad)?;
    let (name, value) = (&field[..colon], &field[colon + 1..]);
    if name.is_empty()
        || name
            .iter()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(bad());
    }
    // Values of fields we do not read may hold any bytes; only the framing
    // fields need to be text.
    let name = std::str::from_utf8(name).map_err(|_| bad())?;
    let value = std::str::from_utf8(value)
        .unwrap_or("")
        .trim_matches([' ', '\t']);
    Ok((name, value))
}

/// Digits only; a comma list of equal values is allowed (RFC 9110 8.6).
pub(super) fn parse_content_length(value: &str) -> Result<u64, ProbeError> {
    let bad = || ProbeError::Malformed(["bad Content-Length ", &quote(value.as_bytes())].concat());
    let mut result = None;
    for part in value.split(',') {
        let part = part.trim();
        let n = number(part, 10, u64::MAX).ok_or_else(bad)?;
        if result.is_some_and(|r| r != n) {
            return Err(bad());
        }
        result = Some(n);
    }
    result.ok_or_else(bad)
}

#[inline(never)]
pub(super) fn read_body<R: Read>(wire: &mut Wire<R>, framing: Framing) -> Result<Body, ProbeError> {
    let mut body = Body {
        bytes: Vec::new(),
        capped: false,
    };
    match framing {
        Framing::Empty => {}
        Framing::Length(n) => wire.take_exact(n, &mut body)?,
        Framing::UntilClose => {
            while wire.pos < wire.buf.len() || wire.fill()? {
                if body.bytes.len() == BODY_CAP {
                    body.capped = true;
                    break;
                }
                wire.take_exact((wire.buf.len() - wire.pos) as u64, &mut body)?;
            }
        }
        Framing::Chunked => loop {
            let line = wire.take_line(CHUNK_LINE_CAP, CHUNK_LINE_CAP, "chunk size line")?;
            let size = parse_chunk_size(&line)?;
            if size == 0 {
                // Trailer fields until the blank line; contents unused.
                let mut budget = HEAD_CAP;
                loop {
                    let trailer = wire.take_line(budget, HEAD_CAP, "chunked trailer")?;
                    if trailer.is_empty() {
                        break;
                    }
                    budget = budget.saturating_sub(trailer.len() + 2);
                }
                break;
            }
            wire.take_exact(size, &mut body)?;
            if body.capped {
                break;
            }
            // The CRLF that ends the chunk data; anything else there means
            // the size line lied.
            match wire.take_line(2, 2, "chunk data") {
                Ok(end) if end.is_empty() => {}
                Err(e @ ProbeError::Read(_)) => return Err(e),
                Err(ProbeError::Malformed(why)) if why.starts_with("connection closed") => {
                    return Err(ProbeError::Malformed(why));
                }
                _ => {
                    return Err(ProbeError::Malformed(
                        "chunk data longer than its chunk size".into(),
                    ))
                }
            }
        },
    }
    Ok(body)
}

/// Hex digits, then optional `;extensions`.
pub(super) fn parse_chunk_size(line: &[u8]) -> Result<u64, ProbeError> {
    let bad = || ProbeError::Malformed(["invalid chunk size ", &quote(line)].concat());
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = line[..end].trim_ascii();
    if digits.len() > 15 {
        return Err(bad());
    }
    let text = std::str::from_utf8(digits).map_err(|_| bad())?;
    number(text, 16, u64::MAX).ok_or_else(bad)
}

/// `text` as a number in `radix` (10 or 16), at most `max`: digits only,
/// no sign or spaces. One small parser instead of a generic one per type.
#[inline(never)]
pub(super) fn number(text: &str, radix: u32, max: u64) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for c in text.chars() {
        let digit = u64::from(c.to_digit(radix)?);
        n = n.checked_mul(u64::from(radix))?.checked_add(digit)?;
    }
    (n <= max).then_some(n)
}

/// ASCII case-insensitive equality, kept out of line: inlined, each use
/// becomes its own vectorised loop.
#[inline(never)]
pub(super) fn eq_ic(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Peer bytes for a one-line message: at most 40, escaped.
#[inline(never)]
pub(super) fn quote(bytes: &[u8]) -> String {
    let shown = debug(&String::from_utf8_lossy(&bytes[..bytes.len().min(40)]));
    let more = if bytes.len() > 40 { "..." } else { "" };
    shown + more
}

/// `text` quoted and escaped as Rust's `{:?}` does; one formatting call
/// shared by every message (`concat` builds the rest, which is far smaller
/// than a `format!` per message).
#[inline(never)]
pub(super) fn debug(text: &str) -> String {
    format!("{text:?}")
}
