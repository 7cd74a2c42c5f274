//! Value, Array and SharedMemory across real processes.

mod sync_support;

use std::path::Path;

use multiprocessing::{
    Array, CreateError, Event, IndexError, LockError, SharedMemory, SharedMemoryError, Value,
};
use sync_support::{Children, DEADLINE, child_check, code, exit_child, park_forever};

const PROCESSES: usize = 4;
const INCREMENTS: u64 = 5_000;

// ---------------------------------------------------------------------------------------------
// Value
// ---------------------------------------------------------------------------------------------

#[test]
fn counter_incremented_under_the_lock_by_four_processes_is_exact() {
    let counter = Value::new(0u64).unwrap();
    let mut children = Children::new();
    for _ in 0..PROCESSES {
        let counter = counter.clone();
        children.spawn(move || {
            for _ in 0..INCREMENTS {
                let Ok(mut count) = counter.get_lock_timeout(DEADLINE) else {
                    exit_child(code::TIMED_OUT)
                };
                *count += 1;
            }
        });
    }
    children.join_all_ok();
    assert_eq!(counter.load(), PROCESSES as u64 * INCREMENTS);
}

#[test]
fn counter_incremented_with_unlocked_load_and_store_may_lose_updates_but_never_gains() {
    let counter = Value::new(0u64).unwrap();
    let mut children = Children::new();
    for _ in 0..PROCESSES {
        let counter = counter.clone();
        children.spawn(move || {
            for _ in 0..INCREMENTS {
                counter.store(counter.load() + 1);
            }
        });
    }
    children.join_all_ok();
    let total = counter.load();
    // Whether updates were lost depends on scheduling (in the worst interleaving almost all
    // are); only the upper bound is certain.
    assert!(
        (1..=PROCESSES as u64 * INCREMENTS).contains(&total),
        "{total}"
    );
}

#[test]
fn value_holder_killed_mid_update_is_reported_and_its_update_is_lost_not_torn() {
    let value = Value::new(7i64).unwrap();
    let holding = Event::new().unwrap();
    let mut children = Children::new();
    let holder_pid = children.spawn({
        let (value, holding) = (value.clone(), holding.clone());
        move || {
            let Ok(mut held) = value.get_lock_timeout(DEADLINE) else {
                exit_child(code::TIMED_OUT)
            };
            *held = 1_000;
            child_check(holding.set().is_ok(), code::UNEXPECTED);
            park_forever()
        }
    });
    holding.wait_timeout(DEADLINE).unwrap();
    children.get(0).kill().unwrap();
    let _ = children.get(0).join_timeout(DEADLINE);

    match value.get_lock_timeout(DEADLINE) {
        Err(LockError::OwnerDied(died)) => {
            assert_eq!(died.pid, holder_pid);
            let mut guard = died.into_guard();
            assert_eq!(
                *guard, 7,
                "the dead holder's write never reached shared memory"
            );
            *guard = 8;
        }
        other => panic!("expected OwnerDied, got {other:?}"),
    }
    assert_eq!(value.load(), 8);
    assert_eq!(*value.get_lock().unwrap(), 8);
}

#[test]
fn value_guard_shows_its_own_changes_and_publishes_them_on_drop() {
    let value = Value::new(1.5f32).unwrap();
    let mut held = value.get_lock().unwrap();
    *held *= 2.0;
    assert_eq!(*held, 3.0);
    assert_eq!(value.load(), 1.5, "published when the guard drops");
    drop(held);
    assert_eq!(value.load(), 3.0);
}

macro_rules! round_trips {
    ($($scalar:ty: $($value:expr),+;)+) => {$($(
        let value = Value::new(<$scalar>::default()).unwrap();
        value.store($value);
        assert_eq!(value.load().to_ne_bytes(), ($value as $scalar).to_ne_bytes());
        *value.get_lock().unwrap() = $value;
        assert_eq!(value.load().to_ne_bytes(), ($value as $scalar).to_ne_bytes());
    )+)+};
}

#[test]
fn every_scalar_type_round_trips_bit_for_bit() {
    round_trips! {
        i8: i8::MIN, i8::MAX;
        i16: i16::MIN, i16::MAX;
        i32: i32::MIN, i32::MAX;
        i64: i64::MIN, i64::MAX;
        isize: isize::MIN, isize::MAX;
        u8: u8::MAX;
        u16: u16::MAX;
        u32: u32::MAX;
        u64: u64::MAX;
        usize: usize::MAX;
        f32: f32::MIN_POSITIVE, -0.0f32, f32::INFINITY, f32::from_bits(0x7fc0_0123);
        f64: f64::MAX, -0.0f64, f64::NEG_INFINITY, f64::from_bits(0x7ff8_0000_0000_0042);
    }
}

#[test]
#[allow(clippy::approx_constant, reason = "the lesson's own numbers")]
fn value_written_by_a_child_is_read_by_the_parent() {
    let shared_int = Value::new(10i32).unwrap();
    let shared_float = Value::new(3.14f64).unwrap();
    let mut children = Children::new();
    children.spawn({
        let (shared_int, shared_float) = (shared_int.clone(), shared_float.clone());
        move || {
            let Ok(mut int) = shared_int.get_lock_timeout(DEADLINE) else {
                exit_child(code::TIMED_OUT)
            };
            *int += 1;
            drop(int);
            shared_float.store(shared_float.load() * 2.0);
        }
    });
    children.join_all_ok();
    assert_eq!(shared_int.load(), 11);
    assert_eq!(shared_float.load(), 6.28);
}

// ---------------------------------------------------------------------------------------------
// Array
// ---------------------------------------------------------------------------------------------

#[test]
fn array_slots_written_by_each_process_sum_up() {
    const PER_PROCESS: u64 = 1_000;
    let counts = Array::new(PROCESSES, 0u64).unwrap();
    let shared_totals = Array::new(2, 0u64).unwrap();
    let mut children = Children::new();
    for id in 0..PROCESSES {
        let (counts, shared_totals) = (counts.clone(), shared_totals.clone());
        children.spawn(move || {
            for _ in 0..PER_PROCESS {
                // Each process owns its slot: no lock needed.
                let Some(mine) = counts.load(id) else {
                    exit_child(code::UNEXPECTED)
                };
                child_check(counts.store(id, mine + 1).is_ok(), code::UNEXPECTED);
                // Slots every process writes: under the array's lock.
                let Ok(mut totals) = shared_totals.get_lock_timeout(DEADLINE) else {
                    exit_child(code::TIMED_OUT)
                };
                totals[0] += 1;
                totals[1] += id as u64;
            }
        });
    }
    children.join_all_ok();
    assert_eq!(counts.to_vec(), vec![PER_PROCESS; PROCESSES]);
    assert_eq!(
        counts.to_vec().iter().sum::<u64>(),
        PROCESSES as u64 * PER_PROCESS
    );
    let id_sum: u64 = (0..PROCESSES as u64).sum();
    assert_eq!(
        shared_totals.to_vec(),
        [PROCESSES as u64 * PER_PROCESS, id_sum * PER_PROCESS]
    );
}

#[test]
fn array_rejects_empty_and_absurd_lengths_and_out_of_range_indices() {
    assert!(matches!(
        Array::new(0, 0i32),
        Err(CreateError::InvalidLength { len: 0, .. })
    ));
    assert!(matches!(
        Array::<f64>::from_slice(&[]),
        Err(CreateError::InvalidLength { len: 0, .. })
    ));
    assert!(matches!(
        Array::new(usize::MAX, 0u8),
        Err(CreateError::InvalidLength {
            len: usize::MAX,
            ..
        })
    ));
    let too_long = Array::<u64>::max_len() + 1;
    assert!(matches!(
        Array::new(too_long, 0u64),
        Err(CreateError::InvalidLength { .. })
    ));

    let array = Array::from_slice(&[1i16, 2, 3]).unwrap();
    assert_eq!(array.len(), 3);
    assert!(!array.is_empty());
    assert_eq!(array.load(2), Some(3));
    assert_eq!(array.load(3), None);
    assert_eq!(array.store(3, 9), Err(IndexError { index: 3, len: 3 }));
    assert_eq!(array.to_vec(), [1, 2, 3]);
}

#[test]
fn array_guard_changes_all_elements_at_once_on_drop() {
    let array = Array::new(1_000, 2.5f64).unwrap();
    let mut held = array.get_lock().unwrap();
    for x in held.iter_mut() {
        *x = -*x;
    }
    assert_eq!(array.load(999), Some(2.5), "published when the guard drops");
    drop(held);
    assert!(array.to_vec().iter().all(|&x| x == -2.5));
}

#[test]
#[allow(clippy::approx_constant, reason = "the lesson's own numbers")]
fn array_negated_by_a_child_as_in_the_lesson() {
    let num = Value::new(0.0f64).unwrap();
    let arr = Array::from_slice(&(0..10).collect::<Vec<i32>>()).unwrap();
    let mut children = Children::new();
    children.spawn({
        let (num, arr) = (num.clone(), arr.clone());
        move || {
            num.store(3.1415927);
            for i in 0..arr.len() {
                let Some(x) = arr.load(i) else {
                    exit_child(code::UNEXPECTED)
                };
                child_check(arr.store(i, -x).is_ok(), code::UNEXPECTED);
            }
        }
    });
    children.join_all_ok();
    assert_eq!(num.load(), 3.1415927);
    assert_eq!(arr.to_vec(), [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]);
}

// ---------------------------------------------------------------------------------------------
// SharedMemory
// ---------------------------------------------------------------------------------------------

fn in_dev_shm(name: &str) -> bool {
    Path::new("/dev/shm").join(name).exists()
}

/// A name no other test (or test run) uses.
fn unique_name(tag: &str) -> String {
    format!("mp-test-{tag}-{}", std::process::id())
}

#[test]
fn shared_memory_created_by_the_parent_is_attached_and_written_by_a_child() {
    let mut shm = SharedMemory::create(None, 20).unwrap();
    let name = shm.name().to_owned();
    assert!(name.starts_with("psm_"), "{name}");
    assert!(in_dev_shm(&name));
    assert_eq!(shm.size(), 20);
    assert!(shm.as_slice().iter().all(|&b| b == 0), "zero-filled");
    bytemuck::cast_slice_mut::<u8, i32>(shm.as_mut_slice()).copy_from_slice(&[1, 2, 3, 4, 5]);

    let mut children = Children::new();
    children.spawn({
        let name = name.clone();
        move || {
            let Ok(mut attached) = SharedMemory::attach(&name) else {
                exit_child(code::UNEXPECTED)
            };
            child_check(attached.size() == 20, code::UNEXPECTED);
            for x in bytemuck::cast_slice_mut::<u8, i32>(attached.as_mut_slice()) {
                *x += 1;
            }
        } // the attached handle drops here: it must not unlink
    });
    children.join_all_ok();
    assert!(
        in_dev_shm(&name),
        "a child's attached handle does not unlink"
    );
    assert_eq!(
        bytemuck::cast_slice::<u8, i32>(shm.as_slice()),
        [2, 3, 4, 5, 6]
    );

    drop(shm);
    assert!(!in_dev_shm(&name), "the creator unlinks on drop");
    assert!(matches!(
        SharedMemory::attach(&name),
        Err(SharedMemoryError::NotFound { .. })
    ));
}

#[test]
fn shared_memory_with_a_chosen_name_unlinks_once_and_refuses_duplicates() {
    let name = unique_name("named");
    let mut shm = SharedMemory::create(Some(&name), 4096).unwrap();
    assert_eq!(shm.name(), name);
    assert!(in_dev_shm(&name));
    assert!(matches!(
        SharedMemory::create(Some(&name), 1),
        Err(SharedMemoryError::AlreadyExists { .. })
    ));

    let mut attached = SharedMemory::attach(&name).unwrap();
    attached.as_mut_slice()[4095] = 42;
    assert_eq!(shm.as_slice()[4095], 42, "two mappings of one block");

    attached.unlink().unwrap();
    assert!(!in_dev_shm(&name));
    assert!(matches!(
        shm.unlink(),
        Err(SharedMemoryError::NotFound { .. })
    ));
    // Unlinking removes the name, not the memory of those still attached.
    shm.as_mut_slice()[0] = 1;
    assert_eq!(attached.as_slice()[0], 1);
    drop(shm);
    drop(attached);
    assert!(!in_dev_shm(&name));
}

#[test]
fn shared_memory_moved_into_a_child_is_not_unlinked_by_the_parents_discarded_copy() {
    let mut shm = SharedMemory::create(Some(&unique_name("moved")), 8).unwrap();
    let name = shm.name().to_owned();
    let written = Event::new().unwrap();
    let mut children = Children::new();
    children.spawn({
        let written = written.clone();
        move || {
            shm.as_mut_slice()[0] = 7;
            child_check(written.set().is_ok(), code::UNEXPECTED);
        } // the child's copy drops here: not the creating process, so no unlink
    });
    written.wait_timeout(DEADLINE).unwrap();
    children.join_all_ok();
    assert!(
        in_dev_shm(&name),
        "neither the parent's discarded copy nor the child unlinked"
    );

    let mut attached = SharedMemory::attach(&name).unwrap();
    assert_eq!(attached.as_slice()[0], 7);
    attached.unlink().unwrap();
    assert!(!in_dev_shm(&name));
}

#[test]
fn shared_memory_rejects_bad_names_and_empty_blocks() {
    let too_long = "x".repeat(255);
    for bad in [
        "",
        "/leading",
        "a/b",
        ".",
        "..",
        "nul\0byte",
        too_long.as_str(),
    ] {
        assert!(
            matches!(
                SharedMemory::create(Some(bad), 8),
                Err(SharedMemoryError::InvalidName { .. })
            ),
            "create {bad:?}"
        );
        assert!(
            matches!(
                SharedMemory::attach(bad),
                Err(SharedMemoryError::InvalidName { .. })
            ),
            "attach {bad:?}"
        );
    }
    let longest = format!("{}-{}", unique_name("long"), "y".repeat(254));
    let longest = &longest[..254];
    drop(SharedMemory::create(Some(longest), 1).expect("254 bytes is allowed"));
    assert!(!in_dev_shm(longest));

    let name = unique_name("empty");
    assert!(matches!(
        SharedMemory::create(Some(&name), 0),
        Err(SharedMemoryError::ZeroSize { .. })
    ));
    assert!(matches!(
        SharedMemory::create(None, 0),
        Err(SharedMemoryError::ZeroSize { .. })
    ));
    assert!(!in_dev_shm(&name));
    assert!(matches!(
        SharedMemory::attach(&unique_name("missing")),
        Err(SharedMemoryError::NotFound { .. })
    ));
}
