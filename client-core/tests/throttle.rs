//! The throttle under concurrency: clones and tasks share one schedule (paused clock).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_core::Throttle;
use tokio::time::Instant;

async fn start_times(throttle: Throttle, clones: usize, tasks_per_clone: usize) -> Vec<Duration> {
    let origin = Instant::now();
    let times = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for _ in 0..clones {
        let clone = throttle.clone();
        for _ in 0..tasks_per_clone {
            let throttle = clone.clone();
            let times = times.clone();
            handles.push(tokio::spawn(async move {
                for _ in 0..3 {
                    throttle.acquire().await;
                    times.lock().unwrap().push(Instant::now() - origin);
                }
            }));
        }
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let mut times = Arc::try_unwrap(times).unwrap().into_inner().unwrap();
    times.sort();
    times
}

#[tokio::test(start_paused = true)]
async fn no_two_requests_closer_than_the_interval() {
    let interval = Duration::from_secs(15);
    let times = start_times(Throttle::min_interval(interval), 4, 5).await;
    assert_eq!(times.len(), 60);
    assert_eq!(times[0], Duration::ZERO);
    for pair in times.windows(2) {
        assert!(pair[1] - pair[0] >= interval, "{:?} then {:?}", pair[0], pair[1]);
    }
    // Nothing waits longer than needed: the 60th start is at 59 intervals.
    assert_eq!(times[59], interval * 59);
}

#[tokio::test(start_paused = true)]
async fn no_window_holds_more_than_the_limit() {
    let window = Duration::from_secs(10);
    let times = start_times(Throttle::per_window(5, window), 3, 4).await;
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..].iter().take_while(|t| **t - *start < window).count();
        assert!(
            in_window <= 5,
            "{in_window} starts within {window:?} of {start:?}"
        );
    }
    assert_eq!(times.last().copied(), Some(Duration::from_secs(70)));
}

/// A 429's `Retry-After` through the request pipeline: clamped before it holds the
/// shared throttle, never an overflow, and no client waits beyond its own policy.
mod retry_after {
    use std::sync::Arc;
    use std::time::Duration;

    use client_core::{
        ClientError, ErrorKind, HttpClient, MAX_RETRY_AFTER, ManualClock, RetryPolicy, Throttle,
    };
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn client(
        server: &MockServer,
        policy: RetryPolicy,
        throttle: &Throttle,
        clock: &ManualClock,
    ) -> HttpClient {
        HttpClient::builder(server.uri())
            .retry_policy(policy.with_jitter(false))
            .throttle(throttle.clone())
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap()
    }

    async fn throttled(server: &MockServer, retry_after: &str) {
        Mock::given(path("/values"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", retry_after))
            .mount(server)
            .await;
        Mock::given(path("/other"))
            .respond_with(ResponseTemplate::new(200))
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn a_day_long_retry_after_fails_the_call_naming_the_wait_and_holds_clones_briefly() {
        let server = MockServer::start().await;
        throttled(&server, "86400").await;
        let clock = ManualClock::new();
        let throttle = Throttle::with_clock(1, Duration::from_millis(1), Arc::new(clock.clone()));
        let client = client(&server, RetryPolicy::default(), &throttle, &clock);
        let err = client.get("values").send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Throttled);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(86400)));
        let mapped = ClientError::<client_core::NoApiError>::from(err);
        assert!(matches!(mapped, ClientError::Throttled { .. }));
        assert!(mapped.to_string().contains("retry after 86400000 ms"), "{mapped}");
        assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
        // Another clone is held back for the policy's longest wait (30 s), not a day.
        client.clone().get("other").send().await.unwrap();
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(30)]);
    }

    #[tokio::test]
    async fn a_retry_after_near_u64_max_never_overflows() {
        let server = MockServer::start().await;
        throttled(&server, "18446744073709551615").await;
        let clock = ManualClock::new();
        let throttle = Throttle::with_clock(1, Duration::from_millis(1), Arc::new(clock.clone()));
        let policy = RetryPolicy::default()
            .with_max_delay(Duration::MAX)
            .with_total_budget(Duration::MAX);
        let client = client(&server, policy, &throttle, &clock);
        let err = client.get("values").send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Throttled);
        // Clamped to a day: retried after a day, three times, then given up.
        assert_eq!(err.retry_after(), Some(MAX_RETRY_AFTER));
        assert_eq!(clock.sleeps(), vec![MAX_RETRY_AFTER; 3]);
        // The throttle's hold is clamped too.
        throttle.defer_for(Duration::MAX);
        client.get("other").send().await.unwrap();
        assert_eq!(clock.sleeps().last(), Some(&Throttle::MAX_DEFERRAL));
    }

    #[tokio::test]
    async fn no_client_waits_beyond_its_own_budget_on_a_shared_throttle() {
        let server = MockServer::start().await;
        throttled(&server, "60").await;
        let clock = ManualClock::new();
        let throttle = Throttle::with_clock(1, Duration::from_millis(1), Arc::new(clock.clone()));
        // A patient client: waits up to two minutes, but does not retry.
        let patient_policy = RetryPolicy::none().with_max_delay(Duration::from_secs(120));
        let patient = client(&server, patient_policy, &throttle, &clock);
        // An impatient client on the same throttle: 5 s at most, 10 s in all.
        let impatient_policy = RetryPolicy::default()
            .with_max_delay(Duration::from_secs(5))
            .with_total_budget(Duration::from_secs(10));
        let impatient = client(&server, impatient_policy, &throttle, &clock);

        let err = patient.get("values").send().await.unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
        let before = server.received_requests().await.unwrap().len();
        // The throttle holds every request 60 s: the impatient client fails at once,
        // naming the wait, without sleeping or sending anything.
        let err = impatient.get("other").send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Throttled);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
        assert!(err.to_string().contains("60000 ms"), "{err}");
        assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
        assert_eq!(server.received_requests().await.unwrap().len(), before);
        let mapped = ClientError::<client_core::NoApiError>::from(err);
        assert!(
            matches!(mapped, ClientError::Throttled { retry_after: Some(d), .. } if d == Duration::from_secs(60))
        );
        assert!(mapped.is_retryable());
        // The patient one waits it out.
        patient.get("other").send().await.unwrap();
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(60)]);
    }
}
