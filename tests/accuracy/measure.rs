//! One sitting of the measurement: which gradings the selection asks for, in which order,
//! which of them the journal already holds, and grading the others.
//!
//! The order is run-major: run 0 of every variant, then run 1 of every variant, and so on,
//! so a sitting stopped part-way leaves every variant with the same number of gradings (give
//! or take one) rather than some variants complete and others untouched.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Result;
use workspace_tests::variants::Variant;

use crate::grading::Grading;
use crate::journal::Entry;

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// The variants, in the order they are graded within a run.
    pub variants: &'a [Variant],
    /// Gradings of each.
    pub runs: u32,
    /// The seed of run 0; run `i` uses `first_seed + i`.
    pub first_seed: u64,
    /// A CPU hog runs beside the gradings.
    pub hog: bool,
}

impl Selection<'_> {
    /// The seed of run `run`.
    pub fn seed(&self, run: u32) -> u64 {
        self.first_seed.wrapping_add(u64::from(run))
    }

    /// The run whose seed is `seed`, if it is one of the selection's.
    fn run_of(&self, seed: u64) -> Option<u32> {
        u32::try_from(seed.wrapping_sub(self.first_seed))
            .ok()
            .filter(|run| *run < self.runs)
    }
}

/// One grading the selection asks for: which variant (an index into
/// [`Selection::variants`]) and which run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    /// The variant's index.
    pub variant: usize,
    /// The run.
    pub run: u32,
}

/// Every slot of `variants` variants times `runs` runs, run-major.
pub fn order(variants: usize, runs: u32) -> Vec<Slot> {
    (0..runs)
        .flat_map(|run| (0..variants).map(move |variant| Slot { variant, run }))
        .collect()
}

/// The gradings of a sitting, the journal's and the new.
#[derive(Debug)]
pub struct Measured {
    /// Every grading the selection asks for that was found or done, in [`order`].
    pub entries: Vec<Entry>,
    /// How many of them came from the journal.
    pub from_journal: usize,
    /// How many were graded in this sitting.
    pub graded_now: usize,
}

/// The journal's gradings sorted into `selection`'s slots (the first of duplicates kept),
/// and how many it held that the selection does not ask for.
pub fn sort_into_slots(
    selection: &Selection<'_>,
    journal: Vec<Entry>,
) -> (HashMap<Slot, Entry>, usize) {
    let index: HashMap<(&str, &str), usize> = selection
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| ((v.assignment(), v.name.as_str()), i))
        .collect();
    let mut found = HashMap::new();
    let mut other = 0;
    for entry in journal {
        let slot = index
            .get(&(entry.assignment.as_str(), entry.variant.as_str()))
            .zip(selection.run_of(entry.seed))
            .filter(|_| entry.hog == selection.hog)
            .map(|(variant, run)| Slot {
                variant: *variant,
                run,
            });
        match slot {
            Some(slot) if !found.contains_key(&slot) => {
                found.insert(slot, entry);
            }
            Some(_) | None => other += 1,
        }
    }
    (found, other)
}

/// Grades every slot of `selection` the journal's `found` does not hold, in [`order`], with
/// `grade(variant index, seed)`; hands each finished grading to `record` (the journal)
/// before the next starts. Starts no grading after `stop_at`. Progress goes to stderr.
pub fn measure<G, R>(
    selection: &Selection<'_>,
    mut found: HashMap<Slot, Entry>,
    stop_at: Option<Instant>,
    mut grade: G,
    mut record: R,
) -> Result<Measured>
where
    G: FnMut(usize, u64) -> Result<Grading>,
    R: FnMut(&Entry) -> Result<()>,
{
    let slots = order(selection.variants.len(), selection.runs);
    let from_journal = found.len();
    let to_grade = slots.len() - from_journal;
    // Per variant: gradings and seconds so far, the journal's included.
    let mut so_far = vec![(0u32, 0.0f64); selection.variants.len()];
    for (slot, entry) in &found {
        so_far[slot.variant].0 += 1;
        so_far[slot.variant].1 += entry.seconds;
    }
    let mut seconds_now = 0.0;
    let mut graded_now = 0;
    for slot in &slots {
        if found.contains_key(slot) {
            continue;
        }
        if stop_at.is_some_and(|at| Instant::now() >= at) {
            eprintln!("stopping: the time given to this sitting is over");
            break;
        }
        let variant = &selection.variants[slot.variant];
        let seed = selection.seed(slot.run);
        eprintln!(
            "grading {} {} run {}/{} (seed {seed:#x}) [{} of {to_grade} this sitting]",
            variant.assignment(),
            variant.name,
            slot.run + 1,
            selection.runs,
            graded_now + 1
        );
        let started = Instant::now();
        let outcome = grade(slot.variant, seed)?;
        let seconds = started.elapsed().as_secs_f64();
        let entry = Entry {
            assignment: variant.assignment().to_owned(),
            variant: variant.name.clone(),
            seed,
            run: slot.run,
            hog: selection.hog,
            seconds,
            outcome,
        };
        record(&entry)?;
        graded_now += 1;
        seconds_now += seconds;
        let (count, total) = &mut so_far[slot.variant];
        *count += 1;
        *total += seconds;
        let left = to_grade - graded_now;
        eprintln!(
            "  {seconds:.1} s; {} {}: {count} grading{}, {total:.0} s in all; {left} left, \
             about {} at this sitting's pace",
            variant.assignment(),
            variant.name,
            if *count == 1 { "" } else { "s" },
            crate::tally::span(seconds_now / graded_now as f64 * left as f64)
        );
        found.insert(*slot, entry);
    }
    let entries = slots.iter().filter_map(|s| found.remove(s)).collect();
    Ok(Measured {
        entries,
        from_journal,
        graded_now,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::grading::Judged;
    use crate::journal::{Expect, Journal};
    use crate::revision::Revision;
    use crate::tally::Tally;

    fn variant(name: &str, expected: &str) -> Variant {
        let expectations = toml::from_str(&format!(
            "assignment = \"a02-pipe\"\nabout = \"x\"\n{expected}"
        ))
        .expect("an expected.toml");
        Variant {
            name: name.to_owned(),
            origin: workspace_tests::variants::Origin::Solution,
            expectations,
        }
    }

    fn variants() -> Vec<Variant> {
        vec![
            variant("solution", ""),
            variant(
                "unordered",
                "[[expect]]\ncheck = \"replies-in-order\"\nverdict = \"wrong-answer\"",
            ),
            variant("alternative", ""),
        ]
    }

    /// A grader whose verdicts depend only on the variant and the seed, wrong now and then.
    fn fake(variants: &[Variant], index: usize, seed: u64) -> Grading {
        if seed % 7 == 3 {
            return Grading::GraderFailed(format!("exit code 3 (seed {seed})"));
        }
        let verdict = match (variants[index].name.as_str(), seed % 3) {
            ("unordered", 0) => "pass",
            ("unordered", _) => "wrong-answer",
            (_, 1) => "not-measurable",
            (_, _) => "pass",
        };
        let judged = |verdict: &str| Judged {
            verdict: verdict.to_owned(),
            explanation: format!("seed {seed}"),
        };
        Grading::Verdicts(BTreeMap::from([
            ("replies-in-order".to_owned(), judged(verdict)),
            ("child-joined".to_owned(), judged("pass")),
        ]))
    }

    fn selection(variants: &[Variant]) -> Selection<'_> {
        Selection {
            variants,
            runs: 5,
            first_seed: 100,
            hog: false,
        }
    }

    fn revision() -> Revision {
        Revision {
            commit: "ab".repeat(20),
            dirty: false,
            changes: Vec::new(),
            graded: BTreeMap::from([("grader".to_owned(), "tree".to_owned())]),
        }
    }

    #[test]
    fn the_order_grades_every_variant_once_before_any_twice() {
        let slots = order(3, 2);
        let pairs: Vec<(usize, u32)> = slots.iter().map(|s| (s.variant, s.run)).collect();
        assert_eq!(pairs, [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]);
        assert!(order(3, 0).is_empty());
        assert!(order(0, 4).is_empty());
    }

    #[test]
    fn a_sitting_stopped_part_way_leaves_the_variants_even() {
        let variants = variants();
        let selection = selection(&variants);
        let mut calls = 0;
        let mut recorded = Vec::new();
        let stopped = measure(
            &selection,
            HashMap::new(),
            None,
            |i, seed| {
                calls += 1;
                anyhow::ensure!(calls <= 7, "killed");
                Ok(fake(&variants, i, seed))
            },
            |e| {
                recorded.push((e.variant.clone(), e.run, e.seed));
                Ok(())
            },
        );
        assert!(stopped.is_err());
        assert_eq!(calls, 8, "the 8th grading was the one killed");
        let per_variant: Vec<usize> = variants
            .iter()
            .map(|v| recorded.iter().filter(|r| r.0 == v.name).count())
            .collect();
        assert_eq!(per_variant, [3, 2, 2], "{recorded:?}");
        assert_eq!(
            recorded[3],
            ("solution".to_owned(), 1, 101),
            "run 1 starts after run 0 of every variant"
        );
    }

    #[test]
    fn the_journal_gradings_outside_the_selection_are_set_aside() {
        let variants = variants();
        let selection = selection(&variants);
        let entry = |variant: &str, seed: u64, hog: bool| Entry {
            assignment: "a02-pipe".to_owned(),
            variant: variant.to_owned(),
            seed,
            run: 0,
            hog,
            seconds: 1.0,
            outcome: fake(&variants, 0, seed),
        };
        let journal = vec![
            entry("solution", 100, false),
            entry("solution", 100, false), // a duplicate
            entry("solution", 104, false),
            entry("solution", 105, false), // beyond --runs 5
            entry("solution", 99, false),  // before --seed
            entry("gone", 101, false),     // not selected (--only)
            entry("alternative", 102, true),
        ];
        let (found, other) = sort_into_slots(&selection, journal);
        let mut slots: Vec<(usize, u32)> = found.keys().map(|s| (s.variant, s.run)).collect();
        slots.sort_unstable();
        assert_eq!(slots, [(0, 0), (0, 4)]);
        assert_eq!(other, 5);
    }

    #[test]
    fn a_journal_written_then_resumed_tallies_as_one_uninterrupted_run() {
        let variants = variants();
        let selection = selection(&variants);
        let now = revision();
        let expect = Expect {
            revision: &now,
            hog: false,
            allow_other_revision: false,
            now: 0,
        };
        let dir = tempfile::tempdir().expect("a temporary directory");

        let whole = measure(
            &selection,
            HashMap::new(),
            None,
            |i, seed| Ok(fake(&variants, i, seed)),
            |_| Ok(()),
        )
        .expect("measured");
        assert_eq!((whole.from_journal, whole.graded_now), (0, 15));

        // Two sittings, each killed part-way, then a third that finishes.
        let path = dir.path().join("j.jsonl");
        let mut graded = 0;
        for killed_after in [4, 6] {
            let mut opened = Journal::open(&path, &expect).expect("opened");
            let (found, _) = sort_into_slots(&selection, opened.entries);
            let mut calls = 0;
            let stopped = measure(
                &selection,
                found,
                None,
                |i, seed| {
                    calls += 1;
                    anyhow::ensure!(calls <= killed_after, "killed");
                    Ok(fake(&variants, i, seed))
                },
                |e| Ok(opened.journal.append(e)?),
            );
            assert!(stopped.is_err());
            graded += killed_after;
        }
        let mut opened = Journal::open(&path, &expect).expect("opened");
        assert_eq!(opened.entries.len(), graded);
        let (found, other) = sort_into_slots(&selection, opened.entries);
        assert_eq!(other, 0);
        let resumed = measure(
            &selection,
            found,
            None,
            |i, seed| Ok(fake(&variants, i, seed)),
            |e| Ok(opened.journal.append(e)?),
        )
        .expect("measured");
        assert_eq!(
            (resumed.from_journal, resumed.graded_now),
            (graded, 15 - graded)
        );

        let key = |e: &Entry| (e.variant.clone(), e.seed, e.outcome.clone());
        assert_eq!(
            resumed.entries.iter().map(key).collect::<Vec<_>>(),
            whole.entries.iter().map(key).collect::<Vec<_>>()
        );
        let whole_tally = Tally::of(&variants, &whole.entries);
        assert_eq!(Tally::of(&variants, &resumed.entries), whole_tally);
        assert!(
            !whole_tally.is_clean(),
            "the fake grader is wrong now and then"
        );

        // Everything is in the journal now: a fourth sitting grades nothing.
        drop(opened.journal);
        let opened = Journal::open(&path, &expect).expect("opened");
        let (found, _) = sort_into_slots(&selection, opened.entries);
        let again = measure(
            &selection,
            found,
            None,
            |_, _| anyhow::bail!("nothing is left to grade"),
            |_| Ok(()),
        )
        .expect("measured");
        assert_eq!((again.from_journal, again.graded_now), (15, 0));
        assert_eq!(Tally::of(&variants, &again.entries), whole_tally);
    }

    #[test]
    fn a_sitting_out_of_time_grades_nothing_more_and_returns_what_it_has() {
        let variants = variants();
        let selection = selection(&variants);
        let mut first = measure(
            &selection,
            HashMap::new(),
            None,
            |i, seed| Ok(fake(&variants, i, seed)),
            |_| Ok(()),
        )
        .expect("measured");
        first.entries.truncate(4);
        let (found, _) = sort_into_slots(&selection, first.entries.clone());
        let report = measure(
            &selection,
            found,
            Some(Instant::now()),
            |_, _| anyhow::bail!("graded after the time was over"),
            |_| Ok(()),
        )
        .expect("measured");
        assert_eq!((report.from_journal, report.graded_now), (4, 0));
        assert_eq!(report.entries, first.entries);
    }
}
