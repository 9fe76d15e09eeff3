// SPDX-License-Identifier: GPL-2.0

//! A helper's doors: the channel's, its device (`/dev/eprog` for the
//! default helper) and, for the default helper, `eprog_call()`; and the
//! operator's, the `control` attribute: registered here, written in C
//! (`device.c`), since the 6.12 `kernel` crate has no misc device; they
//! call [`Channel::call`] through [`eprog_channel_call`] and
//! [`Control::command`] through [`eprog_control_command`]. Every call is
//! counted here, the one place all calls pass (`state.rs`).

use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_uint, c_void};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;

use crate::bindings;
use crate::channel::Channel;
use crate::control::{Command, Control};
use crate::kernel_api::code;
use crate::state::{Counter, State};

/// What `device.c` reaches a helper through.
pub(crate) struct Doors {
    pub(crate) channel: Arc<Channel>,
    pub(crate) control: Arc<Control>,
    pub(crate) state: Arc<State>,
}

/// A registered device. Dropping it unregisters it.
///
/// # Invariants
///
/// `device` is registered by `eprog_device_register` with pointers to
/// `*doors` and to its state's record, which `device.c` holds while this
/// value lives.
pub(crate) struct Device {
    device: NonNull<bindings::eprog_device>,
    doors: KBox<Doors>,
}

// SAFETY: `device` may be unregistered from any thread; `Doors` is `Send`.
unsafe impl Send for Device {}
// SAFETY: `&Device` gives access to nothing.
unsafe impl Sync for Device {}

impl Device {
    /// Registers the device `name` for `doors`, with its view and control
    /// attributes; `eprog_call()` calls it too if `serves_eprog_call`. An
    /// open file holds `owner` (null: eprog).
    ///
    /// # Safety
    ///
    /// `owner` is null or a module that lives as long as the new value.
    pub(crate) unsafe fn register(
        name: &CStr,
        doors: Doors,
        serves_eprog_call: bool,
        owner: *mut bindings::module,
    ) -> Result<Self> {
        let doors = KBox::new(doors, GFP_KERNEL)?;
        let doors_ptr: *const Doors = &*doors;
        let mut device = core::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated (copied); both pointers stay valid
        // while the new value keeps `doors` (boxed: its address holds) and,
        // in it, the state's `Arc`, until its `Drop` unregisters; `owner`
        // by the function's safety requirements.
        to_result(unsafe {
            bindings::eprog_device_register(
                name.as_char_ptr(),
                doors_ptr.cast(),
                doors.state.as_ptr(),
                serves_eprog_call,
                owner,
                &mut device,
            )
        })?;
        let device = NonNull::new(device).ok_or(EINVAL)?;
        Ok(Self { device, doors })
    }

    /// The pointer `device.c` reaches the doors through.
    pub(crate) fn doors(&self) -> *const c_void {
        let doors: *const Doors = &*self.doors;
        doors.cast()
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // SAFETY: Registered by `register` (invariant); no call is under way
        // (see device.c), and none can start after this.
        unsafe { bindings::eprog_device_unregister(self.device.as_ptr()) };
    }
}

/// One call, for `device.c`: the reply goes to `reply`; returns its length
/// or a negative errno (`ENOBUFS` if it does not fit, `EINVAL` for a null
/// buffer with a length). `reply` may be `request`: the reply is written
/// once the request is no longer read.
///
/// # Safety
///
/// `doors` is the pointer `device.c` got from [`Device::register`], still
/// registered (or from [`Device::doors`] of a live device); `request` is
/// valid for reads of `request_len` bytes and
/// `reply` for writes of `reply_size` bytes, or null with a length of 0.
#[no_mangle]
unsafe extern "C" fn eprog_channel_call(
    doors: *const c_void,
    request: *const c_void,
    request_len: usize,
    reply: *mut c_void,
    reply_size: usize,
    timeout_ms: c_uint,
) -> isize {
    // SAFETY: By the function's safety requirements.
    let Doors { channel, state, .. } = unsafe { &*doors.cast::<Doors>() };
    state.count(Counter::Calls, 1);
    let failed = |e: Error| {
        state.count_failed(e);
        e.to_errno() as isize
    };
    if (request.is_null() && request_len > 0) || (reply.is_null() && reply_size > 0) {
        return failed(EINVAL);
    }
    let answer = if request_len == 0 {
        channel.call(&[], timeout_ms)
    } else {
        // SAFETY: By the function's safety requirements, and not null (checked
        // above). The slice lives only during the call.
        channel.call(
            unsafe { core::slice::from_raw_parts(request.cast::<u8>(), request_len) },
            timeout_ms,
        )
    };
    match answer {
        Ok(answer) if answer.len() > reply_size => failed(code!(ENOBUFS)),
        Ok(answer) => {
            if !answer.is_empty() {
                // SAFETY: By the function's safety requirements, and not null
                // (a reply of one byte or more fits `reply_size`). The
                // request's slice has ended, so `reply` may overlap it.
                let reply =
                    unsafe { core::slice::from_raw_parts_mut(reply.cast::<u8>(), answer.len()) };
                reply.copy_from_slice(&answer);
            }
            answer.len() as isize
        }
        Err(e) => failed(e),
    }
}

/// The operator's command `word` (`enum eprog_control_word`), for
/// `device.c`; returns 0 or a negative errno.
///
/// # Safety
///
/// `doors` is the pointer `device.c` got from [`Device::register`], still
/// registered.
#[no_mangle]
unsafe extern "C" fn eprog_control_command(doors: *const c_void, word: c_uint) -> c_int {
    // SAFETY: By the function's safety requirements.
    let control = unsafe { &(*doors.cast::<Doors>()).control };
    let result = Command::from_word(word)
        .ok_or(EINVAL)
        .and_then(|command| control.command(command));
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
