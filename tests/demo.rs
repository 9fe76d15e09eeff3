// SPDX-License-Identifier: GPL-2.0

//! `make demo`: boot the QEMU kernel, load eprog.ko with the default 5 s
//! interval, show the kernel log as it happens, unload.

mod common;

use common::{boot_module, setting, HELLO, SYSTEM};
use std::time::Duration;

#[test]
#[ignore = "the demo: run through 'make demo'"]
fn demo() {
    let ko = setting("EPROG_KO");
    let script = format!(
        "{SYSTEM}
echo '--- guest: insmod eprog.ko'
insmod /eprog.ko
echo '--- guest: the helper, a child of kthreadd (pid 2):'
ps -o pid,ppid,comm | grep -E 'PID|eprog'
echo '--- guest: waiting 16 s for its lines'
sleep 16
echo '--- guest: rmmod eprog'
rmmod eprog
ps -o pid,ppid,comm | grep -c eprog_ | sed 's/^/--- guest: eprog processes left: /'
reboot -f
"
    );
    let b = boot_module("demo", &ko, &script, "", Duration::from_secs(120));
    // Show what matters from the guest: our lines and the kernel's.
    println!();
    for line in b
        .log
        .lines()
        .filter(|l| l.contains("eprog") || l.contains("PID"))
    {
        println!("    {line}");
    }
    println!();
    b.assert_clean();
    let lines = b.kernel_lines(HELLO).len();
    assert!(
        lines >= 3,
        "expected three or more lines in 16 s, got {lines}"
    );
    println!(
        "demo: {lines} lines relayed from the embedded helper; full log: {}",
        b.path.display()
    );
}
