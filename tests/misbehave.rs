// SPDX-License-Identifier: GPL-2.0

//! A helper that misbehaves never hurts the kernel: the QEMU matrix. Each
//! test embeds the misbehaving test helper (`tests/helpers/`), picks its
//! misbehaviour with `helper_args=mode=...`, and checks the log, the
//! supervision, and that `rmmod` promptly leaves nothing behind.
//!
//! `rmmod` is timed at every point the supervisor thread can be: waiting
//! for output (`silent`), relaying as fast as it can (`flood`), asleep in
//! a backoff (`crash` with `restart=always`), waiting for the helper's end
//! after its stdout closed (`close-stdout`), while the helper spins
//! (`spin`), and after the thread has ended (`crash` up to the limit,
//! `restart=never`).

mod common;

use common::{
    assert_nothing_left, assert_starved_forks_were_harmless, boot, module_with_blob, setting,
    timestamp, Boot, Initramfs, MODULE_SHELL, STARVE_CASES, STARVE_SHELL, SYSTEM,
};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// eprog.ko with the misbehaving helper embedded, built once.
fn misbehave_ko() -> &'static [u8] {
    static KO: OnceLock<Vec<u8>> = OnceLock::new();
    KO.get_or_init(|| module_with_blob("misbehave", Path::new(env!("EPROG_MISBEHAVE"))))
}

/// Boots with the misbehaving module as `/misbehave.ko` and runs `body`.
fn run(name: &str, body: &str) -> Boot {
    let script = format!(
        "{SYSTEM}{MODULE_SHELL}ko=/misbehave.ko\nmark shmem-before $(shmem)\n{body}\nleftovers\nreboot -f\n"
    );
    let mut ramfs = Initramfs::with_init(&script);
    ramfs.file("misbehave.ko", 0o644, misbehave_ko());
    let b = boot(
        name,
        &setting("EPROG_KDIR"),
        ramfs.finish(),
        "",
        Duration::from_secs(180),
    );
    b.assert_clean();
    b
}

fn assert_prompt_rmmod(b: &Boot) {
    assert_eq!(b.marker("rmmod"), "0");
    let seconds: f64 = b.marker("rmmod-seconds").parse().unwrap();
    assert!(
        seconds < 1.0,
        "rmmod took {seconds} s; log: {}",
        b.path.display()
    );
}

/// Guest shell, with `d` the sysfs directory and a crashing helper under
/// `restart=always` for 1.5 s: returns just after a backoff of 1.6 s or
/// more began (the next restart, then its crash), so that what follows
/// lands early in a long wait.
const BACKOFF_BEGUN: &str = "sleep 1.5
r=$(cat $d/restarts)
i=0; while [ \"$(cat $d/restarts)\" = $r ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
i=0; while [ \"$(cat $d/state)\" != backoff ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
";

/// insmod failed, and busybox said `reason` (its words for the errno).
fn assert_insmod_failed(b: &Boot, reason: &str) {
    assert_eq!(b.marker("loaded"), "0", "insmod succeeded");
    let said = b.marker("insmod-said");
    assert!(
        said.contains(reason),
        "insmod said {said:?}, not {reason:?}"
    );
}

/// The printk timestamps of the lines of `log` that contain `needle`.
fn stamps(log: &str, needle: &str) -> Vec<f64> {
    log.lines()
        .filter(|l| l.contains(needle))
        .filter_map(timestamp)
        .collect()
}

fn count(b: &Boot, needle: &str) -> usize {
    b.kernel_lines(needle).len()
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_crash_is_logged_and_restarted_with_backoff_up_to_the_limit() {
    let b = run(
        "crash",
        "load helper_args=mode=crash restart_limit=2\nsleep 2\nunload",
    );
    assert_eq!(b.marker("loaded"), "1");
    assert_eq!(count(&b, "eprog: From userspace: about to crash"), 3);
    assert_eq!(
        count(&b, "eprog: helper was killed by signal 11 (SIGSEGV)"),
        3
    );
    assert_eq!(count(&b, "eprog: restarting the helper (1 of 2)"), 1);
    assert_eq!(count(&b, "eprog: restarting the helper (2 of 2)"), 1);
    assert_eq!(
        count(&b, "eprog: helper restarted 2 times in a row; giving up"),
        1
    );
    // Exponential backoff: 100 ms, then 200 ms, between a crash and the restart.
    let crashes = stamps(&b.log, "SIGSEGV");
    let starts = stamps(&b.log, "helper eprog_user started");
    assert_eq!(starts.len(), 3);
    // The sleeps count jiffies, the log's stamps sched_clock: under TCG
    // (7.3 arm64) they drift apart by a few percent, so allow 10%.
    // From both sides: 100 ms, then twice that (a start adds a few ms).
    let (first, second) = (starts[1] - crashes[0], starts[2] - crashes[1]);
    assert!(
        (0.09..0.3).contains(&first),
        "first backoff not about 100 ms: {first}"
    );
    assert!(
        (0.18..0.5).contains(&second),
        "backoff did not double: {first} then {second}"
    );
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
}

/// The backoff doubles up to 10 s and no further: the seventh wait is
/// 6.4 s, the eighth and the ninth 10 s (not 12.8 and 25.6). Then the
/// helper is `failed` (sysfs), and calls fail with `ESHUTDOWN`.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn the_backoff_doubles_up_to_10_s_then_eshutdown() {
    let b = run(
        "crash-cap",
        "load helper_args=mode=crash restart_limit=9
i=0; while [ \"$(cat /sys/class/misc/eprog/state)\" != failed ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
mark state $(cat /sys/class/misc/eprog/state)
echo x 2>/tmp/err > /dev/eprog; mark call \"$(sed 's/.*: //' /tmp/err)\"
unload",
    );
    assert_eq!(b.marker("state"), "failed", "log: {}", b.path.display());
    assert_eq!(
        b.marker("call"),
        "Cannot send after transport endpoint shutdown"
    );
    let crashes = stamps(&b.log, "SIGSEGV");
    let starts = stamps(&b.log, "helper eprog_user started");
    assert_eq!(starts.len(), 10, "log: {}", b.path.display());
    let waits: Vec<f64> = (1..10).map(|k| starts[k] - crashes[k - 1]).collect();
    // As the first test: jiffies against sched_clock, 10% either way.
    assert!((5.7..7.1).contains(&waits[6]), "waits: {waits:?}");
    assert!((9.0..11.0).contains(&waits[7]), "waits: {waits:?}");
    assert!((9.0..11.0).contains(&waits[8]), "waits: {waits:?}");
    assert_eq!(
        count(&b, "eprog: helper restarted 9 times in a row; giving up"),
        1
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn restart_never_leaves_a_crashed_helper_down() {
    let b = run(
        "crash-never",
        "load helper_args=mode=crash restart=never\nsleep 1\nunload",
    );
    assert_eq!(
        count(&b, "eprog: helper was killed by signal 11 (SIGSEGV)"),
        1
    );
    assert_eq!(count(&b, "eprog: restarting"), 0);
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
}

/// A helper that ends with status 0 is restarted by `restart=always`, and
/// not by `on-failure`, which is all that tells the two apart.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn restart_always_restarts_a_success_and_on_failure_does_not() {
    let b = run(
        "exit0",
        "load helper_args=mode=say-then-exit0 restart=on-failure
sleep 1
unload
echo '@@ phase always' > /dev/kmsg
load helper_args=mode=say-then-exit0 restart=always restart_limit=2
sleep 1.5
unload",
    );
    let on_failure = b.between("eprog: helper eprog_user started", "@@ phase always");
    let always = b.between("@@ phase always", "");
    let count_in =
        |lines: &[&str], needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(
        count_in(&on_failure, "eprog: helper exited with status 0"),
        1
    );
    assert_eq!(count_in(&on_failure, "eprog: restarting"), 0);
    assert_eq!(count_in(&always, "eprog: helper exited with status 0"), 3);
    assert_eq!(
        count_in(&always, "eprog: restarting the helper (2 of 2)"),
        1
    );
    assert_eq!(b.markers("rmmod"), ["0", "0"]);
    assert_nothing_left(&b);
}

/// The umh runtime's lock-down: a system call the helper did not declare
/// kills it with `SIGSYS` before the call does anything, and supervision
/// reports it by that name.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_call_the_helper_did_not_declare_kills_it_with_sigsys() {
    let b = run(
        "forbidden",
        "load helper_args=mode=forbidden restart=never\nsleep 1\nunload",
    );
    assert_eq!(b.marker("loaded"), "1");
    assert_eq!(
        count(&b, "eprog: From userspace: about to make a forbidden call"),
        1
    );
    assert_eq!(count(&b, "the forbidden call returned"), 0);
    assert_eq!(
        count(&b, "eprog: helper was killed by signal 31 (SIGSYS)"),
        1
    );
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn rmmod_during_a_backoff_wait_is_prompt() {
    // Backoffs of 100, 200, 400, 800, 1600 ms...: from the 4th restart on,
    // a wait outlasts the 1 s that rmmod is allowed.
    let b = run(
        "crash-backoff",
        &format!(
            "load helper_args=mode=crash restart=always restart_limit=50
d=/sys/class/misc/eprog
{BACKOFF_BEGUN}echo \"@@ rmmod-in $(cat $d/state) $(cat $d/restarts)\" > /dev/kmsg
unload"
        ),
    );
    let at = b.kernel_lines("@@ rmmod-in ");
    let at: Vec<&str> = at[0]
        .rsplit("@@ rmmod-in ")
        .next()
        .unwrap()
        .split(' ')
        .collect();
    assert_eq!(at[0], "backoff", "log: {}", b.path.display());
    let restarts: u32 = at[1].parse().unwrap();
    assert!(
        restarts >= 4,
        "rmmod came after {restarts} restarts, in a short wait"
    );
    // rmmod cut the wait short: no start after it.
    let lines = b.kernel_lines("");
    let after = lines.iter().skip_while(|l| !l.contains("@@ rmmod-in "));
    assert!(
        !after
            .clone()
            .any(|l| l.contains("eprog: helper eprog_user started")),
        "a helper started after rmmod came; log: {}",
        b.path.display()
    );
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_helper_that_exits_before_its_first_line_fails_insmod() {
    let b = run("exit3", "load helper_args=mode=exit3");
    assert_insmod_failed(&b, "Broken pipe");
    // busybox's insmod tries twice (finit_module, then init_module): each
    // attempt runs init once.
    let attempts = count(&b, "eprog: helper eprog_user started");
    assert!(attempts >= 1);
    assert_eq!(count(&b, "eprog: helper exited with status 3"), attempts);
    assert_eq!(
        count(&b, "eprog: helper ended before its first line"),
        attempts
    );
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn an_unknown_restart_policy_fails_insmod_with_einval() {
    let b = run("bad-param", "load restart=sometimes");
    assert_insmod_failed(&b, "Invalid argument");
    assert!(
        count(
            &b,
            "eprog: restart=sometimes is not one of never, on-failure, always"
        ) >= 1
    );
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_flood_is_rate_limited_counted_and_harmless() {
    let body = "load helper_args=mode=flood ratelimit_burst=50 ratelimit_interval_ms=500
i=0; while [ $i -lt 10 ]; do sleep 0.1; mark tick $i; i=$((i + 1)); done
unload";
    let b = run("flood", body);
    assert_eq!(
        b.markers("tick").len(),
        10,
        "the guest stopped responding during the flood"
    );
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
    // Nothing lost: between two logged lines, the suppression reports add up
    // to exactly the lines in between (and before the first, to its number).
    let mut logged = Vec::new();
    let mut suppressed_since = 0;
    let mut suppressed = 0;
    for line in b.kernel_lines("eprog: ") {
        if let Some(n) = line.strip_prefix("eprog: From userspace: flood ") {
            let n: u64 = n.parse().expect("a flood line's number");
            let expected = logged.last().map_or(n, |last| n - last - 1);
            assert_eq!(
                suppressed_since, expected,
                "before flood {n}: {suppressed_since} reported suppressed, {expected} missing; log: {}",
                b.path.display()
            );
            logged.push(n);
            suppressed_since = 0;
        } else if let Some(report) = line.strip_suffix(" records suppressed") {
            let n: u64 = report.strip_prefix("eprog: ").unwrap().parse().unwrap();
            suppressed_since += n;
            suppressed += n;
        }
    }
    assert!(suppressed > 0, "a flood was not limited");
    assert!(logged.len() > 1, "too few flood lines logged: {logged:?}");
    // From both sides: 50 per 500 ms window, every window full (the flood
    // never pauses), none over: over the span of the logged lines, at least
    // the windows that fit in it whole, at most one more at each end.
    let times = stamps(&b.log, "eprog: From userspace: flood ");
    let span = times.last().unwrap() - times.first().unwrap();
    let whole = (span / 0.5).floor() as usize;
    assert!(
        (50 * whole.max(1)..=50 * (whole + 2)).contains(&logged.len()),
        "{} flood lines logged in {span:.2} s at 50 per 500 ms; log: {}",
        logged.len(),
        b.path.display()
    );
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn garbage_bytes_are_escaped_and_cannot_forge_lines() {
    let b = run(
        "garbage",
        "load helper_args=mode=garbage\nsleep 0.5\nunload",
    );
    assert_eq!(
        count(
            &b,
            r"eprog: From userspace: \x013<0>fake level\x00NUL\x1b[31mred\x1b]0;title\x07\x0d"
        ),
        1,
        "control bytes were not escaped; log: {}",
        b.path.display()
    );
    assert_eq!(
        count(&b, "eprog: From userspace: eprog: From userspace: forged"),
        1
    );
    assert_eq!(count(&b, "eprog: From userspace: garbage done"), 1);
    for line in b.log.lines().filter(|l| l.contains("eprog:")) {
        assert!(
            line.bytes().all(|c| (b' '..=b'~').contains(&c)),
            "raw bytes in {line:?}"
        );
    }
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_one_mib_line_is_cut_marked_and_accounted_for() {
    const LINE: usize = 1 << 20;
    const RECORD_MAX: usize = eprog::relay::RECORD_MAX;
    let b = run(
        "long-line",
        "load helper_args=mode=long-line\nsleep 2\nunload",
    );
    let records = b.kernel_lines("eprog: From userspace: x");
    let suppressed: usize = b
        .kernel_lines(" records suppressed")
        .iter()
        .filter_map(|l| {
            l.strip_prefix("eprog: ")?
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert_eq!(
        records.len() + suppressed,
        LINE.div_ceil(RECORD_MAX),
        "records lost"
    );
    for record in &records {
        let text = record.strip_prefix("eprog: From userspace: ").unwrap();
        let body = text.strip_suffix('\\').unwrap_or(text);
        assert!(
            body.len() <= RECORD_MAX && body.bytes().all(|c| c == b'x'),
            "bad record {text:.40}..."
        );
    }
    assert!(
        records[0].ends_with('\\'),
        "a cut record has no continuation mark"
    );
    // A continuation mark is a promise: the next eprog line continues the
    // record, or says that the rate limit cut the rest of the line.
    let ours = b.kernel_lines("eprog: ");
    for (i, line) in ours.iter().enumerate() {
        if line.starts_with("eprog: From userspace: x") && line.ends_with('\\') {
            let next = ours.get(i + 1).copied().unwrap_or("(nothing)");
            assert!(
                next.starts_with("eprog: From userspace: x")
                    || next == "eprog: rate limit: the rest of this line is suppressed",
                "a continuation mark dangles: followed by {next:?}; log: {}",
                b.path.display()
            );
        }
    }
    assert!(count(&b, "eprog: rate limit: the rest of this line is suppressed") >= 1);
    assert_eq!(count(&b, "eprog: helper exited with status 0"), 1);
    assert_nothing_left(&b);
}

/// A helper's descendants, of both kinds (a child that keeps stdout, an
/// orphan that closed it), end with it: at its own end, before a restart,
/// and at rmmod. The helper is pid 1 of a pid namespace of its own.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn nothing_the_helper_started_outlives_its_end_or_rmmod() {
    let b = run(
        "children",
        "\
load helper_args=mode=fork-then-fail restart_limit=1
mark running $(procs | grep -c eprog_user)
launcher=$(procs | awk '$3 == \"eprog_launch\" { print $1 }')
pid=$(procs | awk -v l=$launcher '$2 == l && $3 == \"eprog_user\" { print $1 }')
mark nspid $(grep NSpid /proc/$pid/status)
n=0; while ! dmesg | grep -q 'giving up' && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
mark after-end $(procs | grep -c eprog_user)
unload
load helper_args=mode=fork-then-stay
mark staying $(procs | grep -c eprog_user)
unload",
    );
    assert_eq!(
        b.marker("running"),
        "3",
        "the helper, its child and its orphan should run; log: {}",
        b.path.display()
    );
    let nspid = b.marker("nspid");
    assert!(
        nspid.starts_with("NSpid: ") && nspid.ends_with(" 1"),
        "the helper is not pid 1 of its own namespace: {nspid:?}; log: {}",
        b.path.display()
    );
    // Each end is seen although a child still held stdout, and restarts.
    assert_eq!(count(&b, "eprog: helper exited with status 3"), 2);
    assert_eq!(count(&b, "eprog: restarting the helper (1 of 1)"), 1);
    assert_eq!(
        count(&b, "eprog: helper restarted 1 times in a row; giving up"),
        1
    );
    assert_eq!(
        b.marker("after-end"),
        "0",
        "a process the helper started outlived it; log: {}",
        b.path.display()
    );
    assert_eq!(b.marker("staying"), "3");
    for rmmod in b.markers("rmmod") {
        assert_eq!(rmmod, "0");
    }
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_helper_that_closed_stdout_is_still_killed_by_rmmod() {
    let b = run("close-stdout", "load helper_args=mode=close-stdout\nsleep 0.5\nmark running $(procs | grep -c eprog_user)\nunload");
    assert_eq!(count(&b, "eprog: From userspace: closing stdout"), 1);
    assert_eq!(
        b.marker("running"),
        "1",
        "the helper should still run without its stdout"
    );
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_spinning_helper_is_still_killed_promptly() {
    let b = run("spin", "load helper_args=mode=spin\nsleep 1\nunload");
    assert_eq!(count(&b, "eprog: From userspace: spinning"), 1);
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_silent_helper_does_not_block_insmod_or_rmmod() {
    let b = run(
        "silent",
        "t0=$(uptime_s); load helper_args=mode=silent start_timeout_ms=500; t1=$(uptime_s)
mark insmod-seconds $(awk \"BEGIN { print $t1 - $t0 }\")
sleep 0.5\nunload",
    );
    assert_eq!(b.marker("loaded"), "1");
    assert_eq!(
        count(
            &b,
            "eprog: helper has said nothing in 500 ms; leaving it running"
        ),
        1
    );
    // insmod waited for the timeout, and not much longer.
    let seconds: f64 = b.marker("insmod-seconds").parse().unwrap();
    assert!(
        (0.5..1.5).contains(&seconds),
        "insmod took {seconds} s with start_timeout_ms=500; log: {}",
        b.path.display()
    );
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn the_helpers_panic_message_and_stderr_reach_the_log() {
    let b = run(
        "panic-stderr",
        "load helper_args=mode=panic restart=never\nsleep 0.5\nunload\nload helper_args=mode=stderr\nsleep 0.5\nunload",
    );
    // The runtime's panic handler reports message and location, without fmt.
    let panic = "eprog: From userspace: panic: the misbehaving helper panics on purpose at src/misbehave.rs:";
    assert_eq!(count(&b, panic), 1);
    assert_eq!(count(&b, "eprog: helper exited with status 101"), 1);
    assert_eq!(count(&b, "eprog: From userspace: this went to stderr"), 1);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_run_of_restart_reset_ms_ends_a_row_of_restarts() {
    // Each run lasts 300 ms. Counted from 200 ms, every run ends the row:
    // restarts go on past the limit, each after the first backoff again.
    // Counted from 10 s, the limit holds.
    let b = run(
        "restart-reset",
        "load helper_args=mode=run-then-fail restart_limit=2 restart_reset_ms=200
sleep 3
unload
mark second
load helper_args=mode=run-then-fail restart_limit=2 restart_reset_ms=10000
sleep 2
unload",
    );
    let (first, second) = b.log.split_once("@@ second").unwrap();
    let lines = |part: &str, needle: &str| part.lines().filter(|l| l.contains(needle)).count();
    assert!(
        lines(first, "eprog: helper eprog_user started") >= 5,
        "a run as long as restart_reset_ms did not end the row; log: {}",
        b.path.display()
    );
    assert_eq!(lines(first, "giving up"), 0);
    assert_eq!(lines(first, "eprog: restarting the helper (2 of 2)"), 0);
    // The backoff started over too: every restart came after ~100 ms
    // (jiffies against sched_clock: 10% below, as above).
    let ends = stamps(first, "eprog: helper exited with status 1");
    let starts = stamps(first, "eprog: helper eprog_user started");
    for (end, start) in ends.iter().zip(&starts[1..]) {
        let gap = start - end;
        assert!(
            (0.09..0.19).contains(&gap),
            "restart {gap:.3} s after the end; log: {}",
            b.path.display()
        );
    }
    assert_eq!(lines(second, "eprog: helper eprog_user started"), 3);
    assert_eq!(
        lines(
            second,
            "eprog: helper restarted 2 times in a row; giving up"
        ),
        1
    );
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_silent_helper_that_dies_after_the_timeout_is_restarted() {
    let b = run(
        "silent-then-fail",
        "load helper_args=mode=silent-then-fail start_timeout_ms=300 restart_limit=1
sleep 3
mark still-loaded $(grep -c '^eprog ' /proc/modules)
unload",
    );
    assert_eq!(b.marker("loaded"), "1");
    assert_eq!(
        count(
            &b,
            "eprog: helper has said nothing in 300 ms; leaving it running"
        ),
        1
    );
    assert_eq!(count(&b, "eprog: helper exited with status 1"), 2);
    assert_eq!(count(&b, "eprog: restarting the helper (1 of 1)"), 1);
    assert_eq!(
        count(&b, "eprog: helper restarted 1 times in a row; giving up"),
        1
    );
    assert_eq!(count(&b, "ended before its first line"), 0);
    assert_eq!(b.marker("still-loaded"), "1");
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_multithreaded_helper_reports_its_group_exit_status() {
    let b = run(
        "group-exit",
        "load helper_args=mode=group-exit restart=never\nsleep 1\nunload",
    );
    assert_eq!(count(&b, "eprog: From userspace: two threads"), 1);
    assert_eq!(
        count(&b, "eprog: helper exited with status 7"),
        1,
        "not the status wait(2) reports; log: {}",
        b.path.display()
    );
    assert_eq!(count(&b, "eprog: helper exited with status 0"), 0);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_fork_that_fails_at_the_first_start_or_a_restart_is_harmless() {
    let b = run("starve", &format!("{STARVE_SHELL}{STARVE_CASES}"));
    assert_starved_forks_were_harmless(&b);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn suppressed_records_are_reported_when_the_interval_ends_not_later() {
    let b = run(
        "burst-then-silent",
        "load helper_args=mode=burst-then-silent ratelimit_burst=50 ratelimit_interval_ms=500
sleep 1.5
dmesg | sed -n 's/.*eprog: \\([0-9]*\\) records suppressed/\\1/p' | while read n; do mark reported $n; done
mark reported-before-rmmod
unload",
    );
    assert_eq!(count(&b, "eprog: From userspace: burst "), 50);
    // Reported while the helper still runs, silent: all 250, at once.
    let reported = b.markers("reported");
    assert_eq!(
        reported,
        vec!["250".to_string()],
        "the count was not reported when its interval ended; log: {}",
        b.path.display()
    );
    assert_prompt_rmmod(&b);
    assert_nothing_left(&b);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn a_status_is_reported_exactly_and_the_policy_follows_it() {
    // This helper ends at once, without reading its configuration: before
    // the launcher, kthreadd could reap it before eprog held its task, and
    // its status was lost. Now eprog holds the task before the exec.
    let ko = module_with_blob("exit-at-once", Path::new(env!("EPROG_EXIT_AT_ONCE")));
    let script = format!(
        "{SYSTEM}{MODULE_SHELL}ko=/exit.ko\nmark shmem-before $(shmem)\n\
         for i in 1 2 3 4 5; do load restart=on-failure restart_limit=3; sleep 0.3; unload; done\n\
         leftovers\nreboot -f\n"
    );
    let mut ramfs = Initramfs::with_init(&script);
    ramfs.file("exit.ko", 0o644, &ko);
    let b = boot(
        "exit-at-once",
        &setting("EPROG_KDIR"),
        ramfs.finish(),
        "",
        Duration::from_secs(120),
    );
    b.assert_clean();
    assert_eq!(b.markers("loaded"), ["1"; 5]);
    // Each end is the true status, and on-failure does not restart it.
    let ends: Vec<&str> = b
        .kernel_lines("eprog: helper ")
        .into_iter()
        .filter(|l| l.contains("exited") || l.contains("ended") || l.contains("killed"))
        .collect();
    assert_eq!(
        ends,
        ["eprog: helper exited with status 0"; 5],
        "log: {}",
        b.path.display()
    );
    assert_eq!(count(&b, "eprog: restarting the helper"), 0);
    assert_eq!(count(&b, "eprog: From userspace: bye"), 5);
    assert_eq!(b.markers("rmmod"), ["0"; 5]);
    assert_nothing_left(&b);
}

/// What the operator's control and the parameters promise beside the
/// matrix: `start` in a backoff starts the helper at once (the wait left
/// was over a second); rmmod is prompt while the helper is held stopped,
/// after `stop` or with `autostart=0`; out-of-range `max_inflight` and
/// `max_message` fail insmod with `EINVAL` and a line that says why.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn start_in_a_backoff_is_at_once_and_a_held_helper_unloads_promptly() {
    let b = run(
        "held",
        &format!(
            "load helper_args=mode=crash restart=always restart_limit=50
d=/sys/class/misc/eprog
{BACKOFF_BEGUN}mark backoff $(cat $d/state) $(cat $d/restarts)
echo '@@ start-in-backoff' > /dev/kmsg
echo start > $d/control; mark start-rc $?
sleep 0.5
echo stop > $d/control; mark stop-rc $?
mark held $(cat $d/state)
unload
load autostart=0
unload
for p in max_inflight=0 max_inflight=1025 max_message=0 max_message=65537; do load $p; done"
        ),
    );
    let path = b.path.display();
    let backoff = b.marker("backoff");
    let (state, restarts) = backoff.split_once(' ').unwrap();
    assert_eq!(state, "backoff", "log: {path}");
    assert!(
        restarts.parse::<u32>().unwrap() >= 4,
        "a short backoff: {backoff}"
    );
    assert_eq!(b.marker("start-rc"), "0");
    // The next start came at once, for the operator.
    let after: Vec<&str> = b
        .log
        .lines()
        .skip_while(|l| !l.ends_with("@@ start-in-backoff"))
        .collect();
    let at = after
        .first()
        .and_then(|l| timestamp(l))
        .expect("no start-in-backoff line");
    let started = after
        .iter()
        .find(|l| l.contains("eprog: helper eprog_user started"))
        .and_then(|l| timestamp(l))
        .unwrap_or_else(|| panic!("no start after the operator's; log: {path}"));
    assert!(
        started - at < 0.5,
        "start in a backoff took {} s; log: {path}",
        started - at
    );
    assert!(after
        .iter()
        .any(|l| l.contains("eprog: starting the helper again for the operator")));
    // Held stopped, then autostart=0: each rmmod prompt.
    assert_eq!(b.marker("stop-rc"), "0");
    assert_eq!(b.marker("held"), "stopped");
    assert_eq!(b.markers("rmmod"), ["0", "0"]);
    for seconds in b.markers("rmmod-seconds") {
        let s: f64 = seconds.parse().unwrap();
        assert!(s < 1.0, "rmmod of a held helper took {s} s; log: {path}");
    }
    // Out of range: refused, each with its reason.
    assert_eq!(b.markers("loaded"), ["1", "1", "0", "0", "0", "0"]);
    let said = b.markers("insmod-said");
    assert!(
        said.len() >= 4 && said.iter().all(|s| s.contains("Invalid argument")),
        "{said:?}"
    );
    for (p, most) in [
        ("max_inflight=0", 1024),
        ("max_inflight=1025", 1024),
        ("max_message=0", 65536),
        ("max_message=65537", 65536),
    ] {
        assert!(
            count(&b, &format!("eprog: {p} is not in 1..={most}")) >= 1,
            "no reason given for {p}; log: {path}"
        );
    }
}
