// SPDX-License-Identifier: GPL-2.0

//! `make bench`: eprog's footprint, relay performance and channel round
//! trips (against `call_usermodehelper`), measured in one QEMU boot and
//! written to `bench/results.md` and `bench/footprint.png`.
//! Figures are printed, never compared with goals (those are in the
//! README); `make check` runs a short smoke run of the same boot that fails
//! when any figure is no longer measured.

mod common;

use common::{
    boot, build_module, c_helper, c_program, go_helper, llvm, run, setting, Boot, Initramfs,
    MODULE_SHELL, SYSTEM,
};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Lines each throughput run logs; the ceiling module prints as many.
const FLOOD_LINES: u32 = 20_000;

/// Every confinement parameter opened up (as in `tests/privilege.rs`).
const OPENED: &str = "helper_uid=0 helper_gid=0 helper_caps=0x1ffffffffff helper_root=host \
                      helper_as_mib=0 helper_nofile=1024";

/// How much one run measures.
struct Plan {
    /// The console log's name in `target/qemu-logs/<kernel>-<arch>-m/`.
    name: &'static str,
    /// Throughput rounds, alternating the writers: TCG timing is noisy, so
    /// the figures are medians.
    rounds: usize,
    /// Lines stamped by the helper and relayed, for the latency.
    latency_lines: u32,
    /// The same lines written straight to `/dev/kmsg`, for the clocks' offset.
    kmsg_lines: u32,
    /// Round trips through eprog's channel per run, and per-request
    /// programs through `call_usermodehelper`.
    channel_calls: u32,
    umh_calls: u32,
}

const FULL: Plan = Plan {
    name: "bench",
    rounds: 7,
    latency_lines: 200,
    kmsg_lines: 100,
    channel_calls: 5000,
    umh_calls: 500,
};

/// Enough to prove that every figure is still measured, in a short boot.
const SMOKE: Plan = Plan {
    name: "bench-smoke",
    rounds: 1,
    latency_lines: 20,
    // More than /dev/kmsg's default burst of 10, so its limit would show.
    kmsg_lines: 20,
    channel_calls: 40,
    umh_calls: 8,
};

struct Helper {
    name: &'static str,
    blob: PathBuf,
    ko: PathBuf,
}

/// What the guest measured for one helper.
struct Footprint {
    name: String,
    shmem_kib: u64,
    rss_kib: u64,
    start_ms: f64,
    stop_ms: f64,
}

/// Everything one boot measured.
struct Results {
    /// The guest's clock, which every time figure depends on.
    clocksource: String,
    helpers: Vec<Helper>,
    footprints: Vec<Footprint>,
    /// Lines per second in each round: the helper writing 4 KiB at a time,
    /// one line per write, and printk from a kernel loop.
    batched: Vec<f64>,
    unbuffered: Vec<f64>,
    printk: Vec<f64>,
    /// Helper write to log record, in µs.
    latencies_us: Vec<f64>,
    /// `/dev/kmsg` lines that reached the log.
    kmsg_lines: usize,
    /// Channel runs: eprog and call_usermodehelper, 1 and 4 callers.
    channel: Vec<ChannelRun>,
    /// Where one caller's round trip goes, step by step, per round (the
    /// step build's medians, in µs).
    steps: Vec<Vec<(String, f64)>>,
    /// Start of the default helper in ms per round, under the default
    /// confinement and opened up.
    start_confined: Vec<f64>,
    start_opened: Vec<f64>,
}

/// The callers of eprog's channel rows, each in every round; a program per
/// request is measured with 1 and 4.
const CALLERS: [u32; 5] = [1, 2, 4, 8, 16];

/// A round trip's steps, as `bench/eprog_call_bench.c` (mode=steps) names
/// them, and what each is.
const STEPS: [(&str, &str); 6] = [
    (
        "turn",
        "the caller takes a slot, an id and the writer's turn",
    ),
    (
        "to_helper",
        "the request is written; the helper, woken, has read it",
    ),
    ("answer", "the helper's handler answers"),
    (
        "to_reader",
        "the reply is written; the caller, woken, has read it (it reads for itself)",
    ),
    ("to_caller", "the reply is sorted and handed to its call"),
    ("return", "eprog_call() copies the reply out and returns"),
];

/// Parses `mode=steps calls=.. errors=0 turn_ns=.. to_helper_ns=.. ..`: each
/// step's median in µs, in order.
fn parse_steps(line: &str) -> Option<Vec<(String, f64)>> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "mode=steps" || fields.next()?.strip_prefix("calls=").is_none() {
        return None;
    }
    if fields.next()? != "errors=0" {
        return None;
    }
    fields
        .map(|kv| {
            let (k, v) = kv.split_once("_ns=")?;
            Some((k.to_string(), v.parse::<f64>().ok()? / 1e3))
        })
        .collect()
}

/// One run of `bench/eprog_call_bench.c`.
struct ChannelRun {
    /// `eprog` or `umh`.
    mode: String,
    callers: u32,
    calls: u32,
    errors: u32,
    calls_per_s: f64,
    median_us: f64,
    p99_us: f64,
}

impl ChannelRun {
    /// Parses `mode=eprog callers=1 calls=40 errors=0 elapsed_ns=.. median_ns=.. p99_ns=..`.
    fn parse(line: &str) -> Option<Self> {
        let field = |key: &str| -> Option<&str> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        };
        let num = |key: &str| -> Option<f64> { field(key)?.parse().ok() };
        let calls = num("calls")?;
        Some(Self {
            mode: field("mode")?.to_string(),
            callers: num("callers")? as u32,
            calls: calls as u32,
            errors: num("errors")? as u32,
            calls_per_s: calls / (num("elapsed_ns")? / 1e9),
            median_us: num("median_ns")? / 1e3,
            p99_us: num("p99_ns")? / 1e3,
        })
    }
}

fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// The module's size without debug information: the x86_64 test kernels
/// carry DWARF for drgn (tests/dump.config), which a board's build
/// usually strips.
fn ko_bytes(ko: &Path) -> u64 {
    let stripped = ko.with_extension("stripped.ko");
    let suffix = llvm();
    let suffix = suffix.trim_start_matches("LLVM=");
    let strip = format!("llvm-strip{}", if suffix == "1" { "" } else { suffix });
    run(Command::new(strip)
        .arg("--strip-debug")
        .arg("-o")
        .arg(&stripped)
        .arg(ko));
    let bytes = fs::metadata(&stripped).unwrap().len();
    let _ = fs::remove_file(&stripped);
    bytes
}

/// Under TCG an x86_64 guest's TSC runs at the host's TSC rate, but the
/// guest mostly fails to calibrate it (no HPET or ACPI PM timer in the test
/// kernel) and falls back to 4 ms jiffies, too coarse for these figures:
/// tell it the rate, measured here.
#[cfg(target_arch = "x86_64")]
fn tsc_khz() -> String {
    use std::arch::x86_64::_rdtsc;
    if setting("EPROG_ARCH").to_str() != Some("x86_64") {
        return String::new();
    }
    let start = std::time::Instant::now();
    // SAFETY: rdtsc only reads the time-stamp counter; x86_64 always has it.
    let c0 = unsafe { _rdtsc() };
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: As above.
    let c1 = unsafe { _rdtsc() };
    let khz = (c1 - c0) as f64 / start.elapsed().as_secs_f64() / 1e3;
    format!("tsc_early_khz={khz:.0} tsc=reliable")
}

#[cfg(not(target_arch = "x86_64"))]
fn tsc_khz() -> String {
    String::new()
}

/// Each `@@ key` marker's fields as numbers; a missing or garbled field
/// fails with the marker, rather than as a wrong figure later.
fn numbers(b: &Boot, key: &str, fields: usize) -> Vec<Vec<f64>> {
    b.markers(key)
        .iter()
        .map(|m| {
            m.split_whitespace()
                .map(|x| x.parse::<f64>())
                .collect::<Result<Vec<_>, _>>()
                .ok()
                .filter(|f| f.len() == fields)
                .unwrap_or_else(|| {
                    panic!(
                        "'@@ {key} {m}': expected {fields} numbers; log: {}",
                        b.path.display()
                    )
                })
        })
        .collect()
}

#[test]
#[ignore = "the benchmark: run through 'make bench'"]
fn footprint_and_relay_performance() {
    let r = measure(&FULL);
    r.assert_measured(&FULL);
    r.write(&FULL);
}

#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn bench_smoke_measures_every_figure() {
    let r = measure(&SMOKE);
    r.assert_measured(&SMOKE);
    println!("\n{}", r.markdown(&SMOKE));
}

/// Builds the modules and boots once; the guest prints `@@` markers.
fn measure(plan: &Plan) -> Results {
    let kdir = setting("EPROG_KDIR");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut helpers = vec![Helper {
        name: "tiny",
        blob: setting("EPROG_KO").with_file_name("eprog_user"),
        ko: setting("EPROG_KO"),
    }];
    for (name, blob) in [
        ("std", PathBuf::from(env!("EPROG_STD_HELPER"))),
        ("c", c_helper()),
        ("go", go_helper()),
        ("misbehave", PathBuf::from(env!("EPROG_MISBEHAVE"))),
    ] {
        let (dir, log, ok) = build_module(
            &format!("bench-{name}"),
            &kdir,
            &[&format!("UMH_BLOB={}", blob.display())],
        );
        assert!(ok, "building the {name} module failed:\n{log}");
        helpers.push(Helper {
            name,
            blob,
            ko: dir.join("eprog.ko"),
        });
    }
    // The step build: the same module and default helper, stamping where
    // each round trip's time goes (src/steps.h).
    let (steps_dir, log, ok) = build_module("bench-steps", &kdir, &["EPROG_BENCH_STEPS=1"]);
    assert!(ok, "building the step build failed:\n{log}");
    let ceiling = root.join("target/modules/ceiling");
    let _ = fs::remove_dir_all(&ceiling);
    fs::create_dir_all(&ceiling).unwrap();
    for f in ["Kbuild", "eprog_ceiling.rs", "eprog_call_bench.c"] {
        fs::copy(root.join("bench").join(f), ceiling.join(f)).unwrap();
    }
    // eprog_call comes from the out-of-tree eprog.ko.
    let symvers = setting("EPROG_KO").with_file_name("Module.symvers");
    run(Command::new("make")
        .arg("-C")
        .arg(&kdir)
        .arg(format!("M={}", ceiling.display()))
        .arg(format!("EPROG_DIR={}", root.display()))
        .arg(format!("KBUILD_EXTRA_SYMBOLS={}", symvers.display()))
        .args([&llvm(), "modules"]));

    let mut script = format!(
        "{SYSTEM}{MODULE_SHELL}
now() {{ echo mode=now | /misbehave; }}
ts() {{ dmesg | grep -F \"$1\" | $2 -n 1 | sed 's/^\\[ *\\([0-9.]*\\)\\].*/\\1/'; }}
# Waits until the helper has ended and the supervisor, having relayed
# everything, holds it (restart=never: stopped or failed); sleeps first, so
# that no process of ours competes with the relay.
held() {{ case $(cat /sys/class/misc/eprog/state) in stopped|failed) return 0;; esac; return 1; }}
wait_exit() {{ sleep 0.5; n=0; while ! held && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done; }}
t0=$(now); t1=$(now); mark now-cost $((t1 - t0))
mark clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
"
    );
    for h in helpers.iter().filter(|h| h.name != "misbehave") {
        let name = h.name;
        script.push_str(&format!(
            "dmesg -c > /dev/null; s0=$(shmem)
insmod /{name}.ko interval_ms=1000
s1=$(shmem)
rss=0; for pid in $(procs | awk '$3 == \"eprog_user\" || $3 == \"eprog_launch\" {{ print $1 }}'); do
    rss=$((rss + $(awk '/^VmRSS:/ {{ print $2 }}' /proc/$pid/status)))
done
t0=$(now); rmmod eprog; t1=$(now)
mark footprint {name} $((s1 - s0)) $rss $(ts 'loading the embedded helper' head) $(ts 'From userspace:' head) $((t1 - t0))
"
        ));
    }
    let (rounds, lat, kmsg) = (plan.rounds, plan.latency_lines, plan.kmsg_lines);
    let (channel, umh) = (plan.channel_calls, plan.umh_calls);
    // Latency lines leave the guest as '@@ lat <source> <seconds> <ns>': no
    // bracketed timestamp, which the harness would split off its marker.
    script.push_str(&format!(
        r#"# Marks '<key> <lines> <first> <last>' for one relay run of helper mode $2.
relay() {{
    dmesg -c > /dev/null
    insmod /misbehave.ko "helper_args=\"mode=$2 lines={FLOOD_LINES}\"" ratelimit_burst=0 restart=never
    wait_exit
    mark $1 $(dmesg | grep -c 'From userspace: flood') $(ts 'From userspace: flood' head) $(ts 'From userspace: flood' tail)
    rmmod eprog
}}
round=0
while [ $round -lt {rounds} ]; do
    relay batched burst
    relay unbuffered burst-unbuffered
    dmesg -c > /dev/null
    insmod /eprog_ceiling.ko
    mark printk $(dmesg | grep -c 'From userspace: flood') $(ts 'From userspace: flood' head) $(ts 'From userspace: flood' tail)
    rmmod eprog_ceiling
    round=$((round + 1))
done
dmesg -c > /dev/null
echo 'mode=latency lines={kmsg}' | /misbehave > /dev/kmsg
insmod /misbehave.ko 'helper_args="mode=latency lines={lat}"' restart=never
wait_exit
dmesg | sed -n -e 's/^\[ *\([0-9.]*\)\] eprog: From userspace: lat \([0-9]*\)$/@@ lat relay \1 \2/p' \
    -e 's/^\[ *\([0-9.]*\)\] lat \([0-9]*\)$/@@ lat kmsg \1 \2/p'
rmmod eprog
# Start latency of the default helper under the default confinement and
# with every parameter opened up, in rounds that alternate them.
round=0
while [ $round -lt {rounds} ]; do
    for way in 'defaults' 'opened {OPENED}'; do
        set -- $way
        dmesg -c > /dev/null
        shift; insmod /tiny.ko interval_ms=100000 "$@"
        n=0; while ! dmesg | grep -q 'From userspace:' && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
        mark start ${{way%% *}} $(ts 'loading the embedded helper' head) $(ts 'From userspace:' head)
        rmmod eprog
    done
    round=$((round + 1))
done
# Channel round trips: eprog's default helper, then one program per
# request, in rounds that alternate them (as the relay's); with one caller
# also the floor, a kernel thread and 'pingpong serve' over bare FIFOs.
insmod /tiny.ko interval_ms=100000
mkfifo /tmp/floor.req /tmp/floor.rep
round=0
while [ $round -lt {rounds} ]; do
    for callers in {callers}; do
        runs='eprog {channel}'
        case $callers in 1|4) runs="$runs,umh {umh}";; esac
        [ $callers != 1 ] || runs="$runs,floor {channel}"
        IFS=,; for run in $runs; do
            unset IFS; set -- $run
            dmesg -c > /dev/null
            if [ $1 = floor ]; then /pingpong serve /tmp/floor & fi
            insmod /eprog_call_bench.ko mode=$1 calls=$2 callers=$callers
            rmmod eprog_call_bench
            if [ $1 = floor ]; then wait $!; fi
            dmesg | sed -n 's/.*eprog_call_bench: \(mode=.*\)/@@ channel \1/p'
        done; unset IFS
        # A user caller's floor (two processes, a pipe pair) and a user
        # caller through /dev/eprog, with one caller, in the same rounds.
        if [ $callers = 1 ]; then
            mark channel $(/pingpong pipe {channel})
            mark channel $(/pingpong dev {channel})
            # The same helper with no timer (interval_ms=0): it waits for
            # requests in read(), not in ppoll() with a timeout.
            rmmod eprog; insmod /tiny.ko interval_ms=0
            dmesg -c > /dev/null
            insmod /eprog_call_bench.ko mode=eprog calls={channel}
            rmmod eprog_call_bench
            dmesg | sed -n 's/.*eprog_call_bench: mode=eprog \(.*\)/@@ channel mode=untimed \1/p'
            rmmod eprog; insmod /tiny.ko interval_ms=100000
        fi
    done
    round=$((round + 1))
done
rmmod eprog
# Where the time goes: the step build, one caller.
insmod /steps.ko interval_ms=100000
round=0
while [ $round -lt {rounds} ]; do
    dmesg -c > /dev/null
    insmod /eprog_call_bench.ko mode=steps calls={channel}
    rmmod eprog_call_bench
    dmesg | sed -n 's/.*eprog_call_bench: \(mode=steps.*\)/@@ steps \1/p'
    round=$((round + 1))
done
rmmod eprog
reboot -f
"#,
        callers = CALLERS.map(|c| c.to_string()).join(" ")
    ));
    let mut ramfs = Initramfs::with_init(&script);
    for h in &helpers {
        ramfs.file(&format!("{}.ko", h.name), 0o644, &fs::read(&h.ko).unwrap());
    }
    for module in ["eprog_ceiling.ko", "eprog_call_bench.ko"] {
        ramfs.file(module, 0o644, &fs::read(ceiling.join(module)).unwrap());
    }
    ramfs.file(
        "steps.ko",
        0o644,
        &fs::read(steps_dir.join("eprog.ko")).unwrap(),
    );
    ramfs.file("answer", 0o755, &fs::read(env!("EPROG_ANSWER")).unwrap());
    ramfs.file("pingpong", 0o755, &fs::read(c_program("pingpong")).unwrap());
    ramfs.file(
        "misbehave",
        0o755,
        &fs::read(env!("EPROG_MISBEHAVE")).unwrap(),
    );
    // Console at warnings only: the serial port must not be the bottleneck.
    // printk.devkmsg=on: /dev/kmsg would keep only 10 of the offset lines.
    let b = boot(
        plan.name,
        &kdir,
        ramfs.finish(),
        &format!("loglevel=4 log_buf_len=8M printk.devkmsg=on {}", tsc_khz()),
        Duration::from_secs(300),
    );
    b.assert_clean();

    let now_cost = b.marker("now-cost").parse::<f64>().expect("now-cost") / 1e6;
    let footprints = b
        .markers("footprint")
        .iter()
        .map(|line| {
            let (name, rest) = line.split_once(' ').unwrap_or((line, ""));
            let f = rest
                .split_whitespace()
                .map(|x| x.parse::<f64>())
                .collect::<Result<Vec<_>, _>>()
                .ok()
                .filter(|f| f.len() == 5)
                .unwrap_or_else(|| panic!("bad footprint '{line}'; log: {}", b.path.display()));
            Footprint {
                name: name.to_string(),
                shmem_kib: f[0] as u64,
                rss_kib: f[1] as u64,
                start_ms: (f[3] - f[2]) * 1e3,
                stop_ms: f[4] / 1e6 - now_cost,
            }
        })
        .collect();
    // Lines per second in each round; every line must have been logged.
    let rates = |key: &str| -> Vec<f64> {
        numbers(&b, key, 3)
            .iter()
            .map(|f| {
                assert_eq!(f[0], f64::from(FLOOD_LINES), "{key}: lines lost");
                (f[0] - 1.0) / (f[2] - f[1])
            })
            .collect()
    };

    // Relay latency: the helper stamps each line with CLOCK_MONOTONIC; the
    // same lines written straight to /dev/kmsg give the clocks' offset.
    let (mut offsets, mut stamped) = (Vec::new(), Vec::new());
    for l in b.markers("lat") {
        let (source, rest) = l.split_once(' ').unwrap_or((&l, ""));
        let f: Vec<f64> = rest
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        assert_eq!(f.len(), 2, "bad '@@ lat {l}'; log: {}", b.path.display());
        let delta = f[0] * 1e9 - f[1];
        match source {
            "relay" => stamped.push(delta),
            "kmsg" => offsets.push(delta),
            _ => panic!("bad '@@ lat {l}'; log: {}", b.path.display()),
        }
    }
    assert!(
        !offsets.is_empty(),
        "no /dev/kmsg line reached the log; log: {}",
        b.path.display()
    );
    let offset = median(&offsets);
    let starts = |way: &str| -> Vec<f64> {
        b.markers("start")
            .iter()
            .filter_map(|l| l.strip_prefix(way)?.strip_prefix(' '))
            .map(|l| {
                let f: Vec<f64> = l
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                assert_eq!(
                    f.len(),
                    2,
                    "bad '@@ start {way} {l}'; log: {}",
                    b.path.display()
                );
                (f[1] - f[0]) * 1e3
            })
            .collect()
    };
    Results {
        start_confined: starts("defaults"),
        start_opened: starts("opened"),
        clocksource: b.marker("clocksource"),
        helpers,
        footprints,
        batched: rates("batched"),
        unbuffered: rates("unbuffered"),
        printk: rates("printk"),
        latencies_us: stamped.iter().map(|d| (d - offset) / 1e3).collect(),
        kmsg_lines: offsets.len(),
        channel: b
            .markers("channel")
            .iter()
            .map(|l| {
                ChannelRun::parse(l)
                    .unwrap_or_else(|| panic!("bad '@@ channel {l}'; log: {}", b.path.display()))
            })
            .collect(),
        steps: b
            .markers("steps")
            .iter()
            .map(|l| {
                parse_steps(l)
                    .unwrap_or_else(|| panic!("bad '@@ steps {l}'; log: {}", b.path.display()))
            })
            .collect(),
    }
}

impl Results {
    /// Fails unless every figure was measured and is plausible.
    fn assert_measured(&self, plan: &Plan) {
        assert!(
            !self.clocksource.contains("jiffies"),
            "the guest's clock is {}: too coarse for the figures",
            self.clocksource
        );
        let names: Vec<&str> = self.footprints.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["tiny", "std", "c", "go"], "footprints measured");
        for f in &self.footprints {
            for (what, v) in [
                ("Shmem", f.shmem_kib as f64),
                ("VmRSS", f.rss_kib as f64),
                ("start", f.start_ms),
                ("stop", f.stop_ms),
            ] {
                assert!(v.is_finite() && v > 0.0, "{}: {what} is {v}", f.name);
            }
        }
        for (what, rates) in [
            ("4 KiB writes", &self.batched),
            ("one line per write", &self.unbuffered),
            ("printk", &self.printk),
        ] {
            assert_eq!(rates.len(), plan.rounds, "{what}: rounds measured");
            assert!(
                rates.iter().all(|r| r.is_finite() && *r > 0.0),
                "{what}: lines/s {rates:?}"
            );
        }
        assert_eq!(
            self.kmsg_lines, plan.kmsg_lines as usize,
            "/dev/kmsg lines in the log"
        );
        assert_eq!(
            self.latencies_us.len(),
            plan.latency_lines as usize,
            "stamped lines relayed"
        );
        assert!(
            self.latencies_us.iter().all(|l| l.is_finite()) && median(&self.latencies_us) > 0.0,
            "latencies {:?} µs",
            self.latencies_us
        );
        let runs: Vec<(&str, u32, u32)> = self
            .channel
            .iter()
            .map(|r| (r.mode.as_str(), r.callers, r.calls))
            .collect();
        let (channel, umh) = (plan.channel_calls, plan.umh_calls);
        let mut round = Vec::new();
        for callers in CALLERS {
            // Each caller makes as many calls as the others.
            round.push(("eprog", callers, channel / callers * callers));
            if callers == 1 || callers == 4 {
                round.push(("umh", callers, umh));
            }
            if callers == 1 {
                round.extend([
                    ("floor", 1, channel),
                    ("pipe", 1, channel),
                    ("dev", 1, channel),
                    ("untimed", 1, channel),
                ]);
            }
        }
        assert_eq!(runs, round.repeat(plan.rounds), "channel runs measured");
        assert_eq!(self.steps.len(), plan.rounds, "step runs measured");
        for run in &self.steps {
            let names: Vec<&str> = run.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, STEPS.map(|(n, _)| n), "steps measured");
            assert!(
                run.iter().all(|(_, us)| us.is_finite() && *us > 0.0),
                "every step takes time: {run:?}"
            );
        }
        for (what, starts) in [
            ("defaults", &self.start_confined),
            ("opened up", &self.start_opened),
        ] {
            assert_eq!(starts.len(), plan.rounds, "starts measured, {what}");
            assert!(
                starts.iter().all(|s| s.is_finite() && *s > 0.0),
                "start ms, {what}: {starts:?}"
            );
        }
        for r in &self.channel {
            assert_eq!(r.errors, 0, "{} calls failed in mode {}", r.errors, r.mode);
            for v in [r.calls_per_s, r.median_us, r.p99_us] {
                assert!(v.is_finite() && v > 0.0, "mode {}: {v}", r.mode);
            }
        }
    }

    /// The channel runs of `mode` with `callers`, one per round.
    fn channel_runs(&self, mode: &str, callers: u32) -> Vec<&ChannelRun> {
        self.channel
            .iter()
            .filter(|r| r.mode == mode && r.callers == callers)
            .collect()
    }

    /// `figure` of the runs of `mode` with `callers`: the median over the
    /// rounds.
    fn channel_median(&self, mode: &str, callers: u32, figure: fn(&ChannelRun) -> f64) -> f64 {
        let v: Vec<f64> = self
            .channel_runs(mode, callers)
            .into_iter()
            .map(figure)
            .collect();
        median(&v)
    }

    /// Per round: how much faster eprog's round trip is than a program per
    /// request (median latencies, one caller), and eprog's calls per second
    /// against theirs with one and with four callers.
    fn channel_ratios(&self) -> [Vec<f64>; 3] {
        let per_round =
            |a: Vec<&ChannelRun>, b: Vec<&ChannelRun>, f: fn(&ChannelRun, &ChannelRun) -> f64| {
                a.iter().zip(&b).map(|(x, y)| f(x, y)).collect::<Vec<f64>>()
            };
        [
            per_round(
                self.channel_runs("eprog", 1),
                self.channel_runs("umh", 1),
                |e, u| u.median_us / e.median_us,
            ),
            per_round(
                self.channel_runs("eprog", 1),
                self.channel_runs("umh", 1),
                |e, u| e.calls_per_s / u.calls_per_s,
            ),
            per_round(
                self.channel_runs("eprog", 4),
                self.channel_runs("umh", 4),
                |e, u| e.calls_per_s / u.calls_per_s,
            ),
        ]
    }

    /// Per round, one caller, against its floor: eprog_call()'s median
    /// round trip and its p99 against a kernel thread's over bare pipes,
    /// and /dev/eprog's median against two processes' over a pipe pair.
    fn floor_ratios(&self) -> [Vec<f64>; 4] {
        let per_round = |mode: &str, floor: &str, f: fn(&ChannelRun) -> f64| -> Vec<f64> {
            self.channel_runs(mode, 1)
                .iter()
                .zip(self.channel_runs(floor, 1))
                .map(|(r, floor)| f(r) / f(floor))
                .collect()
        };
        [
            per_round("eprog", "floor", |r| r.median_us),
            per_round("eprog", "floor", |r| r.p99_us),
            per_round("dev", "pipe", |r| r.median_us),
            per_round("untimed", "floor", |r| r.median_us),
        ]
    }

    /// Median lines/s and median ratio to printk's, per round.
    fn rate(&self, rates: &[f64]) -> (f64, f64, Vec<f64>) {
        let ratios: Vec<f64> = rates.iter().zip(&self.printk).map(|(r, c)| r / c).collect();
        (median(rates), median(&ratios), ratios)
    }

    fn markdown(&self, plan: &Plan) -> String {
        let mut md = String::from(
            "# eprog benchmark\n\n`make bench` writes this file from one QEMU boot of the test \
             kernel: x86_64 under TCG (no KVM), 2 vCPUs, 512 MiB, console at warnings only, \
             clock source ",
        );
        let _ = write!(md, "`{}`.\n\n", self.clocksource);
        md.push_str("| helper | blob bytes | eprog.ko bytes (no debug info) | Shmem delta KiB | helper + launcher VmRSS KiB | resident KiB | start ms | stop ms |\n");
        md.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for f in &self.footprints {
            let h = self.helpers.iter().find(|h| h.name == f.name).unwrap();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} |",
                f.name,
                fs::metadata(&h.blob).unwrap().len(),
                ko_bytes(&h.ko),
                f.shmem_kib,
                f.rss_kib,
                f.shmem_kib + f.rss_kib,
                f.start_ms,
                f.stop_ms
            );
        }
        let (batched, batched_ratio, batched_ratios) = self.rate(&self.batched);
        let (unbuffered, unbuffered_ratio, unbuffered_ratios) = self.rate(&self.unbuffered);
        let printk = median(&self.printk);
        let _ = write!(
            md,
            "\n## Relay throughput\n\n\
             Each run logs {FLOOD_LINES} numbered lines, all of them (the relay's rate limit is off, \
             `ratelimit_burst=0`), timed by the log's timestamps from the first line to the last. \
             Medians of {} rounds that alternate the three writers.\n\n\
             | writer | lines/s | of printk | per round |\n| --- | ---: | ---: | --- |\n\
             | helper, 4 KiB per write (a buffered writer) | {batched:.0} | **{batched_ratio:.2}** | {batched_ratios:.2?} |\n\
             | helper, one line per write (unbuffered) | {unbuffered:.0} | **{unbuffered_ratio:.2}** | {unbuffered_ratios:.2?} |\n\
             | printk from a kernel loop (the ceiling) | {printk:.0} | 1.00 | |\n\n\
             ## Relay latency\n\n\
             Helper write to log record ({} lines, 5 ms apart): median {:.0} µs, p99 {:.0} µs. \
             The helper stamps each line with CLOCK_MONOTONIC; {} lines it writes straight to \
             `/dev/kmsg` give that clock's offset from the log's (`printk.devkmsg=on`: \
             /dev/kmsg's own rate limit is off).\n\n\
             - *resident* is what the helper costs while it runs: its tmpfs copy and the launcher's (Shmem) plus the resident sets of the helper and the launcher.\n\
             - *start*: kernel timestamps from the module's init to the first relayed line.\n\
             - *stop*: `rmmod` until everything is freed, timed from user space.\n\
             - Throughput and latency are the relay's, measured with the test helper \
             (`tests/helpers`, modes `burst`, `burst-unbuffered` and `latency`).\n\n\
             ## Channel round trips\n\n\
             Kernel threads (`bench/eprog_call_bench.c`) ask `echo bench` and check the answer, \
             in two ways in the same boot: through eprog's channel (`eprog_call()`, the default \
             helper), and the kernel's way without eprog, one `call_usermodehelper(UMH_WAIT_PROC)` \
             per request of a static program that answers with its exit status \
             (`tests/helpers/src/answer.rs`, {} bytes, on the same runtime as eprog's helper: the \
             per-request way at its best). In the same rounds, with one caller: the floor of a \
             kernel caller, the same kind of kernel thread ping-ponging the same frames (a 12-byte \
             header and the payload) with a user process over a bare pipe each way \
             (`kernel_write()`/`kernel_read()` on two FIFOs, no eprog: `mode=floor`, and \
             `pingpong serve` in `tests/helpers/pingpong.c`), the least any design with a resident \
             helper behind pipes can take; a user process calling the helper through `/dev/eprog` \
             (one write, one read); and its floor, two user processes ping-ponging the same \
             frames over a pair of pipes.\n\n\
             | way | callers | calls | calls/s | median µs | p99 µs |\n\
             | --- | ---: | ---: | ---: | ---: | ---: |\n",
            plan.rounds,
            self.latencies_us.len(),
            median(&self.latencies_us),
            percentile(&self.latencies_us, 0.99),
            self.kmsg_lines,
            fs::metadata(env!("EPROG_ANSWER")).unwrap().len(),
        );
        let mut rows = vec![
            ("floor", 1, plan.channel_calls),
            ("eprog", 1, plan.channel_calls),
            ("untimed", 1, plan.channel_calls),
            ("pipe", 1, plan.channel_calls),
            ("dev", 1, plan.channel_calls),
            ("umh", 1, plan.umh_calls),
            ("umh", 4, plan.umh_calls),
        ];
        rows.extend(
            CALLERS[1..]
                .iter()
                .map(|&c| ("eprog", c, plan.channel_calls / c * c)),
        );
        for (mode, callers, calls) in rows {
            let way = match mode {
                "floor" => "the floor: a kernel thread and a process, bare pipes",
                "pipe" => "a user caller's floor: two processes, a pipe pair",
                "eprog" => "eprog_call(), the channel",
                "untimed" => "eprog_call(), the helper with no timer (interval_ms=0)",
                "dev" => "a process through /dev/eprog",
                _ => "call_usermodehelper per request",
            };
            let _ = writeln!(
                md,
                "| {way} | {callers} | {calls} | {:.0} | {:.0} | {:.0} |",
                self.channel_median(mode, callers, |r| r.calls_per_s),
                self.channel_median(mode, callers, |r| r.median_us),
                self.channel_median(mode, callers, |r| r.p99_us),
            );
        }
        let [latency, one, four] = self.channel_ratios();
        let [to_floor, p99_to_floor, dev_to_floor, untimed_to_floor] = self.floor_ratios();
        let _ = writeln!(
            md,
            "\nMedians over {} rounds that alternate the ways. eprog's round trip is \
             **{:.0}x** faster than a program per request (median latencies, one caller; per \
             round {latency:.1?}); it makes **{:.0}x** the calls per second with one caller \
             ({one:.1?}) and **{:.0}x** with four ({four:.1?}). Against the floor, a kernel \
             thread and a user process over bare pipes, eprog's median round trip is \
             **{:.2}x** it (per round {to_floor:.2?}; the goal is at most 1.2x), its p99 \
             **{:.2}x** ({p99_to_floor:.2?}). The default helper waits for requests in \
             `ppoll()` with its timer's timeout; the same helper with no timer \
             (`interval_ms=0`) waits in `read()`, as the floor's process does, and eprog's \
             median is then {:.2}x the floor ({untimed_to_floor:.2?}). A user process calling \
             through `/dev/eprog` takes {:.2}x its own floor, two processes over a pipe pair \
             ({dev_to_floor:.2?}).",
            plan.rounds,
            median(&latency),
            median(&one),
            median(&four),
            median(&to_floor),
            median(&p99_to_floor),
            median(&untimed_to_floor),
            median(&dev_to_floor),
        );
        let scaling: Vec<String> = CALLERS
            .iter()
            .map(|&c| {
                format!(
                    "{c}: {:.0}",
                    self.channel_median("eprog", c, |r| r.calls_per_s)
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "\neprog's calls per second by callers: {}.",
            scaling.join(", ")
        );
        let _ = write!(
            md,
            "\n## Where the time goes\n\n\
             One caller's round trip, step by step, in the step build of the same module and \
             default helper (`EPROG_BENCH_STEPS=1`, `src/steps.h`; the product stamps nothing): \
             the module stamps the caller's turn to write, the reply's read (by the caller \
             itself) and the reply handed to its call with `ktime_get_ns()`, the helper puts its own two stamps \
             (CLOCK_MONOTONIC, the same clock) after each reply's bytes. Medians of each step \
             over {} calls, then over {} rounds; the steps' medians need not add up to the \
             round trip's.\n\n\
             | step | what happens | median µs | per round |\n| --- | --- | ---: | --- |\n",
            plan.channel_calls, plan.rounds,
        );
        let mut sum = 0.0;
        for (i, (name, what)) in STEPS.iter().enumerate() {
            let per_round: Vec<f64> = self.steps.iter().map(|run| run[i].1).collect();
            sum += median(&per_round);
            let _ = writeln!(
                md,
                "| {name} | {what} | {:.1} | {per_round:.1?} |",
                median(&per_round)
            );
        }
        let eprog = self.channel_median("eprog", 1, |r| r.median_us);
        let floor = self.channel_median("floor", 1, |r| r.median_us);
        let _ = writeln!(
            md,
            "| all | the steps' medians added up (eprog_call()'s own median: {eprog:.1}) | {sum:.1} | |\n\
             | floor | the same round trip with no eprog: a kernel thread and a process, bare pipes | {floor:.1} | |\n\
             | eprog's own | eprog_call()'s median less the floor's: what the channel adds | {:.1} | |",
            eprog - floor
        );
        let launcher = self.helpers[0].blob.with_file_name("eprog_launch");
        let per_round: Vec<f64> = self
            .start_confined
            .iter()
            .zip(&self.start_opened)
            .map(|(c, o)| c - o)
            .collect();
        let _ = writeln!(
            md,
            "\n## Confinement\n\n\
             Its bytes: the launcher that confines every helper (`umh/src/launch.rs`, in \
             eprog.ko), {} bytes; the lock-down in each `umh` helper is part of the tiny \
             helper's size above. Its time: the default helper's start (module init to its \
             first line), medians of {} rounds that alternate the default confinement and every \
             parameter opened up (`{OPENED}`): **{:.1} ms** and **{:.1} ms**; the \
             difference, defaults minus opened up, has a median of {:.1} ms (per round \
             {per_round:.1?}).",
            fs::metadata(&launcher).unwrap().len(),
            plan.rounds,
            median(&self.start_confined),
            median(&self.start_opened),
            median(&per_round),
        );
        md
    }

    /// Writes `bench/results.md`, `results.csv` and the chart.
    fn write(&self, plan: &Plan) {
        let md = self.markdown(plan);
        let mut csv =
            String::from("helper,blob_bytes,ko_bytes,shmem_kib,rss_kib,start_ms,stop_ms\n");
        for f in &self.footprints {
            let h = self.helpers.iter().find(|h| h.name == f.name).unwrap();
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{:.2},{:.2}",
                f.name,
                fs::metadata(&h.blob).unwrap().len(),
                ko_bytes(&h.ko),
                f.shmem_kib,
                f.rss_kib,
                f.start_ms,
                f.stop_ms
            );
        }
        let (batched, ratio, _) = self.rate(&self.batched);
        let (unbuffered, unbuffered_ratio, _) = self.rate(&self.unbuffered);
        let _ = writeln!(
            csv,
            "#relay_lines_per_s,{batched:.0}\n#relay_unbuffered_lines_per_s,{unbuffered:.0}\n\
             #printk_lines_per_s,{:.0}\n#ratio,{ratio:.2}\n#unbuffered_ratio,{unbuffered_ratio:.2}",
            median(&self.printk)
        );
        let _ = writeln!(
            csv,
            "#latency_median_us,{:.0}\n#latency_p99_us,{:.0}",
            median(&self.latencies_us),
            percentile(&self.latencies_us, 0.99)
        );
        for (mode, callers) in [
            ("eprog", 1),
            ("floor", 1),
            ("umh", 1),
            ("eprog", 4),
            ("umh", 4),
        ] {
            let _ = writeln!(
                csv,
                "#{mode}_{callers}_median_us,{:.1}\n#{mode}_{callers}_calls_per_s,{:.0}",
                self.channel_median(mode, callers, |r| r.median_us),
                self.channel_median(mode, callers, |r| r.calls_per_s),
            );
        }
        let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench");
        fs::write(bench.join("results.md"), &md).unwrap();
        fs::write(bench.join("results.csv"), &csv).unwrap();
        println!("\n{md}");
        let chart = Command::new("python3")
            .arg(bench.join("chart.py"))
            .arg(bench.join("results.csv"))
            .arg(bench.join("footprint.png"))
            .status();
        match chart {
            Ok(s) if s.success() => println!("chart: {}", bench.join("footprint.png").display()),
            _ => println!("chart: not drawn (python3 with matplotlib is needed)"),
        }
    }
}
