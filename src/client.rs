// SPDX-License-Identifier: GPL-2.0

//! Helpers that other modules bring (`eprog.h`): the Rust side of the
//! exports in `client.c`. A client's helper is a [`Helper`] like the
//! default one, under its own name, with its own doors
//! (`/dev/eprog-<name>`), started from the client's blob under eprog's
//! launcher, with the parameters' defaults but for its configuration line
//! and restart policy.

use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::str::{CStr, CString};

use crate::bindings;
use crate::blob;
use crate::helper::{Doorway, Helper};
use crate::kernel_api::{self, code};
use crate::params::Params;
use crate::umd::Umd;

/// The longest name, without its NUL (`EPROG_NAME_LEN`).
const NAME_MAX: usize = bindings::EPROG_NAME_LEN as usize - 1;

/// Whether `name` is `[a-z0-9_-]{1,31}`: a device name, a log prefix and a
/// sysfs directory that need no quoting.
fn valid_name(name: &[u8]) -> bool {
    (1..=NAME_MAX).contains(&name.len())
        && name
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A C string of the descriptor, or `default` for null.
///
/// # Safety
///
/// `s` is null or NUL-terminated, and lives as long as `'a`.
unsafe fn c_str_or<'a>(s: *const kernel::ffi::c_char, default: &'a CStr) -> &'a CStr {
    if s.is_null() {
        default
    } else {
        // SAFETY: By the function's safety requirements.
        unsafe { CStr::from_char_ptr(s) }
    }
}

/// Starts the helper `desc` describes for `owner`; see `eprog.h`.
fn register(desc: &bindings::eprog_helper_desc, owner: *mut bindings::module) -> Result<Helper> {
    if desc.name.is_null() {
        pr_err!("a helper registered with no name\n");
        return Err(EINVAL);
    }
    // SAFETY: Not null; `eprog.h` asks for a C string, read during the call.
    let name = unsafe { CStr::from_char_ptr(desc.name) };
    if !valid_name(kernel_api::c_str_bytes(name)) {
        pr_err!(
            "helper name '{}' is not [a-z0-9_-]{{1,{}}}\n",
            name,
            NAME_MAX
        );
        return Err(EINVAL);
    }
    let blob: &[u8] = if desc.blob.is_null() {
        &[]
    } else {
        // SAFETY: `eprog.h` asks for `blob_size` readable bytes at `blob`,
        // read during the call (`Umd::load` copies them).
        unsafe { core::slice::from_raw_parts(desc.blob.cast::<u8>(), desc.blob_size) }
    };
    if let Some(why) = blob::unfit(blob) {
        pr_err!(
            "{}: the helper's blob ({} bytes) {}\n",
            name,
            blob.len(),
            why
        );
        return Err(ENOEXEC);
    }
    // SAFETY: Null or C strings (`eprog.h`), read during the call.
    let (config, restart) = unsafe {
        (
            c_str_or(desc.config, kernel::c_str!("")),
            c_str_or(desc.restart, kernel::c_str!("on-failure")),
        )
    };
    let params = Params::client(config, restart, name)?;
    let device = CString::try_from_fmt(kernel_api::fmt!("eprog-{}", name))?;
    let umd = Umd::load(
        crate::LAUNCHER_NAME,
        blob::launcher(),
        crate::HELPER_NAME,
        blob,
    )
    .inspect_err(|e| pr_err!("{}: loading the helper failed: {:?}\n", name, e))?;
    let doorway = Doorway {
        device: &device,
        serves_eprog_call: false,
        owner,
    };
    Helper::start(name, umd, params, doorway).inspect_err(|e| {
        if *e == code!(EEXIST) {
            pr_err!("a helper named '{}' is registered already\n", name);
        } else {
            pr_err!("{}: starting the helper failed: {:?}\n", name, e);
        }
    })
}

/// `__eprog_helper_register()` (`client.c`): 0 and the helper in `out`, or
/// a negative errno.
///
/// # Safety
///
/// `desc` is valid for reads, with the pointers `eprog.h` describes;
/// `owner` is the calling module, which unregisters before it unloads;
/// `out` is valid for writes.
#[no_mangle]
unsafe extern "C" fn eprog_client_register(
    desc: *const bindings::eprog_helper_desc,
    owner: *mut bindings::module,
    out: *mut *mut bindings::eprog_helper,
) -> c_int {
    // SAFETY: By the function's safety requirements.
    let desc = unsafe { &*desc };
    match register(desc, owner).and_then(|helper| Ok(KBox::new(helper, GFP_KERNEL)?)) {
        Ok(helper) => {
            // SAFETY: By the function's safety requirements. The box is the
            // caller's until `eprog_client_unregister`.
            unsafe { *out = KBox::into_raw(helper).cast() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `eprog_helper_unregister()` (`client.c`): ends the helper and frees it.
///
/// # Safety
///
/// `helper` came from [`eprog_client_register`], and is not used after.
#[no_mangle]
unsafe extern "C" fn eprog_client_unregister(helper: *mut bindings::eprog_helper) {
    // SAFETY: By the function's safety requirements: a box of ours.
    drop(unsafe { KBox::from_raw(helper.cast::<Helper>()) });
}

/// The doors of `helper`, through which `eprog_helper_call()` (`client.c`)
/// calls it with `eprog_channel_call()`.
///
/// # Safety
///
/// `helper` came from [`eprog_client_register`] and is not unregistered.
#[no_mangle]
unsafe extern "C" fn eprog_client_doors(helper: *const bindings::eprog_helper) -> *const c_void {
    // SAFETY: By the function's safety requirements: a live helper of ours.
    unsafe { &*helper.cast::<Helper>() }.doors()
}
