//! The IMM store shared by every process that uses one state directory.
//!
//! Real IMM keeps its data in a server; here each process keeps a replica rebuilt from an
//! append-only journal (`imm.journal`) and catches up with what other processes appended
//! before each call. An exclusive `flock` on `imm.lock` serializes writers (validation
//! happens under it, against the caught-up replica, so two processes cannot both create
//! the same DN); readers take it shared. Compaction writes the whole state to a temporary
//! file, fsyncs it and renames it over the journal; other processes notice the new inode
//! and reload.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use opensaf_sys::SaAisErrorT as Ais;

use super::journal::{self, encode_record, Op, MAGIC};
use super::state::ImmState;
use super::ImmError;

pub const JOURNAL: &str = "imm.journal";
pub const LOCK: &str = "imm.lock";
/// Operations appended since the last compaction before the journal is compacted again
/// (at least; it also waits for the journal to be four times the live data).
const COMPACT_MIN_OPS: u64 = 200_000;

/// Holds a flock until dropped. The descriptor belongs to the `Store`, which outlives it.
struct Flock(RawFd);

impl Flock {
    fn take(fd: RawFd, exclusive: bool) -> io::Result<Flock> {
        let op = if exclusive {
            libc::LOCK_EX
        } else {
            libc::LOCK_SH
        };
        Flock::with_op(fd, op).map(|f| f.expect("a blocking flock is always taken"))
    }

    /// A shared lock if it can be had without waiting; None while a writer holds it.
    fn try_shared(fd: RawFd) -> io::Result<Option<Flock>> {
        Flock::with_op(fd, libc::LOCK_SH | libc::LOCK_NB)
    }

    fn with_op(fd: RawFd, op: libc::c_int) -> io::Result<Option<Flock>> {
        loop {
            // SAFETY: flock on a descriptor we own; no pointers involved.
            if unsafe { libc::flock(fd, op) } == 0 {
                return Ok(Some(Flock(fd)));
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock if op & libc::LOCK_NB != 0 => return Ok(None),
                _ => return Err(e),
            }
        }
    }
}

impl Drop for Flock {
    fn drop(&mut self) {
        // SAFETY: as in `take`.
        unsafe {
            libc::flock(self.0, libc::LOCK_UN);
        }
    }
}

/// A process's replica of the store plus the files behind it.
pub struct Store {
    dir: PathBuf,
    lock: File,
    journal: Option<File>,
    ino: u64,
    offset: u64,
    ops_since_compact: u64,
    buf: Vec<u8>,
    pub state: ImmState,
    /// Torn or corrupt tails seen (and, when writing, cut off) since the store was opened.
    pub torn_tails: u64,
}

fn fsync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

impl Store {
    /// Opens (creating if needed) the store in `dir`. A new store starts with the built-in
    /// system model (the AMF/CLM classes and the base cluster objects).
    pub fn open(dir: &Path) -> io::Result<Store> {
        fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dir.join(LOCK))?;
        let mut s = Store {
            dir: dir.to_path_buf(),
            lock,
            journal: None,
            ino: 0,
            offset: 0,
            ops_since_compact: 0,
            buf: Vec::new(),
            state: ImmState::default(),
            torn_tails: 0,
        };
        let _g = Flock::take(s.lock.as_raw_fd(), true)?;
        if !s.journal_path().exists() {
            s.write_snapshot(&super::builtin::system_ops())?;
        }
        s.catch_up(true)?;
        if s.ops_since_compact > COMPACT_MIN_OPS.max(4 * s.live_ops()) {
            s.compact()?;
        }
        Ok(s)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL)
    }

    fn live_ops(&self) -> u64 {
        (self.state.objects.len() + self.state.classes.len() + self.state.implementers.len()) as u64
    }

    /// Brings the replica up to date with the journal. Under the exclusive lock a torn
    /// tail is cut off so that the next record is appended after valid data.
    fn catch_up(&mut self, exclusive: bool) -> io::Result<()> {
        let path = self.journal_path();
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound && exclusive => {
                // Someone removed the journal: start again from the system model.
                self.write_snapshot(&super::builtin::system_ops())?;
                fs::metadata(&path)?
            }
            Err(e) => return Err(e),
        };
        if self.journal.is_none() || meta.ino() != self.ino {
            let f = OpenOptions::new().read(true).append(true).open(&path)?;
            let mut magic = [0u8; 8];
            f.read_exact_at(&mut magic, 0)?;
            if &magic != MAGIC {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a simulator IMM journal", path.display()),
                ));
            }
            self.journal = Some(f);
            self.ino = meta.ino();
            self.offset = MAGIC.len() as u64;
            self.state = ImmState::default();
            self.ops_since_compact = 0;
        }
        let len = meta.len();
        if len <= self.offset {
            return Ok(());
        }
        let f = self.journal.as_ref().expect("journal opened above");
        let mut buf = vec![0u8; (len - self.offset) as usize];
        f.read_exact_at(&mut buf, self.offset)?;
        let replay = journal::decode_records(&buf);
        for rec in &replay.records {
            for op in rec {
                self.state.apply(op);
            }
            self.ops_since_compact += rec.len() as u64;
        }
        self.offset += replay.consumed as u64;
        if replay.torn {
            self.torn_tails += 1;
            if exclusive {
                f.set_len(self.offset)?;
            }
        }
        Ok(())
    }

    /// Runs `f` on the caught-up replica under the shared lock.
    pub fn read<R>(&mut self, f: impl FnOnce(&ImmState) -> R) -> Result<R, ImmError> {
        let _g = Flock::take(self.lock.as_raw_fd(), false).map_err(io_err)?;
        self.catch_up(false).map_err(io_err)?;
        Ok(f(&self.state))
    }

    /// As [`Store::read`], but only if no writer holds the lock: `Ok(None)` instead of
    /// waiting (for AMF, which must never wait behind an IMM call).
    pub fn try_read<R>(&mut self, f: impl FnOnce(&ImmState) -> R) -> Result<Option<R>, ImmError> {
        let Some(_g) = Flock::try_shared(self.lock.as_raw_fd()).map_err(io_err)? else {
            return Ok(None);
        };
        self.catch_up(false).map_err(io_err)?;
        Ok(Some(f(&self.state)))
    }

    /// Validates a change against the caught-up replica under the exclusive lock, then
    /// appends it (one record) and applies it.
    pub fn write<R>(
        &mut self,
        f: impl FnOnce(&ImmState) -> Result<(Vec<Op>, R), ImmError>,
    ) -> Result<R, ImmError> {
        let _g = Flock::take(self.lock.as_raw_fd(), true).map_err(io_err)?;
        self.catch_up(true).map_err(io_err)?;
        let (ops, r) = f(&self.state)?;
        if ops.is_empty() {
            return Ok(r);
        }
        self.append(&ops).map_err(io_err)?;
        if self.ops_since_compact > COMPACT_MIN_OPS.max(4 * self.live_ops()) {
            self.compact().map_err(io_err)?;
        }
        Ok(r)
    }

    fn append(&mut self, ops: &[Op]) -> io::Result<()> {
        self.buf.clear();
        encode_record(&mut self.buf, ops);
        let f = self.journal.as_mut().expect("caught up before appending");
        f.write_all(&self.buf)?;
        self.offset += self.buf.len() as u64;
        for op in ops {
            self.state.apply(op);
        }
        self.ops_since_compact += ops.len() as u64;
        Ok(())
    }

    /// Forces the journal to disk (after loading configuration, as IMM's persistent
    /// backend would).
    pub fn sync(&self) -> io::Result<()> {
        match &self.journal {
            Some(f) => f.sync_data(),
            None => Ok(()),
        }
    }

    /// Rewrites the journal as a snapshot of the current state (caller holds the
    /// exclusive lock and is caught up).
    pub fn compact(&mut self) -> io::Result<()> {
        let ops = self.state.snapshot_ops();
        self.write_snapshot(&ops)?;
        // Reload from the new file so offset and inode match it.
        self.journal = None;
        self.catch_up(true)
    }

    /// Compacts now, under the exclusive lock (for the CLI and tests).
    pub fn compact_now(&mut self) -> Result<(), ImmError> {
        let _g = Flock::take(self.lock.as_raw_fd(), true).map_err(io_err)?;
        self.catch_up(true).map_err(io_err)?;
        self.compact().map_err(io_err)
    }

    /// Writes `ops` as a fresh journal: temporary file, fsync, rename, fsync directory,
    /// so a crash leaves either the old journal or the new one, never a mix.
    fn write_snapshot(&self, ops: &[Op]) -> io::Result<()> {
        let tmp = self
            .dir
            .join(format!("{JOURNAL}.tmp.{}", std::process::id()));
        let mut buf = MAGIC.to_vec();
        for chunk in ops.chunks(512) {
            encode_record(&mut buf, chunk);
        }
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&buf)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.journal_path())?;
        fsync_dir(&self.dir);
        Ok(())
    }
}

fn io_err(e: io::Error) -> ImmError {
    ImmError::new(Ais::LIBRARY, format!("simulator store: {e}"))
}
