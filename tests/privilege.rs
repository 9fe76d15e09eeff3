// SPDX-License-Identifier: GPL-2.0

//! Least privilege in a booted kernel: the probe helper
//! (`tests/helpers/src/probe.rs`) reports from inside what it holds and
//! what it sees, and tries what a compromised helper would; under the
//! defaults every attempt fails, and with the parameters opened up the same
//! attempts succeed, so each line below can fail.

mod common;

use common::{module_with_blob, run_module, run_module_with, setting, test_module, Boot};
use std::fs;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// eprog.ko with the probe embedded, built once.
fn probe_ko() -> &'static [u8] {
    static KO: OnceLock<Vec<u8>> = OnceLock::new();
    KO.get_or_init(|| module_with_blob("probe", Path::new(env!("EPROG_PROBE"))))
}

/// Boots with the probe's module and runs `body`, which loads and unloads
/// it with `phase NAME PARAMS...` (see `run_module`).
fn run(name: &str, body: &str) -> Boot {
    run_with(name, &[], body)
}

/// As [`run`], with more files in the initramfs (see `run_module_with`).
fn run_with(name: &str, files: &[(&str, &[u8])], body: &str) -> Boot {
    let body = format!(
        "phase() {{ echo \"@@ phase $1\" > /dev/kmsg; shift; load \"$@\"; sleep 0.5; unload; }}\n{body}"
    );
    run_module_with(name, probe_ko(), files, &body, Duration::from_secs(180))
}

/// What the probe reported in phase `phase`: its `probe KEY ...` line's
/// rest, for `key` (`ids`, `caps`, `flags`, `limits`, `sees`, `try NAME`).
fn report(b: &Boot, phase: &str, key: &str) -> String {
    let lines = b.kernel_lines("");
    let start = format!("@@ phase {phase}");
    let prefix = format!("eprog: From userspace: probe {key} ");
    let mut found: Vec<&str> = lines
        .iter()
        .skip_while(|l| !l.ends_with(&start))
        .skip(1)
        .take_while(|l| !l.contains("@@ phase "))
        .filter_map(|l| l.strip_prefix(&prefix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "phase {phase}: expected one '{prefix}' line; log: {}",
        b.path.display()
    );
    found.pop().unwrap().to_string()
}

/// The names the probe saw in `/`, sorted.
fn seen(b: &Boot, phase: &str) -> Vec<String> {
    let mut names: Vec<String> = report(b, phase, "sees /")
        .split(' ')
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

const ALL_CAPS: &str = "0x1ffffffffff";

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn the_helper_runs_with_least_privilege_unless_the_parameters_open_it_up() {
    let b = run(
        "privilege",
        &format!(
            "phase default
# A loader's umask (027: common hardening) does not change the helper's
# file, which its own user must be able to exec.
umask 027; phase umask; umask 022
phase one-cap helper_caps=0x10000
phase open helper_uid=0 helper_gid=0 helper_caps={ALL_CAPS} helper_root=host helper_as_mib=0 helper_nofile=1024
# What the opened-up probe wrote into the host's root.
rm /scratch"
        ),
    );

    // Defaults: a user of its own, no capability it could ever regain, its own tmpfs.
    let d = "default";
    assert_eq!(
        report(&b, d, "ids"),
        "uid=2147483646/2147483646/2147483646 gid=2147483646/2147483646/2147483646"
    );
    assert_eq!(
        report(&b, d, "caps"),
        "effective=0x0 permitted=0x0 inheritable=0x0 bounding=0x0 ambient=0x0"
    );
    // NOROOT, NO_SETUID_FIXUP and KEEP_CAPS (off) locked.
    assert_eq!(
        report(&b, d, "flags"),
        "securebits=0x2f no_new_privs=1 seccomp=2"
    );
    assert_eq!(report(&b, d, "limits"), "as=1073741824 nofile=64");
    assert_eq!(seen(&b, d), ["eprog_launch", "eprog_user"]);
    assert_eq!(report(&b, d, "try read-initramfs"), "ENOENT");
    assert_eq!(report(&b, d, "try write-proc-sys"), "ENOENT");
    assert_eq!(report(&b, d, "try setuid-root"), "EPERM");
    assert_eq!(report(&b, d, "try write-root"), "EACCES");
    assert_eq!(report(&b, d, "try raw-socket"), "EPERM");
    assert_eq!(report(&b, d, "try load-module"), "EPERM");
    assert_eq!(report(&b, d, "try signal-others"), "ESRCH");
    assert_eq!(report(&b, d, "try ptrace-guarded"), "EPERM");
    assert_eq!(report(&b, d, "try write-sysrq"), "ENOENT");
    assert_eq!(report(&b, "umask", "ids"), report(&b, d, "ids"));

    // One capability kept: it, and only it, is there after the exec.
    let one = "one-cap";
    assert_eq!(
        report(&b, one, "caps"),
        "effective=0x10000 permitted=0x10000 inheritable=0x10000 bounding=0x10000 ambient=0x10000"
    );
    assert_eq!(report(&b, one, "try load-module"), "ENOEXEC");
    assert_eq!(report(&b, one, "try setuid-root"), "EPERM");
    assert_eq!(report(&b, one, "try write-root"), "EACCES");

    // Opened up: root with every capability and the host's root; the same
    // attempts get past their permission checks.
    let o = "open";
    assert_eq!(report(&b, o, "ids"), "uid=0/0/0 gid=0/0/0");
    let all = format!(
        "effective={ALL_CAPS} permitted={ALL_CAPS} inheritable={ALL_CAPS} bounding={ALL_CAPS} ambient={ALL_CAPS}"
    );
    assert_eq!(report(&b, o, "caps"), all);
    assert_eq!(
        report(&b, o, "limits"),
        "as=18446744073709551615 nofile=1024"
    );
    let host = seen(&b, o);
    for name in ["bin", "eprog.ko", "init", "proc"] {
        assert!(host.iter().any(|n| n == name), "{name} not in {host:?}");
    }
    assert_eq!(report(&b, o, "try read-initramfs"), "ok");
    assert_eq!(report(&b, o, "try write-proc-sys"), "ok");
    assert_eq!(report(&b, o, "try setuid-root"), "ok");
    assert_eq!(report(&b, o, "try write-root"), "ok");
    assert_eq!(report(&b, o, "try raw-socket"), "ok");
    assert_eq!(report(&b, o, "try load-module"), "ENOEXEC");
    // Not a parameter: the pid namespace hides every host process.
    assert_eq!(report(&b, o, "try signal-others"), "ESRCH");
    assert_eq!(report(&b, o, "try ptrace-guarded"), "ok");
    assert_eq!(report(&b, o, "try write-sysrq"), "ok");
    // The write reached the kernel: sysrq's help, once (the open phase).
    assert_eq!(
        b.kernel_lines("sysrq: HELP").len(),
        1,
        "log: {}",
        b.path.display()
    );
}

/// A new usermode-helper process starts with a copy of the kernel threads'
/// file table, where a module may have left an fd open
/// (`tests/modules/eprog_kthread_fd.c`, here fd 3); the kernel's UMD code
/// replaces only fds 0 and 1, eprog's own core needs only those free. The
/// helper gets none of it: its stdin, stdout and stderr (the runtime's copy
/// of stdout), and nothing else.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn the_helper_gets_no_fd_of_the_kernel_threads() {
    let ko = setting("EPROG_KO");
    let fd_module = test_module("eprog_kthread_fd", "kthread-fd-3", ko.parent().unwrap());
    let b = run_with(
        "privilege-fds",
        &[("eprog_kthread_fd.ko", &fd_module)],
        "phase alone
insmod /eprog_kthread_fd.ko fd=3; mark fd-module $?
phase fd3
rmmod eprog_kthread_fd",
    );
    assert_eq!(b.marker("fd-module"), "0");
    assert!(
        !b.kernel_lines("eprog_kthread_fd: kernel threads have fd 3 open")
            .is_empty(),
        "the module holds no fd 3; log: {}",
        b.path.display()
    );
    assert_eq!(report(&b, "alone", "fds"), "0 1 2");
    assert_eq!(
        report(&b, "fd3", "fds"),
        "0 1 2",
        "log: {}",
        b.path.display()
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn confinement_parameters_out_of_range_fail_insmod_with_a_message() {
    let b = run(
        "privilege-params",
        "load helper_root=nowhere
load helper_caps=0x20000000000
load helper_uid=4294967295
load helper_nofile=0",
    );
    assert_eq!(
        b.markers("insmod-said").len(),
        4,
        "log: {}",
        b.path.display()
    );
    assert_eq!(b.markers("loaded"), ["0", "0", "0", "0"]);
    // busybox's insmod tries twice (finit_module, then init_module).
    for message in [
        "eprog: helper_root=nowhere is not one of private, host",
        "eprog: helper_caps=0x20000000000 has bits past the last capability (40)",
        "eprog: helper_uid=4294967295 is not an id",
        "eprog: helper_nofile=0 is not in 1..=1048576",
    ] {
        let said = b.kernel_lines(message);
        assert!(
            !said.is_empty() && said.iter().all(|l| *l == message),
            "{message}: {said:?}; log: {}",
            b.path.display()
        );
    }
}

/// A process of the host's nobody (65534) can neither stop the default
/// helper nor read its memory map: the helper's user is its own, and it is
/// not dumpable. With the helper as nobody (the old default), the same
/// process stops it; its map stays closed (its executable is not readable
/// to it, so it is not dumpable).
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_process_of_nobody_can_neither_stop_nor_inspect_the_helper() {
    let ko = fs::read(setting("EPROG_KO")).unwrap();
    let b = run_module(
        "privilege-nobody",
        &ko,
        "mkdir -p /etc; echo 'nobody:x:65534:65534::/:/bin/sh' > /etc/passwd
as_nobody() {
    load \"$@\"
    pid=$(procs | awk '$3 == \"eprog_user\" { print $1 }')
    mark $phase-ids $(awk '/^[UG]id:/ { print $2 }' /proc/$pid/status | xargs)
    su nobody -c \"kill -STOP $pid\" 2>/dev/null; mark $phase-stop $?
    su nobody -c \"cat /proc/$pid/maps\" >/dev/null 2>&1; mark $phase-maps $?
    sleep 0.2
    mark $phase-state $(awk '/^State:/ { print $2 }' /proc/$pid/status)
    unload
}
phase=default; as_nobody
phase=nobody; as_nobody helper_uid=65534 helper_gid=65534
rm /etc/passwd",
        Duration::from_secs(120),
    );
    assert_eq!(b.marker("default-ids"), "2147483646 2147483646");
    assert_eq!(b.marker("default-stop"), "1", "nobody stopped the helper");
    assert_eq!(b.marker("default-maps"), "1", "nobody read its map");
    assert_eq!(b.marker("default-state"), "S");
    // The witness: as nobody, the helper can be stopped by nobody.
    assert_eq!(b.marker("nobody-ids"), "65534 65534");
    assert_eq!(b.marker("nobody-stop"), "0");
    assert_eq!(b.marker("nobody-state"), "T");
    assert_eq!(b.marker("nobody-maps"), "1", "the helper was dumpable");
}

/// A helper that tries to write 64 MiB into its root on every run, and
/// fails, so that it is restarted: its root is read-only to it, and memory
/// does not grow from run to run.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_helper_that_fills_its_root_each_run_holds_no_memory() {
    let b = run_module(
        "privilege-fill",
        probe_ko(),
        "load helper_args=mode=fill restart_limit=2
until dmesg | grep -q 'probe fill'; do sleep 0.1; done
mark shmem-first-run $(shmem)
i=0; while [ \"$(cat /sys/class/misc/eprog/state)\" != failed ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
mark state $(cat /sys/class/misc/eprog/state)
mark shmem-last-run $(shmem)
unload",
        Duration::from_secs(180),
    );
    assert_eq!(b.marker("state"), "failed", "log: {}", b.path.display());
    assert_eq!(
        b.kernel_lines("eprog: From userspace: probe fill"),
        ["eprog: From userspace: probe fill /fill0 EACCES"; 3]
    );
    let kb = |key: &str| -> i64 { b.marker(key).parse().unwrap() };
    let grown = kb("shmem-last-run") - kb("shmem-first-run");
    assert!(
        grown < 1024,
        "Shmem grew by {grown} kB over two more runs; log: {}",
        b.path.display()
    );
}
