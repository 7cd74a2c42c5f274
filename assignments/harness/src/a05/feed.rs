//! The runner's side of the fifth example: the inputs arriving over time, and the lesson's
//! `log_result` that the student's callback calls. Both note when things happen, with the
//! course's clock, in the runner process.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::a05::clock::now_ns;
use crate::a05::protocol::Event;

/// Values and when they were noted, shared by the runner and the closures it hands out.
#[derive(Debug, Clone, Default)]
pub struct EventLog(Arc<Mutex<Vec<Event>>>);

impl EventLog {
    /// Notes `value`, now.
    pub fn push(&self, value: u64) {
        let at_ns = now_ns();
        // A panic while holding the lock leaves a Vec that is still whole: keep using it.
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Event { value, at_ns });
    }

    /// Everything noted so far.
    pub fn events(&self) -> Vec<Event> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The inputs of the lesson's fifth example, as an iterator that makes its caller wait
/// before each one, as if the data were still being produced.
///
/// Input `i` is ready `gaps[0] + ... + gaps[i]` after the feed is created; `next` sleeps
/// until then (not at all when the caller comes late), notes when it handed the input over,
/// and returns it. The caller is not told how many inputs there are.
#[derive(Debug)]
pub struct Feed {
    inputs: std::vec::IntoIter<u64>,
    ready_at: std::vec::IntoIter<Instant>,
    taken: EventLog,
}

impl Feed {
    /// A feed of `inputs`, waiting `gaps[i]` before input `i`, noting each hand-over in
    /// `taken`.
    pub fn new(inputs: Vec<u64>, gaps: &[Duration], taken: EventLog) -> Self {
        let created = Instant::now();
        let mut due = Duration::ZERO;
        let ready_at: Vec<Instant> = (0..inputs.len())
            .map(|i| {
                due += gaps.get(i).copied().unwrap_or_default();
                created + due
            })
            .collect();
        Self {
            inputs: inputs.into_iter(),
            ready_at: ready_at.into_iter(),
            taken,
        }
    }
}

impl Iterator for Feed {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let input = self.inputs.next()?;
        if let Some(ready_at) = self.ready_at.next() {
            let wait = ready_at.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
        self.taken.push(input);
        Some(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_hands_every_input_over_in_order_and_on_time() {
        let taken = EventLog::default();
        let gaps = [
            Duration::ZERO,
            Duration::from_millis(30),
            Duration::from_millis(30),
        ];
        let started = now_ns();
        let got: Vec<u64> = Feed::new(vec![7, 8, 9], &gaps, taken.clone()).collect();
        assert_eq!(got, [7, 8, 9]);
        let events = taken.events();
        assert_eq!(
            events.iter().map(|e| e.value).collect::<Vec<_>>(),
            [7, 8, 9]
        );
        // The last input is not handed over before its time (sleep never returns early).
        assert!(events[2].at_ns - started >= 60_000_000, "{events:?}");
    }
}
