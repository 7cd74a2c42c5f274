//! The runner protocol: how a runner binary receives its scenario and returns its report.
//!
//! ```text
//!  harness (trusted)                               runner binary (links the student's crate)
//!  ─────────────────                               ─────────────────────────────────────────
//!  spawn, own process group, env allow-list ──►    COURSE_RESULT_FD=3 in its environment
//!  stdin: the Scenario as JSON, then EOF    ──►    serve(): parse Scenario, call student code
//!  stdout/stderr: captured, capped          ◄──    whatever the student prints
//!  fd 3 (a pipe only the harness reads)     ◄──    one frame: b"CRS1", u32 LE length, JSON
//!                                                  Envelope<Report>; then exit(0)
//! ```
//!
//! One frame, then nothing: a missing frame, a bad magic, a short or oversize frame, trailing
//! bytes, or JSON that does not decode is a [`FrameError`], which every check turns into a
//! failing verdict. Printing to stdout cannot fake a report; the result pipe is a separate fd
//! the student's code has no reason to touch.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::errors::FrameError;
use crate::procfs::ProcessSnapshot;

/// Version of [`Envelope`]; bumped on any incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;

/// The environment variable holding the result channel's fd number.
pub const RESULT_FD_ENV: &str = "COURSE_RESULT_FD";

/// The fd number the harness installs the result pipe at in the runner.
pub const RESULT_FD: i32 = 3;

/// The first bytes of a frame.
pub const FRAME_MAGIC: [u8; 4] = *b"CRS1";

/// Largest report accepted: 64 MiB. A larger length prefix is corruption.
pub const MAX_FRAME_BYTES: usize = 64 << 20;

/// What a runner sends back: the student's result plus facts the runner observed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<R> {
    /// [`PROTOCOL_VERSION`] of the runner that wrote it.
    pub protocol: u32,
    /// The runner's pid (the parent of every process the student's code started).
    pub runner_pid: u32,
    /// How the student's code ended.
    pub outcome: RunnerOutcome<R>,
    /// Children of the runner still present (running, or zombies nobody reaped) right after the
    /// student's code returned. Empty when the student joined everything.
    pub children_after: Vec<ProcessSnapshot>,
    /// Time spent in the student's code, measured inside the runner, in microseconds
    /// (informational: checks judge the wall time measured from outside).
    pub student_micros: u64,
}

/// How the student's code ended inside the runner.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunnerOutcome<R> {
    /// It returned; the assignment-specific report.
    Returned(R),
    /// It panicked (a `todo!()` stub reads "not yet implemented: ...").
    Panicked {
        /// The panic's message.
        message: String,
        /// `file:line:column` of the panic, when known.
        location: Option<String>,
    },
    /// The runner could not decode its scenario: a harness/runner mismatch, not the
    /// student's fault.
    BadScenario {
        /// The decoding error.
        error: String,
    },
}

/// Serialises an envelope into one frame.
pub fn encode_frame<R: Serialize>(envelope: &Envelope<R>) -> Result<Vec<u8>, serde_json::Error> {
    let json = serde_json::to_vec(envelope)?;
    let mut frame = Vec::with_capacity(json.len() + 8);
    frame.extend_from_slice(&FRAME_MAGIC);
    // Lossless: reports are far below 4 GiB (MAX_FRAME_BYTES), and decode rejects the rest.
    frame.extend_from_slice(&(json.len() as u32).to_le_bytes());
    frame.extend_from_slice(&json);
    Ok(frame)
}

/// How many bytes a frame starting with `bytes` needs in total, once its header is in.
pub fn frame_len(bytes: &[u8]) -> Option<usize> {
    let length: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    Some(8 + u32::from_le_bytes(length) as usize)
}

/// Decodes everything read from the result channel as exactly one frame.
pub fn decode_frame<R: DeserializeOwned>(bytes: &[u8]) -> Result<Envelope<R>, FrameError> {
    if bytes.is_empty() {
        return Err(FrameError::Missing);
    }
    if bytes.len() < 4 || bytes[..4] != FRAME_MAGIC {
        return Err(FrameError::BadMagic);
    }
    let Some(total) = frame_len(bytes) else {
        return Err(FrameError::Truncated {
            announced: 8,
            got: bytes.len(),
        });
    };
    let announced = total - 8;
    if announced > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge {
            announced,
            limit: MAX_FRAME_BYTES,
        });
    }
    if bytes.len() < total {
        return Err(FrameError::Truncated {
            announced,
            got: bytes.len() - 8,
        });
    }
    if bytes.len() > total {
        return Err(FrameError::TrailingBytes {
            extra: bytes.len() - total,
        });
    }
    // Check the version before the body, so an old runner reads as "protocol", not "json".
    #[derive(Deserialize)]
    struct VersionOnly {
        protocol: u32,
    }
    let body = &bytes[8..total];
    let version: VersionOnly =
        serde_json::from_slice(body).map_err(|e| FrameError::Json(e.to_string()))?;
    if version.protocol != PROTOCOL_VERSION {
        return Err(FrameError::Protocol {
            found: version.protocol,
            expected: PROTOCOL_VERSION,
        });
    }
    serde_json::from_slice(body).map_err(|e| FrameError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope<Vec<u32>> {
        Envelope {
            protocol: PROTOCOL_VERSION,
            runner_pid: 7,
            outcome: RunnerOutcome::Returned(vec![1, 2, 3]),
            children_after: Vec::new(),
            student_micros: 5,
        }
    }

    #[test]
    fn a_frame_round_trips() {
        let frame = encode_frame(&envelope()).expect("encodes");
        let back: Envelope<Vec<u32>> = decode_frame(&frame).expect("decodes");
        assert!(matches!(back.outcome, RunnerOutcome::Returned(v) if v == [1, 2, 3]));
    }

    #[test]
    fn every_damaged_frame_is_an_error() {
        let frame = encode_frame(&envelope()).expect("encodes");
        let decode = |bytes: &[u8]| decode_frame::<Vec<u32>>(bytes).map(|_| ());
        assert_eq!(decode(&[]), Err(FrameError::Missing));
        assert_eq!(decode(b"score: 100\n"), Err(FrameError::BadMagic));
        assert!(matches!(
            decode(&frame[..frame.len() - 1]),
            Err(FrameError::Truncated { .. })
        ));
        let mut longer = frame.clone();
        longer.push(b'x');
        assert_eq!(decode(&longer), Err(FrameError::TrailingBytes { extra: 1 }));
        let wrong_type = encode_frame(&envelope_of("text")).expect("encodes");
        assert!(matches!(decode(&wrong_type), Err(FrameError::Json(_))));
        let mut huge = FRAME_MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&huge), Err(FrameError::TooLarge { .. })));
    }

    fn envelope_of<R>(report: R) -> Envelope<R> {
        Envelope {
            protocol: PROTOCOL_VERSION,
            runner_pid: 7,
            outcome: RunnerOutcome::Returned(report),
            children_after: Vec::new(),
            student_micros: 0,
        }
    }
}
