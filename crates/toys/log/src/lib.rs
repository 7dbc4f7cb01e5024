//! The `log` toy (`patina:toys/log@0.1.0`): log lines attributed to the child,
//! collected per run in the run's [`LogSink`] and returned with the run's
//! outcome.
//!
//! It never writes to the Mother's stdout/stderr itself (the caller decides how
//! to show the lines) and bounds what a child can make it hold (the sink's
//! budgets: [`MAX_MESSAGE`], [`MAX_LINES`], [`MAX_BYTES`]).

use patina_core::ToyName;
use patina_toy::{Args, Toy, ToyContext, ToyError, ToyInstance};
use wasmtime::component::Val;

pub use patina_toy::log::{MAX_BYTES, MAX_LINES, MAX_MESSAGE};
pub use patina_toy::{LogLevel, LogLine, LogSink};

/// The `log` toy.
#[derive(Debug)]
pub struct LogToy {
    interface: ToyName,
}

impl LogToy {
    /// The toy for `patina:toys/log@0.1.0`.
    pub fn new() -> Self {
        let interface = patina_toy::patina_interface("log");
        Self { interface }
    }
}

impl Default for LogToy {
    fn default() -> Self {
        Self::new()
    }
}

impl Toy for LogToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }

    fn grant_kind(&self) -> &str {
        "log"
    }

    fn summary(&self) -> &str {
        "log lines, returned with the run's outcome"
    }

    fn functions(&self) -> &[&str] {
        &["log"]
    }

    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        Ok(Box::new(LogInstance {
            sink: ctx.logs.clone(),
            child: ctx.child.short(),
        }))
    }
}

struct LogInstance {
    sink: LogSink,
    child: String,
}

#[async_trait::async_trait]
impl ToyInstance for LogInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        if function != "log" {
            return Err(ToyError::NoSuchFunction {
                toy: "patina:toys/log".into(),
                function: function.into(),
            });
        }
        let args = Args::new(function, args, 2)?;
        let case = args.enum_case(0)?;
        let level = LogLevel::from_case(case).ok_or_else(|| ToyError::BadArguments {
            function: function.into(),
            reason: format!("unknown level `{case}`"),
        })?;
        let message = args.string(1)?;
        tracing::debug!(target: "patina::child", child = %self.child, level = level.as_str(), "{message}");
        self.sink.push(level, message);
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patina_core::{ChildId, Grant};

    fn instance(sink: &LogSink) -> Box<dyn ToyInstance> {
        let mut ctx = ToyContext::new(ChildId::of(b"child"), vec!["log".parse::<Grant>().unwrap()]);
        ctx.logs = sink.clone();
        LogToy::new().instantiate(&ctx).unwrap()
    }

    #[tokio::test]
    async fn logs_lines_into_the_sink() {
        let sink = LogSink::new();
        let mut log = instance(&sink);
        log.call(
            "log",
            &[Val::Enum("warn".into()), Val::String("careful".into())],
        )
        .await
        .unwrap();
        let (lines, dropped) = sink.snapshot();
        assert_eq!(
            lines,
            vec![LogLine {
                level: LogLevel::Warn,
                message: "careful".into(),
                truncated: false
            }]
        );
        assert_eq!(dropped, 0);
    }

    #[tokio::test]
    async fn long_messages_are_cut_on_a_char_boundary() {
        let sink = LogSink::new();
        let mut log = instance(&sink);
        let long = "é".repeat(MAX_MESSAGE);
        log.call("log", &[Val::Enum("info".into()), Val::String(long)])
            .await
            .unwrap();
        let (lines, _) = sink.snapshot();
        assert!(lines[0].truncated);
        assert!(lines[0].message.len() <= MAX_MESSAGE);
        assert!(lines[0].message.chars().all(|c| c == 'é'));
    }

    #[tokio::test]
    async fn malformed_calls_are_errors_not_panics() {
        let sink = LogSink::new();
        let mut log = instance(&sink);
        assert!(matches!(
            log.call("nope", &[]).await,
            Err(ToyError::NoSuchFunction { .. })
        ));
        assert!(matches!(
            log.call("log", &[]).await,
            Err(ToyError::BadArguments { .. })
        ));
        let wrong = [Val::U32(1), Val::String("x".into())];
        assert!(matches!(
            log.call("log", &wrong).await,
            Err(ToyError::BadArguments { .. })
        ));
        let level = [Val::Enum("loud".into()), Val::String("x".into())];
        assert!(matches!(
            log.call("log", &level).await,
            Err(ToyError::BadArguments { .. })
        ));
    }

    #[test]
    fn lines_past_the_byte_and_line_budgets_are_dropped_and_counted() {
        let sink = LogSink::new();
        let full = "x".repeat(MAX_MESSAGE);
        let fit = MAX_BYTES / MAX_MESSAGE;
        for _ in 0..fit + 3 {
            sink.push(LogLevel::Info, &full);
        }
        let (lines, dropped) = sink.snapshot();
        assert_eq!(lines.len(), fit);
        assert_eq!(dropped, 3);
        assert_eq!(
            lines.iter().map(|l| l.message.len()).sum::<usize>(),
            MAX_BYTES
        );

        let sink = LogSink::new();
        for i in 0..MAX_LINES + 2 {
            sink.push(LogLevel::Debug, &i.to_string());
        }
        let (lines, dropped) = sink.snapshot();
        assert_eq!((lines.len(), dropped), (MAX_LINES, 2));
        assert_eq!(lines[MAX_LINES - 1].message, (MAX_LINES - 1).to_string());
    }

    #[test]
    fn scopes_are_refused() {
        let grant: Grant = "log:verbose".parse().unwrap();
        let err = LogToy::new().canonicalize(&grant).unwrap_err();
        assert!(err.to_string().contains("`log` takes no scope"), "{err}");
    }
}

/// `functions()` serves exactly the functions of `wit/log.wit`, each reading
/// the WIT's number of parameters.
#[cfg(test)]
#[tokio::test]
async fn functions_match_the_wit() {
    let toy = LogToy::new();
    let grants = vec!["log".parse().unwrap()];
    let wit = include_str!("../wit/log.wit");
    patina_toy::wit::check_toy(&toy, "log.wit", wit, grants)
        .await
        .unwrap();
}
