// SPDX-License-Identifier: GPL-2.0

//! The proof under a debug kernel (KASAN, lockdep, kmemleak, debug objects,
//! hung-task and soft-lockup detectors, fault injection; tests/debug.config):
//! 200 load/unload cycles, the whole misbehaving-helper matrix, and a sweep
//! of allocation failures through init, with zero splats and a clean final
//! kmemleak scan.

mod common;

use common::{boot, build_module, setting, Initramfs, MODULE_SHELL, SYSTEM};
use std::fs;
use std::time::Duration;

const CYCLES: usize = 200;

/// The misbehaving helper's modes, with module arguments and how long each
/// runs before `rmmod` (the same matrix as tests/misbehave.rs).
const MATRIX: &[(&str, &str)] = &[
    ("helper_args=mode=crash restart_limit=2", "1.5"),
    (
        "helper_args=mode=crash restart=always restart_limit=50",
        "1",
    ),
    ("helper_args=mode=exit3", "0"),
    ("helper_args=mode=flood ratelimit_burst=50", "1"),
    ("helper_args=mode=garbage", "0.3"),
    ("helper_args=mode=long-line", "1"),
    ("helper_args=mode=close-stdout", "0.3"),
    ("helper_args=mode=silent start_timeout_ms=300", "0.3"),
    ("helper_args=mode=panic restart=never", "0.3"),
    ("helper_args=mode=stderr", "0.3"),
    ("helper_args=mode=spin", "0.5"),
    ("restart=sometimes", "0"),
];

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

    let matrix: String = MATRIX
        .iter()
        .map(|(args, secs)| format!("run_case '{args}' {secs}\n"))
        .collect();
    let script = format!(
        "{SYSTEM}{MODULE_SHELL}
mount -t debugfs debugfs /sys/kernel/debug
kmemleak=/sys/kernel/debug/kmemleak
[ -w $kmemleak ] || mark fail no-kmemleak
echo clear > $kmemleak
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

# 2. The misbehaving-helper matrix.
run_case() {{
    insmod /misbehave.ko $1 2>/dev/null && {{ sleep $2; rmmod eprog || mark fail rmmod \"$1\"; }}
    check_left \"$1\"
}}
{matrix}mark matrix done

# 3. Fail slab allocations in insmod's context, from a point a little later
#    each time, until insmod gets through without any failure injected.
#    times=2: busybox's insmod tries again (init_module after finit_module),
#    and the retry must fail too, or the failure would go unnoticed.
fs=/sys/kernel/debug/failslab
[ -w $fs/times ] || {{ mark fail no-failslab; space=99999999; }}
echo N > $fs/ignore-gfp-wait; echo Y > $fs/task-filter; echo 0 > $fs/verbose
echo 100 > $fs/probability
space=${{space:-0}}; injected=0; failed=0
while [ $space -lt 4000000 ]; do
    echo 2 > $fs/times; echo $space > $fs/space
    if (echo 1 > /proc/self/make-it-fail; exec insmod /eprog.ko interval_ms=50) 2>/dev/null; then
        rmmod eprog || mark fail fault-rmmod $space
    else
        failed=$((failed + 1))
    fi
    check_left fault-$space
    [ \"$(cat $fs/times)\" = 2 ] && break
    injected=$((injected + 1))
    space=$((space + 1024))
done
echo 0 > $fs/times
mark faults $injected $failed $space

# 4. Nothing leaked: kmemleak reports objects unreferenced for 5 s.
sleep 6
echo scan > $kmemleak; echo scan > $kmemleak
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
    // Failed allocations make the kernel itself report them, with a stack
    // dump (warn_alloc): expected here, and nothing else is.
    b.assert_clean_but(&["vmalloc error:", "page allocation failure:"]);
    assert_eq!(
        b.markers("fail"),
        Vec::<String>::new(),
        "log: {}",
        b.path.display()
    );
    assert_eq!(b.marker("cycles"), CYCLES.to_string());
    assert_eq!(b.marker("matrix"), "done");
    let faults: Vec<u64> = b
        .marker("faults")
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(
        faults[0] > 0 && faults[1] > 0,
        "no allocation failure was injected into init: {faults:?}"
    );
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
        "debug kernel: {CYCLES} cycles, {} matrix cases, {} injected allocation failures ({} failed insmod)",
        MATRIX.len(),
        faults[0],
        faults[1]
    );
}
