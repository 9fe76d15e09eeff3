// SPDX-License-Identifier: GPL-2.0

//! Helpers that other modules bring (`eprog.h`'s `eprog_helper_register`):
//! a client module (`tests/modules/client_test.c`) registers the static C
//! channel helper beside eprog's default helper, in one boot: each relays
//! under its own prefix, calls go to the right helper from the kernel and
//! from both devices at once, one helper's crash and `stop` leave the other
//! alone, the client's unload leaves nothing of its helper, eprog cannot
//! unload before it nor the client while its device is open, and bad
//! registrations fail with their errno.

mod common;

use common::{run_module_with, setting, test_module, Boot};
use std::fs;
use std::time::Duration;

/// Callers per device in the concurrent round, and calls per caller.
const CALLERS: u32 = 8;
const CALLS: u32 = 10;

/// Guest shell: `ask DEV REQUEST` prints the reply of one call (one write,
/// then read to end of file); `dcall KEY DEV REQUEST` marks it as
/// `@@ KEY reply <reply>` or `@@ KEY error <strerror>`; `round` runs
/// CALLERS callers on each device at once, each marking
/// `@@ caller-<dev>-<i> <right answers> <wrong answers>`.
const CLIENT_SHELL: &str = "\
ask() {
    local rc
    exec 4<>$1 || return 1
    printf '%s' \"$2\" | dd bs=65536 count=1 status=none >&4 && cat <&4
    rc=$?; exec 4>&-; return $rc
}
dcall() {
    if r=$(ask $2 \"$3\" 2>/tmp/err-$1); then mark $1 reply \"$r\"; else mark $1 error \"$(sed 's/.*: //' /tmp/err-$1)\"; fi
    rm -f /tmp/err-$1
}
caller() {
    local dev=$1 i=$2 want=$3 j=0 ok=0 bad=0
    while [ $j -lt $CALLS ]; do
        if [ \"$(ask /dev/$dev \"$want$i-$j\" 2>/dev/null)\" = \"$4$i-$j\" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
        j=$((j + 1))
    done
    mark caller-$dev-$i $ok $bad
}
round() {
    local i=1 pids=
    while [ $i -le $CALLERS ]; do
        caller eprog $i 'echo d' d &
        pids=\"$pids $!\"
        caller eprog-ctest $i c 'C: c' &
        pids=\"$pids $!\"
        i=$((i + 1))
    done
    wait $pids
}
wait_state() {
    local i=0
    while [ \"$(cat $1/state)\" != $2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    mark $3 $(cat $1/state)
}
";

const SCRIPT: &str = "\
d=/sys/class/misc/eprog c=/sys/class/misc/eprog-ctest
load interval_ms=600000
mark shmem-one $(shmem)
uevent /bin/sh -c 'echo \"$DEVPATH $EPROG_NAME $EPROG_STATE\" >> /tmp/uevents' &
listener=$!
until grep -q /mem/null /tmp/uevents 2>/dev/null; do echo change > /sys/class/mem/null/uevent; sleep 0.1; done
insmod /eprog_client_test.ko; mark client $?
wait_state $c running ctest-up
mark devices $(ls /dev | grep -c '^eprog')
dcall dflt /dev/eprog 'echo to the default'
dcall ctest /dev/eprog-ctest 'to ctest'
round
kill -KILL $(cat $c/pid)
i=0; while [ \"$(cat $c/restarts)\" != 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait_state $c running ctest-again
mark restarts $(cat $c/restarts) $(cat $d/restarts)
echo stop > $c/control; mark ctest-stop $?
mark states $(cat $c/state) $(cat $d/state)
sleep 0.5; kill $listener
mark uevents $(sed -n 's|^/devices/virtual/misc/\\(eprog[^ ]*\\) \\([^ ][^ ]*\\) \\([^ ][^ ]*\\)$|\\1:\\2:\\3|p' /tmp/uevents)
rm -f /tmp/uevents
dcall dflt-alone /dev/eprog 'echo still here'
dcall ctest-stopped /dev/eprog-ctest 'anyone?'
echo start > $c/control
wait_state $c running ctest-started
rmmod eprog 2>/dev/null; mark rmmod-in-use $?
exec 5<>/dev/eprog-ctest
rmmod eprog_client_test 2>/dev/null; mark client-rmmod-open $?
exec 5>&-
rmmod eprog_client_test; mark client-rmmod $?
mark ctest-gone $(ls /dev | grep -c '^eprog-ctest') $(ls /sys/class/misc | grep -c '^eprog-ctest')
sleep 0.5
mark helpers-left $(procs | grep -c eprog_user)
mark shmem-two $(shmem)
insmod /eprog_client_test.ko name=Bad!; mark bad-name $?
insmod /eprog_client_test.ko name=eprog; mark taken-name $?
insmod /eprog_client_test.ko bad_blob=1; mark bad-blob $?
sleep 0.5
mark helpers-after-bad $(procs | grep -c eprog_user)
mark shmem-three $(shmem)
dcall dflt-end /dev/eprog 'echo the end'
unload";

/// `lines` with each run of equal lines as one.
fn once(mut lines: Vec<&str>) -> Vec<&str> {
    lines.dedup();
    lines
}

fn boot() -> Boot {
    let ko = setting("EPROG_KO");
    let client = test_module("eprog_client_test", "clients", ko.parent().unwrap());
    let body = format!("CALLERS={CALLERS} CALLS={CALLS}\n{CLIENT_SHELL}{SCRIPT}");
    run_module_with(
        "clients",
        &fs::read(&ko).unwrap(),
        &[("eprog_client_test.ko", &client)],
        &body,
        Duration::from_secs(300),
    )
}

/// Everything the one boot shows, checked in the order it happened.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_client_module_brings_its_own_helper_beside_the_default_one() {
    let b = boot();
    let log = b.path.display();
    // Registered: its own device, view and control beside eprog's.
    assert_eq!(b.marker("client"), "0", "log: {log}");
    assert_eq!(b.marker("ctest-up"), "running");
    assert_eq!(b.marker("devices"), "2");
    // Each helper relays under its own prefix: the client's under its name.
    assert_eq!(
        b.kernel_lines("From userspace:"),
        [
            "eprog: From userspace: Hello, world!",
            "eprog: ctest: From userspace: C helper serving",
            "eprog: ctest: From userspace: C helper serving",
            "eprog: ctest: From userspace: C helper serving",
        ],
        "log: {log}"
    );
    // Calls reach the right helper: from the client module, from each
    // device, and from 2 x CALLERS callers at once.
    assert_eq!(
        b.kernel_lines("eprog_client_test: call"),
        [
            "eprog_client_test: call: 'C: from the client'",
            "eprog_client_test: call without a helper: -EINVAL",
        ]
    );
    assert_eq!(b.marker("dflt"), "reply to the default");
    assert_eq!(b.marker("ctest"), "reply C: to ctest");
    for dev in ["eprog", "eprog-ctest"] {
        for i in 1..=CALLERS {
            assert_eq!(
                b.marker(&format!("caller-{dev}-{i}")),
                format!("{CALLS} 0"),
                "caller {i} of /dev/{dev}: right and wrong answers; log: {log}"
            );
        }
    }
    // Independence: a crash restarts only its helper; a stop stops only it.
    assert_eq!(b.marker("ctest-again"), "running");
    assert_eq!(b.marker("restarts"), "1 0");
    assert_eq!(b.marker("ctest-stop"), "0");
    assert_eq!(b.marker("states"), "stopped running");
    // Each change as a uevent of the client helper's device, with its name:
    // up, killed (backoff), up again, stopped; the default's none.
    let uevents = b.marker("uevents");
    assert!(
        uevents.ends_with("eprog-ctest:ctest:stopped")
            && uevents.contains("eprog-ctest:ctest:backoff")
            && uevents
                .split(' ')
                .all(|e| e.starts_with("eprog-ctest:ctest:")),
        "uevents: {uevents}; log: {log}"
    );
    assert_eq!(b.marker("dflt-alone"), "reply still here");
    assert_eq!(
        b.marker("ctest-stopped"),
        "error Cannot send after transport endpoint shutdown",
        "a call to the stopped helper: ESHUTDOWN"
    );
    assert_eq!(b.marker("ctest-started"), "running");
    // eprog stays while a client is registered; the client's unload takes
    // its helper, device and view, and gives back its memory.
    assert_eq!(b.marker("rmmod-in-use"), "1");
    // An open device holds its client; closed, the client unloads.
    assert_ne!(b.marker("client-rmmod-open"), "0", "log: {log}");
    assert_eq!(b.marker("client-rmmod"), "0");
    assert_eq!(b.marker("ctest-gone"), "0 0");
    assert_eq!(b.marker("helpers-left"), "1");
    assert_eq!(b.marker("shmem-two"), b.marker("shmem-one"), "log: {log}");
    // Bad registrations: insmod fails with the errno, one sentence each,
    // and nothing is left. (busybox's insmod tries finit_module, then
    // init_module: each failed load runs the client's init twice.)
    // busybox's insmod exits with the errno: EINVAL, EEXIST, ENOEXEC. An
    // init's EEXIST reaches user space as EBUSY where the kernel keeps
    // EEXIST for "already loaded" (7.3); the client's own line says EEXIST.
    for (key, errnos) in [
        ("bad-name", &["22"][..]),
        ("taken-name", &["17", "16"][..]),
        ("bad-blob", &["8"][..]),
    ] {
        let status = b.marker(key);
        assert!(
            errnos.contains(&status.as_str()),
            "{key}: insmod's status {status}, not one of {errnos:?}; log: {log}"
        );
    }
    assert_eq!(
        once(b.kernel_lines("eprog_client_test: register: ")),
        [
            "eprog_client_test: register: -EINVAL",
            "eprog_client_test: register: -EEXIST",
            "eprog_client_test: register: -ENOEXEC",
        ],
        "log: {log}"
    );
    assert_eq!(
        once(b.kernel_lines("helper name 'Bad!'")),
        ["eprog: helper name 'Bad!' is not [a-z0-9_-]{1,31}"]
    );
    assert_eq!(
        once(b.kernel_lines("the helper's blob")),
        ["eprog: ctest: the helper's blob (64 bytes) is not an ELF file"]
    );
    assert_eq!(
        once(b.kernel_lines("is registered already")),
        ["eprog: a helper named 'eprog' is registered already"]
    );
    assert_eq!(b.marker("helpers-after-bad"), "1");
    assert_eq!(b.marker("shmem-three"), b.marker("shmem-one"));
    assert_eq!(b.marker("dflt-end"), "reply the end");
}
