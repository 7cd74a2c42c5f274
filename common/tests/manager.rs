//! `Manager` and its proxies, used by real child processes and pool workers.

use std::time::{Duration, Instant};

use multiprocessing::{ListProxy, Manager, ManagerError, Pool, Process, current_process};

const DEADLINE: Duration = Duration::from_secs(30);

/// Kills and reaps the children when a test ends early.
struct Children(Vec<Process>);

impl Children {
    fn start(targets: Vec<Process>) -> Self {
        let mut children = Self(targets);
        for child in &mut children.0 {
            child.start().expect("fork");
        }
        children
    }

    fn join_all(&mut self) {
        for child in &mut self.0 {
            child.join_timeout(DEADLINE).expect("child succeeded");
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.join_timeout(DEADLINE);
        }
    }
}

fn is_gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn three_processes_share_a_list_and_a_dict() {
    const APPENDS: usize = 50;
    let manager = Manager::new().unwrap();
    let shared_list = manager.list::<String>().unwrap();
    let shared_dict = manager.dict::<String, usize>().unwrap();
    let mut children = Children::start(
        (0..3)
            .map(|i| {
                let (list, dict) = (shared_list.clone(), shared_dict.clone());
                Process::new(move || {
                    let name = current_process().name;
                    for _ in 0..APPENDS {
                        list.append(&name).expect("append");
                    }
                    dict.insert(&name, &APPENDS).expect("insert");
                })
                .with_name(format!("worker-{i}"))
            })
            .collect(),
    );
    children.join_all();
    let mut items = shared_list.to_vec().unwrap();
    assert_eq!(items.len(), 3 * APPENDS);
    items.sort();
    for (i, chunk) in items.chunks(APPENDS).enumerate() {
        assert!(chunk.iter().all(|name| *name == format!("worker-{i}")));
    }
    let mut entries = shared_dict.items().unwrap();
    entries.sort();
    assert_eq!(
        entries,
        (0..3)
            .map(|i| (format!("worker-{i}"), APPENDS))
            .collect::<Vec<_>>()
    );
}

#[test]
fn update_is_atomic_across_processes() {
    let manager = Manager::new().unwrap();
    let counter = manager.value(0i64).unwrap();
    let mut children = Children::start(
        (0..3)
            .map(|_| {
                let counter = counter.clone();
                Process::new(move || {
                    for _ in 0..100 {
                        counter.update(|v: i64| v + 1).expect("update");
                    }
                })
            })
            .collect(),
    );
    children.join_all();
    assert_eq!(counter.get().unwrap(), 300);
}

#[test]
fn a_proxy_used_before_fork_is_used_safely_by_parent_and_child_at_once() {
    let manager = Manager::new().unwrap();
    let list = manager.list::<u32>().unwrap();
    // The parent's connection exists before the fork: the child must not share it.
    list.append(&0).unwrap();
    let mut children = Children::start(vec![Process::new({
        let list = list.clone();
        move || {
            for i in 1..=200 {
                list.append(&i).expect("child append");
            }
        }
    })]);
    for i in 1_001..=1_200 {
        list.append(&i).unwrap();
    }
    children.join_all();
    let mut items = list.to_vec().unwrap();
    items.sort_unstable();
    let mut expected: Vec<u32> = std::iter::once(0)
        .chain(1..=200)
        .chain(1_001..=1_200)
        .collect();
    expected.sort_unstable();
    assert_eq!(items, expected);
}

fn append_square(args: (ListProxy<u64>, u64)) -> u64 {
    let (list, x) = args;
    list.append(&(x * x)).expect("append from a worker");
    x
}

#[test]
fn proxies_travel_to_pool_workers_as_task_arguments() {
    let manager = Manager::new().unwrap();
    let list = manager.list::<u64>().unwrap();
    let pool = Pool::new(2).unwrap();
    let args: Vec<_> = (0..20).map(|x| (list.clone(), x)).collect();
    assert_eq!(pool.map_chunked(append_square, args, 3).unwrap().len(), 20);
    pool.close();
    pool.join_timeout(DEADLINE).unwrap();
    let mut items = list.to_vec().unwrap();
    items.sort_unstable();
    assert_eq!(items, (0..20).map(|x| x * x).collect::<Vec<_>>());
}

#[test]
fn list_operations_and_errors() {
    let manager = Manager::new().unwrap();
    let list = manager.list_from([1.0f64, 2.5, 3.0]).unwrap();
    assert_eq!(list.len().unwrap(), 3);
    assert_eq!(list.get(1).unwrap(), 2.5);
    list.set(1, &4.5).unwrap();
    list.extend([7.0, 8.0]).unwrap();
    assert_eq!(list.to_vec().unwrap(), [1.0, 4.5, 3.0, 7.0, 8.0]);
    assert_eq!(list.pop().unwrap(), Some(8.0));
    assert!(matches!(
        list.get(10),
        Err(ManagerError::IndexOutOfRange { index: 10, len: 4 })
    ));
    assert!(matches!(
        list.set(4, &0.0),
        Err(ManagerError::IndexOutOfRange { index: 4, len: 4 })
    ));
    list.clear().unwrap();
    assert!(list.is_empty().unwrap());
    assert_eq!(list.pop().unwrap(), None);
}

#[test]
fn dict_operations_keep_insertion_order() {
    let manager = Manager::new().unwrap();
    let dict = manager.dict::<String, i32>().unwrap();
    assert_eq!(dict.insert(&"b".into(), &1).unwrap(), None);
    assert_eq!(dict.insert(&"a".into(), &2).unwrap(), None);
    assert_eq!(dict.insert(&"b".into(), &3).unwrap(), Some(1));
    assert_eq!(dict.keys().unwrap(), ["b", "a"]);
    assert_eq!(dict.values().unwrap(), [3, 2]);
    assert!(dict.contains_key(&"a".into()).unwrap());
    assert_eq!(dict.remove(&"a".into()).unwrap(), Some(2));
    assert_eq!(dict.get(&"a".into()).unwrap(), None);
    assert_eq!(dict.len().unwrap(), 1);
    dict.clear().unwrap();
    assert!(dict.is_empty().unwrap());
}

fn explodes(_: i32) -> i32 {
    panic!("no update for you")
}

#[test]
fn a_panicking_update_leaves_the_value_unchanged() {
    let manager = Manager::new().unwrap();
    let value = manager.value(41).unwrap();
    match value.update(explodes) {
        Err(ManagerError::UpdatePanicked { message }) => assert_eq!(message, "no update for you"),
        other => panic!("expected the update's panic, got {other:?}"),
    }
    assert_eq!(value.get().unwrap(), 41);
    assert_eq!(value.update(|v: i32| v + 1).unwrap(), 42);
    value.set(&7).unwrap();
    assert_eq!(value.get().unwrap(), 7);
}

#[test]
fn a_proxy_of_the_wrong_kind_is_a_typed_error() {
    let manager = Manager::new().unwrap();
    let list = manager.list::<u8>().unwrap();
    // Re-read the list's proxy as a value proxy: same id, other kind.
    let bytes = postcard::to_stdvec(&list).unwrap();
    let value: multiprocessing::ValueProxy<u8> = postcard::from_bytes(&bytes).unwrap();
    assert!(matches!(
        value.get(),
        Err(ManagerError::NoSuchObject { kind: "value", .. })
    ));
}

#[test]
fn shutdown_stops_the_server_and_proxies_then_fail() {
    let manager = Manager::new().unwrap();
    let pid = manager.pid();
    let list = manager.list::<u8>().unwrap();
    list.append(&1).unwrap();
    let started = Instant::now();
    manager.shutdown();
    assert!(started.elapsed() < DEADLINE);
    assert!(is_gone(pid), "the server was reaped");
    assert!(matches!(
        list.append(&2),
        Err(ManagerError::ServerGone | ManagerError::Io { .. } | ManagerError::Connect { .. })
    ));
    // A second shutdown is harmless.
    manager.shutdown();
}

#[test]
fn dropping_the_manager_leaves_no_process() {
    let manager = Manager::new().unwrap();
    let pid = manager.pid();
    drop(manager);
    assert!(is_gone(pid));
}
