//! Every run is bounded: fuel, wall-clock deadline (epoch interruption) and
//! memory each stop a child with their own typed error, and the host keeps
//! serving — including other runs at the same time.

use std::time::Duration;

use patina_host::{LimitTooLarge, OutputStream, RunFailure, RunRefused};
use patina_tests::{child, host, request, wave};

#[tokio::test]
async fn a_looping_child_is_stopped_at_its_deadline() {
    let host = host();
    let limits = child(&host, "limits");
    let mut req = request("spin()", &[]);
    req.limits.timeout = Duration::from_millis(200);
    let report = host.run(&limits, &req).await.unwrap();
    assert!(
        matches!(
            report.outcome,
            Err(RunFailure::DeadlineExceeded { timeout_ms: 200 })
        ),
        "{:?}",
        report.outcome
    );
    assert_eq!(wave(&host, &limits, "fib(10)").await, "55");
}

#[tokio::test]
async fn fuel_runs_out() {
    let host = host();
    let limits = child(&host, "limits");
    let mut req = request("spin()", &[]);
    req.limits.fuel = 1_000_000;
    let report = host.run(&limits, &req).await.unwrap();
    assert!(
        matches!(
            report.outcome,
            Err(RunFailure::OutOfFuel { budget: 1_000_000 })
        ),
        "{:?}",
        report.outcome
    );
    assert!(report.fuel_consumed >= 1_000_000);
    let report = host.run(&limits, &request("noop()", &[])).await.unwrap();
    assert!(report.outcome.is_ok());
    assert!(
        report.fuel_consumed > 0 && report.fuel_consumed < 100_000,
        "{}",
        report.fuel_consumed
    );
}

#[tokio::test]
async fn memory_growth_past_the_cap_is_stopped() {
    let host = host();
    let limits = child(&host, "limits");
    let mut req = request("hog-forever()", &[]);
    req.limits.memory = 32 << 20;
    let report = host.run(&limits, &req).await.unwrap();
    match report.outcome {
        Err(RunFailure::MemoryLimitExceeded { requested, cap }) => {
            assert_eq!(cap, 32 << 20);
            assert!(requested > cap);
        }
        other => panic!("{other:?}"),
    }
    let mut req = request("hog(8)", &[]);
    req.limits.memory = 32 << 20;
    assert_eq!(
        host.run(&limits, &req).await.unwrap().wave().as_deref(),
        Some("8")
    );
}

#[tokio::test]
async fn a_cap_above_the_hosts_maximum_is_refused() {
    let host = host();
    let limits = child(&host, "limits");
    let mut req = request("noop()", &[]);
    req.limits.memory = u64::MAX;
    assert!(matches!(
        host.run(&limits, &req).await,
        Err(RunRefused::LimitTooLarge(LimitTooLarge::Memory {
            asked: u64::MAX,
            ..
        }))
    ));
    // Captured output lives in host memory: a caller cannot ask for more
    // than the host's ceiling (64 MiB by default).
    let mut req = request("noop()", &[]);
    req.limits.output = u64::MAX;
    let refused = host.run(&limits, &req).await;
    assert!(
        matches!(
            &refused,
            Err(RunRefused::LimitTooLarge(LimitTooLarge::Output { asked: u64::MAX, max })) if *max == 64 << 20
        ),
        "{refused:?}"
    );
    let mut req = request("noop()", &[]);
    req.limits.output = 64 << 20;
    assert!(host.run(&limits, &req).await.unwrap().outcome.is_ok());
}

#[tokio::test(flavor = "current_thread")]
async fn runaway_children_do_not_stop_the_others() {
    // One thread: the spinning child must yield to the runtime at every epoch
    // tick, or the other runs could not even start before its deadline.
    let host = host();
    let limits = child(&host, "limits");
    let order = std::sync::Mutex::new(Vec::new());
    let mut spin = request("spin()", &[]);
    spin.limits.timeout = Duration::from_millis(500);
    let mut hog = request("hog-forever()", &[]);
    hog.limits.memory = 16 << 20;
    let fib = request("fib(20)", &[]);
    let tagged = |name: &'static str, req| {
        let (host, limits, order) = (&host, &limits, &order);
        async move {
            let report = host.run(limits, req).await;
            order.lock().unwrap().push(name);
            report
        }
    };
    let (spun, hogged, fib) = tokio::join!(
        tagged("spin", &spin),
        tagged("hog", &hog),
        tagged("fib", &fib)
    );
    assert!(matches!(
        spun.unwrap().outcome,
        Err(RunFailure::DeadlineExceeded { .. })
    ));
    assert!(matches!(
        hogged.unwrap().outcome,
        Err(RunFailure::MemoryLimitExceeded { .. })
    ));
    assert_eq!(fib.unwrap().wave().as_deref(), Some("6765"));
    assert_eq!(
        order.into_inner().unwrap().last(),
        Some(&"spin"),
        "the spinner started first but must finish last"
    );
}

#[tokio::test]
async fn output_past_the_cap_is_its_own_error() {
    let host = host();
    let cmd = child(&host, "hello-cmd");
    let args: Vec<String> = (0..200).map(|i| format!("argument-number-{i}")).collect();
    let mut req = patina_host::RunRequest::new(patina_host::Call::Command { args });
    req.limits.output = 64;
    let report = host.run(&cmd, &req).await.unwrap();
    assert!(
        matches!(
            report.outcome,
            Err(RunFailure::OutputLimitExceeded {
                stream: OutputStream::Stdout,
                cap: 64
            })
        ),
        "{:?}",
        report.outcome
    );
    assert_eq!(report.stdout.len(), 64);
}
