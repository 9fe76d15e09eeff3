// SPDX-License-Identifier: GPL-2.0

//! Builds the default helper (`umh/`) for the host, so the host tests can run
//! the very program the module embeds, as a process, before any kernel boots.
//!
//! It is built as Kbuild builds it: offline, locked, static, for the host
//! architecture's musl target, with `umh/.cargo/config.toml` in effect.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let root =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets CARGO_CFG_TARGET_ARCH");
    let target = format!("{arch}-unknown-linux-musl");
    let umh = root.join("umh");
    for path in ["Cargo.toml", "Cargo.lock", "src", ".cargo/config.toml"] {
        println!("cargo:rerun-if-changed={}", umh.join(path).display());
    }

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&umh)
        .args([
            "build",
            "--quiet",
            "--offline",
            "--locked",
            "--release",
            "--target",
            &target,
        ])
        .arg("--target-dir")
        .arg(out.join("umh"))
        // This build's own settings must not leak into the helper's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("cannot run cargo to build the helper");
    assert!(
        status.success(),
        "building the helper (umh/) for {target} failed"
    );

    let helper = out
        .join("umh")
        .join(&target)
        .join("release")
        .join("eprog_user");
    println!("cargo:rustc-env=EPROG_HOST_HELPER={}", helper.display());
}
