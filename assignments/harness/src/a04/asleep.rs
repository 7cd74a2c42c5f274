//! Telling a stalled set of processes from a slow one: all blocked, and none used CPU over a
//! short gap. A lost wakeup leaves exactly that; a slow or busy run does not.

use std::time::Duration;

use crate::procfs;

/// Gap between the two `/proc` samples.
pub const ASLEEP_GAP: Duration = Duration::from_millis(60);

/// True when every process of `pids` is blocked (sleeping, not a zombie) at the end of
/// [`ASLEEP_GAP`] and used no CPU during it. A process that is gone or a zombie counts as not
/// asleep: it ended, which is progress the caller will see. False for no processes.
pub fn all_asleep(pids: &[u32]) -> bool {
    if pids.is_empty() {
        // Nothing observed is not evidence of anything.
        return false;
    }
    let sample = || -> Vec<Option<procfs::ProcessSnapshot>> {
        pids.iter().map(|pid| procfs::snapshot(*pid)).collect()
    };
    let before = sample();
    std::thread::sleep(ASLEEP_GAP);
    let after = sample();
    before.iter().zip(&after).all(|pair| match pair {
        (Some(before), Some(after)) => {
            after.is_blocked() && !after.is_zombie() && before.cpu_ticks == after.cpu_ticks
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleeping_child_is_asleep_and_a_spinning_one_is_not() {
        let sleeper = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep starts");
        let mut spinner = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("sh starts");
        let mut sleeper = sleeper;
        std::thread::sleep(Duration::from_millis(50));
        assert!(all_asleep(&[sleeper.id()]));
        assert!(!all_asleep(&[sleeper.id(), spinner.id()]));
        for child in [&mut sleeper, &mut spinner] {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert!(
            !all_asleep(&[sleeper.id()]),
            "a reaped process is not asleep"
        );
    }
}
