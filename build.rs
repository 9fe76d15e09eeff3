// SPDX-License-Identifier: GPL-2.0

//! Builds the Rust helpers: the default helper (`umh/`) for the host, so the
//! host tests can run the very program the module embeds; and, for the
//! architecture the QEMU tests boot (`EPROG_UMH_TARGET`, set by `tests/run`
//! from its architecture table), the misbehaving, channel and benchmark
//! test helpers (`tests/helpers/`) and the std helper (`umh/std-helper/`), which
//! the QEMU tests embed with `UMH_BLOB`.
//!
//! They are built as Kbuild builds the helper: offline, locked, static, for
//! a musl target, each with its `.cargo/config.toml` in effect.
//!
//! It also sets `cfg(eprog_root)` when the build runs as root, so that tests
//! which need root show as ignored, not passed, for anyone else.

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// A helper crate to build.
struct Helper {
    /// Where cargo runs, for its `.cargo/config.toml`.
    dir: &'static str,
    manifest: &'static str,
    bin: &'static str,
    /// The variable that tells the tests where the binary is.
    var: &'static str,
    /// Built for the host, not for the QEMU tests' architecture.
    host: bool,
}

const HELPERS: &[Helper] = &[
    Helper {
        dir: "umh",
        manifest: "umh/Cargo.toml",
        bin: "eprog_user",
        var: "EPROG_HOST_HELPER",
        host: true,
    },
    Helper {
        dir: "umh",
        manifest: "tests/helpers/Cargo.toml",
        bin: "misbehave",
        var: "EPROG_MISBEHAVE",
        host: false,
    },
    Helper {
        dir: "umh",
        manifest: "tests/helpers/Cargo.toml",
        bin: "misbehave",
        var: "EPROG_HOST_MISBEHAVE",
        host: true,
    },
    Helper {
        dir: "umh",
        manifest: "tests/helpers/Cargo.toml",
        bin: "answer",
        var: "EPROG_ANSWER",
        host: false,
    },
    Helper {
        dir: "umh",
        manifest: "tests/helpers/Cargo.toml",
        bin: "channel",
        var: "EPROG_CHANNEL_HELPER",
        host: false,
    },
    Helper {
        dir: "umh",
        manifest: "tests/helpers/Cargo.toml",
        bin: "exit-at-once",
        var: "EPROG_EXIT_AT_ONCE",
        host: false,
    },
    Helper {
        dir: "umh",
        manifest: "tests/helpers/Cargo.toml",
        bin: "probe",
        var: "EPROG_PROBE",
        host: false,
    },
    Helper {
        dir: "umh/std-helper",
        manifest: "umh/std-helper/Cargo.toml",
        bin: "eprog_user",
        var: "EPROG_STD_HELPER",
        host: false,
    },
];

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("set by cargo");
    let host = format!("{arch}-unknown-linux-musl");
    println!("cargo:rerun-if-env-changed=EPROG_UMH_TARGET");
    let guest = env::var("EPROG_UMH_TARGET").unwrap_or_else(|_| host.clone());
    println!(
        "cargo:rerun-if-changed={}",
        root.join("umh/.cargo/config.toml").display()
    );

    // Tests that need root (chroot) are ignored, not passed, for others.
    println!("cargo:rustc-check-cfg=cfg(eprog_root)");
    println!("cargo:rerun-if-env-changed=USER");
    if is_root() {
        println!("cargo:rustc-cfg=eprog_root");
    }

    for helper in HELPERS {
        let target: &str = if helper.host { &host } else { &guest };
        let manifest = root.join(helper.manifest);
        let crate_dir = manifest.parent().expect("a manifest has a directory");
        for path in ["Cargo.toml", "Cargo.lock", "src", ".cargo/config.toml"] {
            println!("cargo:rerun-if-changed={}", crate_dir.join(path).display());
        }
        let target_dir = out.join("helpers").join(helper.var);
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root.join(helper.dir))
            .args([
                "build",
                "--quiet",
                "--offline",
                "--locked",
                "--release",
                "--target",
                target,
            ])
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
        let path = target_dir.join(target).join("release").join(helper.bin);
        println!("cargo:rustc-env={}={}", helper.var, path.display());
    }
}

/// Whether the build runs as root (effective uid 0).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}
