// SPDX-License-Identifier: GPL-2.0

//! Bring your own blob: any static executable can be the helper (`make
//! UMH_BLOB=...`), and anything else is refused at build time in one
//! sentence.

mod common;

use common::{
    boot, build_module, c_helper, cc, go_helper, helpers, run, scratch, setting, Initramfs,
    MODULE_SHELL,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Builds eprog.ko with `blob` embedded; returns the build's output.
fn build_with(name: &str, blob: &Path) -> (PathBuf, String, bool) {
    let arg = format!("UMH_BLOB={}", blob.display());
    build_module(name, &setting("EPROG_KDIR"), &[&arg])
}

#[test]
#[ignore = "needs the kernel tree: run through 'make check'"]
fn the_build_refuses_what_cannot_be_a_helper_in_one_sentence() {
    let dir = scratch();
    let empty = dir.join("empty");
    fs::write(&empty, b"").unwrap();
    let text = dir.join("script.sh");
    fs::write(&text, b"#!/bin/sh\necho hello\n").unwrap();
    let object = dir.join("hello.o");
    run(Command::new(cc())
        .arg("-c")
        .arg("-o")
        .arg(&object)
        .arg(helpers().join("hello.c")));
    let dynamic = dir.join("hello-dynamic");
    run(Command::new(cc())
        .arg("-o")
        .arg(&dynamic)
        .arg(helpers().join("hello.c")));
    // A helper for the other architecture: x86_64's for arm64, and for
    // x86_64 the same file marked EM_AARCH64.
    let arm64 = std::env::var("EPROG_ARCH").is_ok_and(|a| a == "arm64");
    let mut elf = fs::read(env!("EPROG_HOST_HELPER")).unwrap();
    if !arm64 {
        elf[18] = 183;
        elf[19] = 0;
    }
    let foreign = dir.join("foreign-helper");
    fs::write(&foreign, elf).unwrap();
    let foreign_reason = if arm64 {
        "is built for ELF machine 62, not aarch64 (183)"
    } else {
        "is built for ELF machine 183, not x86_64 (62)"
    };
    let huge = dir.join("huge");
    let file = fs::File::create(&huge).unwrap();
    file.set_len(16 * 1024 * 1024 + 1).unwrap();

    let cases: [(&Path, &str); 6] = [
        (&empty, "is empty"),
        (&text, "is not an ELF file"),
        (&object, "is not an executable (ELF type 1)"),
        (&dynamic, "is dynamically linked"),
        (&foreign, foreign_reason),
        (&huge, "more than the 16777216-byte limit"),
    ];
    for (i, (blob, reason)) in cases.into_iter().enumerate() {
        let (_, log, ok) = build_with(&format!("bad-blob-{i}"), blob);
        assert!(!ok, "{} was accepted", blob.display());
        let ours: Vec<_> = log.lines().filter(|l| l.starts_with("eprog: ")).collect();
        assert_eq!(
            ours.len(),
            1,
            "expected one sentence for {}:\n{log}",
            blob.display()
        );
        assert!(ours[0].contains(reason), "{}: {}", blob.display(), ours[0]);
    }
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn c_go_and_std_helpers_run_as_blobs_without_dev_null() {
    let blobs = [
        ("c", c_helper(), "Hello from C!"),
        ("go", go_helper(), "Hello from Go!"),
        (
            "std",
            PathBuf::from(env!("EPROG_STD_HELPER")),
            "Hello, world!",
        ),
    ];
    // No devtmpfs: there is no /dev/null for any helper to open.
    let mut script = String::from(
        "/bin/busybox mkdir -p /proc /sys
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
mark() { echo \"@@ $*\"; }
shmem() { echo 1 > /proc/sys/vm/stat_refresh; sed -n 's/^Shmem: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo; }
procs() { ps -o pid,ppid,comm | grep -E 'eprog_(user|launch|supervise)' | grep -v grep; }
[ -e /dev/null ] && mark devnull present || mark devnull absent
",
    );
    script.push_str(MODULE_SHELL);
    let mut ramfs_files = Vec::new();
    for (name, blob, _) in &blobs {
        let (dir, log, ok) = build_with(&format!("blob-{name}"), blob);
        assert!(ok, "building with the {name} helper failed:\n{log}");
        ramfs_files.push((
            format!("{name}.ko"),
            fs::read(dir.join("eprog.ko")).unwrap(),
        ));
        script.push_str(&format!(
            "ko=/{name}.ko; echo '--- {name}'; load interval_ms=200; sleep 1; unload\n"
        ));
    }
    script.push_str("leftovers\nreboot -f\n");
    let mut ramfs = Initramfs::with_init(&script);
    for (name, data) in &ramfs_files {
        ramfs.file(name, 0o644, data);
    }
    let b = boot(
        "blobs",
        &setting("EPROG_KDIR"),
        ramfs.finish(),
        "",
        Duration::from_secs(120),
    );
    b.assert_clean();
    assert_eq!(b.marker("devnull"), "absent");
    assert_eq!(
        b.markers("loaded"),
        ["1", "1", "1"],
        "a helper did not load"
    );
    assert_eq!(b.markers("rmmod"), ["0", "0", "0"]);
    for (name, _, hello) in &blobs {
        let lines = b.between(&format!("--- {name}"), "eprog: helper stopped");
        let relayed = lines
            .iter()
            .filter(|l| l.contains(&format!("eprog: From userspace: {hello}")))
            .count();
        assert!(
            relayed >= 2,
            "the {name} helper's lines were not relayed; log: {}",
            b.path.display()
        );
    }
    // The C helper brings no runtime: no_new_privs is the launcher's.
    assert_eq!(
        b.kernel_lines("eprog: From userspace: C helper: "),
        ["eprog: From userspace: C helper: uid=2147483646 no_new_privs=1"]
    );
    assert_eq!(b.marker("left"), "0 0");
}
