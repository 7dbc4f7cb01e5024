//! Graceful shutdown: once told to stop, the bridge accepts no new
//! connection, and a request in flight finishes with its answer (and its
//! run with its receipt).

use std::time::Duration;

use crate::common::Bridged;

#[test]
fn shutdown_finishes_the_request_in_flight_and_accepts_no_more() {
    let mut bridge = Bridged::start();
    let token = bridge.token("caller");
    let url = bridge.url.clone();
    let in_flight = std::thread::spawn({
        let token = token.clone();
        let url = url.clone();
        move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            crate::common::answer(
                agent
                    .post(format!(
                        "{url}/v1/children/limits/call/spin?timeout_ms=1200&fuel=1000000000000000"
                    ))
                    .header("Authorization", format!("Bearer {token}"))
                    .send(""),
            )
        }
    });
    // Let the request reach the child before stopping.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while bridge.server.in_flight() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let served = bridge.shutdown();
    assert!(served.drained, "{served:?}");
    let answer = in_flight.join().expect("the client");
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert!(answer.json()["receipt"]["id"].is_string());
    // Nothing listens any more.
    let refused = std::net::TcpStream::connect_timeout(
        &url.trim_start_matches("http://").parse().unwrap(),
        Duration::from_secs(2),
    );
    assert!(refused.is_err(), "still accepting after shutdown");
}
