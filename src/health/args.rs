//! Arguments -> `Probe`: everything that can be wrong with the command
//! line is found here, before any connection (exit 2).

use super::*;

#[derive(Debug)]
pub(super) enum Command {
    Help,
    Probe(Probe),
}

#[derive(Debug)]
pub(super) struct Probe {
    pub(super) target: Target,
    pub(super) timeout: Duration,
    /// As typed (`300ms`), so the timeout message quotes the user.
    pub(super) timeout_text: String,
    pub(super) statuses: Vec<(u16, u16)>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) expect_body: Option<String>,
}

#[derive(Debug, PartialEq)]
pub(super) enum Address {
    Inet { host: String, port: u16 },
    Unix(PathBuf),
}

#[derive(Debug, PartialEq)]
pub(super) struct Target {
    pub(super) address: Address,
    /// `None` for `tcp://`: connect only.
    pub(super) http: Option<HttpTarget>,
}

#[derive(Debug, PartialEq)]
pub(super) struct HttpTarget {
    pub(super) host_header: String,
    pub(super) path: String,
}

#[inline(never)]
pub(super) fn parse_args(args: &[OsString]) -> Result<Command, String> {
    let mut timeout_text = "5s".to_owned();
    let mut statuses = "200-299".to_owned();
    let mut headers = Vec::new();
    let mut expect_body = None;
    let mut urls = Vec::new();
    let mut only_positional = false;
    let mut it = args.iter();
    while let Some(raw) = it.next() {
        let arg = raw.to_str().ok_or_else(|| {
            [
                "argument ",
                &debug(&raw.to_string_lossy()),
                " is not valid UTF-8",
            ]
            .concat()
        })?;
        if only_positional || arg == "-" || !arg.starts_with('-') {
            urls.push(arg.to_owned());
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg, None),
        };
        if !matches!(
            name,
            "--timeout" | "--status" | "--header" | "--expect-body"
        ) {
            return Err(["unknown option ", name].concat());
        }
        let value = match inline {
            Some(value) => value,
            None => it
                .next()
                .and_then(|v| v.to_str())
                .ok_or_else(|| [name, " needs a UTF-8 value"].concat())?
                .to_owned(),
        };
        match name {
            "--timeout" => timeout_text = value,
            "--status" => statuses = value,
            "--header" => headers.push(parse_header(&value)?),
            _ if value.is_empty() => return Err("--expect-body must not be empty".into()),
            _ => expect_body = Some(value),
        }
    }
    let url = match urls.as_slice() {
        [url] => url,
        [] => return Err("missing URL".into()),
        [_, extra, ..] => {
            return Err(["unexpected argument ", &debug(extra), ": give one URL"].concat())
        }
    };
    Ok(Command::Probe(Probe {
        target: parse_target(url)?,
        timeout: parse_duration(&timeout_text)?,
        timeout_text,
        statuses: parse_statuses(&statuses)?,
        headers,
        expect_body,
    }))
}

/// `500ms`, `2s`, `1m`; a unit is required so `5` cannot mean 5 ms by mistake.
#[inline(never)]
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        let hint = ": use e.g. 500ms, 2s or 1m, at most 60m";
        ["invalid --timeout ", &debug(text), hint].concat()
    };
    let (digits, unit_ms) = if let Some(d) = text.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = text.strip_suffix('s') {
        (d, 1000)
    } else if let Some(d) = text.strip_suffix('m') {
        (d, 60_000)
    } else {
        return Err(bad());
    };
    let n = number(digits, 10, u64::MAX).ok_or_else(bad)?;
    let timeout = Duration::from_millis(n.checked_mul(unit_ms).ok_or_else(bad)?);
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        return Err(bad());
    }
    Ok(timeout)
}

/// `200,204` or `200-399`, or a mix; each status in 100-599.
#[inline(never)]
pub(super) fn parse_statuses(text: &str) -> Result<Vec<(u16, u16)>, String> {
    let bad = || {
        [
            "invalid --status ",
            &debug(text),
            ": use e.g. 200,204 or 200-399",
        ]
        .concat()
    };
    let status = |s: &str| match number(s.trim(), 10, 599) {
        Some(n) if n >= 100 => Ok(n as u16),
        _ => Err(bad()),
    };
    text.split(',')
        .map(|item| {
            let (lo, hi) = match item.split_once('-') {
                Some((lo, hi)) => (status(lo)?, status(hi)?),
                None => (status(item)?, status(item)?),
            };
            if lo <= hi {
                Ok((lo, hi))
            } else {
                Err(bad())
            }
        })
        .collect()
}

/// `Name: value`. The name must be an HTTP token and the value free of
/// control characters, so an argument cannot smuggle extra request lines.
#[inline(never)]
pub(super) fn parse_header(text: &str) -> Result<(String, String), String> {
    let bad = |why: &str| ["invalid --header ", &debug(text), ": ", why].concat();
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| bad("expected 'Name: value'"))?;
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(bad("the name must be a token such as X-Probe"));
    }
    let value = value.trim_matches([' ', '\t']);
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(bad("control characters in the value"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

#[inline(never)]
pub(super) fn parse_target(url: &str) -> Result<Target, String> {
    if let Some(rest) = url.strip_prefix("http://") {
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let (host, port) = parse_authority(authority, Some(80))?;
        let path = path.split('#').next().unwrap_or_default();
        let path = match path.strip_prefix('?') {
            Some(_) => ["/", path].concat(),
            None if path.is_empty() => "/".to_owned(),
            None => path.to_owned(),
        };
        check_request_path(&path)?;
        Ok(Target {
            address: Address::Inet { host, port },
            http: Some(HttpTarget {
                host_header: authority.to_owned(),
                path,
            }),
        })
    } else if let Some(rest) = url.strip_prefix("tcp://") {
        let (host, port) = parse_authority(rest.strip_suffix('/').unwrap_or(rest), None)?;
        Ok(Target {
            address: Address::Inet { host, port },
            http: None,
        })
    } else if let Some(rest) = url.strip_prefix("unix:") {
        let (socket, path) = rest.split_once(':').unwrap_or((rest, "/"));
        if socket.is_empty() {
            let hint = ": use unix:/run/app.sock:/PATH";
            return Err(["missing socket path in ", &debug(url), hint].concat());
        }
        if !path.starts_with('/') {
            let (path, url) = (debug(path), debug(url));
            return Err(["request path ", &path, " in ", &url, " must start with '/'"].concat());
        }
        check_request_path(path)?;
        Ok(Target {
            address: Address::Unix(PathBuf::from(socket)),
            http: Some(HttpTarget {
                host_header: "localhost".into(),
                path: path.into(),
            }),
        })
    } else if url.starts_with("https://") {
        Err(
            "https is not supported (no TLS): probe the plain HTTP port inside the container"
                .into(),
        )
    } else {
        let hint = ": use http://, unix: or tcp://";
        Err(["unsupported URL ", &debug(url), hint].concat())
    }
}

/// `HOST[:PORT]` with HOST an IPv4 address, `[IPv6]` or localhost.
#[inline(never)]
pub(super) fn parse_authority(
    authority: &str,
    default_port: Option<u16>,
) -> Result<(String, u16), String> {
    let bad = |why: &str| ["invalid address ", &debug(authority), ": ", why].concat();
    if authority.contains('@') {
        return Err(bad(
            "credentials in the URL are not supported; use --header",
        ));
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
        v6.parse::<Ipv6Addr>()
            .map_err(|_| bad("not an IPv6 address"))?;
        match after {
            "" => (v6, None),
            _ => (
                v6,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| bad("expected ':PORT'"))?,
                ),
            ),
        }
    } else {
        match authority.split_once(':') {
            Some((_, port)) if port.contains(':') => return Err(bad("put IPv6 addresses in [ ]")),
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad("missing host"));
    }
    let port = match (port, default_port) {
        (Some(p), _) => match number(p, 10, 65535) {
            Some(n) if n != 0 => n as u16,
            _ => return Err(bad("the port must be 1-65535")),
        },
        (None, Some(p)) => p,
        (None, None) => return Err(bad("missing ':PORT'")),
    };
    if addresses(host).is_empty() {
        return Err([NO_RESOLVER, ": ", &debug(host)].concat());
    }
    Ok((host.to_owned(), port))
}

/// The path goes verbatim into the request line: printable ASCII only.
pub(super) fn check_request_path(path: &str) -> Result<(), String> {
    if path.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        let hint = " has spaces or non-ASCII characters; percent-encode them";
        Err(["request path ", &debug(path), hint].concat())
    }
}
