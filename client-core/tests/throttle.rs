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
