// SPDX-License-Identifier: GPL-2.0

//! Builds the helpers for the host architecture: the default helper
//! (`umh/`), so the host tests can run the very program the module embeds,
//! and the misbehaving test helper (`tests/helpers/`), which the QEMU tests
//! embed with `UMH_BLOB`.
//!
//! They are built as Kbuild builds the helper: offline, locked, static, for
//! the musl target, with `umh/.cargo/config.toml` in effect.

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

    println!(
        "cargo:rerun-if-changed={}",
        root.join("tests/helpers").display()
    );
    let helpers = [
        ("umh/Cargo.toml", "eprog_user", "EPROG_HOST_HELPER"),
        ("tests/helpers/Cargo.toml", "misbehave", "EPROG_MISBEHAVE"),
    ];
    for (manifest, bin, var) in helpers {
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
            .arg("--manifest-path")
            .arg(root.join(manifest))
            .arg("--target-dir")
            .arg(out.join("helpers"))
            // This build's own settings must not leak into the helpers'.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .status()
            .expect("cannot run cargo to build the helpers");
        assert!(status.success(), "building {manifest} for {target} failed");
        let path = out.join("helpers").join(&target).join("release").join(bin);
        println!("cargo:rustc-env={var}={}", path.display());
    }
}
