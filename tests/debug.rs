// SPDX-License-Identifier: GPL-2.0

//! The proof under a debug kernel (KASAN, lockdep, kmemleak, debug objects,
//! hung-task and soft-lockup detectors, fault injection; tests/debug.config):
//! 200 load/unload cycles, control writes racing each other and rmmod, the
//! whole misbehaving-helper matrix, and a sweep of allocation failures
//! through init, with zero splats and a clean final kmemleak scan.

mod common;

use common::{
    assert_starved_forks_were_harmless, boot, build_module, setting, tree_has_umd, Boot, Initramfs,
    MODULE_SHELL, STARVE_CASES, STARVE_SHELL, SYSTEM,
};
use std::fs;
use std::time::Duration;

const CYCLES: usize = 200;

/// One case of the misbehaving-helper matrix (the same as tests/misbehave.rs):
/// module arguments, seconds before `rmmod`, whether insmod succeeds, and
/// kernel lines that must appear in the case's part of the log.
struct Case {
    args: &'static str,
    secs: &'static str,
    loads: bool,
    /// Supervision still runs at rmmod, which then logs `helper stopped`
    /// (not for a helper held after `giving up`, nor after an end the
    /// policy leaves alone).
    supervised: bool,
    expect: &'static [&'static str],
}

const MATRIX: &[Case] = &[
    Case {
        args: "helper_args=mode=crash restart_limit=2",
        secs: "1.5",
        loads: true,
        supervised: false,
        expect: &[
            "eprog: helper was killed by signal 11 (SIGSEGV)",
            "eprog: restarting the helper (2 of 2)",
            "eprog: helper restarted 2 times in a row; giving up",
        ],
    },
    Case {
        args: "helper_args=mode=crash restart=always restart_limit=50",
        secs: "1",
        loads: true,
        supervised: true,
        expect: &["eprog: restarting the helper (3 of 50)"],
    },
    Case {
        args: "helper_args=mode=exit3",
        secs: "0",
        loads: false,
        supervised: false,
        expect: &[
            "eprog: helper exited with status 3",
            "eprog: helper ended before its first line",
        ],
    },
    Case {
        args: "helper_args=mode=flood ratelimit_burst=50",
        secs: "1",
        loads: true,
        supervised: true,
        expect: &[
            "eprog: From userspace: flood 0000000000",
            " records suppressed",
        ],
    },
    Case {
        args: "helper_args=mode=garbage",
        secs: "0.3",
        loads: true,
        supervised: true,
        expect: &[
            r"eprog: From userspace: \x013<0>fake level\x00NUL\x1b[31mred",
            "eprog: From userspace: eprog: From userspace: forged",
            "eprog: From userspace: garbage done",
        ],
    },
    Case {
        args: "helper_args=mode=long-line",
        secs: "1",
        loads: true,
        supervised: false,
        expect: &[
            "eprog: From userspace: xxxxxxxx",
            "eprog: helper exited with status 0",
        ],
    },
    Case {
        args: "helper_args=mode=fork-then-fail restart_limit=1",
        secs: "3",
        loads: true,
        supervised: false,
        expect: &[
            "eprog: From userspace: forked",
            "eprog: helper exited with status 3",
            "eprog: helper restarted 1 times in a row; giving up",
        ],
    },
    Case {
        args: "helper_args=mode=close-stdout",
        secs: "0.3",
        loads: true,
        supervised: true,
        expect: &["eprog: From userspace: closing stdout"],
    },
    Case {
        args: "helper_args=mode=silent start_timeout_ms=300",
        secs: "0.3",
        loads: true,
        supervised: true,
        expect: &["eprog: helper has said nothing in 300 ms; leaving it running"],
    },
    Case {
        args: "helper_args=mode=silent-then-fail start_timeout_ms=300 restart_limit=1",
        secs: "2",
        loads: true,
        supervised: false,
        expect: &[
            "eprog: helper has said nothing in 300 ms",
            "eprog: restarting the helper (1 of 1)",
            "eprog: helper restarted 1 times in a row; giving up",
        ],
    },
    Case {
        args: "helper_args=mode=group-exit restart=never",
        secs: "0.5",
        loads: true,
        supervised: false,
        expect: &["eprog: helper exited with status 7"],
    },
    Case {
        args: "helper_args=mode=panic restart=never",
        secs: "0.3",
        loads: true,
        supervised: false,
        expect: &[
            "eprog: From userspace: panic: the misbehaving helper panics on purpose",
            "eprog: helper exited with status 101",
        ],
    },
    Case {
        args: "helper_args=mode=stderr",
        secs: "0.3",
        loads: true,
        supervised: true,
        expect: &["eprog: From userspace: this went to stderr"],
    },
    Case {
        args: "helper_args=mode=spin",
        secs: "0.5",
        loads: true,
        supervised: true,
        expect: &["eprog: From userspace: spinning"],
    },
    Case {
        args: "restart=sometimes",
        secs: "0",
        loads: false,
        supervised: false,
        expect: &["eprog: restart=sometimes is not one of never, on-failure, always"],
    },
];

/// The failslab report header; each injection is followed by a stack dump
/// (verbose=2) that shows where it landed.
const INJECTED: &str = "FAULT_INJECTION: forcing a failure";

#[test]
#[ignore = "boots the debug kernel: run through 'make check'"]
fn debug_kernel_cycles_matrix_and_fault_injection_stay_clean() {
    let kdir = setting("EPROG_KDIR_DEBUG");
    let blob = format!("UMH_BLOB={}", env!("EPROG_MISBEHAVE"));
    let (plain, log, ok) = build_module("debug-plain", &kdir, &[]);
    assert!(ok, "building eprog.ko for the debug kernel failed:\n{log}");
    let (misbehave, log, ok) = build_module("debug-misbehave", &kdir, &[&blob]);
    assert!(
        ok,
        "building the misbehaving eprog.ko for the debug kernel failed:\n{log}"
    );

    // The function that sets up a new helper's pipes: the kernel's UMD
    // code where the kernel has it (in the new process), else eprog's core
    // (src/umd_core.c: its FIFOs, made in the supervisor thread before the
    // fork, and the fork's own set-up).
    let setup = if tree_has_umd(&kdir) {
        "umd_setup"
    } else {
        "eprog_umd_fork"
    };
    let matrix: String = MATRIX
        .iter()
        .enumerate()
        .map(|(i, case)| format!("run_case {i} \"{}\" {}\n", case.args, case.secs))
        .collect();
    let script = format!(
        "{SYSTEM}{MODULE_SHELL}{STARVE_SHELL}
mount -t debugfs debugfs /sys/kernel/debug
kmemleak=/sys/kernel/debug/kmemleak
[ -w $kmemleak ] || mark fail no-kmemleak
echo clear > $kmemleak || mark fail kmemleak-clear
mark shmem-before $(shmem)
check_left() {{ [ \"$(procs | wc -l)\" = 0 ] && ! grep -q '^eprog ' /proc/modules || mark fail left \"$1\"; }}

# 1. Load/unload cycles of the default helper.
i=0
while [ $i -lt {CYCLES} ]; do
    insmod /eprog.ko interval_ms=50 || mark fail insmod $i
    rmmod eprog || mark fail rmmod $i
    check_left cycle-$i
    i=$((i + 1))
done
mark cycles $i

# 1b. The operator's control: writes racing each other and rmmod.
ctl=/sys/class/misc/eprog/control
insmod /eprog.ko interval_ms=50 || mark fail control-insmod
for w in restart stop start restart; do
    (while [ -e $ctl ]; do echo $w > $ctl; done 2>/dev/null) &
done
sleep 3
rmmod eprog || mark fail control-rmmod
wait
check_left control
mark control raced

# 2. The misbehaving-helper matrix: each case's lines are checked on the host.
run_case() {{
    mark case $1
    insmod /misbehave.ko $2; mark case-insmod $1 $?
    if grep -q '^eprog ' /proc/modules; then sleep $3; rmmod eprog; mark case-rmmod $1 $?; fi
    check_left \"case $1\"
}}
{matrix}mark case end

# 3. The helper's fork fails (threads exhausted), at a first start and at
#    a restart.
ko=/misbehave.ko
{STARVE_CASES}check_left starve

# 4. Injected allocation failures. failslab fails slab allocations of tasks
#    marked make-it-fail, from a point a little later each time ('space'),
#    and reports each one with a stack dump (verbose=2).
fs=/sys/kernel/debug/failslab
[ -w $fs/times ] || mark fail no-failslab
echo N > $fs/ignore-gfp-wait; echo Y > $fs/task-filter; echo 2 > $fs/verbose
echo 100 > $fs/probability

# Runs the command \"$5\" (which loads eprog) over and over, each time with
# failures injected from a point a little later ('space' grows by $2 bytes,
# up to $3) and $4 of them allowed, until a run meets none (the end by
# design); marks $1 with the failures injected, the runs failed, and the end.
sweep() {{
    space=0; injected=0; failed=0; ended=no
    while [ $space -lt $3 ]; do
        echo $4 > $fs/times; echo $space > $fs/space
        if eval \"$5\"; then rmmod eprog || mark fail $1-rmmod $space; else failed=$((failed + 1)); fi
        check_left $1-$space
        [ \"$(cat $fs/times)\" = $4 ] && {{ ended=yes; break; }}
        injected=$((injected + 1))
        space=$((space + $2))
    done
    echo 0 > $fs/times
    mark $1 $injected $failed $ended
}}

# 4a. Through insmod, hence eprog's init. times=2: busybox's insmod tries
#     again (init_module after finit_module), and the retry must fail too.
sweep init-faults 1024 4000000 2 '(echo 1 > /proc/self/make-it-fail; exec insmod /eprog.ko interval_ms=50)'

# 4b. In the supervisor thread: a helper that crashes at once is restarted
#     over and over, and every restart's allocations (the start, the pipes'
#     references, the configuration line) meet injected failures.
insmod /misbehave.ko helper_args=mode=crash restart=always restart_reset_ms=0 || mark fail thread-insmod
thread=$(procs | awk '$3 == \"eprog_supervise\" {{ print $1 }}')
echo 1 > /proc/$thread/make-it-fail
space=0
while [ $space -lt 8192 ]; do
    echo 1 > $fs/times; echo $space > $fs/space
    sleep 0.3
    space=$((space + 256))
done
echo 0 > $fs/times
sleep 0.5
rmmod eprog || mark fail thread-rmmod
check_left thread-faults
mark thread-faults done

# 4c. In the start's own set-up: the helper's pipes ({setup}: the kernel's
#     UMD code makes them in the new process, before its exec; eprog's own
#     core, in eprog.ko, in the supervisor thread before the fork).
#     failslab is aimed by stack trace at that one function, whatever task
#     runs it, from a point a little later each time, until a start passes
#     with no failure. A module's function is in kallsyms only while it is
#     loaded (here at the same place each time: the same module, alone):
#     it is looked up with eprog loaded.
insmod /eprog.ko interval_ms=50 restart=never || mark fail setup-lookup-insmod
range=$(awk -v f={setup} '$3 == f {{ s = \"x\" $1 }} {{ a[NR] = \"x\" $1 }}
    END {{ e = \"xffffffffffffffff\"; for (i in a) if (a[i] > s && a[i] < e) e = a[i]; print s, e }}' /proc/kallsyms)
case \"$range\" in x*) ;; *) mark fail no-symbol-{setup} ;; esac
rmmod eprog || mark fail setup-lookup-rmmod
start=${{range%% *}}; end=${{range##* }}
echo 0x${{start#x}} > $fs/require-start; echo 0x${{end#x}} > $fs/require-end
echo N > $fs/task-filter
sweep setup-faults 128 65536 1 'insmod /eprog.ko interval_ms=50 restart=never'
echo Y > $fs/task-filter
echo 0 > $fs/require-start; echo 0xffffffffffffffff > $fs/require-end

# 5. Nothing leaked: kmemleak reports objects unreferenced for 5 s. Its
#    scans must work, or '0 leaks' would mean nothing.
sleep 6
echo scan > $kmemleak && echo scan > $kmemleak && mark kmemleak-scans ok
mark kmemleak $(grep -c unreferenced $kmemleak)
sed 's/^/leak report: /' $kmemleak | head -40
leftovers
reboot -f
"
    );
    let mut ramfs = Initramfs::with_init(&script);
    ramfs.file(
        "eprog.ko",
        0o644,
        &fs::read(plain.join("eprog.ko")).unwrap(),
    );
    ramfs.file(
        "misbehave.ko",
        0o644,
        &fs::read(misbehave.join("eprog.ko")).unwrap(),
    );
    let b = boot(
        "debug",
        &kdir,
        ramfs.finish(),
        "",
        Duration::from_secs(40 * 60),
    );
    // Injected failures and the allocations they fail make the kernel report
    // them with a stack dump: expected here, and nothing else is.
    b.assert_clean_but(&[INJECTED, "vmalloc error:", "page allocation failure:"]);
    assert_eq!(
        b.markers("fail"),
        Vec::<String>::new(),
        "log: {}",
        b.path.display()
    );
    assert_eq!(b.marker("cycles"), CYCLES.to_string());
    assert_eq!(b.marker("control"), "raced");
    assert_matrix(&b);
    assert_starved_forks_were_harmless(&b);

    // The init sweep ended by design, and some injected failures landed in
    // eprog's own init, which reported them.
    let init: Vec<String> = b
        .marker("init-faults")
        .split(' ')
        .map(String::from)
        .collect();
    assert_eq!(
        init[2], "yes",
        "the init sweep did not end by design: {init:?}"
    );
    let sweep = b.between("@@ case end", "@@ init-faults");
    let in_eprog_init = injections(&sweep, |trace| {
        trace.iter().any(|l| l.contains("[eprog]"))
            && trace.iter().any(|l| l.contains("Comm: insmod"))
    });
    assert!(
        in_eprog_init > 0,
        "no injected failure landed in eprog's init; log: {}",
        b.path.display()
    );
    let reported = sweep
        .iter()
        .filter(|l| {
            l.contains("eprog: loading the helper failed: ENOMEM")
                || l.contains("eprog: starting the supervisor failed: ENOMEM")
                || l.contains("eprog: starting the helper failed: ENOMEM")
        })
        .count();
    assert!(
        reported > 0,
        "eprog's init never reported an injected failure; log: {}",
        b.path.display()
    );

    // The thread met injected failures, reported them, and went on.
    let thread = b.between("@@ init-faults", "@@ thread-faults done");
    let in_thread = injections(&thread, |trace| {
        trace.iter().any(|l| l.contains("Comm: eprog_supervise"))
    });
    assert!(
        in_thread > 0,
        "no injected failure landed in the supervisor thread; log: {}",
        b.path.display()
    );
    // With whatever errno the kernel function that met the failure gives:
    // shmem, making the pipes' FIFO, says ENOSPC for a failed inode.
    assert!(
        thread
            .iter()
            .any(|l| l.contains("eprog: starting the helper failed: ")
                || l.contains("eprog: cannot build the helper's configuration: ENOMEM")),
        "the thread never reported an injected failure; log: {}",
        b.path.display()
    );

    // The start's own set-up met injected failures (in the kernel's UMD code
    // or eprog's core), the sweep ended by design, and each reported
    // failure (allocations allowed to fail quietly have fallbacks) failed
    // that start with a message; busybox's insmod then tried again, with
    // nothing left to inject, and the retry loaded. check_left and kmemleak
    // saw nothing left.
    let faults: Vec<String> = b
        .marker("setup-faults")
        .split(' ')
        .map(String::from)
        .collect();
    assert_eq!(faults[2], "yes", "the set-up sweep did not end: {faults:?}");
    let part = b.between("@@ thread-faults done", "@@ setup-faults");
    let in_setup = injections(&part, |trace| trace.iter().any(|l| l.contains(setup)));
    let failed_starts = part
        .iter()
        .filter(|l| l.contains("eprog: starting the helper failed: "))
        .count();
    assert!(
        in_setup > 0 && failed_starts == in_setup,
        "{in_setup} injected failures in {setup}, {failed_starts} failed starts; log: {}",
        b.path.display()
    );

    assert_eq!(b.marker("kmemleak-scans"), "ok", "kmemleak cannot scan");
    assert_eq!(
        b.marker("kmemleak"),
        "0",
        "kmemleak found leaks; log: {}",
        b.path.display()
    );
    assert_eq!(b.marker("left"), "0 0");
    assert_eq!(
        b.marker("shmem-before"),
        b.marker("shmem-after"),
        "Shmem leaked"
    );
    eprintln!(
        "debug kernel: {CYCLES} cycles, {} matrix cases, init sweep {init:?} ({in_eprog_init} failures in eprog's init), {in_thread} failures in the thread, {in_setup} in {setup}",
        MATRIX.len(),
    );
}

/// Counts the injected failures in `lines` whose report (up to the end of
/// its stack dump) satisfies `landed`.
fn injections(lines: &[&str], landed: impl Fn(&[&str]) -> bool) -> usize {
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(INJECTED))
        .map(|(i, _)| i)
        .collect();
    starts
        .iter()
        .filter(|&&i| {
            let end = lines[i..]
                .iter()
                .position(|l| l.contains("</TASK>"))
                .map_or(lines.len(), |n| i + n);
            landed(&lines[i..end])
        })
        .count()
}

/// Every matrix case loaded (or failed) as it must, logged its own lines
/// within its part of the log, and unloaded.
fn assert_matrix(b: &Boot) {
    for (i, case) in MATRIX.iter().enumerate() {
        let next = if i + 1 == MATRIX.len() {
            "@@ case end".to_string()
        } else {
            format!("@@ case {}", i + 1)
        };
        let part = b.between(&format!("@@ case {i}"), &next);
        let insmod = b
            .markers("case-insmod")
            .into_iter()
            .find_map(|m| m.strip_prefix(&format!("{i} ")).map(String::from))
            .unwrap_or_else(|| {
                panic!("case {i}: no case-insmod marker; log: {}", b.path.display())
            });
        assert_eq!(
            insmod == "0",
            case.loads,
            "case {i} ({}): insmod said {insmod}; log: {}",
            case.args,
            b.path.display()
        );
        for line in case.expect {
            assert!(
                part.iter().any(|l| l.contains(line)),
                "case {i} ({}): no {line:?} in its log; log: {}",
                case.args,
                b.path.display()
            );
        }
        if case.loads {
            assert!(
                b.markers("case-rmmod").contains(&format!("{i} 0")),
                "case {i} ({}): rmmod failed; log: {}",
                case.args,
                b.path.display()
            );
            assert_eq!(
                part.iter().any(|l| l.contains("eprog: helper stopped")),
                case.supervised,
                "case {i} ({}): 'helper stopped' is logged if and only if rmmod stopped \
                 supervision; log: {}",
                case.args,
                b.path.display()
            );
        }
    }
}
