// SPDX-License-Identifier: GPL-2.0

//! eprog in a booted kernel: QEMU tests on the kernels `tests/run` built.
//! Each test boots its own guest and asserts on its console log.

mod common;

use common::{
    boot, boot_module, kernel_has_umd, route_line, run_module_with, setting, test_module,
    Initramfs, HELLO, SYSTEM,
};
use std::fs;
use std::path::Path;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// Loads `ko`, checks the helper and its relay, unloads, checks that
/// nothing is left, and that no line comes after the unload.
fn module_life_cycle(name: &str, ko: &Path) {
    let script = format!(
        "{SYSTEM}
mark shmem-before $(shmem)
insmod /eprog.ko interval_ms=200; mark insmod $?
procs | while read pid ppid comm; do mark proc $comm $ppid $pid; done
mark helper-fds $(ls /proc/$(procs | awk '$3 == \"eprog_user\" {{ print $1 }}')/fd | xargs)
mark nspid $(grep NSpid /proc/$(procs | awk '$3 == \"eprog_user\" {{ print $1 }}')/status)
sleep 1
rmmod eprog; mark rmmod $?
mark left $(procs | wc -l)
mark lsmod $(grep -c eprog /proc/modules)
sleep 1
mark shmem-after $(shmem)
mark end
reboot -f
"
    );
    let b = boot_module(name, ko, &script, "", 2 * MINUTE);
    b.assert_clean();

    assert_eq!(b.marker("insmod"), "0", "insmod failed");
    // comm -> (ppid, pid)
    let procs: std::collections::HashMap<String, (String, String)> = b
        .markers("proc")
        .iter()
        .filter_map(|l| {
            let v: Vec<_> = l.split(' ').collect();
            (v.len() == 3).then(|| (v[0].to_string(), (v[1].to_string(), v[2].to_string())))
        })
        .collect();
    let parent = |comm: &str| procs.get(comm).map(|(ppid, _)| ppid.as_str());
    assert_eq!(
        parent("eprog_supervise"),
        Some("2"),
        "no eprog_supervise kernel thread: {procs:?}"
    );
    assert_eq!(
        parent("eprog_launch"),
        Some("2"),
        "no eprog_launch child of kthreadd: {procs:?}"
    );
    assert_eq!(
        parent("eprog_user"),
        procs.get("eprog_launch").map(|(_, pid)| pid.as_str()),
        "no eprog_user child of eprog_launch: {procs:?}"
    );
    // The route this kernel calls for, said once at load: the kernel's UMD
    // where the kernel has it, else eprog's own core.
    let routes = b.kernel_lines("eprog: starting the helper with ");
    assert_eq!(routes, [route_line()], "wrong or no route line");
    // The helper has the two pipes the UMD code gave the launcher, and fd 2,
    // which its runtime points at stdout: nothing else.
    assert_eq!(b.marker("helper-fds"), "0 1 2", "the helper's open fds");
    let nspid = b.marker("nspid");
    assert!(
        nspid.starts_with("NSpid: ") && nspid.ends_with(" 1") && nspid.split(' ').count() == 3,
        "the helper is not pid 1 of a pid namespace of its own: {nspid:?}"
    );
    assert_eq!(b.marker("rmmod"), "0", "rmmod failed");
    assert_eq!(
        b.marker("left"),
        "0",
        "a helper process or the supervisor thread survived rmmod"
    );
    assert_eq!(b.marker("lsmod"), "0", "the module is still listed");

    // At least two lines, relayed while the helper ran, none after.
    let started = "eprog: helper eprog_user started";
    let stopped = "eprog: helper stopped";
    let relayed: Vec<_> = b
        .between(started, stopped)
        .into_iter()
        .filter(|l| l.contains(HELLO))
        .collect();
    assert!(
        relayed.len() >= 2,
        "expected two or more relayed lines, got {relayed:?}"
    );
    // (Only if rmmod's 'helper stopped' is there: else the check sees
    // nothing.)
    assert_eq!(
        b.kernel_lines(stopped).len(),
        1,
        "log: {}",
        b.path.display()
    );
    assert!(
        !b.between(stopped, "").iter().any(|l| l.contains("eprog:")),
        "an eprog line came after rmmod"
    );
    // The private tmpfs and its copy of the helper are freed.
    assert_eq!(
        b.marker("shmem-before"),
        b.marker("shmem-after"),
        "Shmem did not return to its baseline"
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn out_of_tree_module_relays_and_unloads_cleanly() {
    module_life_cycle("module-out-of-tree", &setting("EPROG_KO"));
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn in_tree_module_relays_and_unloads_cleanly() {
    module_life_cycle(
        "module-in-tree",
        &setting("EPROG_KDIR").join("drivers/misc/eprog/eprog.ko"),
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn twenty_load_unload_cycles() {
    const CYCLES: usize = 20;
    let ko = setting("EPROG_KO");
    let script = format!(
        "{SYSTEM}
mark shmem-before $(shmem)
i=0
while [ $i -lt {CYCLES} ]; do
    insmod /eprog.ko interval_ms=100 || mark fail insmod $i
    [ \"$(procs | wc -l)\" = 3 ] || mark fail running $i
    sleep 0.3
    rmmod eprog || mark fail rmmod $i
    [ \"$(procs | wc -l)\" = 0 ] || mark fail left $i
    i=$((i + 1))
done
sleep 1
mark shmem-after $(shmem)
mark end
reboot -f
"
    );
    let b = boot_module("module-cycles", &ko, &script, "", 4 * MINUTE);
    b.assert_clean();
    assert_eq!(
        b.markers("fail"),
        Vec::<String>::new(),
        "some cycles misbehaved"
    );
    assert_eq!(
        b.kernel_lines("eprog: helper eprog_user started").len(),
        CYCLES
    );
    assert_eq!(b.kernel_lines("eprog: helper stopped").len(), CYCLES);
    // Every cycle relayed: each start is followed by a line before its stop.
    let log: Vec<_> = b.kernel_lines("eprog:");
    let mut relayed_in_cycle = 0;
    for line in log {
        if line.contains("started") {
            relayed_in_cycle = 0;
        } else if line.contains(HELLO) {
            relayed_in_cycle += 1;
        } else if line.contains("stopped") {
            assert!(
                relayed_in_cycle >= 1,
                "a cycle relayed no line; log: {}",
                b.path.display()
            );
        }
    }
    assert_eq!(
        b.marker("shmem-before"),
        b.marker("shmem-after"),
        "Shmem grew over the cycles"
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn built_in_helper_runs_without_any_file_system() {
    // No mounts at all, no /dev/null, no helper file: the initramfs holds
    // only busybox and this script.
    let script = "\
[ -e /dev/null ] && echo '@@ devnull present' || echo '@@ devnull absent'
[ -e /proc/self ] && echo '@@ proc mounted' || echo '@@ proc absent'
/bin/busybox find / -name 'eprog*' | /bin/busybox wc -l | { read n; echo \"@@ helper-files $n\"; }
/bin/busybox sleep 2
echo '@@ end'
/bin/busybox reboot -f
";
    let ramfs = Initramfs::with_init(script);
    let b = boot(
        "built-in",
        &setting("EPROG_KDIR_Y"),
        ramfs.finish(),
        "eprog.interval_ms=200",
        2 * MINUTE,
    );
    b.assert_clean();
    assert_eq!(b.marker("devnull"), "absent");
    assert_eq!(b.marker("proc"), "absent");
    assert_eq!(b.marker("helper-files"), "0");
    assert_eq!(
        b.kernel_lines("eprog: helper eprog_user started").len(),
        1,
        "the built-in module did not start"
    );
    let relayed = b.between("eprog: helper eprog_user started", "@@ end");
    assert!(
        relayed.iter().filter(|l| l.contains(HELLO)).count() >= 2,
        "fewer than two lines relayed"
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn built_in_eprog_never_makes_boot_wait_for_the_helper() {
    let ramfs = Initramfs::with_init("/bin/busybox sleep 1\n/bin/busybox reboot -f\n");
    let b = boot(
        "built-in-no-wait",
        &setting("EPROG_KDIR_Y"),
        ramfs.finish(),
        "eprog.interval_ms=200 eprog.start_timeout_ms=60000 initcall_debug loglevel=8",
        2 * MINUTE,
    );
    b.assert_clean();
    let lines: Vec<&str> = b.log.lines().collect();
    let returned = lines
        .iter()
        .position(|l| l.contains("initcall __eprog_init") && l.contains(" returned "))
        .unwrap_or_else(|| panic!("no initcall line for eprog; log: {}", b.path.display()));
    let first_line = lines
        .iter()
        .position(|l| l.contains(HELLO))
        .unwrap_or_else(|| panic!("the helper never spoke; log: {}", b.path.display()));
    assert!(
        returned < first_line,
        "boot waited for the helper's first line; log: {}",
        b.path.display()
    );
    let usecs: u64 = lines[returned]
        .split(" after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot read {:?}", lines[returned]));
    assert!(
        usecs < 500_000,
        "eprog's initcall took {usecs} us; log: {}",
        b.path.display()
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_broken_blob_fails_insmod_with_enoexec_and_leaks_nothing() {
    let kdir = setting("EPROG_KDIR");
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    // Not ELF at all; and ELF magic with nothing executable behind it.
    let text = scratch.join("not-elf");
    fs::write(&text, b"#!/bin/sh\necho this is not a static executable\n").unwrap();
    let fake = scratch.join("fake-elf");
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(256, 0);
    fs::write(&fake, bytes).unwrap();

    let mut ramfs = Initramfs::with_init(&format!(
        "{SYSTEM}
mark shmem-before $(shmem)
insmod /not-elf.ko 2>&1 | sed 's/^/@@ not-elf /'
insmod /fake-elf.ko 2>&1 | sed 's/^/@@ fake-elf /'
mark left $(procs | wc -l) $(grep -c eprog /proc/modules)
sleep 1
mark shmem-after $(shmem)
reboot -f
"
    ));
    for (name, blob) in [("not-elf", &text), ("fake-elf", &fake)] {
        // Past the build-time checks, to prove the run-time ones.
        let arg = format!("UMH_BLOB={}", blob.display());
        let (dir, log, ok) = common::build_module(name, &kdir, &[arg.as_str(), "UMH_BLOB_CHECK=n"]);
        assert!(ok, "building with {arg} failed:\n{log}");
        ramfs.file(
            &format!("{name}.ko"),
            0o644,
            &fs::read(dir.join("eprog.ko")).unwrap(),
        );
    }
    let b = boot("broken-blob", &kdir, ramfs.finish(), "", 2 * MINUTE);
    b.assert_clean();
    // busybox's insmod words ENOEXEC as "invalid module format" (and tries
    // twice: finit_module, then init_module).
    for name in ["not-elf", "fake-elf"] {
        let said = b.marker(name);
        assert!(
            said.contains("invalid module format"),
            "{name}: insmod said {said:?}"
        );
    }
    let not_elf = format!(
        "eprog: embedded helper ({} bytes) is not an ELF executable",
        fs::metadata(&text).unwrap().len()
    );
    assert!(
        !b.kernel_lines(&not_elf).is_empty(),
        "no clear message for a non-ELF blob"
    );
    assert!(!b
        .kernel_lines("eprog: starting the helper failed: ENOEXEC")
        .is_empty());
    assert_eq!(
        b.marker("left"),
        "0 0",
        "a process or the module survived the failed init"
    );
    assert_eq!(
        b.marker("shmem-before"),
        b.marker("shmem-after"),
        "the tmpfs copy leaked"
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn the_helper_keeps_talking_after_a_freeze_and_thaw() {
    let ko = setting("EPROG_KO");
    let script = format!(
        "{SYSTEM}
insmod /eprog.ko interval_ms=200; mark insmod $?
mark states $(cat /sys/power/state)
echo freezer > /sys/power/pm_test
sleep 0.5
echo freeze > /sys/power/state; mark freeze $?
mark thawed
sleep 1
rmmod eprog; mark rmmod $?
reboot -f
"
    );
    // pm_test=freezer freezes all tasks, waits pm_test_delay seconds, thaws.
    let b = boot_module(
        "freeze",
        &ko,
        &script,
        "suspend.pm_test_delay=1",
        2 * MINUTE,
    );
    b.assert_clean();
    assert_eq!(b.marker("insmod"), "0");
    assert!(
        b.marker("states").split(' ').any(|s| s == "freeze"),
        "no s2idle in {}",
        b.marker("states")
    );
    assert_eq!(
        b.marker("freeze"),
        "0",
        "the freeze failed; log: {}",
        b.path.display()
    );
    assert!(
        !b.log.contains("Freezing of tasks failed"),
        "eprog blocked the freezer"
    );
    assert!(
        b.log.contains("Freezing user space processes"),
        "nothing was frozen"
    );
    // Frozen, the helper said nothing for the whole second the freezer
    // held it (at 200 ms a line, five would have come).
    let frozen = b.between(
        "Freezing user space processes completed",
        "Restarting tasks",
    );
    assert!(
        frozen
            .iter()
            .any(|l| l.contains("suspend debug: Waiting for 1 second(s).")),
        "the freezer did not hold the tasks; log: {}",
        b.path.display()
    );
    assert_eq!(
        frozen.iter().filter(|l| l.contains(HELLO)).count(),
        0,
        "the helper talked while frozen; log: {}",
        b.path.display()
    );
    let after = b.between("@@ thawed", "eprog: helper stopped");
    assert!(
        after.iter().filter(|l| l.contains(HELLO)).count() >= 2,
        "the helper went quiet after the thaw"
    );
    assert_eq!(b.marker("rmmod"), "0");
}

/// A new usermode-helper process starts with a copy of the kernel threads'
/// file table. With fd 0 taken there (`tests/modules/eprog_kthread_fd.c`),
/// eprog's own core cannot give the helper its pipes as fds 0 and 1:
/// insmod fails with EBADF and a line that says why, and nothing is left
/// (no process, no module, Shmem back at its baseline: no file of the
/// tmpfs is held). The kernel's UMD code replaces fds 0 and 1 whatever
/// they were: there the helper starts.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_helper_process_without_fds_0_and_1_free_fails_insmod_with_ebadf() {
    let ko = setting("EPROG_KO");
    let fd_module = test_module("eprog_kthread_fd", "kthread-fd", ko.parent().unwrap());
    let b = run_module_with(
        "kthread-fd",
        &fs::read(&ko).unwrap(),
        &[("eprog_kthread_fd.ko", &fd_module)],
        "insmod /eprog_kthread_fd.ko; mark fd-module $?
load
[ \"$(grep -c '^eprog ' /proc/modules)\" = 1 ] && unload
rmmod eprog_kthread_fd
load
unload",
        MINUTE,
    );
    assert_eq!(b.marker("fd-module"), "0");
    let refused = b.kernel_lines("eprog: the helper's process has fd 0 or 1 open already");
    if kernel_has_umd() {
        assert_eq!(b.markers("loaded"), ["1", "1"]);
        assert!(refused.is_empty(), "{refused:?}");
    } else {
        assert_eq!(b.markers("loaded"), ["0", "1"], "log: {}", b.path.display());
        assert!(!refused.is_empty(), "log: {}", b.path.display());
        assert!(
            b.markers("insmod-said")
                .iter()
                .any(|l| l.ends_with("Bad file descriptor")),
            "{:?}",
            b.markers("insmod-said")
        );
    }
    // The fd's module gave it back: the helper started the second time.
    assert!(!b.kernel_lines(HELLO).is_empty());
}
