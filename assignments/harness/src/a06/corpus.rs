//! The seeded corpora the checks search: each a directory tree generated in a
//! [`ScratchDir`], with the oracle's expectations and a note on every entry that tests a
//! particular case (the note is what a failure message explains).
//!
//! A seed changes the keyword, the names, the sizes and the text; every corpus of a kind
//! holds the same cases whatever the seed, so a mistake fails on every seed.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::a06::oracle::{self, BINARY_PROBE_BYTES, Expected};
use crate::a06::protocol::Found;
use crate::a06::scratch::ScratchDir;
use crate::a06::text::{self, filler_line, keyword_line, paragraph};
use crate::seed::{Seed, SplitMix64};

/// Which corpus a check searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CorpusKind {
    /// Nested directories of plain text files (names with spaces and non-ASCII letters,
    /// hidden files, an empty directory, files without a final newline).
    PlainTree,
    /// Line ends and bytes: empty files, no final newline, CRLF, lone CR, non-UTF-8 text,
    /// the keyword at the very start or end, many matches on one line, a long line, a file
    /// large enough to be memory-mapped.
    LineEndsAndBytes,
    /// Binary files (a NUL in the first 8 KiB) beside text files that look odd but are text.
    BinaryFiles,
    /// Symbolic links (loops, dangling, to a file, to a directory), a FIFO, a socket, and
    /// entries without read permission.
    LinksAndSpecialFiles,
    /// Many small files in many directories.
    ManyFiles,
    /// Large text files of equal size, for timing.
    Large,
}

/// A generated tree, what a right answer is, and what each odd entry tests.
#[derive(Debug)]
pub struct Corpus {
    /// The directory; the tree is removed when the corpus is dropped.
    pub dir: ScratchDir,
    /// The keyword to search for.
    pub keyword: Vec<u8>,
    /// The oracle's answer, computed while every entry was still readable.
    pub expected: Expected,
    /// What an entry tests, by relative path.
    pub notes: BTreeMap<String, &'static str>,
    /// Entries made unreadable (`chmod 000`) after the oracle ran.
    pub locked: Vec<String>,
}

impl Corpus {
    /// The root to search.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The right answer for `found`: an entry without read permission may be searched (root
    /// reads anything) or be an error entry, as the student's results chose.
    pub fn expected_for(&self, found: &Found) -> Expected {
        let mut expected = self.expected.clone();
        for locked in &self.locked {
            if found.errors.iter().any(|(path, _)| path == locked) {
                expected = expected.with_unreadable(locked);
            }
        }
        expected
    }

    /// The note of `path`, or of the nearest directory above it that has one.
    pub fn note(&self, path: &str) -> Option<&'static str> {
        let mut at = path;
        loop {
            if let Some(note) = self.notes.get(at) {
                return Some(note);
            }
            at = &at[..at.rfind('/')?];
        }
    }
}

/// Sizes for the corpora that take them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// How many files.
    pub files: usize,
    /// Bytes per file (large corpus only).
    pub file_bytes: u64,
    /// Bytes of one more, larger file (large corpus only; 0 for none).
    pub big_file_bytes: u64,
}

/// Generates corpus `kind` from `seed` in a new directory under `parent` (the system's
/// temporary directory when `None`).
pub fn generate(
    kind: CorpusKind,
    parent: Option<&Path>,
    seed: Seed,
    size: Size,
) -> io::Result<Corpus> {
    let label = match kind {
        CorpusKind::PlainTree => "plain-tree",
        CorpusKind::LineEndsAndBytes => "line-ends",
        CorpusKind::BinaryFiles => "binary",
        CorpusKind::LinksAndSpecialFiles => "links",
        CorpusKind::ManyFiles => "many-files",
        CorpusKind::Large => "large",
    };
    if kind == CorpusKind::Large {
        let mut large = LargeCorpus::new(parent, seed, size.file_bytes)?;
        large.add_files(size.files)?;
        if size.big_file_bytes > 0 {
            large.add_file("big.txt", size.big_file_bytes)?;
        }
        return Ok(large.corpus);
    }
    let mut builder = Builder::new(parent, label, seed)?;
    match kind {
        CorpusKind::PlainTree => plain_tree(&mut builder)?,
        CorpusKind::LineEndsAndBytes => line_ends_and_bytes(&mut builder)?,
        CorpusKind::BinaryFiles => binary_files(&mut builder)?,
        CorpusKind::LinksAndSpecialFiles => links_and_special_files(&mut builder)?,
        CorpusKind::ManyFiles => many_files(&mut builder, size.files)?,
        CorpusKind::Large => {}
    }
    builder.finish()
}

/// Writes a tree and remembers what each entry tests.
struct Builder {
    dir: ScratchDir,
    rng: SplitMix64,
    keyword: Vec<u8>,
    notes: BTreeMap<String, &'static str>,
    to_lock: Vec<String>,
}

impl Builder {
    fn new(parent: Option<&Path>, label: &str, seed: Seed) -> io::Result<Builder> {
        let dir = ScratchDir::create(parent, label)?;
        let mut rng = seed.rng();
        let keyword = text::keyword(&mut rng);
        Ok(Builder {
            dir,
            rng,
            keyword,
            notes: BTreeMap::new(),
            to_lock: Vec::new(),
        })
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn note(&mut self, relative: &str, note: Option<&'static str>) {
        if let Some(note) = note {
            self.notes.insert(relative.to_owned(), note);
        }
    }

    fn dir(&mut self, relative: &str, note: Option<&'static str>) -> io::Result<()> {
        std::fs::create_dir_all(self.path(relative))?;
        self.note(relative, note);
        Ok(())
    }

    fn file(&mut self, relative: &str, bytes: &[u8], note: Option<&'static str>) -> io::Result<()> {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        self.note(relative, note);
        Ok(())
    }

    fn symlink(&mut self, relative: &str, target: &str, note: &'static str) -> io::Result<()> {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::os::unix::fs::symlink(target, &path)?;
        self.note(relative, Some(note));
        Ok(())
    }

    fn fifo(&mut self, relative: &str, note: &'static str) -> io::Result<()> {
        let path = self.path(relative);
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o644))
            .map_err(io::Error::from)?;
        self.note(relative, Some(note));
        Ok(())
    }

    /// A Unix socket file, when the path is short enough for `bind` (108 bytes); otherwise
    /// no socket (the corpus then simply has none).
    fn socket(&mut self, relative: &str, note: &'static str) {
        if std::os::unix::net::UnixListener::bind(self.path(relative)).is_ok() {
            self.note(relative, Some(note));
        }
    }

    /// `relative` loses its permissions once the oracle has read it.
    fn lock_later(&mut self, relative: &str, note: &'static str) {
        self.to_lock.push(relative.to_owned());
        self.note(relative, Some(note));
    }

    /// Runs the oracle, then locks what must be locked.
    fn finish(mut self) -> io::Result<Corpus> {
        let expected = oracle::search(self.dir.path(), &self.keyword)?;
        for relative in &self.to_lock {
            let path = self.dir.path().join(relative);
            self.dir.lock(&path)?;
        }
        Ok(Corpus {
            dir: self.dir,
            keyword: self.keyword,
            expected,
            notes: self.notes,
            locked: self.to_lock,
        })
    }

    /// `lines` lines of seeded text, about `percent` of them with the keyword.
    fn paragraph(&mut self, lines: u64, percent: u64) -> Vec<u8> {
        paragraph(&mut self.rng, &self.keyword, lines, percent).0
    }

    fn filler(&mut self) -> Vec<u8> {
        filler_line(&mut self.rng)
    }

    fn keyword_line(&mut self, times: usize) -> Vec<u8> {
        keyword_line(&mut self.rng, &self.keyword, times)
    }
}

const PLAIN_DIRS: &[&str] = &[
    "",
    "docs",
    "docs/guides",
    "src/a",
    "src/b/c/d",
    "notes with spaces",
    "naïve café",
    ".hidden",
    "deep/1/2/3/4/5/6",
];

const STEMS: &[&str] = &[
    "chapter", "log", "notes", "data", "readme", "draft", "Report",
];
const EXTENSIONS: &[&str] = &[".txt", ".md", ".log", ".csv", ""];

fn plain_tree(b: &mut Builder) -> io::Result<()> {
    b.dir(
        "empty-dir",
        Some("an empty directory: nothing to report in it"),
    )?;
    b.file("empty.txt", b"", Some("an empty file: searched, no match"))?;
    let files = b.rng.between(30, 45);
    for i in 0..files {
        let dir = *b.rng.pick(PLAIN_DIRS);
        let stem = *b.rng.pick(STEMS);
        let extension = *b.rng.pick(EXTENSIONS);
        let name = format!("{stem}-{i:02}{extension}");
        let relative = if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        };
        let lines = b.rng.between(0, 150);
        let percent = *b.rng.pick(&[0, 0, 2, 5, 20]);
        let mut content = b.paragraph(lines, percent);
        if b.rng.below(4) == 0 {
            content.pop();
        }
        b.file(&relative, &content, None)?;
    }
    let secret = b.keyword_line(1);
    b.file(
        ".hidden/.dotfile",
        &secret,
        Some("a hidden file (its name starts with a dot): searched like any other"),
    )?;
    Ok(())
}

fn joined(lines: &[Vec<u8>], end: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line);
        out.extend_from_slice(end);
    }
    out
}

const NOTE_NO_NEWLINE: &str = "the last line has no \\n after it: it is a line all the same";
const NOTE_CRLF: &str = "CRLF line ends: a line ends at \\n, the \\r before it is part of the \
     line, and a keyword right before the \\r is a match";
const NOTE_LONE_CR: &str = "a \\r without \\n does not end a line: only \\n does (do not split on \
     \\r, and do not use a splitter that also splits on \\r)";
const NOTE_SEPARATORS: &str = "form feed, vertical tab, \\x1c-\\x1e, NEL and U+2028/U+2029 do not \
     end a line (Python's str.splitlines() splits on them; only \\n counts here)";
const NOTE_MANY: &str = "many matches on one line: the line is reported once";
const NOTE_NOT_UTF8: &str = "not UTF-8: the keyword is matched on bytes, so a file that is not \
     valid UTF-8 is searched like any other (reading it as a String fails)";
const NOTE_BROKEN: &str = "the keyword split by a line end is not a match: a match lies within \
     one line";
const NOTE_NEAR: &str = "near misses (prefixes, suffixes, one byte changed) are not matches; \
     one real match";
const NOTE_START: &str = "the keyword at the very first byte of the file: line 1";
const NOTE_END: &str = "the keyword in the very last bytes of the file";
const NOTE_LONG: &str = "a line of hundreds of KiB: still one line";
const NOTE_BIG: &str = "a file of several MiB (large enough to be memory-mapped), whose last \
     line has no \\n";

fn line_ends_and_bytes(b: &mut Builder) -> io::Result<()> {
    let kw = b.keyword.clone();
    b.file(
        "bytes/empty.txt",
        b"",
        Some("an empty file: searched, no match"),
    )?;
    b.file(
        "bytes/only-newlines.txt",
        b"\n\n\n\n",
        Some("empty lines only: searched, no match"),
    )?;
    b.file(
        "bytes/the-whole-file-is-the-keyword.txt",
        &kw,
        Some("the whole file is the keyword, without \\n: line 1"),
    )?;

    let mut start = kw.clone();
    start.push(b' ');
    start.extend(b.paragraph(5, 30));
    b.file("bytes/keyword-at-the-start.txt", &start, Some(NOTE_START))?;

    let mut end = b.paragraph(6, 20);
    end.extend(b.filler());
    end.push(b' ');
    end.extend_from_slice(&kw);
    b.file(
        "bytes/keyword-at-the-end-no-newline.txt",
        &end,
        Some(NOTE_END),
    )?;
    let mut end_newline = end.clone();
    end_newline.push(b'\n');
    b.file(
        "bytes/keyword-at-the-end-with-newline.txt",
        &end_newline,
        Some(NOTE_END),
    )?;

    let mut no_newline = b.paragraph(20, 25);
    no_newline.extend(b.keyword_line(1));
    b.file(
        "bytes/no-trailing-newline.txt",
        &no_newline,
        Some(NOTE_NO_NEWLINE),
    )?;

    let mut crlf_lines = Vec::new();
    for i in 0..24 {
        let mut line = b.filler();
        match i % 4 {
            0 => {
                line.push(b' ');
                line.extend_from_slice(&kw);
            }
            1 => {
                let mut at_start = kw.clone();
                at_start.push(b' ');
                at_start.extend(line);
                line = at_start;
            }
            _ => {}
        }
        crlf_lines.push(line);
    }
    b.file(
        "bytes/crlf-line-ends.txt",
        &joined(&crlf_lines, b"\r\n"),
        Some(NOTE_CRLF),
    )?;
    let mut crlf_last = joined(&crlf_lines[..5], b"\r\n");
    crlf_last.extend(b.filler());
    crlf_last.push(b' ');
    crlf_last.extend_from_slice(&kw);
    crlf_last.push(b'\r');
    b.file(
        "bytes/crlf-last-line-ends-with-cr.txt",
        &crlf_last,
        Some(NOTE_CRLF),
    )?;

    let mut lone_cr = Vec::new();
    for i in 0..12 {
        lone_cr.extend(b.filler());
        lone_cr.push(b'\r');
        if i % 3 == 0 {
            lone_cr.extend_from_slice(&kw);
            lone_cr.push(b'\r');
        }
        lone_cr.extend(b.filler());
        lone_cr.push(b'\n');
    }
    b.file(
        "bytes/lone-cr-inside-lines.txt",
        &lone_cr,
        Some(NOTE_LONE_CR),
    )?;

    let separators: [&[u8]; 8] = [
        b"\x0b",
        b"\x0c",
        b"\x1c",
        b"\x1d",
        b"\x1e",
        "\u{85}".as_bytes(),
        "\u{2028}".as_bytes(),
        "\u{2029}".as_bytes(),
    ];
    let mut traps = Vec::new();
    for separator in separators {
        traps.extend(b.filler());
        traps.extend_from_slice(separator);
        traps.extend(b.filler());
        traps.push(b' ');
        traps.extend_from_slice(&kw);
        traps.push(b'\n');
        traps.extend(b.filler());
        traps.push(b'\n');
    }
    b.file(
        "bytes/python-splitlines-traps.txt",
        &traps,
        Some(NOTE_SEPARATORS),
    )?;

    let mut many = b.paragraph(3, 0);
    many.extend(b.keyword_line(40));
    many.push(b'\n');
    many.extend(b.paragraph(3, 0));
    many.extend(b.keyword_line(7));
    b.file("bytes/many-matches-on-one-line.txt", &many, Some(NOTE_MANY))?;

    let mut latin1 = Vec::new();
    for i in 0..10 {
        latin1.extend_from_slice(b"caf\xe9 cr\xe8me br\xfbl\xe9e ");
        latin1.extend(b.filler());
        if i % 2 == 1 {
            latin1.extend_from_slice(b" \xe9t\xe9 ");
            latin1.extend_from_slice(&kw);
            latin1.extend_from_slice(b" \xff\xfe");
        }
        latin1.push(b'\n');
    }
    b.file("bytes/latin-1.txt", &latin1, Some(NOTE_NOT_UTF8))?;

    let mut invalid = Vec::new();
    for i in 0..16 {
        for _ in 0..b.rng.between(10, 80) {
            let byte = b.rng.between(0x80, 0xff) as u8;
            invalid.push(byte);
            if b.rng.below(5) == 0 {
                invalid.push(b' ');
            }
        }
        if i % 4 == 2 {
            invalid.extend_from_slice(&kw);
            invalid.push(0xc3);
        }
        invalid.push(b'\n');
    }
    b.file("bytes/invalid-utf8.txt", &invalid, Some(NOTE_NOT_UTF8))?;

    let mut broken = Vec::new();
    for split in 1..kw.len() {
        broken.extend(b.filler());
        broken.push(b' ');
        broken.extend_from_slice(&kw[..split]);
        broken.extend_from_slice(if split % 2 == 0 { b"\n" } else { b"\r\n" });
        broken.extend_from_slice(&kw[split..]);
        broken.push(b'\n');
    }
    broken.extend(b.keyword_line(1));
    broken.push(b'\n');
    b.file(
        "bytes/keyword-broken-by-a-line-end.txt",
        &broken,
        Some(NOTE_BROKEN),
    )?;

    let mut near = Vec::new();
    for cut in 1..kw.len() {
        near.extend_from_slice(&kw[..cut]);
        near.push(b' ');
        near.extend_from_slice(&kw[cut..]);
        near.push(b'\n');
        near.extend_from_slice(&kw[cut..]);
        near.extend_from_slice(&kw[..cut]);
        near.push(b'\n');
    }
    for at in 0..kw.len() {
        let mut changed = kw.clone();
        changed[at] ^= 0x01;
        near.extend_from_slice(&changed);
        near.push(b'\n');
    }
    let mut doubled_prefix = kw[..kw.len() - 1].to_vec();
    doubled_prefix.extend_from_slice(&kw);
    near.extend_from_slice(&doubled_prefix);
    near.push(b'\n');
    b.file("bytes/near-misses.txt", &near, Some(NOTE_NEAR))?;

    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&kw);
    bom.push(b'\n');
    bom.extend(b.paragraph(4, 25));
    b.file(
        "bytes/utf8-bom.txt",
        &bom,
        Some("a UTF-8 byte order mark starts line 1; the keyword right after it is on line 1"),
    )?;

    let mut long = Vec::new();
    while long.len() < 300_000 {
        long.extend(b.filler());
        long.push(b' ');
    }
    long.extend_from_slice(&kw);
    long.extend_from_slice(b"\nlast ");
    long.extend_from_slice(&kw);
    long.push(b'\n');
    b.file("bytes/a-long-line.txt", &long, Some(NOTE_LONG))?;

    let mut big = b.paragraph(60_000, 1);
    big.extend(b.keyword_line(2));
    b.file("bytes/several-mib.txt", &big, Some(NOTE_BIG))?;

    for i in 0..3 {
        let text = b.paragraph(40, 10);
        b.file(&format!("plain-{i}.txt"), &text, None)?;
    }
    Ok(())
}

const NOTE_BINARY: &str = "binary: a NUL byte among its first 8192 bytes; skipped as binary, \
     not searched";
const NOTE_NUL_8191: &str = "its first NUL is at byte 8191, the last byte of the first 8192: \
     binary";
const NOTE_NUL_8192: &str = "its first NUL is at byte 8192, just after the first 8192 bytes: \
     text, searched (the NUL does not end a line)";
const NOTE_TEXT_HIGH: &str = "bytes above 0x7f but no NUL: text, not binary (binary means a NUL, \
     not invalid UTF-8)";

/// Text lines of exactly `length` bytes (the last line cut to fit), with the keyword on
/// some lines.
fn text_of_length(b: &mut Builder, length: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < length {
        if i % 7 == 3 {
            out.extend(b.keyword_line(1));
        } else {
            out.extend(b.filler());
        }
        out.push(b'\n');
        i += 1;
    }
    out.truncate(length);
    // The cut must not leave half a keyword that the NUL glues to something else.
    if let Some(last) = out.iter().rposition(|&c| c == b'\n') {
        for byte in &mut out[last + 1..] {
            *byte = b'a';
        }
    }
    out
}

fn binary_files(b: &mut Builder) -> io::Result<()> {
    let kw = b.keyword.clone();
    let mut first = vec![0u8];
    first.extend(b.keyword_line(1));
    first.push(b'\n');
    first.extend(b.paragraph(10, 30));
    b.file(
        "binary/nul-at-the-first-byte.bin",
        &first,
        Some(NOTE_BINARY),
    )?;

    let mut at_8191 = text_of_length(b, BINARY_PROBE_BYTES - 1);
    at_8191.push(0);
    at_8191.extend(b.paragraph(20, 20));
    b.file("binary/nul-at-byte-8191.dat", &at_8191, Some(NOTE_NUL_8191))?;

    let mut at_8192 = text_of_length(b, BINARY_PROBE_BYTES);
    at_8192.push(0);
    at_8192.push(b' ');
    at_8192.extend_from_slice(&kw);
    at_8192.push(b'\n');
    at_8192.extend(b.paragraph(20, 20));
    b.file(
        "binary/nul-at-byte-8192-is-text.txt",
        &at_8192,
        Some(NOTE_NUL_8192),
    )?;

    let mut utf16 = vec![0xff, 0xfe];
    let mut text = b.paragraph(8, 40);
    text.extend_from_slice(&kw);
    for unit in String::from_utf8_lossy(&text).encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    b.file(
        "binary/utf-16le.txt",
        &utf16,
        Some("UTF-16 text: its ASCII letters come with NUL bytes, so it is binary by the rule"),
    )?;

    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x01\x00".to_vec();
    for _ in 0..3000 {
        png.push(b.rng.between(1, 255) as u8);
    }
    png.extend_from_slice(&kw);
    png.extend_from_slice(b"\n\xff\xd8");
    b.file("binary/picture.png", &png, Some(NOTE_BINARY))?;

    let mut tiny = b"a\0".to_vec();
    tiny.extend_from_slice(&kw);
    b.file("binary/tiny-with-nul.dat", &tiny, Some(NOTE_BINARY))?;

    b.file(
        "binary/empty.bin",
        b"",
        Some("an empty file has no NUL: it is text, searched, with no match"),
    )?;

    let mut high = Vec::new();
    for i in 0..12 {
        for _ in 0..40 {
            high.push(b.rng.between(0x80, 0xff) as u8);
        }
        if i % 3 == 0 {
            high.push(b' ');
            high.extend_from_slice(&kw);
        }
        high.push(b'\n');
    }
    b.file(
        "binary/high-bytes-are-text.txt",
        &high,
        Some(NOTE_TEXT_HIGH),
    )?;

    for i in 0..3 {
        let text = b.paragraph(30, 15);
        b.file(&format!("text-{i}.txt"), &text, None)?;
    }
    Ok(())
}

const NOTE_LINK: &str = "a symbolic link: never followed, skipped as a symlink whatever it \
     points to (use the entry's own file type, which does not follow links: \
     DirEntry::file_type or fs::symlink_metadata; Path::is_dir and fs::metadata follow them)";
const NOTE_LOOP: &str = "a symbolic link to a directory above it: following it loops forever. \
     Links are never followed: skipped as a symlink";
const NOTE_FIFO: &str = "a FIFO (named pipe): opening it for reading waits forever for a \
     writer. It is not a regular file, so it is an error entry, and is never opened";
const NOTE_SOCKET: &str = "a Unix socket: not a regular file, an error entry";
const NOTE_LOCKED: &str = "no read permission (chmod 000): an error entry with the OS error, \
     and the search goes on. (The runner takes root's permission overrides away, so not even \
     root can read it; where the kernel refuses that, a correct search of it is accepted too.) \
     Leaving it out, panicking, or failing the whole search is wrong";

fn links_and_special_files(b: &mut Builder) -> io::Result<()> {
    for name in ["plain/a.txt", "plain/b.txt", "plain/sub/c.txt"] {
        let mut text = b.paragraph(25, 20);
        text.extend(b.keyword_line(1));
        text.push(b'\n');
        b.file(name, &text, None)?;
    }
    b.symlink("links/loop", ".", NOTE_LOOP)?;
    b.symlink("links/up", "..", NOTE_LOOP)?;
    b.symlink("links/nested/back-to-the-root", "../..", NOTE_LOOP)?;
    b.symlink(
        "links/self",
        "self",
        "a link to itself: resolving it fails with ELOOP; links are never followed, so it is \
         skipped as a symlink",
    )?;
    b.symlink("links/ping", "pong", NOTE_LINK)?;
    b.symlink("links/pong", "ping", NOTE_LINK)?;
    b.symlink(
        "links/dangling",
        "nowhere/at/all.txt",
        "a dangling link (its target does not exist): skipped as a symlink, not an error",
    )?;
    b.symlink("links/to-a-file.txt", "../plain/a.txt", NOTE_LINK)?;
    b.symlink("links/to-a-dir", "../plain", NOTE_LINK)?;
    b.dir("special", None)?;
    b.fifo("special/fifo", NOTE_FIFO)?;
    b.socket("special/socket", NOTE_SOCKET);

    let open = b.paragraph(10, 30);
    b.file("locked/open.txt", &open, None)?;
    let mut secret = b.paragraph(10, 0);
    secret.extend(b.keyword_line(2));
    b.file("locked/secret.txt", &secret, None)?;
    b.lock_later("locked/secret.txt", NOTE_LOCKED);
    let mut inside = b.keyword_line(1);
    inside.push(b'\n');
    b.file("locked-dir/inside.txt", &inside, None)?;
    b.lock_later("locked-dir", NOTE_LOCKED);
    Ok(())
}

fn many_files(b: &mut Builder, files: usize) -> io::Result<()> {
    for i in 0..files {
        let relative = format!("d{:02}/e{}/file-{i:04}.txt", i % 50, i % 7);
        let lines = b.rng.between(5, 60);
        let percent = *b.rng.pick(&[0, 3, 10, 30]);
        let text = b.paragraph(lines, percent);
        b.file(&relative, &text, None)?;
    }
    Ok(())
}

/// A corpus of large text files, grown on demand: runs of a filler block with keyword lines
/// between them. The answer is known by construction (the oracle would take seconds in a
/// debug build).
#[derive(Debug)]
pub struct LargeCorpus {
    /// The corpus so far.
    pub corpus: Corpus,
    rng: SplitMix64,
    block: Vec<u8>,
    line_starts: Vec<usize>,
    file_bytes: u64,
    files: usize,
}

impl LargeCorpus {
    /// An empty corpus whose files will be about `file_bytes` each.
    pub fn new(parent: Option<&Path>, seed: Seed, file_bytes: u64) -> io::Result<LargeCorpus> {
        let dir = ScratchDir::create(parent, "large")?;
        let mut rng = seed.rng();
        let keyword = text::keyword(&mut rng);
        let mut block = Vec::with_capacity(1 << 20);
        let mut line_starts = vec![0usize];
        while block.len() < 1 << 20 {
            block.extend(filler_line(&mut rng));
            block.push(b'\n');
            line_starts.push(block.len());
        }
        Ok(LargeCorpus {
            corpus: Corpus {
                dir,
                keyword,
                expected: Expected::default(),
                notes: BTreeMap::new(),
                locked: Vec::new(),
            },
            rng,
            block,
            line_starts,
            file_bytes,
            files: 0,
        })
    }

    /// How many files it has.
    pub fn files(&self) -> usize {
        self.files
    }

    /// Bytes in all its files.
    pub fn bytes(&self) -> u64 {
        self.files as u64 * self.file_bytes
    }

    /// Adds `count` files of about `file_bytes`, spread over four directories.
    pub fn add_files(&mut self, count: usize) -> io::Result<()> {
        for _ in 0..count {
            let i = self.files;
            let relative = format!("shard-{}/part-{i:04}.txt", i % 4);
            self.add_file(&relative, self.file_bytes)?;
        }
        Ok(())
    }

    /// Adds one file of about `bytes` at `relative`.
    pub fn add_file(&mut self, relative: &str, bytes: u64) -> io::Result<()> {
        let path = self.corpus.root().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
        let block_lines = self.line_starts.len() - 1;
        let (mut written, mut lines) = (0u64, 0u64);
        let mut matched = Vec::new();
        while written < bytes {
            let run = (self.rng.between(256, 2048) as usize).min(block_lines);
            let first = self.rng.below((block_lines - run + 1) as u64) as usize;
            let slice = &self.block[self.line_starts[first]..self.line_starts[first + run]];
            out.write_all(slice)?;
            written += slice.len() as u64;
            lines += run as u64;
            if self.rng.below(2) == 0 {
                let times = 1 + usize::from(self.rng.below(8) == 0);
                let mut line = keyword_line(&mut self.rng, &self.corpus.keyword, times);
                line.push(b'\n');
                out.write_all(&line)?;
                written += line.len() as u64;
                lines += 1;
                matched.push(lines);
            }
        }
        out.flush()?;
        let expected = &mut self.corpus.expected;
        if !matched.is_empty() {
            expected.matches.insert(relative.to_owned(), matched);
        }
        expected.searched.insert(relative.to_owned());
        self.files += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size() -> Size {
        Size {
            files: 40,
            file_bytes: 200_000,
            big_file_bytes: 500_000,
        }
    }

    #[test]
    fn a_large_corpus_grows() {
        let mut large = LargeCorpus::new(None, Seed(8), 100_000).expect("created");
        large.add_files(3).expect("added");
        large.add_files(2).expect("added");
        assert_eq!(large.files(), 5);
        let searched = oracle::search(large.corpus.root(), &large.corpus.keyword).expect("ok");
        assert_eq!(searched, large.corpus.expected);
    }

    #[test]
    fn every_corpus_is_reproducible_and_removed() {
        for kind in [
            CorpusKind::PlainTree,
            CorpusKind::LineEndsAndBytes,
            CorpusKind::BinaryFiles,
            CorpusKind::LinksAndSpecialFiles,
            CorpusKind::ManyFiles,
            CorpusKind::Large,
        ] {
            let a = generate(kind, None, Seed(11), size()).expect("generated");
            let b = generate(kind, None, Seed(11), size()).expect("generated");
            assert_eq!(a.expected, b.expected, "{kind:?}");
            assert_eq!(a.keyword, b.keyword);
            assert!(!a.expected.searched.is_empty(), "{kind:?}");
            let root = a.root().to_owned();
            drop(a);
            assert!(!root.exists(), "{kind:?} left {}", root.display());
        }
    }

    #[test]
    fn the_large_corpus_is_what_the_oracle_finds() {
        let corpus = generate(CorpusKind::Large, None, Seed(3), size()).expect("generated");
        let searched = oracle::search(corpus.root(), &corpus.keyword).expect("searched");
        assert_eq!(searched, corpus.expected);
        assert!(!corpus.expected.matches.is_empty());
    }

    #[test]
    fn the_edge_cases_are_classified_by_the_rules() {
        let corpus = generate(CorpusKind::BinaryFiles, None, Seed(4), size()).expect("generated");
        let e = &corpus.expected;
        assert!(e.skipped.contains_key("binary/nul-at-byte-8191.dat"));
        assert!(e.skipped.contains_key("binary/utf-16le.txt"));
        assert!(
            e.matches
                .contains_key("binary/nul-at-byte-8192-is-text.txt")
        );
        assert!(e.matches.contains_key("binary/high-bytes-are-text.txt"));
        assert!(e.searched.contains("binary/empty.bin"));

        let corpus =
            generate(CorpusKind::LinksAndSpecialFiles, None, Seed(4), size()).expect("generated");
        let e = &corpus.expected;
        for link in [
            "links/loop",
            "links/self",
            "links/dangling",
            "links/to-a-dir",
        ] {
            assert!(e.skipped.contains_key(link), "{link}");
        }
        assert!(e.errors.contains("special/fifo"));
        assert!(e.matches.contains_key("locked/secret.txt"));
        assert!(e.matches.contains_key("locked-dir/inside.txt"));
        assert_eq!(corpus.locked, ["locked/secret.txt", "locked-dir"]);
        assert_eq!(
            corpus.note("locked-dir/inside.txt"),
            Some(NOTE_LOCKED),
            "a note covers what is below it"
        );

        let corpus =
            generate(CorpusKind::LineEndsAndBytes, None, Seed(4), size()).expect("generated");
        let e = &corpus.expected;
        assert_eq!(e.matches["bytes/the-whole-file-is-the-keyword.txt"], [1]);
        assert_eq!(e.matches["bytes/keyword-at-the-start.txt"][0], 1);
        assert_eq!(e.matches["bytes/many-matches-on-one-line.txt"], [4, 8]);
        assert_eq!(e.matches["bytes/near-misses.txt"].len(), 1);
        assert!(e.searched.contains("bytes/empty.txt"));
        assert!(!e.matches.contains_key("bytes/empty.txt"));
    }
}
