//! A worker process: reads tasks from its socket, runs them one at a time, writes each
//! outcome back as soon as it has it.
//!
//! Writing every outcome at once (instead of batching) is what makes a worker's death
//! precise: every task that finished before the death has its result in the socket, and
//! [`ProgressSlot`] says whether the first task without a result had started.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use super::progress::ProgressSlot;
use super::service::exit_now;
use super::task::{TaskFailure, trampoline_at};
use super::wire::{
    InBuffer, KIND_EXIT, KIND_TASK, LEN_BYTES, OUTCOME_HEADER, STATUS_FAILED, STATUS_OK,
    TASK_HEADER, finish_frame, read_u64, start_frame, write_all,
};
use crate::codec;

/// Exit code of a worker that received a frame it cannot parse (a bug, not a user error).
const CORRUPT_STREAM_EXIT_CODE: i32 = 71;

/// The worker's whole life. Never returns.
pub(crate) fn run(socket: OwnedFd, progress: &ProgressSlot) -> ! {
    let fd = socket.as_raw_fd();
    let mut input = InBuffer::new();
    let mut out = Vec::with_capacity(4096);
    loop {
        loop {
            let frame = match input.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(_) => exit_now(CORRUPT_STREAM_EXIT_CODE),
            };
            match frame.first() {
                Some(&KIND_TASK) if frame.len() >= TASK_HEADER => {
                    let seq = read_u64(frame, 1);
                    let trampoline = read_u64(frame, 9);
                    progress.record_start(seq);
                    run_task(seq, trampoline, &frame[TASK_HEADER..], &mut out);
                    if write_all(fd, &out).is_err() {
                        // The parent has gone: nobody wants the rest.
                        leave(0);
                    }
                }
                Some(&KIND_EXIT) => leave(0),
                _ => exit_now(CORRUPT_STREAM_EXIT_CODE),
            }
        }
        match input.fill_from(fd, false) {
            Ok(0) | Err(_) => leave(0),
            Ok(_) => {}
        }
    }
}

/// Runs one task and leaves its whole outcome frame in `out`.
fn run_task(seq: u64, trampoline: u64, args: &[u8], out: &mut Vec<u8>) {
    let started = Instant::now();
    out.clear();
    start_frame(out);
    out.extend_from_slice(&[0; OUTCOME_HEADER]);
    // SAFETY: the address was written by the parent with `trampoline_address`, and this
    // worker was forked (through the fork server) from that parent with no exec between.
    let trampoline = unsafe { trampoline_at(trampoline) };
    let mut status = STATUS_OK;
    if let Err(failure) = trampoline(args, out) {
        status = STATUS_FAILED;
        write_failure(out, &failure);
    }
    if let Err(bytes) = finish_frame(out, 0) {
        status = STATUS_FAILED;
        write_failure(
            out,
            &TaskFailure::ResultTooLarge {
                bytes: bytes as u64,
            },
        );
        // A failure description is a few bytes: far below the limit.
        let _ = finish_frame(out, 0);
    }
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let header = LEN_BYTES;
    out[header..header + 8].copy_from_slice(&seq.to_le_bytes());
    out[header + 8..header + 16].copy_from_slice(&nanos.to_le_bytes());
    out[header + 16] = status;
}

/// Replaces whatever the task left in `out` with the header and an encoded failure.
fn write_failure(out: &mut Vec<u8>, failure: &TaskFailure) {
    out.clear();
    start_frame(out);
    out.extend_from_slice(&[0; OUTCOME_HEADER]);
    let buffer = std::mem::take(out);
    // Encoding a few strings into a Vec cannot fail; if it somehow did, the parent gets an
    // empty failure body and reports it as undecodable.
    *out = codec::encode_into(failure, buffer).unwrap_or_else(|_| {
        let mut fallback = Vec::new();
        start_frame(&mut fallback);
        fallback.extend_from_slice(&[0; OUTCOME_HEADER]);
        fallback
    });
    let _ = finish_frame(out, 0);
}

fn leave(code: i32) -> ! {
    // Output a task printed without a newline is still in the buffers.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let _ = std::io::Write::flush(&mut std::io::stderr());
    exit_now(code)
}
