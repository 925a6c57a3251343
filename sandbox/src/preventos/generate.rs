//! The text of a values body (JSON, NDJSON or CSV), written chunk by chunk as the plan
//! walks through time; the values themselves come from `series.rs`.

use bytes::Bytes;

use super::plan::{OutFormat, ValuesPlan};
use super::series::value_at;

/// The first multiple of `step` at or after `t`.
fn first_multiple(t: i64, step: i64) -> i64 {
    let m = t.div_euclid(step) * step;
    if m < t { m + step } else { m }
}

/// Writes the body of a plan, one chunk per call.
pub(super) struct Generator {
    plan: ValuesPlan,
    t: i64,
    /// The signal being written, when records go by signal, then time.
    signal: usize,
    started: bool,
    finished: bool,
    emitted: u64,
    first_record: bool,
}

impl Generator {
    /// A generator at the start of `plan`.
    pub(super) fn new(plan: ValuesPlan) -> Self {
        let t = first_multiple(plan.start, plan.step);
        Generator {
            plan,
            t,
            signal: 0,
            started: false,
            finished: false,
            emitted: 0,
            first_record: true,
        }
    }

    /// The next ~64 KiB of the body and the records in it; `None` after the end.
    pub(super) fn next_chunk(&mut self) -> Option<(Bytes, u64)> {
        use std::fmt::Write;
        if self.finished {
            return None;
        }
        let mut out = String::with_capacity(70 * 1024);
        let mut records = 0u64;
        if !self.started {
            self.started = true;
            match self.plan.format {
                OutFormat::Json { meta: true } => {
                    let _ = write!(out, "{{\"meta\":{},\"values\":[", self.plan.meta);
                }
                OutFormat::Json { meta: false } => out.push('['),
                OutFormat::Ndjson => {}
                OutFormat::Csv { delimiter, .. } => {
                    out.push_str("timestamp");
                    for (id, _, _) in &self.plan.signals {
                        out.push(delimiter);
                        out.push_str(id);
                    }
                    // CRLF reading: CSV rows end in `\r\n` (the last one too).
                    out.push_str(if self.plan.readings.crlf_unterminated {
                        "\r\n"
                    } else {
                        "\n"
                    });
                }
            }
            if self.plan.readings.signal_major {
                self.t = self.signal_start(0);
            }
        }
        while out.len() < 64 * 1024 {
            let limit_reached = self.plan.take.is_some_and(|take| self.emitted >= take);
            let Some((t, due)) = self.next_slot().filter(|_| !limit_reached) else {
                if let OutFormat::Json { meta } = self.plan.format {
                    out.push_str(if meta { "]}" } else { "]" });
                }
                self.finished = true;
                break;
            };
            let readings = self.plan.readings;
            let stamp = readings.timestamp(t, &self.plan.tz);
            match self.plan.format {
                OutFormat::Csv {
                    delimiter,
                    decimal_comma,
                } => {
                    out.push_str(&stamp);
                    for (_, interval, seed) in &self.plan.signals {
                        out.push(delimiter);
                        if t % interval == 0 {
                            let text = readings.number(value_at(*seed, t));
                            out.push_str(&if decimal_comma {
                                text.replace('.', ",")
                            } else {
                                text
                            });
                        }
                    }
                    out.push_str(if readings.crlf_unterminated { "\r\n" } else { "\n" });
                    self.emitted += 1;
                    records += 1;
                }
                OutFormat::Json { .. } | OutFormat::Ndjson => {
                    for index in due {
                        if self.plan.take.is_some_and(|take| self.emitted >= take) {
                            break;
                        }
                        let (id, _, seed) = &self.plan.signals[index];
                        let is_json = matches!(self.plan.format, OutFormat::Json { .. });
                        if is_json && !self.first_record {
                            out.push(',');
                        }
                        if !is_json && readings.crlf_unterminated && !self.first_record {
                            out.push_str("\r\n");
                        }
                        self.first_record = false;
                        let _ = write!(
                            out,
                            "{{\"timestamp\":\"{stamp}\",\"signalId\":\"{id}\",\"value\":{}",
                            readings.number(value_at(*seed, t))
                        );
                        if readings.extra_fields {
                            let _ = write!(
                                out,
                                ",\"quality\":\"good\",\"source\":{{\"query\":{},\"tags\":[\"a\",1]}}",
                                seed % 97
                            );
                        }
                        out.push('}');
                        if !is_json && !readings.crlf_unterminated {
                            out.push('\n');
                        }
                        self.emitted += 1;
                        records += 1;
                    }
                }
            }
        }
        Some((Bytes::from(out), records))
    }

    /// The first timestamp of signal `index` in the plan's range.
    fn signal_start(&self, index: usize) -> i64 {
        let interval = self.plan.signals.get(index).map_or(self.plan.step, |s| s.1);
        first_multiple(self.plan.start, interval)
    }

    /// The next timestamp with records, and the signals due at it (CSV rows take every
    /// signal's column at once, so they always go by time).
    fn next_slot(&mut self) -> Option<(i64, Vec<usize>)> {
        let by_signal = self.plan.readings.signal_major && !matches!(self.plan.format, OutFormat::Csv { .. });
        if by_signal {
            loop {
                let (_, interval, _) = self.plan.signals.get(self.signal)?;
                let interval = *interval;
                if self.t < self.plan.end {
                    let t = self.t;
                    self.t += interval;
                    return Some((t, vec![self.signal]));
                }
                self.signal += 1;
                self.t = self.signal_start(self.signal);
            }
        }
        loop {
            if self.t >= self.plan.end {
                return None;
            }
            let t = self.t;
            self.t += self.plan.step;
            let due: Vec<usize> = (0..self.plan.signals.len())
                .filter(|&i| t % self.plan.signals[i].1 == 0)
                .collect();
            if !due.is_empty() {
                return Some((t, due));
            }
        }
    }
}
