//! The `invoke` toy's policy and its `call-json` answers, against an
//! invoker that records what reached it.

use std::sync::Mutex;

use super::*;

/// Answers every call with the request it got, so the tests see what
/// the policy let through.
struct Recording {
    ids: Vec<(String, ChildId)>,
    seen: Mutex<Vec<InvokeRequest>>,
}

#[async_trait::async_trait]
impl Invoker for Recording {
    async fn resolve(&self, name: &str) -> Result<ChildId, InvokeError> {
        self.ids
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
            .ok_or_else(|| InvokeError::NotInstalled { name: name.into() })
    }

    async fn invoke(&self, request: InvokeRequest) -> Result<InvokeAnswer, InvokeError> {
        self.seen.lock().unwrap().push(request);
        Ok(InvokeAnswer::Called {
            value: "\"ok\"".into(),
            receipt: Some("b3:r".into()),
        })
    }
}

fn setup(
    grants: &[&str],
    caller: ChildId,
    invoked_by: Vec<ChildId>,
) -> (Arc<Recording>, Box<dyn ToyInstance>) {
    let invoker = Arc::new(Recording {
        ids: vec![
            ("a".into(), ChildId::of(b"a")),
            ("b".into(), ChildId::of(b"b")),
            ("self-alias".into(), caller),
        ],
        seen: Mutex::default(),
    });
    let slot = InvokerSlot::new();
    let weak: Weak<dyn Invoker> = Arc::downgrade(&(invoker.clone() as Arc<dyn Invoker>));
    slot.set(weak);
    let toy = InvokeToy::new(slot);
    let grants = grants
        .iter()
        .map(|g| toy.canonicalize(&g.parse().unwrap()).unwrap())
        .collect();
    let mut ctx = ToyContext::new(caller, grants);
    ctx.invoked_by = invoked_by;
    let instance = toy.instantiate(&ctx).unwrap();
    (invoker, instance)
}

async fn call(instance: &mut Box<dyn ToyInstance>, name: &str) -> Val {
    let args = [Val::String(name.into()), Val::String("f()".into())];
    instance.call("call", &args).await.unwrap().remove(0)
}

fn refusal(value: &Val) -> Option<&str> {
    match value {
        Val::Result(Err(Some(message))) => match message.as_ref() {
            Val::String(text) => Some(text),
            _ => None,
        },
        _ => None,
    }
}

#[tokio::test]
async fn a_granted_callee_gets_the_chain_and_the_call() {
    let me = ChildId::of(b"me");
    let (invoker, mut toy) = setup(&["invoke:a"], me, vec![]);
    let answer = call(&mut toy, "a").await;
    assert!(matches!(answer, Val::Result(Ok(Some(_)))), "{answer:?}");
    let seen = invoker.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].callee, ChildId::of(b"a"));
    assert_eq!(seen[0].chain, vec![me]);
    assert_eq!(seen[0].invocation, Invocation::Call("f()".into()));
}

#[tokio::test]
async fn names_that_are_not_granted_are_refused_before_the_invoker_runs() {
    let (invoker, mut toy) = setup(&["invoke:a"], ChildId::of(b"me"), vec![]);
    let answer = call(&mut toy, "b").await;
    assert!(
        refusal(&answer).unwrap().contains("not granted"),
        "{answer:?}"
    );
    assert!(invoker.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_child_cannot_invoke_itself_even_under_another_name() {
    let me = ChildId::of(b"me");
    let (invoker, mut toy) = setup(&["invoke:self-alias"], me, vec![]);
    let answer = call(&mut toy, "self-alias").await;
    assert!(refusal(&answer).unwrap().contains("itself"), "{answer:?}");
    assert!(invoker.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn cycles_and_deep_chains_are_refused() {
    let me = ChildId::of(b"me");
    let (invoker, mut toy) = setup(&["invoke:a"], me, vec![ChildId::of(b"a")]);
    let answer = call(&mut toy, "a").await;
    assert!(
        refusal(&answer).unwrap().contains("call chain"),
        "{answer:?}"
    );
    let deep = vec![ChildId::of(b"x"), ChildId::of(b"y"), ChildId::of(b"z")];
    let (deep_invoker, mut toy) = setup(&["invoke:b"], me, deep);
    let answer = call(&mut toy, "b").await;
    assert!(refusal(&answer).unwrap().contains("deep"), "{answer:?}");
    assert!(invoker.seen.lock().unwrap().is_empty());
    assert!(deep_invoker.seen.lock().unwrap().is_empty());
}

#[test]
fn grants_name_a_child() {
    let toy = InvokeToy::new(InvokerSlot::new());
    let bare = toy.canonicalize(&"invoke".parse().unwrap()).unwrap_err();
    assert!(bare.to_string().contains("needs the child"), "{bare}");
    let path = toy
        .canonicalize(&"invoke:../x".parse().unwrap())
        .unwrap_err();
    assert!(path.to_string().contains("is not a child name"), "{path}");
    assert!(
        toy.canonicalize(&"invoke:git-status".parse().unwrap())
            .is_ok()
    );
}

#[tokio::test]
async fn call_json_passes_function_and_arguments_and_refuses_with_a_kind() {
    let me = ChildId::of(b"me");
    let (invoker, mut toy) = setup(&["invoke:a"], me, vec![]);
    let args = |name: &str| {
        [
            Val::String(name.into()),
            Val::String("add".into()),
            Val::String("[2, 3]".into()),
        ]
    };
    let answer = toy.call("call-json", &args("a")).await.unwrap().remove(0);
    assert!(matches!(answer, Val::Result(Ok(Some(_)))), "{answer:?}");
    let refused = toy.call("call-json", &args("b")).await.unwrap().remove(0);
    let Val::Result(Err(Some(failure))) = refused else {
        panic!("{refused:?}");
    };
    let Val::Record(fields) = *failure else {
        panic!("a failure record");
    };
    assert_eq!(
        fields[0],
        ("kind".into(), Val::String("not-granted".into()))
    );
    assert!(
        matches!(&fields[1].1, Val::String(m) if m.contains("is not granted")),
        "{fields:?}"
    );
    let seen = invoker.seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "the refused call never reached the invoker");
    assert_eq!(
        seen[0].invocation,
        Invocation::CallJson {
            function: "add".into(),
            args: "[2, 3]".into()
        }
    );
    assert!(seen[0].deadline > Instant::now());
    assert_eq!(
        seen[0].limits,
        Limits::default(),
        "the callee's recorded limits do not depend on when it was called"
    );
}

#[tokio::test]
async fn without_an_invoker_calls_are_refused() {
    let toy = InvokeToy::new(InvokerSlot::new());
    let ctx = ToyContext::new(ChildId::of(b"me"), vec!["invoke:a".parse().unwrap()]);
    let mut instance = toy.instantiate(&ctx).unwrap();
    let answer = call(&mut instance, "a").await;
    assert!(
        refusal(&answer).is_some_and(|r| r.contains("no invoker")),
        "{answer:?}"
    );
}
