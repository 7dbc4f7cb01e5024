//! [`Mother`]: the composition `mother` runs on — the host, the installed
//! children, the Mother's identity and its receipt store, all under
//! `$PATINA_HOME` — and how a CHILD or RECEIPT argument becomes bytes.
//! It only wires the libraries together; the logic lives in them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use patina_host::{Child, ChildStore, Host, HostConfig, RunReport, unix_millis};
use patina_receipts::store::{ReceiptStore, SqliteStore, open_sqlite};
use patina_receipts::{Blob, ExportedReceipt, Identity, Receipt, canonical};
use patina_toys::{InvokeToy, Invoker, InvokerSlot, ToyStateDir, create_private_dir};

/// The Mother's state and the layers built on it.
pub struct Mother {
    root: PathBuf,
    /// Installed children (and the bytes of every child a receipt names).
    pub children: ChildStore,
    /// The child host.
    pub host: Host,
    /// The key receipts are signed with (created on first use, mode 0600).
    pub identity: Identity,
    /// Receipts: this Mother's chain and imported ones.
    pub receipts: SqliteStore,
    /// Runs the children other children invoke (kept alive here; the
    /// `invoke` toy holds it weakly).
    invoker: OnceLock<Arc<crate::invoker::MotherInvoker>>,
}

impl Mother {
    /// Opens `root`, or the platform data directory's `patina` folder.
    pub fn open(root: Option<PathBuf>) -> Result<Arc<Self>> {
        let root = match root {
            Some(root) => root,
            None => dirs::data_dir()
                .context("no platform data directory; set PATINA_HOME")?
                .join("patina"),
        };
        if !root.exists() {
            create_private_dir(&root).with_context(|| format!("creating {}", root.display()))?;
        }
        let children = ChildStore::open(&root)?;
        let identity = Identity::load_or_create(&root.join("identity.key"))?;
        let toys =
            patina_toys::standard(&ToyStateDir::new(&root)).context("opening the toys' state")?;
        let mut config = HostConfig::with_toys(toys, Some(root.join("cache")));
        // No grant may reach into the Mother's home (its key, receipts,
        // stores), or contain it.
        config.protected.push(root.clone());
        let slot = InvokerSlot::new();
        config.toys.register(Arc::new(InvokeToy::new(slot.clone())));
        // Compiled artifacts carry a tag only this Mother can make: a file
        // dropped into its cache by anyone else is recompiled, never run.
        config.cache_key = Some(blake3::derive_key(
            "patina artifact cache v1",
            &identity.seed(),
        ));
        let host = Host::new(config)?;
        let receipts = open_sqlite(&root)?;
        let mother = Arc::new(Self {
            root,
            children,
            host,
            identity,
            receipts,
            invoker: OnceLock::new(),
        });
        let invoker = Arc::new(crate::invoker::MotherInvoker::new(Arc::downgrade(&mother)));
        let weak: std::sync::Weak<dyn Invoker> =
            Arc::downgrade(&(invoker.clone() as Arc<dyn Invoker>));
        slot.set(weak);
        let _ = mother.invoker.set(invoker);
        Ok(mother)
    }

    /// The state directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Loads the child `reference` names: an existing file, else an installed
    /// name or id (prefix).
    pub fn load(&self, reference: &str) -> Result<Child> {
        let path = Path::new(reference);
        let bytes = if path.is_file() {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        } else {
            let id = self.children.resolve(reference)?;
            self.children.read(&id)?
        };
        Ok(self.host.load(&bytes)?)
    }

    /// Seals a recorded run into a signed receipt and appends it (durably) to
    /// this Mother's chain. Keeps the child's bytes too, so the receipt can be
    /// replayed later. `None` for a live run.
    /// The report's events move into the receipt.
    pub fn record(&self, child: &Child, report: &mut RunReport) -> Result<Option<Receipt>> {
        let Some((transcript, blobs)) = report.take_transcript() else {
            return Ok(None);
        };
        self.children.install(child.bytes(), None)?;
        let (started, ended) = (unix_millis(report.started_at), unix_millis(report.ended_at));
        let receipt = self.receipts.append(
            &self.identity.id(),
            &mut |previous| {
                canonical::seal(transcript.clone(), &self.identity, started, ended, previous)
            },
            &blobs,
        )?;
        Ok(Some(receipt))
    }

    /// The receipt `reference` names — a file (an export or a bare receipt),
    /// else a stored id or unique prefix — with the blobs it refers to.
    pub fn receipt(&self, reference: &str) -> Result<(Receipt, Vec<Blob>)> {
        let path = Path::new(reference);
        if path.is_file() {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            return Ok(ExportedReceipt::decode(&bytes)?);
        }
        let id = self.receipts.resolve(reference)?;
        let receipt = self
            .receipts
            .get(&id)?
            .ok_or_else(|| patina_receipts::ReceiptError::NotFound(reference.to_owned()))?;
        let mut blobs = Vec::new();
        for digest in receipt.references() {
            if let Some(bytes) = self.receipts.blob(&digest)? {
                blobs.push(Blob { digest, bytes });
            }
        }
        Ok((receipt, blobs))
    }
}
