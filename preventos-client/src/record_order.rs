//! How the records of a window are ordered: by time, by signal then time, or neither. An
//! export of several windows follows the server's order so that the stored file is
//! ordered as the one request of the range would be.

use crate::window_body::WindowRecord;

/// How the records of a window are ordered.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// By time (then anything).
    ByTime,
    /// Each signal's records together and in time order; the signals as they came.
    BySignal(Vec<String>),
    /// Neither.
    Unordered,
}

/// How `records` are ordered.
pub(crate) fn order(records: &[WindowRecord]) -> Order {
    if records.windows(2).all(|pair| pair[0].at <= pair[1].at) {
        return Order::ByTime;
    }
    let mut seen: Vec<std::sync::Arc<str>> = Vec::new();
    for pair in records.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.signal == b.signal {
            if a.at > b.at {
                return Order::Unordered;
            }
            continue;
        }
        if let Some(signal) = &a.signal {
            if !seen.contains(signal) {
                seen.push(signal.clone());
            }
        }
        // A signal that comes back after another is not grouped.
        if b.signal.as_ref().is_none_or(|s| seen.contains(s)) {
            return Order::Unordered;
        }
    }
    if let Some(signal) = records.last().and_then(|r| r.signal.clone()) {
        if !seen.contains(&signal) {
            seen.push(signal);
        }
    }
    Order::BySignal(seen.iter().map(|s| s.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn record(second: i64, signal: &str) -> WindowRecord {
        WindowRecord {
            at: Timestamp::from_second(second).unwrap(),
            signal: Some(signal.into()),
            text: bytes::Bytes::new(),
        }
    }

    #[test]
    fn orders_are_told_apart() {
        let by_time = [record(0, "A"), record(0, "B"), record(60, "A"), record(60, "B")];
        assert_eq!(order(&by_time), Order::ByTime);
        let by_signal = [record(0, "B"), record(60, "B"), record(0, "A"), record(60, "A")];
        assert_eq!(order(&by_signal), Order::BySignal(vec!["B".into(), "A".into()]));
        let mixed = [record(0, "A"), record(60, "B"), record(0, "B"), record(0, "A")];
        assert_eq!(order(&mixed), Order::Unordered);
        let backwards = [record(60, "A"), record(0, "A")];
        assert_eq!(order(&backwards), Order::Unordered);
    }
}
