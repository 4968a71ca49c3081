//! Response parsing, pure over any `Source` (unit-tested on byte slices).

use super::*;

/// Bytes asked of the peer per read.
const READ_SIZE: usize = 16 * 1024;

// What `Wire::line` reads, and its limit, for messages: `connection
// closed in the NOUN`, `NOUN LIMIT`. Shared pieces keep the text small.
const STATUS_LINE: &str = "status line";
const HEADERS: &str = "response headers";
const HEAD_LIMIT: &str = " longer than 64 KiB";

/// Where response bytes come from: the socket, or a byte slice in tests.
pub(super) trait Source {
    /// As read(2): 0 at end of stream.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno>;
}

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
/// byte counts for the body.
pub(super) struct Wire<'b, S> {
    src: S,
    /// Bytes `pos..end` are read and not consumed yet. Room for the longest
    /// line allowed and one read: `fill` is called with at most a line's
    /// worth pending, which it moves to the front. Lent by the caller, so
    /// that a message can quote from it after the connection is closed.
    buf: &'b mut [u8],
    pos: usize,
    end: usize,
    /// Where the last line returned by `line` is in `buf`: the line a
    /// `Detail::Line` error is about.
    last: (usize, usize),
    /// What the probe is doing, for a read error or timeout.
    pub(super) during: &'static str,
}

impl<'b, S: Source> Wire<'b, S> {
    pub(super) fn new(src: S, buf: &'b mut Vec<u8>) -> Self {
        *buf = vec![0; HEAD_CAP + READ_SIZE];
        Wire {
            src,
            buf,
            pos: 0,
            end: 0,
            last: (0, 0),
            during: "waiting for the response",
        }
    }

    /// The bytes read and not consumed yet (`get`: `pos <= end <= len`
    /// always holds, but without a bounds check there is no panic path).
    fn pending(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    /// Reads more bytes after the unconsumed ones; false at end of stream.
    #[inline(never)]
    fn fill(&mut self) -> Result<bool, Fail<'static>> {
        // Consumed bytes make room.
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        let free = self.buf.get_mut(self.end..).unwrap_or_default();
        let n = self.src.read(free);
        let n = n.map_err(|errno| Fail {
            errno: Some(errno),
            ..fail(self.during, Detail::None, "")
        })?;
        self.end += n;
        Ok(n > 0)
    }

    /// The next line without its LF or CRLF, the `noun` of messages: one
    /// over `max` bytes is `NOUN LIMIT`, the connection closing first is
    /// `connection closed in the NOUN`.
    #[inline(never)]
    pub(super) fn line(
        &mut self,
        max: usize,
        noun: &'static str,
        limit: &'static str,
    ) -> Result<&[u8], Fail<'static>> {
        let mut scanned = 0;
        loop {
            let pending = self.pending();
            let newline = pending.iter().skip(scanned).position(|&b| b == b'\n');
            if let Some(len) = newline.map(|i| scanned + i) {
                if len > max {
                    break;
                }
                let cr = len.checked_sub(1).and_then(|i| pending.get(i)) == Some(&b'\r');
                let start = self.pos;
                self.pos += len + 1;
                self.last = (start, start + len - usize::from(cr));
                return Ok(self.buf.get(self.last.0..self.last.1).unwrap_or_default());
            }
            scanned = pending.len();
            if scanned > max {
                break;
            }
            if !self.fill()? {
                return Err(if scanned == 0 && noun == STATUS_LINE {
                    fail(
                        "empty reply (connection closed before the status line)",
                        Detail::None,
                        "",
                    )
                } else {
                    fail("connection closed in the ", Detail::None, noun)
                });
            }
        }
        Err(fail(noun, Detail::None, limit))
    }

    /// `fail` quoting the line it is about (`Detail::Line`), read from
    /// the buffer, which outlives the connection.
    pub(super) fn quote_line<'a>(self, fail: Fail<'a>) -> Fail<'a>
    where
        'b: 'a,
    {
        let Wire { buf, last, .. } = self;
        let buf: &'b [u8] = buf;
        match fail.detail {
            Detail::Line => Fail {
                detail: Detail::Peer(buf.get(last.0..last.1).unwrap_or_default()),
                ..fail
            },
            _ => fail,
        }
    }

    /// Moves up to `n` body bytes to `body`, at most `BODY_CAP` in all. The
    /// stream ending first is an error, unless the body runs `until_close`.
    #[inline(never)]
    pub(super) fn take(
        &mut self,
        n: u64,
        body: &mut Body,
        until_close: bool,
    ) -> Result<(), Fail<'static>> {
        let mut left = n;
        while left > 0 {
            let room = BODY_CAP - body.bytes.len();
            if room == 0 {
                body.capped = true;
                break;
            }
            if self.pos == self.end && !self.fill()? {
                if until_close {
                    break;
                }
                let what = "body truncated: connection closed ";
                return Err(fail(what, Detail::Number(left), " bytes short"));
            }
            let take = room.min(usize::try_from(left).unwrap_or(room));
            let part = self.pending().get(..take).unwrap_or(self.pending());
            body.bytes.extend_from_slice(part);
            let took = part.len();
            self.pos += took;
            left -= took as u64;
        }
        Ok(())
    }
}

/// Reads the status line and header fields of the final response.
pub(super) fn read_head<S: Source>(wire: &mut Wire<'_, S>) -> Result<Head, Fail<'static>> {
    for _ in 0..=MAX_INTERIM {
        let line = wire.line(HEAD_CAP, STATUS_LINE, HEAD_LIMIT)?;
        let mut budget = HEAD_CAP - line.len();
        let status = parse_status_line(line)?;
        let (mut length, mut chunked, mut encoded) = (None, false, false);
        loop {
            let field = wire.line(budget, HEADERS, HEAD_LIMIT)?;
            if field.is_empty() {
                break;
            }
            budget = budget.saturating_sub(field.len() + 2);
            let (name, value) = parse_field(field)?;
            if eq_ic(name, b"content-length") {
                add_content_length(value, &mut length)?;
            } else if eq_ic(name, b"transfer-encoding") {
                // RFC 9112 6.3: chunked must be the last coding; any other
                // final coding means the body runs until the connection closes.
                encoded = true;
                let last = value.iter().rposition(|&b| b == b',').map_or(0, |i| i + 1);
                chunked = eq_ic(trim(value.get(last..).unwrap_or_default()), b"chunked");
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
    Err(fail("more than 8 interim 1xx responses", Detail::None, ""))
}

/// `HTTP/1.x NNN reason`.
pub(super) fn parse_status_line(line: &[u8]) -> Result<u16, Fail<'static>> {
    if let Some([minor, b' ', a, b, c, rest @ ..]) = after(line, b"HTTP/1.") {
        let status = number(&[*a, *b, *c], 10, 599);
        if let (true, [] | [b' ', ..], Some(status @ 100..)) =
            (minor.is_ascii_digit(), rest, status)
        {
            return Ok(status as u16);
        }
    }
    Err(fail("bad status line ", Detail::Line, ""))
}

/// `Name: value`, the value without surrounding blanks. Values of fields we
/// do not read may hold any bytes.
pub(super) fn parse_field(field: &[u8]) -> Result<(&[u8], &[u8]), Fail<'static>> {
    match cut(field, b':') {
        (name, Some(value))
            if !name.is_empty()
                && !name
                    .iter()
                    .any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) =>
        {
            Ok((name, trim(value)))
        }
        _ => Err(fail("bad response header line ", Detail::Line, "")),
    }
}

/// Adds a Content-Length field to what earlier ones said: digits only;
/// repeated fields and comma lists are allowed if all values are equal
/// (RFC 9110 8.6).
pub(super) fn add_content_length(
    value: &[u8],
    length: &mut Option<u64>,
) -> Result<(), Fail<'static>> {
    let mut rest = Some(value);
    while let Some(list) = rest {
        let item;
        (item, rest) = cut(list, b',');
        let Some(n) = number(trim(item), 10, u64::MAX) else {
            return Err(fail("bad Content-Length in ", Detail::Line, ""));
        };
        if length.is_some_and(|l| l != n) {
            return Err(fail("conflicting Content-Length in ", Detail::Line, ""));
        }
        *length = Some(n);
    }
    Ok(())
}

pub(super) fn read_body<S: Source>(
    wire: &mut Wire<'_, S>,
    framing: Framing,
) -> Result<Body, Fail<'static>> {
    let mut body = Body {
        bytes: Vec::new(),
        capped: false,
    };
    match framing {
        Framing::Empty => {}
        Framing::Length(n) => wire.take(n, &mut body, false)?,
        Framing::UntilClose => wire.take(u64::MAX, &mut body, true)?,
        Framing::Chunked => loop {
            let limit = " longer than 4 KiB";
            let line = wire.line(CHUNK_LINE_CAP, "chunk size line", limit)?;
            let size = parse_chunk_size(line)?;
            if size == 0 {
                // Trailer fields until the blank line; contents unused.
                let mut budget = HEAD_CAP;
                loop {
                    let trailer = wire.line(budget, "chunked trailer", HEAD_LIMIT)?;
                    if trailer.is_empty() {
                        break;
                    }
                    budget = budget.saturating_sub(trailer.len() + 2);
                }
                break;
            }
            wire.take(size, &mut body, false)?;
            if body.capped {
                break;
            }
            // The CRLF that ends the chunk data; anything else there means
            // the size line lied.
            let (noun, limit) = ("chunk data", " longer than its chunk size");
            if !wire.line(1, noun, limit)?.is_empty() {
                return Err(fail(noun, Detail::None, limit));
            }
        },
    }
    Ok(body)
}

/// Hex digits, then optional `;extensions`.
pub(super) fn parse_chunk_size(line: &[u8]) -> Result<u64, Fail<'static>> {
    let digits = trim(cut(line, b';').0);
    match number(digits, 16, u64::MAX) {
        Some(n) if digits.len() <= 15 => Ok(n),
        _ => Err(fail("invalid chunk size ", Detail::Line, "")),
    }
}
