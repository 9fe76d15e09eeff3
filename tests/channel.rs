// SPDX-License-Identifier: GPL-2.0

//! The channel in a booted kernel: calls through `/dev/eprog` to the default
//! helper and to the test helpers, and every way a call can fail.

mod common;

use common::{boot, setting, Boot, Initramfs, MODULE_SHELL, SYSTEM};
use std::fs;
use std::time::Duration;

/// Guest shell functions: `call REQUEST` makes one call through
/// `/dev/eprog` and marks `@@ reply <text>` or `@@ error <message>`.
const CALL_SHELL: &str = "\
call() {
    exec 3<>/dev/eprog
    if printf '%s' \"$1\" >&3 2>/tmp/call-err; then mark reply \"$(cat <&3 | tr '\\n' '|')\"; else mark error \"$(cat /tmp/call-err)\"; fi
    exec 3>&-
}
";

fn run(name: &str, ko: &[u8], body: &str) -> Boot {
    let script = format!(
        "{SYSTEM}{MODULE_SHELL}{CALL_SHELL}ko=/eprog.ko\nmark shmem-before $(shmem)\n{body}\nleftovers\nreboot -f\n"
    );
    let mut ramfs = Initramfs::with_init(&script);
    ramfs.file("eprog.ko", 0o644, ko);
    let b = boot(
        name,
        &setting("EPROG_KDIR_M"),
        ramfs.finish(),
        "",
        Duration::from_secs(180),
    );
    b.assert_clean();
    b
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn the_default_helper_answers_calls() {
    let ko = fs::read(setting("EPROG_KO")).unwrap();
    let b = run(
        "channel-default",
        &ko,
        "load\nls -l /dev/eprog\ncall 'echo hi there'\ncall 'settings Baud-Rate=0x1C200, debug=yes'\ncall 'settings 1a=2'\ncall 'nonsense'\nsleep 6\nunload",
    );
    println!("{}", b.log);
}
