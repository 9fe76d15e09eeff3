// SPDX-License-Identifier: GPL-2.0

//! Builds the Rust helpers for the host architecture: the default helper
//! (`umh/`), so the host tests can run the very program the module embeds;
//! the misbehaving test helper (`tests/helpers/`) and the std helper
//! (`umh/std-helper/`), which the QEMU tests embed with `UMH_BLOB`.
//!
//! They are built as Kbuild builds the helper: offline, locked, static, for
//! the musl target, each with its `.cargo/config.toml` in effect.

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// (directory cargo runs in, for its `.cargo/config.toml`; manifest; binary;
/// the variable that tells the tests where the binary is)
const HELPERS: &[(&str, &str, &str, &str)] = &[
    ("umh", "umh/Cargo.toml", "eprog_user", "EPROG_HOST_HELPER"),
    (
        "umh",
        "tests/helpers/Cargo.toml",
        "misbehave",
        "EPROG_MISBEHAVE",
    ),
    (
        "umh/std-helper",
        "umh/std-helper/Cargo.toml",
        "eprog_user",
        "EPROG_STD_HELPER",
    ),
];

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("set by cargo");
    let target = format!("{arch}-unknown-linux-musl");
    println!(
        "cargo:rerun-if-changed={}",
        root.join("umh/.cargo/config.toml").display()
    );

    for &(dir, manifest, bin, var) in HELPERS {
        let manifest = root.join(manifest);
        let crate_dir = manifest.parent().expect("a manifest has a directory");
        for path in ["Cargo.toml", "Cargo.lock", "src", ".cargo/config.toml"] {
            println!("cargo:rerun-if-changed={}", crate_dir.join(path).display());
        }
        let target_dir = out.join("helpers").join(var);
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root.join(dir))
            .args(["build", "--quiet", "--offline", "--locked", "--release"])
            .args(["--target", &target])
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            // This build's own settings must not leak into the helpers'.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .status()
            .expect("cannot run cargo to build the helpers");
        assert!(
            status.success(),
            "building {} for {target} failed",
            manifest.display()
        );
        let path = target_dir.join(&target).join("release").join(bin);
        println!("cargo:rustc-env={var}={}", path.display());
    }
}
