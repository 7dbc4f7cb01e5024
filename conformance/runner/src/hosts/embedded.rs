//! The embedded host: a `patina_mother::Mother` in this process (its own
//! home in a temporary directory), the way an application embeds one.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use anyhow::{Context, Result};
use patina_mother::{InstallSpec, Mother, MotherConfig, ReceiptRef};

use super::{HostUnderTest, InstallKey, Prepared, Ran, is_refusal, spec};
use crate::case::{Case, Named};

/// A Mother in process. Clones share the Mother (the suite replays every
/// host's receipts on the embedded host's Mother: one compilation per child).
#[derive(Clone)]
pub struct Embedded {
    mother: Mother,
    /// What is installed.
    installed: Rc<RefCell<HashSet<InstallKey>>>,
    _home: Rc<tempfile::TempDir>,
}

impl Embedded {
    /// A fresh Mother with its home in a temporary directory.
    pub fn open() -> Result<Self> {
        let home = tempfile::tempdir().context("a home for the embedded Mother")?;
        let mother = Mother::open(MotherConfig::new(home.path().join("home")))
            .context("opening the embedded Mother")?;
        Ok(Self {
            mother,
            installed: Rc::default(),
            _home: Rc::new(home),
        })
    }

    /// The Mother (the suite replays every host's receipts on one).
    pub fn mother(&self) -> &Mother {
        &self.mother
    }

    /// Installs `child` once (remembered only once it is installed: a
    /// failed install is tried again by the next case).
    pub async fn install(&self, child: &Prepared) -> Result<()> {
        self.install_as(child, None).await
    }

    /// Installs `child` under `named`'s name with its grants, once.
    pub async fn install_named(&self, named: &Named, child: &Prepared) -> Result<()> {
        self.install_as(child, Some(named)).await
    }

    async fn install_as(&self, child: &Prepared, named: Option<&Named>) -> Result<()> {
        let key = (named.map(|n| n.name.clone()), child.id.clone());
        if self.installed.borrow().contains(&key) {
            return Ok(());
        }
        let spec = InstallSpec {
            name: key.0.clone(),
            grants: named.map(|n| n.grants.clone()).unwrap_or_default(),
        };
        self.mother
            .install(child.bytes.to_vec(), spec)
            .await
            .with_context(|| format!("installing {} as {:?}", child.path.display(), key.0))?;
        self.installed.borrow_mut().insert(key);
        Ok(())
    }
}

#[async_trait::async_trait(?Send)]
impl HostUnderTest for Embedded {
    fn name(&self) -> &'static str {
        "embedded"
    }

    fn metered(&self) -> bool {
        true
    }

    fn not_applicable(&self, _: &Case) -> Option<String> {
        None
    }

    async fn install_named(&mut self, named: &Named, child: &Prepared) -> Result<Option<String>> {
        Embedded::install_named(self, named, child).await?;
        Ok(None)
    }

    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        self.install(child).await?;
        match self.mother.run(spec(case, &child.id)).await {
            Err(error) if is_refusal(error.kind()) => Ok(Ran::Refused {
                kind: error.kind().to_owned(),
                message: error.to_string(),
            }),
            Err(error) => Err(error).context("the embedded Mother failed"),
            Ok(output) => {
                let receipt = output.receipt.context("a recorded run left no receipt")?;
                let (receipt, blobs) = self
                    .mother
                    .receipt(&ReceiptRef::Stored(receipt.id.hex()))
                    .await
                    .context("reading the run's receipt back")?;
                Ok(Ran::Recorded {
                    receipt: Box::new(receipt),
                    blobs,
                })
            }
        }
    }
}
