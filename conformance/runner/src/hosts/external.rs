//! A third party's host, named on the command line (`--external
//! NAME=COMMAND`): the command is run with `sh -c` and driven through the
//! suite's line protocol (`stdio.rs`, docs/conformance.md §5). It is taken
//! as a host without a fuel meter (its receipts say `meter: none`, fuel 0,
//! and are compared with the others on the portable hash); a case it cannot
//! run, it answers `not_applicable` with the reason itself.

use anyhow::Result;
use tokio::process::Command;

use super::stdio::StdioHost;
use super::{HostUnderTest, Prepared, Ran};
use crate::case::Case;

/// A host outside this repository.
pub struct External {
    name: &'static str,
    host: StdioHost,
}

/// Starts `command` as the host `name`.
pub fn start(name: &str, command: &str) -> Result<Box<dyn HostUnderTest>> {
    let mut shell = Command::new("sh");
    shell.arg("-c").arg(command);
    let host = StdioHost::spawn(&format!("the host `{name}` (`{command}`)"), shell)?;
    // The matrix names hosts by `&'static str`; a run has a handful.
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    Ok(Box::new(External { name, host }))
}

#[async_trait::async_trait(?Send)]
impl HostUnderTest for External {
    fn name(&self) -> &'static str {
        self.name
    }

    fn metered(&self) -> bool {
        false
    }

    fn not_applicable(&self, _: &Case) -> Option<String> {
        None
    }

    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        self.host.ask(case, child).await
    }
}
