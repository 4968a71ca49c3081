//! hardinit's own messages. They go through `tracing` and come out either
//! as mozlog records (Logger `hardinit`) queued for stdout, or as tini-style
//! plain lines on stderr (`[WARN  tini (1)] ...`) in raw mode.
//!
//! In mozlog mode records are queued, not written: the event loop owns
//! stdout and must never block on it, so it takes the queue with `take`.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Mutex;
use tracing::field::{Field, Visit};
use tracing::{Level, Metadata};

static MOZLOG: AtomicBool = AtomicBool::new(false);
/// 0 error, 1 warn, 2 info, 3 debug, 4 trace.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(1);
static IDENTITY: Mutex<Identity> = Mutex::new(Identity {
    name: String::new(),
    hostname: String::new(),
});

struct Identity {
    /// "hardinit", or "tini" in tini mode (for the wording people grep for).
    name: String,
    hostname: String,
}

thread_local! {
    static QUEUE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Install the subscriber; raw mode and warnings until `configure`.
pub fn install() {
    // A second install (tests) keeps the first subscriber; nothing to do.
    let _ = tracing::subscriber::set_global_default(Events);
    configure(false, 1, "hardinit", String::new());
}

/// `verbosity`: 0 errors, 1 warnings, 2 info, 3 debug, 4 trace.
pub fn configure(mozlog: bool, verbosity: u32, name: &str, hostname: String) {
    MOZLOG.store(mozlog, Ordering::Relaxed);
    MAX_LEVEL.store(verbosity.min(4) as u8, Ordering::Relaxed);
    if let Ok(mut id) = IDENTITY.lock() {
        id.name = name.to_string();
        id.hostname = hostname;
    }
}

pub fn is_mozlog() -> bool {
    MOZLOG.load(Ordering::Relaxed)
}

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 0,
        Level::WARN => 1,
        Level::INFO => 2,
        Level::DEBUG => 3,
        Level::TRACE => 4,
    }
}

/// mozlog Severity (syslog numbers) for a tracing level.
fn severity(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// Move queued records into `out` (the event loop's output buffer).
pub fn take(out: &mut Vec<u8>) {
    QUEUE.with(|q| out.append(&mut q.borrow_mut()));
}

/// Write queued records to stdout outside the loop, waiting at most 2 s
/// for a stalled reader (hardinit must still exit).
pub fn flush_blocking() {
    let mut buf = Vec::new();
    take(&mut buf);
    if !buf.is_empty() {
        // Nothing better to do if stdout is gone: the exit code still tells.
        let _ = crate::sys::write_all_within(libc::STDOUT_FILENO, &buf, 2000);
    }
}

/// One mozlog record from hardinit itself, queued for stdout. `fields` must
/// hold at least `msg` (Fields is never empty).
pub fn queue_record(kind: &str, severity: u8, fields: &serde_json::Map<String, serde_json::Value>) {
    let hostname = IDENTITY
        .lock()
        .map(|id| id.hostname.clone())
        .unwrap_or_default();
    // The envelope in mozlog's usual key order, Fields last.
    let head = serde_json::json!([kind, hostname]);
    let mut line = format!(
        "{{\"Timestamp\":{},\"Type\":{},\"Logger\":\"hardinit\",\"Hostname\":{},\"EnvVersion\":\"2.0\",\"Severity\":{},\"Pid\":{},\"Fields\":",
        crate::sys::realtime_ns(),
        head[0],
        head[1],
        severity,
        crate::sys::getpid()
    )
    .into_bytes();
    // Serialising a map of Values into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut line, fields);
    line.extend_from_slice(b"}\n");
    QUEUE.with(|q| q.borrow_mut().extend_from_slice(&line));
}

struct Events;

#[derive(Default)]
struct Collect {
    message: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Visit for Collect {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.fields
                .insert(field.name().into(), format!("{value:?}").into());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields.insert(field.name().into(), value.into());
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().into(), value.into());
    }
}

impl tracing::Subscriber for Events {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        rank(metadata.level()) <= MAX_LEVEL.load(Ordering::Relaxed)
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut c = Collect::default();
        event.record(&mut c);
        let level = event.metadata().level();
        if is_mozlog() {
            let kind = match c.fields.remove("event") {
                Some(serde_json::Value::String(s)) => format!("hardinit.{s}"),
                _ => "hardinit".to_string(),
            };
            let mut fields = serde_json::Map::new();
            fields.insert("msg".into(), c.message.into());
            fields.append(&mut c.fields);
            queue_record(&kind, severity(level), &fields);
        } else {
            let name = IDENTITY
                .lock()
                .map(|id| id.name.clone())
                .unwrap_or_default();
            let tag = match *level {
                Level::ERROR => "FATAL",
                Level::WARN => "WARN ",
                Level::INFO => "INFO ",
                Level::DEBUG => "DEBUG",
                Level::TRACE => "TRACE",
            };
            let line = format!("[{tag} {name} ({})] {}\n", crate::sys::getpid(), c.message);
            let _ = crate::sys::write_all(libc::STDERR_FILENO, line.as_bytes());
        }
    }
}
