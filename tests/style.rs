// SPDX-License-Identifier: GPL-2.0

//! The code is kept the way the kernel keeps its own: rustfmt, clippy and
//! checkpatch clean.

mod common;

use common::{build_module, setting};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files of the repository matching a shell glob, relative to its root.
fn files(patterns: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for pattern in patterns {
        let dir = root().join(Path::new(pattern).parent().unwrap());
        let name = Path::new(pattern).file_name().unwrap().to_str().unwrap();
        let (prefix, suffix) = name.split_once('*').unwrap_or((name, ""));
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_str().unwrap();
            if file.starts_with(prefix)
                && file.ends_with(suffix)
                && (name.contains('*') || file == name)
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn rust_code_is_rustfmt_clean() {
    let sources = files(&[
        "src/*.rs",
        "umh/src/*.rs",
        "umh/std-helper/src/*.rs",
        "bench/*.rs",
        "tests/*.rs",
        "tests/common/mod.rs",
        "tests/shared/*.rs",
        "tests/helpers/src/*.rs",
        "tests/fuzz/fuzz_targets/*.rs",
        "build.rs",
    ]);
    let out = Command::new("rustfmt")
        .args(["--check", "--edition", "2021"])
        .args(&sources)
        .output()
        .expect("rustfmt");
    assert!(
        out.status.success(),
        "rustfmt --check:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Runs `cargo clippy` with warnings denied in `dir` with `args`.
fn clippy(dir: &Path, args: &[&str]) {
    let out = Command::new("cargo")
        .current_dir(dir)
        .args(["clippy", "--quiet"])
        .args(args)
        .args(["--", "-D", "warnings"])
        .output()
        .expect("cargo clippy");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "clippy {args:?} in {}:\n{err}",
        dir.display()
    );
}

#[test]
fn host_and_helper_code_is_clippy_clean() {
    clippy(&root(), &["--all-targets"]);
    // The helper as it is built (static, no_std), and its runtime's host tests.
    let musl = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
    clippy(&root().join("umh"), &["--release", "--target", &musl]);
    clippy(&root().join("umh"), &["--lib", "--tests"]);
    clippy(
        &root().join("umh/std-helper"),
        &["--release", "--target", &musl],
    );
    let helpers = root().join("tests/helpers/Cargo.toml");
    let helpers = helpers.to_str().unwrap();
    clippy(
        &root().join("umh"),
        &["--release", "--target", &musl, "--manifest-path", helpers],
    );
}

#[test]
#[ignore = "needs the kernel tree: run through 'make check'"]
fn module_is_clippy_clean() {
    let (_, log, ok) = build_module("clippy", &setting("EPROG_KDIR"), &["CLIPPY=1"]);
    assert!(ok, "the CLIPPY=1 build failed:\n{log}");
    let warnings: Vec<_> = log.lines().filter(|l| l.contains("warning")).collect();
    assert!(warnings.is_empty(), "CLIPPY=1 warnings:\n{log}");
}

#[test]
#[ignore = "needs the kernel source: run through 'make check'"]
fn c_asm_and_kconfig_pass_checkpatch() {
    let checkpatch = setting("EPROG_KSRC").join("scripts/checkpatch.pl");
    let sources = files(&[
        "src/*.c",
        "src/*.h",
        "blob.S",
        "Kconfig",
        "umh/*.h",
        "tests/helpers/*.c",
        "tests/modules/*.c",
    ]);
    assert!(!sources.is_empty(), "no files for checkpatch");
    let out = Command::new("perl")
        .arg(&checkpatch)
        .args([
            "--no-tree",
            "--show-types",
            "--emacs",
            "--summary-file",
            "-f",
        ])
        .args(&sources)
        .output()
        .unwrap_or_else(|e| panic!("cannot run perl for checkpatch: {e}"));
    let report = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // checkpatch exits 1 when it found problems; any other failure, or
    // anything on stderr, means it did not check: that must not pass.
    assert!(
        matches!(out.status.code(), Some(0 | 1)) && stderr.trim().is_empty(),
        "checkpatch ({}) did not run ({}):\n{stderr}{report}",
        checkpatch.display(),
        out.status
    );
    // Its per-file summary is the proof that each file was read.
    for source in &sources {
        let summary = format!("{} total: ", source.display());
        assert!(
            report.lines().any(|l| l.starts_with(&summary)
                && l.ends_with(" lines checked")
                && !l.ends_with(" 0 lines checked")),
            "checkpatch did not check {}:\n{report}",
            source.display()
        );
    }
    let problems: Vec<_> = report
        .lines()
        .filter(|l| l.contains("ERROR:") || l.contains("WARNING:"))
        .collect();
    assert!(
        problems.is_empty() && out.status.success(),
        "checkpatch found problems:\n{}\n\nits report:\n{report}",
        problems.join("\n")
    );
}
