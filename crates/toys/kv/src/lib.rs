//! The `kv` toy (`patina:toys/kv@0.1.0`): a key-value store of the child's own
//! (grant `kv`) and read-only SQL on granted SQLite files (grant `kv:FILE`).
//!
//! Every access to the own store is scoped to the run's child id
//! (`ctx.child`); no function takes a child id, so no child can name another's
//! keys. `query` only opens files that were granted, by their canonical path,
//! and never changes their content or attaches ([`query`]). A full or busy
//! own store is an `err` answer; only a broken one is a [`ToyError`]. SQLite
//! work runs in `spawn_blocking`; the store's lock is never held across an
//! `.await`.

#[cfg(test)]
mod answer_tests;
mod query;
#[cfg(test)]
mod query_tests;
#[cfg(test)]
mod quota_tests;
pub(crate) mod store;
pub use store::MAX_VALUE;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use patina_core::{Grant, GrantError, ToyName};
use rusqlite::types::Value;
use wasmtime::component::Val;

use patina_toy::typed::{LinkTypedError, TypedLinker};
use patina_toy::{Args, Deferred, Toy, ToyContext, ToyError, ToyInstance, vals};

use query::MAX_QUERY_TIME;
use store::{Store, StoreError};

/// The `kv` toy: the Mother's store of every child's keys, one SQLite file.
#[derive(Debug)]
pub struct KvToy {
    interface: ToyName,
    store: Deferred<Store>,
    quota: u64,
}

impl KvToy {
    /// Opens (creating it and its directory, owner-only, if needed) the
    /// Mother's kv store, the SQLite file at `path`.
    pub fn open(path: PathBuf) -> Result<Self, ToyError> {
        let store = open_store(&path)?;
        Ok(Self::with_store(Deferred::ready(Arc::new(store))))
    }

    /// The toy over the Mother's kv store at `path`, opened (as
    /// [`Self::open`] does) by the first run granted a bare `kv`: a run
    /// without that grant never touches the file.
    pub fn deferred(path: PathBuf) -> Self {
        Self::with_store(Deferred::new(move || open_store(&path)))
    }

    fn with_store(store: Deferred<Store>) -> Self {
        Self {
            interface: patina_toy::patina_interface("kv"),
            store,
            quota: store::DEFAULT_QUOTA,
        }
    }

    /// The most bytes (namespaces, keys and values) one child may keep in
    /// its own store; [`DEFAULT_QUOTA`](store::DEFAULT_QUOTA) (256 MiB) unless
    /// set. A `set` past it is an `err` answer.
    pub fn with_quota(mut self, bytes: u64) -> Self {
        self.quota = bytes;
        self
    }

    /// How many bytes `child` keeps in its own store now.
    pub fn usage(&self, child: &patina_core::ChildId) -> Result<u64, ToyError> {
        self.store
            .get()?
            .usage(&child.to_string())
            .map_err(|e| ToyError::Store {
                reason: e.to_string(),
            })
    }
}

/// Opens (creating it and its directory, owner-only, if needed) the kv
/// store at `path`.
fn open_store(path: &Path) -> Result<Store, ToyError> {
    let backend = |what: &str, e: &dyn std::fmt::Display| ToyError::Store {
        reason: format!("kv store {}: {what}: {e}", path.display()),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        patina_toy::create_private_dir(dir)
            .map_err(|e| backend("cannot create its directory", &e))?;
    }
    let store = Store::open(path).map_err(|e| backend("cannot open", &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| backend("cannot restrict its permissions", &e))?;
    }
    Ok(store)
}

impl Toy for KvToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }

    fn grant_kind(&self) -> &str {
        "kv"
    }

    fn summary(&self) -> &str {
        "`kv`: the child's own key-value store; `kv:FILE`: read-only SQL on an SQLite file"
    }

    fn functions(&self) -> &[&str] {
        &["get", "set", "delete", "keys", "clear", "query"]
    }

    /// `kv` stays as is; `kv:FILE` becomes `kv:/canonical/path` of a regular file.
    fn canonicalize(&self, grant: &Grant) -> Result<Grant, GrantError> {
        let Some(scope) = grant.scope() else {
            return Ok(grant.clone());
        };
        let canonical = std::fs::canonicalize(scope)
            .map_err(|e| grant.scope_error(format!("cannot resolve the database file: {e}")))?;
        let meta = std::fs::metadata(&canonical)
            .map_err(|e| grant.scope_error(format!("cannot read the database file: {e}")))?;
        if !meta.is_file() {
            return Err(grant.scope_error(format!(
                "{} is not a regular file (an SQLite database file is needed)",
                canonical.display()
            )));
        }
        let text = canonical
            .to_str()
            .ok_or_else(|| grant.scope_error("the database path is not valid UTF-8"))?;
        grant.with_scope(Some(text.to_owned()))
    }

    /// Any number of grants: at most one bare `kv` and any `kv:FILE`s.
    fn combine(&self, _grants: &[Grant]) -> Result<(), GrantError> {
        Ok(())
    }

    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        let own = ctx.grants.iter().any(|g| g.scope().is_none());
        let files = ctx
            .grants
            .iter()
            .filter_map(|g| g.scope().map(str::to_owned))
            .collect();
        Ok(Box::new(KvInstance {
            child: ctx.child.to_string(),
            store: own.then(|| self.store.get()).transpose()?,
            quota: self.quota,
            files,
        }))
    }

    fn link_typed(&self, linker: &mut TypedLinker<'_, '_>) -> Result<(), LinkTypedError> {
        link_typed(linker)
    }
}

struct KvInstance {
    /// The run's child id: the only owner this instance ever reads or writes.
    child: String,
    /// The own store, when a bare `kv` was granted.
    store: Option<Arc<Store>>,
    /// The most bytes the child may keep in the own store.
    quota: u64,
    /// Canonical paths of the granted database files.
    files: Vec<String>,
}

/// `ok(value)`; `err(message)` for a refusal or a store that is full or busy
/// (a child can fill the disk, another process can hold the lock: the child
/// may handle both); a [`ToyError`] only for breakage of the store itself
/// (corrupt, unreadable), which no answer could explain to the child.
fn typed_answer<T>(result: Result<T, StoreError>) -> Result<Result<T, String>, ToyError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(StoreError::Refused(message)) => Ok(Err(message)),
        Err(e @ StoreError::Unavailable(_)) => Ok(Err(e.to_string())),
        Err(e @ StoreError::Sqlite(_)) => Err(ToyError::Store {
            reason: e.to_string(),
        }),
    }
}

/// [`typed_answer`] as a component value.
fn answer<T>(
    result: Result<T, StoreError>,
    ok: impl FnOnce(T) -> Option<Val>,
) -> Result<Val, ToyError> {
    Ok(match typed_answer(result)? {
        Ok(value) => vals::ok(ok(value)),
        Err(message) => vals::err_string(message),
    })
}

/// The answer to a call on the own store of a run that has none.
const NO_OWN_STORE: &str =
    "this run has no store of its own: it needs the bare `kv` grant (`--grant kv`)";

/// Links `get` and `set`, which move bytes, with typed lifting.
fn link_typed(linker: &mut TypedLinker<'_, '_>) -> Result<(), LinkTypedError> {
    linker.func(
        "get",
        |kv: &mut KvInstance, (namespace, key): (String, String)| {
            Box::pin(async move { Ok((kv.get(namespace, key).await?,)) })
        },
    )?;
    linker.func(
        "set",
        |kv: &mut KvInstance, (namespace, key, value): (String, String, Vec<u8>)| {
            Box::pin(async move { Ok((kv.set(namespace, key, value).await?,)) })
        },
    )
}

impl KvInstance {
    /// `get`, typed.
    async fn get(
        &self,
        namespace: String,
        key: String,
    ) -> Result<Result<Option<Vec<u8>>, String>, ToyError> {
        let Some(store) = self.store.clone() else {
            return Ok(Err(NO_OWN_STORE.into()));
        };
        let child = self.child.clone();
        typed_answer(
            patina_toy::blocking("the kv store", move || store.get(&child, &namespace, &key))
                .await?,
        )
    }

    /// `set`, typed.
    async fn set(
        &self,
        namespace: String,
        key: String,
        value: Vec<u8>,
    ) -> Result<Result<(), String>, ToyError> {
        let Some(store) = self.store.clone() else {
            return Ok(Err(NO_OWN_STORE.into()));
        };
        let (child, quota) = (self.child.clone(), self.quota);
        typed_answer(
            patina_toy::blocking("the kv store", move || {
                store.set(&child, &namespace, &key, &value, quota)
            })
            .await?,
        )
    }

    async fn own(&self, function: &str, args: &[Val]) -> Result<Val, ToyError> {
        let arity = match function {
            "get" | "delete" | "keys" => 2,
            "set" => 3,
            _ => 1,
        };
        let args = Args::new(function, args, arity)?;
        let namespace = args.string(0)?.to_owned();
        let key = if arity >= 2 {
            args.string(1)?.to_owned()
        } else {
            String::new()
        };
        let value = if arity == 3 {
            args.bytes(2)?
        } else {
            Vec::new()
        };
        match function {
            "get" => {
                return Ok(match self.get(namespace, key).await? {
                    Ok(value) => vals::ok(Some(vals::option(value.as_deref().map(vals::bytes)))),
                    Err(message) => vals::err_string(message),
                });
            }
            "set" => {
                return Ok(match self.set(namespace, key, value).await? {
                    Ok(()) => vals::ok(None),
                    Err(message) => vals::err_string(message),
                });
            }
            _ => {}
        }
        let Some(store) = self.store.clone() else {
            return Ok(vals::err_string(NO_OWN_STORE));
        };
        let child = self.child.clone();
        match function {
            "delete" => answer(
                patina_toy::blocking("the kv store", move || {
                    store.delete(&child, &namespace, &key)
                })
                .await?,
                |removed| Some(Val::Bool(removed)),
            ),
            "keys" => answer(
                patina_toy::blocking("the kv store", move || store.keys(&child, &namespace, &key))
                    .await?,
                |keys| Some(vals::strings(keys)),
            ),
            _ => answer(
                patina_toy::blocking("the kv store", move || store.clear(&child, &namespace))
                    .await?,
                |n| Some(Val::U64(n)),
            ),
        }
    }

    async fn query(&self, args: &[Val]) -> Result<Val, ToyError> {
        let args = Args::new("query", args, 3)?;
        let database = args.string(0)?;
        let sql = args.string(1)?.to_owned();
        let params = match args.value(2)? {
            Val::List(items) => items
                .iter()
                .map(value_from_val)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ToyError::BadArguments {
                    function: "query".into(),
                    reason: "params must be a list of `value`".into(),
                })?,
            _ => {
                return Err(ToyError::BadArguments {
                    function: "query".into(),
                    reason: "params must be a list of `value`".into(),
                });
            }
        };
        let path = match self.database(database) {
            Ok(path) => path,
            Err(message) => return Ok(vals::err_string(message)),
        };
        Ok(
            match patina_toy::blocking("the kv store", move || {
                query::query(&path, &sql, params, MAX_QUERY_TIME)
            })
            .await?
            {
                Ok(rows) => vals::ok(Some(vals::record([
                    ("columns", vals::strings(rows.columns)),
                    (
                        "rows",
                        Val::List(
                            rows.rows
                                .into_iter()
                                .map(|row| Val::List(row.into_iter().map(value_to_val).collect()))
                                .collect(),
                        ),
                    ),
                ]))),
                Err(e) => vals::err_string(e.to_string()),
            },
        )
    }

    /// The granted file `database` names: exactly a granted canonical path,
    /// or `""` when exactly one file is granted. The child's text is compared,
    /// never resolved.
    fn database(&self, database: &str) -> Result<PathBuf, String> {
        match (database, self.files.as_slice()) {
            (_, []) => Err("no database file is granted to this run (grant `kv:FILE`)".into()),
            ("", [only]) => Ok(PathBuf::from(only)),
            ("", _) => Err(format!(
                "several database files are granted; name one of: {}",
                self.files.join(", ")
            )),
            (name, files) => files
                .iter()
                .find(|f| f.as_str() == name)
                .map(|f| Path::new(f).to_path_buf())
                .ok_or_else(|| {
                    let shown: String = name.chars().take(200).collect();
                    format!(
                        "database {shown:?} is not granted (granted: {})",
                        files.join(", ")
                    )
                }),
        }
    }
}

#[async_trait::async_trait]
impl ToyInstance for KvInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        let answer = match function {
            "get" | "set" | "delete" | "keys" | "clear" => self.own(function, args).await?,
            "query" => self.query(args).await?,
            _ => {
                return Err(ToyError::NoSuchFunction {
                    toy: "patina:toys/kv".into(),
                    function: function.into(),
                });
            }
        };
        Ok(vec![answer])
    }
}

/// A WIT `value` as an SQLite value, `None` if it is not one.
fn value_from_val(val: &Val) -> Option<Value> {
    let Val::Variant(case, payload) = val else {
        return None;
    };
    Some(match (case.as_str(), payload.as_deref()) {
        ("null", None) => Value::Null,
        ("integer", Some(Val::S64(n))) => Value::Integer(*n),
        ("real", Some(Val::Float64(x))) => Value::Real(*x),
        ("text", Some(Val::String(s))) => Value::Text(s.clone()),
        ("blob", Some(Val::List(items))) => Value::Blob(
            items
                .iter()
                .map(|b| match b {
                    Val::U8(b) => Some(*b),
                    _ => None,
                })
                .collect::<Option<Vec<u8>>>()?,
        ),
        _ => return None,
    })
}

/// An SQLite value as a WIT `value`.
fn value_to_val(value: Value) -> Val {
    let (case, payload) = match value {
        Value::Null => ("null", None),
        Value::Integer(n) => ("integer", Some(Val::S64(n))),
        Value::Real(x) => ("real", Some(Val::Float64(x))),
        Value::Text(s) => ("text", Some(Val::String(s))),
        Value::Blob(b) => ("blob", Some(vals::bytes(&b))),
    };
    Val::Variant(case.to_owned(), payload.map(Box::new))
}

/// `functions()` serves exactly the functions of `wit/kv.wit`, each reading
/// the WIT's number of parameters.
#[cfg(test)]
#[tokio::test]
async fn functions_match_the_wit() {
    let dir = tempfile::tempdir().unwrap();
    let toy = KvToy::open(dir.path().join("kv.sqlite")).unwrap();
    let grants = vec!["kv".parse().unwrap()];
    let wit = include_str!("../wit/kv.wit");
    patina_toy::wit::check_toy(&toy, "kv.wit", wit, grants)
        .await
        .unwrap();
}
