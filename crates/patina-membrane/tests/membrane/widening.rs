//! Attempts to widen a role, each refused with its reason: a `children`
//! entry that is an id prefix, a named install outside the role's children
//! or with install grants above its ceiling,
//! a replay of a child or at limits the role does not have, and a live run
//! (which leaves no receipt) by a role that runs recorded only.

use super::*;
use patina_membrane::{Access, Principal};

const NARROW: &str = r#"
[roles.curator]
methods = ["runtime.install", "runtime.run"]
children = ["calc"]
install_names = true

[roles.auditor]
methods = ["receipts.*"]
children = ["calc"]
receipts = "all"
limits = { fuel = 1000000 }

[roles.replayer]
methods = ["receipts.*"]
children = ["calc"]
receipts = "all"
"#;

fn server_with(world: &World, text: &str) -> MembraneServer {
    let policy = Policy::parse(text, "widening.toml").unwrap();
    MembraneServer::new(
        world.mother.clone(),
        policy,
        EpochGuard::new(1),
        ServeConfig::default(),
    )
}

fn as_role(server: &MembraneServer, role: &str) -> Access {
    server
        .access_as(Principal::Local(role.into()), role, "test")
        .unwrap()
}

fn calc_id(world: &World) -> String {
    world.mother.children().resolve("calc").unwrap().to_string()
}

#[test]
fn a_children_entry_is_a_name_or_a_full_id_never_a_prefix() {
    within(|| async {
        let (world, _) = setup(ServeConfig::default()).await;
        let id = calc_id(&world);
        let hex = id.trim_start_matches("b3:");

        // A `b3:` entry that is not a whole id is refused at load, with its line.
        let text = format!(
            "[roles.x]\nmethods = [\"runtime.run\"]\nchildren = [\"b3:{}\"]\n",
            &hex[..12]
        );
        let error = Policy::parse(&text, "p.toml").unwrap_err();
        assert!(error.to_string().contains("p.toml:3"), "{error}");
        assert!(error.to_string().contains("not a full child id"), "{error}");

        // Bare hex is a name: it matches no child whose id merely starts so.
        let text = format!(
            "[roles.x]\nmethods = [\"runtime.run\"]\nchildren = [\"{}\"]\n",
            &hex[..12]
        );
        let prefixed = as_role(&server_with(&world, &text), "x");
        for reference in [id.as_str(), "calc"] {
            let error = prefixed
                .run(wave("add(1, 2)", reference))
                .await
                .unwrap_err();
            assert_eq!(error.kind(), "child-denied", "{reference}: {error}");
        }

        // A full id lets the role run that child, by id or by a name of it.
        let text = format!("[roles.x]\nmethods = [\"runtime.run\"]\nchildren = [\"{id}\"]\n");
        let full = as_role(&server_with(&world, &text), "x");
        for reference in [id.as_str(), "calc"] {
            let ran = full.run(wave("add(1, 2)", reference)).await.unwrap();
            let summary = patina_mother::RunSummary::of(&ran.report, None);
            assert!(
                matches!(&summary.outcome, RunOutcome::Returned { wave, .. } if wave == "3"),
                "{reference}: {summary:?}"
            );
        }
    });
}

#[test]
fn a_named_install_stays_within_the_roles_children() {
    within(|| async {
        let (world, _) = setup(ServeConfig::default()).await;
        let curator = as_role(&server_with(&world, NARROW), "curator");
        let bytes = children_artifacts::by_name("hello-log").unwrap().bytes;
        let error = curator
            .install(bytes.to_vec(), Some("hello-log".into()), Vec::new())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "child-denied", "{error}");
        assert!(error.to_string().contains("hello-log"), "{error}");
        let error = curator
            .install(bytes.to_vec(), Some("anything-else".into()), Vec::new())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "child-denied", "{error}");
        // Its own child's name, and bytes by digest, it may install.
        curator
            .install(bytes.to_vec(), Some("calc".into()), Vec::new())
            .await
            .unwrap();
        curator
            .install(bytes.to_vec(), None, Vec::new())
            .await
            .unwrap();
    });
}

/// Install grants are checked in the form they will run with (a path
/// resolved once, as the file system resolves it) and stored in that form:
/// `..` and a symlink cannot carry one above the role's ceiling.
#[test]
fn install_grants_are_stored_as_they_were_checked() {
    within(|| async {
        let (world, _) = setup(ServeConfig::default()).await;
        let data = world.data.canonicalize().unwrap();
        let outside = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path(), data.join("link")).unwrap();
        let text = format!(
            r#"
[roles.installer]
methods = ["runtime.install"]
children = ["calc"]
install_names = true
grants = ["fs:{}:ro", "log"]
"#,
            data.display()
        );
        let installer = as_role(&server_with(&world, &text), "installer");
        let bytes = children_artifacts::by_name("calc").unwrap().bytes.to_vec();
        let dotted = format!("fs:{}/sub/../sub:ro", data.display());
        let installed = installer
            .install(
                bytes.clone(),
                Some("calc".into()),
                vec![dotted, "log".into()],
            )
            .await
            .unwrap();
        let stored: Vec<String> = installed.grants.iter().map(ToString::to_string).collect();
        assert!(
            stored.contains(&format!("fs:{}/sub:ro", data.display())),
            "{stored:?}"
        );
        for above in [
            format!("fs:{}/..:ro", data.display()),
            #[cfg(unix)]
            format!("fs:{}/link:ro", data.display()),
            format!("fs:{}:rw", data.display()),
        ] {
            let error = installer
                .install(bytes.clone(), Some("calc".into()), vec![above.clone()])
                .await
                .unwrap_err();
            assert_eq!(error.kind(), "grant-above-ceiling", "{above}: {error}");
        }
    });
}

#[test]
fn a_replay_stays_within_the_roles_children_and_limits() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let admin = server
            .access_as(Principal::Local("owner".into()), "admin", "test")
            .unwrap();
        let calc = admin.run(wave("add(2, 3)", "calc")).await.unwrap();
        let calc = calc.receipt.unwrap().id.to_string();
        let other = admin.run(wave("noop()", "limits")).await.unwrap();
        let other = other.receipt.unwrap().id.to_string();

        let narrow = server_with(&world, NARROW);
        // The admin's receipt ran at the default fuel, above the auditor's.
        let error = as_role(&narrow, "auditor").replay(&calc).await.unwrap_err();
        assert_eq!(error.kind(), "limit-above-ceiling", "{error}");
        assert!(error.to_string().contains("fuel"), "{error}");

        let replayer = as_role(&narrow, "replayer");
        let error = replayer.replay(&other).await.unwrap_err();
        assert_eq!(error.kind(), "child-denied", "{error}");
        let replayed = replayer.replay(&calc).await.unwrap();
        assert!(replayed.summary().matched, "{:?}", replayed.summary());
    });
}

/// An ambiguous prefix names what it matches only to a role that may see
/// every child: to one limited to some, the list would name the others.
#[test]
fn an_ambiguous_prefix_lists_nothing_a_narrow_role_may_not_see() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let mut ids = Vec::new();
        for child in children_artifacts::ALL {
            let installed = world
                .mother
                .install(child.bytes.to_vec(), InstallSpec::default())
                .await
                .unwrap();
            ids.push(installed.child.to_string());
        }
        // More than a dozen ids in sixteen first digits: two share one (the
        // chance that none do is below 1 in 10,000, and the ids are fixed by
        // the children's sources).
        let digits: Vec<char> = ids.iter().filter_map(|id| id.chars().nth(3)).collect();
        let shared = digits
            .iter()
            .find(|d| digits.iter().filter(|e| e == d).count() > 1)
            .expect("two example children share a first digit");
        let prefix = format!("b3:{shared}");

        let admin = server
            .access_as(Principal::Local("owner".into()), "admin", "test")
            .unwrap();
        let error = admin.describe(&prefix).await.unwrap_err();
        assert_eq!(error.kind(), "ambiguous-child", "{error}");
        assert!(
            ids.iter().any(|id| error.to_string().contains(id.as_str())),
            "the admin sees the list: {error}"
        );

        let narrow = server_with(&world, NARROW);
        let error = as_role(&narrow, "curator")
            .run(wave("add(1, 2)", &prefix))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "ambiguous-child", "{error}");
        for id in &ids {
            assert!(
                !error.to_string().contains(id.as_str()),
                "{id} listed: {error}"
            );
        }
        assert!(error.to_string().contains("give more of the id"), "{error}");
    });
}

/// A live run leaves no receipt, so no record on this Mother of what the
/// caller ran: only a role that says `live = true` (and `admin`) may ask.
#[test]
fn a_live_run_needs_a_role_that_says_so() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let live = |child: &str| {
            let mut spec = wave("add(1, 2)", child);
            spec.mode = ModeSpec::Live;
            spec
        };
        let text = format!(
            "{NARROW}\n[roles.live-curator]\nmethods = [\"runtime.run\"]\nchildren = [\"calc\"]\nlive = true\n"
        );
        let narrow = server_with(&world, &text);
        let runner = server
            .access_as(Principal::Local("someone".into()), "runner", "test")
            .unwrap();
        for (access, role) in [
            (&runner, "runner"),
            (&as_role(&narrow, "curator"), "curator"),
        ] {
            let error = access.run(live("calc")).await.unwrap_err();
            assert_eq!(error.kind(), "live-denied", "{role}: {error}");
            assert!(
                error.to_string().contains(&format!("role `{role}`")),
                "{error}"
            );
            // Recorded, the same run is fine, and leaves its receipt.
            let ran = access.run(wave("add(1, 2)", "calc")).await.unwrap();
            assert!(ran.receipt.is_some(), "{role}");
        }
        let allowed = as_role(&narrow, "live-curator");
        let ran = allowed.run(live("calc")).await.unwrap();
        assert!(ran.receipt.is_none(), "a live run has no receipt");
        let admin = server
            .access_as(Principal::Local("owner".into()), "admin", "test")
            .unwrap();
        assert!(admin.run(live("calc")).await.unwrap().receipt.is_none());

        // What a role may do says so.
        let policy = Policy::parse(&text, "widening.toml").unwrap();
        assert_eq!(policy.role("runner").unwrap().explain()["live"], false);
        assert_eq!(policy.role("live-curator").unwrap().explain()["live"], true);
        assert_eq!(policy.role("admin").unwrap().explain()["live"], true);
    });
}
