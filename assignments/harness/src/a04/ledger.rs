//! The trusted record of one run of a04's code, kept in shared memory by the runner's own
//! code in every process: what each put and get returned, where each process is, and the
//! fill bound that catches an overfilled buffer.
//!
//! Only harness code writes it (the driver's producers and consumers, and the `consume`
//! function given to the student's pipeline); the student's code never sees it. Every access
//! is a `SeqCst` atomic: the counters are compared across processes, and their order is what
//! the capacity bound relies on (see [`Ledger::put_returned`]).

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::a04::shared_words::SharedWords;

/// Where a driver process is, for a stall report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u64)]
pub enum Phase {
    /// Forked, not yet in the buffer.
    Starting = 0,
    /// Inside `put`.
    Putting = 1,
    /// Inside `get`.
    Getting = 2,
    /// Inside `producer_done`.
    Finishing = 3,
    /// Between items (a producer making one, a consumer using one).
    Pausing = 4,
    /// Done with the buffer.
    Done = 5,
}

impl Phase {
    fn from_word(word: u64) -> Phase {
        match word {
            1 => Phase::Putting,
            2 => Phase::Getting,
            3 => Phase::Finishing,
            4 => Phase::Pausing,
            5 => Phase::Done,
            _ => Phase::Starting,
        }
    }
}

/// How a driver process ended, as it recorded it before exiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Still running, or killed before it could record anything.
    Unrecorded,
    /// Its part was done.
    Finished,
    /// The student's method returned this error.
    Failed(String),
    /// The student's method panicked with this message (and location, when known).
    Panicked(String, Option<String>),
}

/// How a process spent its life, from `/proc/self/schedstat`: a process waiting by sleeping
/// adds to neither `on_cpu` nor `waiting`; a busy-waiting one is always runnable, so their sum
/// stays close to `alive` whatever the machine's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessTimes {
    /// From its fork to just before its exit.
    pub alive: Duration,
    /// Time on a CPU.
    pub on_cpu: Duration,
    /// Time runnable, waiting for a CPU.
    pub waiting: Duration,
    /// Times it was put on a CPU: once per wakeup for a process that sleeps between them
    /// (and once more per preemption), so a process that polls with a short sleep shows
    /// far more of them than one woken only when something changes.
    pub timeslices: u64,
}

/// Bytes kept of one process's error or panic message.
const MESSAGE_BYTES: usize = 384;
const MESSAGE_WORDS: usize = MESSAGE_BYTES / 8;

// Header words.
const PUTS_RETURNED: usize = 0;
const GETS_STARTED: usize = 1;
const MAX_HELD: usize = 2;
const PROGRESS: usize = 3;
const RECORDED: usize = 4;
const CAPACITY: usize = 5;
const OVERFILLED: usize = 6;
const STALL_QUIET_MS: usize = 7;
const STALL_ASLEEP: usize = 8;
const STALL_IN_FUTEX: usize = 9;
const HEADER_WORDS: usize = 10;

// Words of one process slot.
const PHASE: usize = 0;
const STATUS: usize = 1;
const COUNT: usize = 2;
const MESSAGE_LEN: usize = 3;
const LOCATION_LEN: usize = 4;
const ENDED: usize = 5;
const ON_CPU_NS: usize = 6;
const WAITING_NS: usize = 7;
const ALIVE_NS: usize = 8;
const TIMESLICES: usize = 9;
const MESSAGE: usize = 10;
const LOCATION: usize = MESSAGE + MESSAGE_WORDS;
const SLOT_WORDS: usize = LOCATION + MESSAGE_WORDS;

const STATUS_RUNNING: u64 = 0;
const STATUS_FINISHED: u64 = 1;
const STATUS_FAILED: u64 = 2;
const STATUS_PANICKED: u64 = 3;

/// One item as recorded by whoever received it: the item and a tag (the driver's consumer
/// index, or the pid of the student's consumer process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The item.
    pub item: u64,
    /// Who received it.
    pub tag: u32,
}

/// The shared record of one round.
#[derive(Debug)]
pub struct Ledger {
    shared: SharedWords,
    processes: usize,
    entries: usize,
}

impl Ledger {
    /// A record for `processes` driver processes and at most `entries` received items
    /// (further ones are counted, not kept), for a buffer of `capacity`.
    pub fn new(processes: usize, entries: usize, capacity: usize) -> std::io::Result<Ledger> {
        let words = HEADER_WORDS + processes * SLOT_WORDS + entries * 2;
        let ledger = Ledger {
            shared: SharedWords::new(words)?,
            processes,
            entries,
        };
        ledger.word(CAPACITY).store(capacity as u64, SeqCst);
        Ok(ledger)
    }

    fn word(&self, index: usize) -> &AtomicU64 {
        &self.shared.words()[index]
    }

    fn slot(&self, process: usize, field: usize) -> &AtomicU64 {
        debug_assert!(process < self.processes, "process slot out of range");
        self.word(HEADER_WORDS + process * SLOT_WORDS + field)
    }

    fn entry_words(&self, index: usize) -> (&AtomicU64, &AtomicU64) {
        let base = HEADER_WORDS + self.processes * SLOT_WORDS + index * 2;
        (self.word(base), self.word(base + 1))
    }

    /// Counts one step of progress (any put, get or producer_done that returned).
    pub fn progressed(&self) {
        self.word(PROGRESS).fetch_add(1, SeqCst);
    }

    /// The progress count: unchanged for long while every process sleeps means a stall.
    pub fn progress(&self) -> u64 {
        self.word(PROGRESS).load(SeqCst)
    }

    /// A consumer is about to call `get`.
    pub fn get_starting(&self) {
        self.word(GETS_STARTED).fetch_add(1, SeqCst);
    }

    /// A producer's `put` returned. Updates the fill bound: items whose put has returned,
    /// minus gets that have started, is a lower bound of the buffer's content at the moment
    /// `gets_started` is read (every such item was inside before that moment, and each get
    /// takes out at most one item, only after it starts). A correct buffer never lets it
    /// exceed its capacity; when it does, the overfill is recorded.
    pub fn put_returned(&self) {
        let returned = self.word(PUTS_RETURNED).fetch_add(1, SeqCst) + 1;
        let started = self.word(GETS_STARTED).load(SeqCst);
        let held = returned.saturating_sub(started);
        self.word(MAX_HELD).fetch_max(held, SeqCst);
        if held > self.word(CAPACITY).load(SeqCst) {
            self.word(OVERFILLED).store(1, SeqCst);
        }
        self.progressed();
    }

    /// The largest fill bound seen.
    pub fn max_held(&self) -> u64 {
        self.word(MAX_HELD).load(SeqCst)
    }

    /// True once the fill bound exceeded the capacity.
    pub fn overfilled(&self) -> bool {
        self.word(OVERFILLED).load(SeqCst) != 0
    }

    /// Records a received item; false when the record is full (more items than expected).
    pub fn receive(&self, item: u64, tag: u32) -> bool {
        let index = self.word(RECORDED).fetch_add(1, SeqCst) as usize;
        if index >= self.entries {
            return false;
        }
        let (item_word, tag_word) = self.entry_words(index);
        item_word.store(item, SeqCst);
        // Tag + 1, so that 0 marks an entry reserved by a process killed before writing it.
        tag_word.store(u64::from(tag) + 1, SeqCst);
        true
    }

    /// How many items were received (kept or not).
    pub fn received(&self) -> u64 {
        self.word(RECORDED).load(SeqCst)
    }

    /// The kept entries, in the order they were recorded.
    pub fn entries(&self) -> Vec<Entry> {
        let kept = (self.received() as usize).min(self.entries);
        (0..kept)
            .filter_map(|index| {
                let (item_word, tag_word) = self.entry_words(index);
                let tag = tag_word.load(SeqCst);
                (tag != 0).then(|| Entry {
                    item: item_word.load(SeqCst),
                    tag: u32::try_from(tag - 1).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Records a stall seen by a watchdog: how long nothing was received, how many processes
    /// slept, and how many of them in a futex wait (a lock or a condition).
    pub fn set_stall(&self, quiet_ms: u64, asleep: u64, in_futex: u64) {
        self.word(STALL_ASLEEP).store(asleep, SeqCst);
        self.word(STALL_IN_FUTEX).store(in_futex, SeqCst);
        // Last: a nonzero quiet time marks the record complete.
        self.word(STALL_QUIET_MS).store(quiet_ms.max(1), SeqCst);
    }

    /// The stall a watchdog recorded: (quiet ms, processes asleep, of them in a futex wait).
    pub fn stall(&self) -> Option<(u64, u64, u64)> {
        let quiet = self.word(STALL_QUIET_MS).load(SeqCst);
        (quiet != 0).then(|| {
            (
                quiet,
                self.word(STALL_ASLEEP).load(SeqCst),
                self.word(STALL_IN_FUTEX).load(SeqCst),
            )
        })
    }

    /// Sets where process `process` is.
    pub fn set_phase(&self, process: usize, phase: Phase) {
        self.slot(process, PHASE).store(phase as u64, SeqCst);
    }

    /// Where process `process` is.
    pub fn phase(&self, process: usize) -> Phase {
        Phase::from_word(self.slot(process, PHASE).load(SeqCst))
    }

    /// Counts one item put (or got) by process `process`.
    pub fn count(&self, process: usize) {
        self.slot(process, COUNT).fetch_add(1, SeqCst);
    }

    /// Items put (or got) by process `process`.
    pub fn counted(&self, process: usize) -> u64 {
        self.slot(process, COUNT).load(SeqCst)
    }

    /// Marks consumer `process` as ended: its `get` returned `None`.
    pub fn set_ended(&self, process: usize) {
        self.slot(process, ENDED).store(1, SeqCst);
    }

    /// True once consumer `process`'s `get` returned `None`.
    pub fn ended(&self, process: usize) -> bool {
        self.slot(process, ENDED).load(SeqCst) != 0
    }

    /// Records process `process`'s scheduling times just before it exits: on a CPU, waiting
    /// for one, and alive (from its fork).
    pub fn set_times(&self, process: usize, times: ProcessTimes) {
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.slot(process, ON_CPU_NS)
            .store(nanos(times.on_cpu), SeqCst);
        self.slot(process, WAITING_NS)
            .store(nanos(times.waiting), SeqCst);
        self.slot(process, TIMESLICES)
            .store(times.timeslices, SeqCst);
        // Last: a nonzero lifetime marks the record complete.
        self.slot(process, ALIVE_NS)
            .store(nanos(times.alive).max(1), SeqCst);
    }

    /// Process `process`'s scheduling times, if it recorded them.
    pub fn times(&self, process: usize) -> Option<ProcessTimes> {
        let alive = self.slot(process, ALIVE_NS).load(SeqCst);
        (alive != 0).then(|| ProcessTimes {
            alive: Duration::from_nanos(alive),
            on_cpu: Duration::from_nanos(self.slot(process, ON_CPU_NS).load(SeqCst)),
            waiting: Duration::from_nanos(self.slot(process, WAITING_NS).load(SeqCst)),
            timeslices: self.slot(process, TIMESLICES).load(SeqCst),
        })
    }

    /// Records how process `process` ended (once, just before it exits).
    pub fn set_ending(&self, process: usize, ending: &Ending) {
        let (status, message, location) = match ending {
            Ending::Unrecorded => (STATUS_RUNNING, "", None),
            Ending::Finished => (STATUS_FINISHED, "", None),
            Ending::Failed(message) => (STATUS_FAILED, message.as_str(), None),
            Ending::Panicked(message, location) => {
                (STATUS_PANICKED, message.as_str(), location.as_deref())
            }
        };
        self.write_text(process, MESSAGE_LEN, MESSAGE, message);
        self.write_text(process, LOCATION_LEN, LOCATION, location.unwrap_or(""));
        self.slot(process, STATUS).store(status, SeqCst);
    }

    /// How process `process` ended, as it recorded it.
    pub fn ending(&self, process: usize) -> Ending {
        let message = || self.read_text(process, MESSAGE_LEN, MESSAGE);
        match self.slot(process, STATUS).load(SeqCst) {
            STATUS_FINISHED => Ending::Finished,
            STATUS_FAILED => Ending::Failed(message()),
            STATUS_PANICKED => {
                let location = self.read_text(process, LOCATION_LEN, LOCATION);
                Ending::Panicked(message(), (!location.is_empty()).then_some(location))
            }
            _ => Ending::Unrecorded,
        }
    }

    fn write_text(&self, process: usize, len_field: usize, first_word: usize, text: &str) {
        let mut bytes = text.as_bytes();
        if bytes.len() > MESSAGE_BYTES {
            // Cut at a character boundary so the text stays valid UTF-8.
            let mut end = MESSAGE_BYTES;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            bytes = &bytes[..end];
        }
        for (index, chunk) in bytes.chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.slot(process, first_word + index)
                .store(u64::from_le_bytes(word), SeqCst);
        }
        self.slot(process, len_field)
            .store(bytes.len() as u64, SeqCst);
    }

    fn read_text(&self, process: usize, len_field: usize, first_word: usize) -> String {
        let len = (self.slot(process, len_field).load(SeqCst) as usize).min(MESSAGE_BYTES);
        let mut bytes = Vec::with_capacity(len);
        for index in 0..len.div_ceil(8) {
            bytes.extend_from_slice(
                &self
                    .slot(process, first_word + index)
                    .load(SeqCst)
                    .to_le_bytes(),
            );
        }
        bytes.truncate(len);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fill_bound_counts_returned_puts_against_started_gets() {
        let ledger = Ledger::new(1, 4, 2).expect("maps");
        ledger.put_returned();
        ledger.put_returned();
        assert_eq!(ledger.max_held(), 2);
        assert!(!ledger.overfilled());
        ledger.get_starting();
        ledger.put_returned();
        assert_eq!(ledger.max_held(), 2);
        assert!(!ledger.overfilled());
        ledger.put_returned();
        assert_eq!(ledger.max_held(), 3);
        assert!(ledger.overfilled());
    }

    #[test]
    fn entries_beyond_the_record_are_counted_not_kept() {
        let ledger = Ledger::new(1, 2, 1).expect("maps");
        assert!(ledger.receive(10, 0));
        assert!(ledger.receive(11, 3));
        assert!(!ledger.receive(12, 0));
        assert_eq!(ledger.received(), 3);
        assert_eq!(
            ledger.entries(),
            [Entry { item: 10, tag: 0 }, Entry { item: 11, tag: 3 }]
        );
    }

    #[test]
    fn endings_keep_their_text_cut_at_a_character_boundary() {
        let ledger = Ledger::new(2, 1, 1).expect("maps");
        assert_eq!(ledger.ending(0), Ending::Unrecorded);
        let long = "é".repeat(MESSAGE_BYTES);
        ledger.set_ending(0, &Ending::Panicked(long, Some("src/lib.rs:3:5".into())));
        let Ending::Panicked(message, location) = ledger.ending(0) else {
            panic!("not a panic: {:?}", ledger.ending(0));
        };
        assert!(message.len() <= MESSAGE_BYTES && message.chars().all(|c| c == 'é'));
        assert_eq!(location.as_deref(), Some("src/lib.rs:3:5"));
        ledger.set_ending(1, &Ending::Failed("the lock failed".into()));
        assert_eq!(ledger.ending(1), Ending::Failed("the lock failed".into()));
        ledger.set_phase(1, Phase::Getting);
        assert_eq!(ledger.phase(1), Phase::Getting);
        assert_eq!(ledger.times(1), None);
        let times = ProcessTimes {
            alive: Duration::from_millis(500),
            on_cpu: Duration::from_millis(3),
            waiting: Duration::from_millis(7),
            timeslices: 12,
        };
        ledger.set_times(1, times);
        assert_eq!(ledger.times(1), Some(times));
    }
}
