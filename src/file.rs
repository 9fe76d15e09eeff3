// SPDX-License-Identifier: GPL-2.0

//! An owned reference to an open file: here, one end of a helper's pipe.

use core::ptr::NonNull;
use kernel::prelude::*;

use crate::bindings;

/// A counted reference to a `struct file`, dropped with `fput()`.
///
/// # Invariants
///
/// `self.0` points to a valid file and this value owns one reference to it.
pub(crate) struct FileRef(NonNull<bindings::file>);

// SAFETY: A file reference may be used and released from any thread; the
// file's own locking serialises reads and writes.
unsafe impl Send for FileRef {}
// SAFETY: `read` and `write` take `&self` and are safe to call concurrently.
unsafe impl Sync for FileRef {}

impl FileRef {
    /// Takes a new reference to `file`.
    ///
    /// # Safety
    ///
    /// `file` must point to a valid file for the duration of the call.
    pub(crate) unsafe fn get(file: *mut bindings::file) -> Option<Self> {
        // SAFETY: The caller guarantees `file` is valid; get_file() takes a
        // reference that the new value owns.
        NonNull::new(unsafe { bindings::eprog_get_file(file) }).map(Self)
    }

    /// Creates a new file that is nothing but a reference count: see
    /// [`FileRef::lend`].
    pub(crate) fn new_spare() -> Result<Self> {
        let mut file = core::ptr::null_mut();
        // SAFETY: On success the function stores a new file, with one
        // reference that the new value owns, in `file`.
        kernel::error::to_result(unsafe { bindings::eprog_spare_file(&mut file) })?;
        NonNull::new(file).map(Self).ok_or(EINVAL)
    }

    /// Takes a new reference and hands it out as a raw pointer: whoever
    /// gets it must drop it with `fput()`, or give it back with
    /// [`FileRef::take_back`].
    pub(crate) fn lend(&self) -> *mut bindings::file {
        // SAFETY: The file is valid by the type invariant.
        unsafe { bindings::eprog_get_file(self.0.as_ptr()) }
    }

    /// Drops the references lent with [`FileRef::lend`] that the borrower
    /// did not drop.
    ///
    /// Only exact if no one else holds a reference to the file, as for a
    /// file from [`FileRef::new_spare`] that was only lent.
    pub(crate) fn take_back(&self) {
        // SAFETY: The file is valid by the type invariant.
        let count = unsafe { bindings::eprog_file_count(self.0.as_ptr()) };
        for _ in 1..count {
            // SAFETY: Each reference beyond ours was lent by us and is no
            // longer used by the borrower, which has returned.
            unsafe { bindings::fput(self.0.as_ptr()) };
        }
    }

    /// The file, for a C function that borrows it.
    pub(crate) fn as_ptr(&self) -> *mut bindings::file {
        self.0.as_ptr()
    }

    /// Reads what is available, blocking until at least one byte is there or
    /// the writer is gone (returns 0); non-blocking, `EAGAIN` if nothing is.
    pub(crate) fn read(&self, buf: &mut [u8]) -> Result<usize> {
        let mut pos: bindings::loff_t = 0;
        // SAFETY: The file is valid by the type invariant and `buf` is
        // valid for writes of `buf.len()` bytes.
        let n = unsafe {
            bindings::kernel_read(
                self.0.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut pos,
            )
        };
        to_count(n)
    }

    /// Waits until a read would not block (data, or no writer left): returns
    /// `Ok(true)`; or until `timeout_ms` passes (`None`: no limit): returns
    /// `Ok(false)`. A kernel thread being stopped gets `EINTR`.
    pub(crate) fn wait_readable(&self, timeout_ms: Option<u64>) -> Result<bool> {
        let ms = timeout_ms.map_or(-1, |ms| ms.min(i32::MAX as u64) as kernel::ffi::c_long);
        // SAFETY: The file is valid by the type invariant.
        let ret = unsafe { bindings::eprog_wait_readable(self.0.as_ptr(), ms) };
        kernel::error::to_result(ret)?;
        Ok(ret > 0)
    }

    /// Waits until a write would not block (room, or no reader left):
    /// returns `Ok(true)`; or until `timeout_ms` passes: `Ok(false)`. A
    /// signal (or a kernel thread being stopped) gets `EINTR`.
    pub(crate) fn wait_writable(&self, timeout_ms: u64) -> Result<bool> {
        let ms = timeout_ms.min(i32::MAX as u64) as kernel::ffi::c_long;
        // SAFETY: The file is valid by the type invariant.
        let ret = unsafe { bindings::eprog_wait_writable(self.0.as_ptr(), ms) };
        kernel::error::to_result(ret)?;
        Ok(ret > 0)
    }

    /// Opens a new read end of this pipe (a write end), for eprog to hold.
    pub(crate) fn open_reader(&self) -> Result<Self> {
        let mut file = core::ptr::null_mut();
        // SAFETY: The file is valid by the type invariant; on success the
        // function stores a new file, with one reference that the new value
        // owns, in `file`.
        kernel::error::to_result(unsafe {
            bindings::eprog_pipe_open_reader(self.0.as_ptr(), &mut file)
        })?;
        NonNull::new(file).map(Self).ok_or(EINVAL)
    }

    /// Whether this pipe (a write end) has a reader other than one from
    /// [`FileRef::open_reader`].
    pub(crate) fn has_other_reader(&self) -> bool {
        // SAFETY: The file is valid by the type invariant, and is a pipe's
        // write end (the callers' invariant: the helper's stdin).
        unsafe { bindings::eprog_pipe_has_other_reader(self.0.as_ptr()) }
    }

    /// Makes reads and writes through this file return `EAGAIN` rather
    /// than block. Only this file changes, not the other end of the pipe.
    pub(crate) fn set_nonblocking(&self) {
        // SAFETY: The file is valid by the type invariant.
        unsafe { bindings::eprog_set_nonblocking(self.0.as_ptr()) };
    }

    /// Writes `buf`; returns how much was written.
    pub(crate) fn write(&self, buf: &[u8]) -> Result<usize> {
        let mut pos: bindings::loff_t = 0;
        // SAFETY: The file is valid by the type invariant and `buf` is
        // valid for reads of `buf.len()` bytes.
        let n = unsafe {
            bindings::kernel_write(self.0.as_ptr(), buf.as_ptr().cast(), buf.len(), &mut pos)
        };
        to_count(n)
    }
}

fn to_count(n: isize) -> Result<usize> {
    match usize::try_from(n) {
        Ok(n) => Ok(n),
        Err(_) => Err(Error::from_errno(n as i32)),
    }
}

impl Clone for FileRef {
    fn clone(&self) -> Self {
        // SAFETY: The file is valid by the type invariant; get_file() takes
        // a new reference, which the new value owns.
        Self(unsafe { NonNull::new_unchecked(bindings::eprog_get_file(self.0.as_ptr())) })
    }
}

impl Drop for FileRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this value owns one reference.
        unsafe { bindings::fput(self.0.as_ptr()) };
    }
}
