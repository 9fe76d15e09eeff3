// SPDX-License-Identifier: GPL-2.0

//! The channel in a booted kernel: calls through `/dev/eprog` to the default
//! helper and to the channel test helper (`tests/helpers/src/channel.rs`),
//! and every way a call can fail, each with its errno.

mod common;

use common::{
    c_channel_helper, c_program, module_with_blob, run_module, run_module_with, setting,
    test_module, Boot, CALL_SHELL,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// eprog.ko with the channel test helper embedded, built once.
fn channel_ko() -> &'static [u8] {
    static KO: OnceLock<Vec<u8>> = OnceLock::new();
    KO.get_or_init(|| module_with_blob("channel", Path::new(env!("EPROG_CHANNEL_HELPER"))))
}

/// The out-of-tree module with the default helper.
fn default_ko() -> Vec<u8> {
    fs::read(setting("EPROG_KO")).unwrap()
}

/// Boots with `ko` as `/eprog.ko` and runs `body` with the call shell
/// (see `run_module`).
fn boot_calls(name: &str, ko: &[u8], body: &str) -> Boot {
    let body = format!("{CALL_SHELL}{body}\nrm -f /tmp/req-* /tmp/err-* /tmp/big");
    run_module(name, ko, &body, Duration::from_secs(240))
}

/// The value of `@@ key ...` after its first word (`reply` or `error`).
fn answer(b: &Boot, key: &str) -> String {
    b.marker(key)
}

fn took(b: &Boot, key: &str) -> f64 {
    b.marker(&format!("{key}-took")).parse().unwrap()
}

/// Guest shell: the channel helper takes a `hang` request (and reads no
/// more, so its pipe fills), and `/tmp/big` holds a request of 60000 bytes.
const HANG: &str = "call hang 'hang'
head -c 60000 /dev/zero | tr '\\0' x > /tmp/big
";

/// One request was cut short on a full pipe, and its helper ended.
fn assert_one_request_cut(b: &Boot) {
    assert_eq!(
        count(b, "the helper did not take the request in time; ending it"),
        1
    );
}

fn count(b: &Boot, needle: &str) -> usize {
    b.kernel_lines(needle).len()
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn the_default_helper_answers_calls_from_many_callers_at_once() {
    let b = boot_calls(
        "channel-default",
        &default_ko(),
        "load interval_ms=300
mark mode $(stat -c '%A %u' /dev/eprog)
mkdir -p /etc; echo 'user:x:1000:1000::/:/bin/sh' > /etc/passwd
su user -c 'cat /dev/eprog' 2>&1 | sed 's/^/@@ nonroot /'
rm /etc/passwd
call echo 'echo hi there'
call good 'settings Baud-Rate=0x1C200, debug=yes name=\"eth 0\"'
call bad 'settings speed=1 2fast=3'
call what 'nonsense'
for i in 1 2 3 4 5 6 7 8; do call c$i \"echo caller $i\" & done
wait
sleep 0.7
unload",
    );
    assert_eq!(b.marker("loaded"), "1");
    assert_eq!(b.marker("mode"), "crw------- 0");
    assert!(
        b.marker("nonroot").contains("Permission denied"),
        "a user other than root opened /dev/eprog"
    );
    assert_eq!(answer(&b, "echo"), "reply hi there");
    assert_eq!(
        answer(&b, "good"),
        "reply baud_rate=115200|debug=1|name=\"eth 0\"|"
    );
    assert_eq!(
        answer(&b, "bad"),
        "reply error: a key must start with a letter at byte 8"
    );
    assert!(answer(&b, "what").starts_with("reply error: unknown request"));
    for i in 1..=8 {
        assert_eq!(answer(&b, &format!("c{i}")), format!("reply caller {i}"));
    }
    // Logging goes on beside the calls.
    assert!(count(&b, "eprog: helper opened the channel") == 1);
    assert!(count(&b, "eprog: From userspace: Hello, world!") >= 2);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn calls_in_flight_are_bounded_and_replies_may_come_in_any_order() {
    // The helper holds what it gets until 300 ms pass without a request,
    // then answers in reverse order: it sees at most max_inflight calls.
    let callers = "for i in 1 2 3 4 5 6; do call $1$i \"caller $i\" & done; wait";
    let b = boot_calls(
        "channel-gather",
        channel_ko(),
        &format!(
            "calls() {{ {callers}; }}
load helper_args=mode=gather max_inflight=3
mark phase bounded
calls b
unload
load helper_args=mode=gather
mark phase unbounded
calls u
unload"
        ),
    );
    for key in ["b", "u"] {
        for i in 1..=6 {
            assert_eq!(
                answer(&b, &format!("{key}{i}")),
                format!("reply caller {i}"),
                "log: {}",
                b.path.display()
            );
        }
    }
    let gathered = |from, to| -> Vec<usize> {
        b.between(from, to)
            .iter()
            .filter_map(|l| l.split("eprog: From userspace: gathered ").nth(1))
            .map(|n| n.trim().parse().unwrap())
            .collect()
    };
    let bounded = gathered("@@ phase bounded", "@@ phase unbounded");
    assert_eq!(bounded.iter().sum::<usize>(), 6, "{bounded:?}");
    assert_eq!(bounded.iter().max(), Some(&3), "{bounded:?}");
    assert_eq!(gathered("@@ phase unbounded", ""), [6]);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_call_that_times_out_fails_with_etimedout_and_its_late_reply_is_dropped() {
    let b = boot_calls(
        "channel-timeout",
        channel_ko(),
        "load call_timeout_ms=500 max_message=32
call late 'sleep 1500 too late'
sleep 1.5
call next 'echo next'
call long 'echo 0123456789abcdefghijklmnopqrstuvwxyz'
failed ETIMEDOUT EMSGSIZE
unload
mark phase slot
load call_timeout_ms=3000 max_inflight=1
call first 'sleep 1500 first' & sleep 0.2
echo 500 > /sys/module/eprog/parameters/call_timeout_ms
call second 'echo second'; wait
unload",
    );
    assert_eq!(answer(&b, "late"), "error Connection timed out");
    let t = took(&b, "late");
    assert!((0.45..1.0).contains(&t), "the timed-out call took {t} s");
    // The late reply went to no one, certainly not to the next call.
    let late = b.kernel_lines("eprog: late reply to call");
    assert_eq!(
        late,
        ["eprog: late reply to call 1 dropped (1 so far)"],
        "log: {}",
        b.path.display()
    );
    assert_eq!(answer(&b, "next"), "reply next");
    assert_eq!(answer(&b, "long"), "error Message too long");
    assert_eq!(b.marker("failed-ETIMEDOUT"), "1");
    assert_eq!(b.marker("failed-EMSGSIZE"), "1");
    // With one slot, a second call (with a shorter timeout) waits for it
    // within its own timeout and gives up without being sent: the helper
    // never answers it, so no late reply of it (checked above).
    assert_eq!(answer(&b, "first"), "reply first");
    assert_eq!(answer(&b, "second"), "error Connection timed out");
    let t = took(&b, "second");
    assert!(
        (0.45..1.0).contains(&t),
        "the call waiting for a slot took {t} s"
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn when_the_helper_dies_calls_in_flight_fail_at_once_and_new_calls_wait_for_the_next() {
    let b = boot_calls(
        "channel-reset",
        channel_ko(),
        "load call_timeout_ms=20000 helper_args=delay_ms=1000
for i in 1 2 3; do call f$i \"sleep 15000 x\" & done
sleep 0.5
kill -KILL $(helper_pid)
# Once eprog has seen the end (the kill lands a moment later, and a call
# sent before that is one more call in flight): a new call waits.
until dmesg | grep -q 'killed by signal 9'; do sleep 0.05; done
call again 'echo again'
wait
failed ECONNRESET
unload
load call_timeout_ms=20000 restart=never
kill -KILL $(helper_pid)
until [ $(dmesg | grep -c 'killed by signal 9') = 2 ]; do sleep 0.05; done
call gone 'echo gone'
unload",
    );
    for i in 1..=3 {
        let key = format!("f{i}");
        assert_eq!(answer(&b, &key), "error Connection reset by peer");
        let t = took(&b, &key);
        assert!(t < 2.0, "a call in flight took {t} s to fail");
    }
    assert_eq!(b.marker("failed-ECONNRESET"), "3");
    assert_eq!(
        count(&b, "eprog: helper was killed by signal 9 (SIGKILL)"),
        2
    );
    assert_eq!(count(&b, "eprog: restarting the helper (1 of 5)"), 1);
    assert_eq!(answer(&b, "again"), "reply again");
    // It was made before the new helper opened the channel (which takes a
    // second after the restart), and waited for it.
    let t = took(&b, "again");
    assert!(
        t > 0.5,
        "the call made meanwhile took {t} s: it did not wait"
    );
    // No helper will come: calls fail at once.
    assert_eq!(
        answer(&b, "gone"),
        "error Cannot send after transport endpoint shutdown"
    );
    assert!(took(&b, "gone") < 1.0);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_malformed_frame_is_logged_and_counted_and_restarts_the_helper() {
    let b = boot_calls(
        "channel-protocol",
        channel_ko(),
        "load restart_limit=10 max_message=4096
call behind0 'echo before'
call forge 'forge'
call ok1 'echo after forge'
call forge0 'forge 0'
call forge1 'forge 1'
call ok0 'echo after forged ids'
call oversize 'oversize 500' & sleep 0.2; call behind 'echo behind'; wait
call ok2 'echo after oversize'
call badkind 'badkind'
call ok3 'echo after badkind'
call big 'big 5000'
call ok4 'echo after big'
unload",
    );
    // Id 0 is never issued, and call 1 (behind0) was answered: replies to
    // them are forged, not late.
    for key in [
        "forge", "forge0", "forge1", "oversize", "behind", "badkind", "big",
    ] {
        assert_eq!(answer(&b, key), "error Protocol error", "{key}");
    }
    for key in ["ok1", "ok0", "ok2", "ok3", "ok4"] {
        assert!(answer(&b, key).starts_with("reply after "), "{key}");
    }
    assert_eq!(count(&b, "eprog: late reply"), 0);
    let errors = b.kernel_lines("eprog: protocol error ");
    assert_eq!(errors.len(), 6, "{errors:?}");
    // Every protocol error shows the header as it came.
    let forged = |n, id, header| {
        format!("eprog: protocol error {n}: a reply to call {id}, which was never made or is no longer awaited (header {header}); ending the helper")
    };
    assert_eq!(errors[0], forged(1, 2147418112, "060000000000ff7f02000000"));
    assert_eq!(errors[1], forged(2, 0, "060000000000000002000000"));
    assert_eq!(errors[2], forged(3, 1, "060000000100000002000000"));
    assert_eq!(
        errors[3],
        "eprog: protocol error 4: a frame of 65537 bytes, over max_message=4096 (header 010001000100000002000000); ending the helper"
    );
    assert_eq!(
        errors[4],
        "eprog: protocol error 5: a frame of unknown kind 9 (header 000000000000000009000000); ending the helper"
    );
    assert!(errors[5].starts_with("eprog: protocol error 6: a frame of 5000 bytes"));
    assert_eq!(
        count(&b, "eprog: helper was killed by signal 9 (SIGKILL)"),
        6
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_helper_that_stops_reading_holds_no_caller_past_its_timeout() {
    // A hung helper takes one request and reads no more: the pipe fills,
    // a request that no longer fits whole is cut, and the helper, whose
    // stdin is now out of step, is ended and restarted.
    let b = boot_calls(
        "channel-hang",
        channel_ko(),
        &format!(
            "load call_timeout_ms=700
{HANG}for i in 1 2; do
    t0=$(uptime_s)
    dd if=/tmp/big of=/dev/eprog bs=65536 count=1 status=none 2>&1 | sed \"s/.*: /@@ big$i /\"
    mark big$i-took $(awk \"BEGIN {{ print $(uptime_s) - $t0 }}\")
done
sleep 0.5
call alive 'echo alive'
unload"
        ),
    );
    assert_eq!(answer(&b, "hang"), "error Connection timed out");
    assert_eq!(b.marker("big1"), "Connection timed out");
    assert_eq!(b.marker("big2"), "Connection timed out");
    for key in ["hang", "big1", "big2"] {
        let t = took(&b, key);
        assert!(t < 1.5, "{key} took {t} s with a 0.7 s timeout");
    }
    assert_one_request_cut(&b);
    assert_eq!(answer(&b, "alive"), "reply alive");
}

/// One caller stuck writing to a full pipe (its timeout is long) holds no
/// other caller past the other's own timeout: waiting for the turn to
/// write counts against it.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_caller_stuck_on_a_full_pipe_holds_no_other_past_its_timeout() {
    let b = boot_calls(
        "channel-writer-turn",
        channel_ko(),
        &format!(
            "load call_timeout_ms=700
{HANG}echo 6000 > /sys/module/eprog/parameters/call_timeout_ms
# The first fits in the pipe and waits for its reply; the second does not
# fit, and waits to write the rest, for up to 6 s.
dd if=/tmp/big of=/dev/eprog bs=65536 count=1 status=none 2>/dev/null &
sleep 0.3
dd if=/tmp/big of=/dev/eprog bs=65536 count=1 status=none 2>/dev/null &
sleep 0.3
echo 700 > /sys/module/eprog/parameters/call_timeout_ms
call short 'echo short'
wait
unload"
        ),
    );
    assert_eq!(answer(&b, "hang"), "error Connection timed out");
    assert_eq!(answer(&b, "short"), "error Connection timed out");
    let t = took(&b, "short");
    assert!(t < 1.2, "the short call took {t} s with a 0.7 s timeout");
    // The second big request was cut: the writer was stuck, as meant.
    assert_one_request_cut(&b);
}

/// Callers that send requests larger than the pipe, at once, through the
/// default helper: the caller that reads for all waits to write with the
/// reading handed back, so the helper's replies are drained while it does,
/// and a healthy helper is never taken for a stuck one.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn large_calls_from_several_callers_at_once_all_get_their_answers() {
    const LOOPS: usize = 3;
    let b = boot_calls(
        "channel-large",
        &default_ko(),
        &format!(
            "load interval_ms=1000
d=/sys/class/misc/eprog
# 'echo ' and 65531 bytes: the largest request, and a reply as large.
head -c 65531 /dev/zero | tr '\\0' x > /tmp/body
{{ printf 'echo '; cat /tmp/body; }} > /tmp/req
# loop N: calls for 30 s; marks its calls and how many went wrong.
loop() {{
    n=0; bad=0; end=$(($(cut -d. -f1 /proc/uptime) + 30))
    while [ \"$(cut -d. -f1 /proc/uptime)\" -lt $end ]; do
        exec 4<>/dev/eprog
        if ! dd if=/tmp/req bs=65536 count=1 status=none >&4 2>/tmp/err-$1; then
            bad=$((bad + 1)); sed 's/^/@@ large-error /' /tmp/err-$1
        elif ! cat <&4 | cmp -s - /tmp/body; then
            bad=$((bad + 1)); mark large-wrong $1
        fi
        exec 4>&-
        n=$((n + 1))
    done
    mark large-$1 $n $bad
}}
i=1; while [ $i -le {LOOPS} ]; do loop $i & i=$((i + 1)); done
wait
for f in restarts counters/calls calls_failed/ETIMEDOUT calls_failed/ECONNRESET; do mark \"$f\" $(cat $d/$f); done
unload
rm -f /tmp/body /tmp/req"
        ),
    );
    assert_eq!(b.marker("loaded"), "1");
    let mut total = 0;
    for i in 1..=LOOPS {
        let m = b.marker(&format!("large-{i}"));
        let (n, bad) = m.split_once(' ').unwrap();
        let n: u64 = n.parse().unwrap();
        assert_eq!(
            bad,
            "0",
            "caller {i}: {n} calls, {bad} went wrong; log: {}",
            b.path.display()
        );
        // Each caller called many times, so their calls overlapped.
        assert!(n >= 10, "caller {i} made only {n} calls in 30 s");
        total += n;
    }
    assert_eq!(b.marker("counters/calls"), total.to_string());
    assert_eq!(b.marker("restarts"), "0", "log: {}", b.path.display());
    assert_eq!(b.marker("calls_failed/ETIMEDOUT"), "0");
    assert_eq!(b.marker("calls_failed/ECONNRESET"), "0");
    assert_eq!(
        count(&b, "the helper did not take the request in time"),
        0,
        "log: {}",
        b.path.display()
    );
    assert_eq!(b.marker("rmmod"), "0");
}

/// A helper that closed its stdin takes no request: a call fails at once
/// with EPIPE, and the caller is not killed by the SIGPIPE that a write to
/// a pipe without readers sends the writer.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_helper_that_closed_its_stdin_fails_calls_with_epipe_and_signals_no_caller() {
    let b = boot_calls(
        "channel-closed-stdin",
        channel_ko(),
        "load helper_args=mode=close-stdin
sleep 0.3
call closed 'echo anyone'
# (call removed its request file.)
printf 'echo anyone' > /tmp/req-dd
dd if=/tmp/req-dd of=/dev/eprog status=none 2>/dev/null; mark dd-status $?
failed EPIPE
unload",
    );
    assert_eq!(b.marker("loaded"), "1");
    assert_eq!(answer(&b, "closed"), "error Broken pipe");
    assert!(took(&b, "closed") < 1.0);
    // 1, an error; 141 (128 + SIGPIPE) was a caller killed.
    assert_eq!(b.marker("dd-status"), "1");
    assert_eq!(b.marker("failed-EPIPE"), "2");
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_helper_that_never_opened_the_channel_answers_eopnotsupp() {
    let b = boot_calls(
        "channel-plain",
        channel_ko(),
        "load helper_args=mode=text
call plain 'echo anyone'
failed EOPNOTSUPP
unload",
    );
    assert_eq!(answer(&b, "plain"), "error Operation not supported");
    assert_eq!(b.marker("failed-EOPNOTSUPP"), "1");
    assert!(took(&b, "plain") < 1.0);
    assert!(count(&b, "eprog: From userspace: plain text, no channel") >= 1);
    assert_eq!(count(&b, "eprog: helper opened the channel"), 0);
    // Its stdin ended once it had shown it speaks no protocol.
    assert_eq!(count(&b, "eprog: From userspace: stdin closed"), 1);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn rmmod_while_a_call_waits_is_refused_at_once_and_works_after_it() {
    // An open /dev/eprog holds the module, as any driver's device does:
    // rmmod cannot pull the channel from under a caller.
    let b = boot_calls(
        "channel-rmmod",
        channel_ko(),
        "load call_timeout_ms=2000
call waiting 'sleep 10000 x' &
sleep 0.5
t0=$(uptime_s); rmmod eprog 2>/dev/null; mark busy-rc $?; mark busy-took $(awk \"BEGIN { print $(uptime_s) - $t0 }\")
wait
unload",
    );
    assert_ne!(
        b.marker("busy-rc"),
        "0",
        "rmmod unloaded with a call waiting"
    );
    let t: f64 = b.marker("busy-took").parse().unwrap();
    assert!(t < 0.5, "the refused rmmod took {t} s");
    assert_eq!(answer(&b, "waiting"), "error Connection timed out");
    assert_eq!(b.marker("rmmod"), "0");
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_c_helper_serves_calls_through_the_c_header() {
    let ko = module_with_blob("channel-c", &c_channel_helper());
    let b = boot_calls(
        "channel-c",
        &ko,
        "load
call c 'from C'
for i in 1 2 3 4; do call c$i \"caller $i\" & done
wait
unload",
    );
    assert_eq!(answer(&b, "c"), "reply C: from C");
    for i in 1..=4 {
        assert_eq!(answer(&b, &format!("c{i}")), format!("reply C: caller {i}"));
    }
    assert_eq!(count(&b, "eprog: From userspace: C helper serving"), 1);
}

/// eprog_call() as `eprog.h` says, from a kernel module: NULL buffers of
/// length 0, a reply written over its request, a buffer too short for the
/// reply (ENOBUFS), and NULL with a length refused (EINVAL), not followed.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn eprog_call_takes_null_empty_and_in_place_buffers_as_its_header_says() {
    // eprog_call comes from the channel module.
    let caller = test_module(
        "eprog_call_args",
        "call-args",
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/modules/channel"),
    );
    let b = run_module_with(
        "channel-call-args",
        channel_ko(),
        &[("eprog_call_args.ko", &caller)],
        "load
insmod /eprog_call_args.ko; mark caller $?
rmmod eprog 2>/dev/null; mark rmmod-in-use $?
rmmod eprog_call_args
unload",
        Duration::from_secs(240),
    );
    assert_eq!(b.marker("caller"), "0");
    // A module that uses eprog_call() holds eprog: rmmod is refused.
    assert_eq!(b.marker("rmmod-in-use"), "1");
    let results: Vec<&str> = b.kernel_lines("eprog_call_args: ");
    assert_eq!(
        results,
        [
            "eprog_call_args: no-request: 12 bytes 'unknown verb'",
            "eprog_call_args: in-place: 8 bytes 'in place'",
            "eprog_call_args: no-room: -ENOBUFS",
            "eprog_call_args: short-room: -ENOBUFS",
            "eprog_call_args: null-request: -EINVAL",
            "eprog_call_args: null-reply: -EINVAL",
        ],
        "log: {}",
        b.path.display()
    );
}

/// The /dev/eprog client for what busybox cannot do
/// (`tests/helpers/dev_eprog_client.c`), as `/client` in the initramfs.
fn client() -> Vec<u8> {
    fs::read(c_program("dev_eprog_client")).unwrap()
}

/// `/dev/eprog` asks for `CAP_SYS_ADMIN` besides its mode: root without it
/// in its effective set cannot open it; with it, root can.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn dev_eprog_refuses_root_without_cap_sys_admin() {
    let b = run_module_with(
        "channel-cap",
        &default_ko(),
        &[("client", &client())],
        "load
chmod 755 /client
mark dropped $(/client open-without-cap /dev/eprog)
mark kept $(/client open /dev/eprog)
unload",
        Duration::from_secs(120),
    );
    assert_eq!(b.marker("dropped"), "open: Operation not permitted");
    assert_eq!(b.marker("kept"), "open: ok");
}

/// A signal whose handler does not restart system calls ends a caller's
/// wait with EINTR, within its timeout; the helper goes on, and its late
/// reply is dropped and counted.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_signal_ends_a_call_with_eintr() {
    let b = run_module_with(
        "channel-eintr",
        channel_ko(),
        &[("client", &client())],
        &format!(
            "{CALL_SHELL}load call_timeout_ms=5000
chmod 755 /client
t0=$(uptime_s)
mark int $(/client interrupted /dev/eprog 'sleep 1500 late')
mark int-took $(awk \"BEGIN {{ print $(uptime_s) - $t0 }}\")
sleep 1.5
call after 'echo after'
failed EINTR
unload
rm -f /tmp/req-* /tmp/err-*"
        ),
        Duration::from_secs(120),
    );
    assert_eq!(b.marker("int"), "write: Interrupted system call");
    let t = took(&b, "int");
    assert!(t < 1.2, "the interrupted call took {t} s");
    assert_eq!(answer(&b, "after"), "reply after");
    assert_eq!(b.marker("failed-EINTR"), "1");
    assert_eq!(
        b.kernel_lines("eprog: late reply to call"),
        ["eprog: late reply to call 1 dropped (1 so far)"]
    );
}

/// A caller reads its own reply from the helper's stdout, rather than
/// being woken by the supervisor thread after the thread read it: the
/// thread sleeps through a run of calls (before, it woke once per reply),
/// and every reply still reaches its caller.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_caller_reads_its_own_reply_while_the_supervisor_thread_sleeps() {
    const CALLS: u32 = 1000;
    let pingpong = fs::read(c_program("pingpong")).unwrap();
    let b = run_module_with(
        "channel-own-reply",
        &default_ko(),
        &[("pingpong", &pingpong)],
        &format!(
            "load interval_ms=100000
chmod 755 /pingpong
sup=$(procs | awk '$3 == \"eprog_supervise\" {{ print $1 }}')
switches() {{ awk '/^voluntary_ctxt_switches:/ {{ print $2 }}' /proc/$sup/status; }}
s0=$(switches)
mark calls $(/pingpong dev {CALLS})
mark woken $(($(switches) - s0))
unload"
        ),
        Duration::from_secs(120),
    );
    let calls = b.marker("calls");
    assert!(
        calls.starts_with(&format!("mode=dev callers=1 calls={CALLS} errors=0 ")),
        "{calls}"
    );
    let woken: u32 = b.marker("woken").parse().unwrap();
    assert!(
        woken < CALLS / 10,
        "the supervisor thread woke {woken} times in {CALLS} calls"
    );
}

/// Log lines that come while a caller reads the helper's stdout are the
/// caller's to relay, under the same rate limit; the count of what the
/// limit suppressed is reported when its interval ends, by the supervisor
/// thread, which the caller wakes for it when it hands the pipe back.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn lines_a_caller_reads_are_rate_limited_and_their_count_reported_in_time() {
    let b = boot_calls(
        "channel-flood",
        channel_ko(),
        "load ratelimit_burst=5 ratelimit_interval_ms=500
call flood 'flood 200'
sleep 1.5
mark reported $(dmesg | grep -c 'eprog: 195 records suppressed')
mark suppressed $(cat /sys/class/misc/eprog/counters/records_suppressed)
unload",
    );
    assert_eq!(answer(&b, "flood"), "reply flooded");
    assert_eq!(count(&b, "eprog: From userspace: flood"), 5);
    // Reported once, within the 1.5 s after the call: not held back until
    // the helper spoke again or ended.
    assert_eq!(b.marker("reported"), "1");
    assert_eq!(count(&b, "records suppressed"), 1);
    assert_eq!(b.marker("suppressed"), "195");
}
