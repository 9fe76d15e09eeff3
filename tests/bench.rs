// SPDX-License-Identifier: GPL-2.0

//! `make bench`: eprog's footprint and relay performance, measured in one
//! QEMU boot and written to `bench/results.md` and `bench/footprint.png`.
//! Figures are printed, never asserted: the goals are in the README.

mod common;

use common::{
    boot, build_module, c_helper, go_helper, run, setting, Initramfs, MODULE_SHELL, SYSTEM,
};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Lines the flooding helper writes, and the ceiling module prints.
const FLOOD_LINES: u32 = 2000;

/// Throughput rounds, alternating relay and ceiling: TCG timing is noisy,
/// so the figures are medians.
const ROUNDS: usize = 7;

struct Helper {
    name: &'static str,
    blob: PathBuf,
    ko: PathBuf,
}

/// What the guest measured for one helper.
struct Footprint {
    shmem_kib: u64,
    rss_kib: u64,
    start_ms: f64,
    stop_ms: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[test]
#[ignore = "the benchmark: run through 'make bench'"]
fn footprint_and_relay_performance() {
    let kdir = setting("EPROG_KDIR_M");
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
    let ceiling = root.join("target/modules/ceiling");
    let _ = fs::remove_dir_all(&ceiling);
    fs::create_dir_all(&ceiling).unwrap();
    for f in ["Kbuild", "eprog_ceiling.rs"] {
        fs::copy(root.join("bench").join(f), ceiling.join(f)).unwrap();
    }
    run(Command::new("make")
        .arg("-C")
        .arg(&kdir)
        .arg(format!("M={}", ceiling.display()))
        .args(["LLVM=1", "modules"]));

    let mut script = format!(
        "{SYSTEM}{MODULE_SHELL}
now() {{ echo mode=now | /misbehave; }}
ts() {{ dmesg | grep -F \"$1\" | $2 -n 1 | sed 's/^\\[ *\\([0-9.]*\\)\\].*/\\1/'; }}
# Waits until the supervisor has relayed everything and ended (restart=never);
# sleeps first, so that no process of ours competes with the relay.
wait_exit() {{ sleep 0.5; n=0; while procs | grep -q eprog_ && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done; }}
t0=$(now); t1=$(now); mark now-cost $((t1 - t0))
"
    );
    for h in helpers.iter().filter(|h| h.name != "misbehave") {
        let name = h.name;
        script.push_str(&format!(
            "dmesg -c > /dev/null; s0=$(shmem)
insmod /{name}.ko interval_ms=1000
s1=$(shmem); pid=$(procs | awk '$3 == \"eprog_user\" {{ print $1 }}')
rss=$(awk '/^VmRSS:/ {{ print $2 }}' /proc/$pid/status)
t0=$(now); rmmod eprog; t1=$(now)
mark footprint {name} $((s1 - s0)) $rss $(ts 'loading the embedded helper' head) $(ts 'From userspace:' head) $((t1 - t0))
"
        ));
    }
    script.push_str(&format!(
        "round=0
while [ $round -lt {ROUNDS} ]; do
    dmesg -c > /dev/null
    insmod /misbehave.ko 'helper_args=\"mode=burst lines={FLOOD_LINES}\"' ratelimit_burst=0 restart=never
    wait_exit
    mark relay $(dmesg | grep -c 'From userspace: flood') $(ts 'From userspace: flood' head) $(ts 'From userspace: flood' tail)
    rmmod eprog
    dmesg -c > /dev/null
    insmod /eprog_ceiling.ko
    mark ceiling $(dmesg | grep -c 'From userspace: flood') $(ts 'From userspace: flood' head) $(ts 'From userspace: flood' tail)
    rmmod eprog_ceiling
    round=$((round + 1))
done
dmesg -c > /dev/null
echo 'mode=latency lines=100' | /misbehave > /dev/kmsg
insmod /misbehave.ko 'helper_args=\"mode=latency lines=200\"' restart=never
wait_exit
dmesg | grep -E ' lat [0-9]+$' | sed 's/^/@@ lat /'
rmmod eprog
reboot -f
"
    ));
    let mut ramfs = Initramfs::with_init(&script);
    for h in &helpers {
        ramfs.file(&format!("{}.ko", h.name), 0o644, &fs::read(&h.ko).unwrap());
    }
    ramfs.file(
        "eprog_ceiling.ko",
        0o644,
        &fs::read(ceiling.join("eprog_ceiling.ko")).unwrap(),
    );
    ramfs.file(
        "misbehave",
        0o755,
        &fs::read(env!("EPROG_MISBEHAVE")).unwrap(),
    );
    // Console at warnings only: the serial port must not be the bottleneck.
    let b = boot(
        "bench",
        &kdir,
        ramfs.finish(),
        "loglevel=4 log_buf_len=8M",
        Duration::from_secs(300),
    );
    b.assert_clean();

    let now_cost: f64 = b.marker("now-cost").parse::<f64>().unwrap() / 1e6;
    let mut footprints = Vec::new();
    for line in b.markers("footprint") {
        let f: Vec<&str> = line.split(' ').collect();
        let num = |i: usize| {
            f[i].parse::<f64>()
                .unwrap_or_else(|_| panic!("bad footprint {line}"))
        };
        footprints.push((
            f[0].to_string(),
            Footprint {
                shmem_kib: num(1) as u64,
                rss_kib: num(2) as u64,
                start_ms: (num(4) - num(3)) * 1e3,
                stop_ms: (num(5) / 1e6 - now_cost).max(0.0),
            },
        ));
    }
    // Lines per second in each round; every relayed line was logged.
    let rates = |key: &str| -> Vec<f64> {
        b.markers(key)
            .iter()
            .map(|m| {
                let f: Vec<f64> = m.split(' ').map(|x| x.parse().unwrap()).collect();
                assert_eq!(f[0], f64::from(FLOOD_LINES), "{key}: lines lost");
                (f[0] - 1.0) / (f[2] - f[1])
            })
            .collect()
    };
    let (mut relay, mut ceiling) = (rates("relay"), rates("ceiling"));
    let mut ratios: Vec<f64> = relay.iter().zip(&ceiling).map(|(r, c)| r / c).collect();
    let (relay_rate, ceiling_rate, ratio) = (
        median(&mut relay),
        median(&mut ceiling),
        median(&mut ratios),
    );

    // Relay latency: the helper stamps each line with CLOCK_MONOTONIC; the
    // same lines written straight to /dev/kmsg give the clocks' offset.
    let (mut offsets, mut stamped) = (Vec::new(), Vec::new());
    for l in b.markers("lat") {
        let Some(ts) = common::timestamp(&l) else {
            continue;
        };
        let Some(ns) = l.rsplit(' ').next().and_then(|n| n.parse::<f64>().ok()) else {
            continue;
        };
        let delta = ts * 1e9 - ns;
        if l.contains("eprog: From userspace") {
            stamped.push(delta);
        } else {
            offsets.push(delta);
        }
    }
    let offset = median(&mut offsets);
    let mut latencies: Vec<f64> = stamped.iter().map(|d| (d - offset) / 1e3).collect();
    let (lat_median, lat_p99) = (median(&mut latencies), percentile(&mut latencies, 0.99));

    let mut md = String::from(
        "# eprog benchmark\n\nOne QEMU boot (x86_64, TCG, 2 vCPUs) of the test kernel; `make bench` writes this file.\n\n",
    );
    md.push_str("| helper | blob bytes | eprog.ko bytes | Shmem delta KiB | helper VmRSS KiB | resident KiB | start ms | stop ms |\n");
    md.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    let mut csv = String::from("helper,blob_bytes,ko_bytes,shmem_kib,rss_kib,start_ms,stop_ms\n");
    for (name, f) in &footprints {
        let h = helpers.iter().find(|h| h.name == name).unwrap();
        let blob = fs::metadata(&h.blob).unwrap().len();
        let ko = fs::metadata(&h.ko).unwrap().len();
        let _ = writeln!(
            md,
            "| {name} | {blob} | {ko} | {} | {} | {} | {:.1} | {:.1} |",
            f.shmem_kib,
            f.rss_kib,
            f.shmem_kib + f.rss_kib,
            f.start_ms,
            f.stop_ms
        );
        let _ = writeln!(
            csv,
            "{name},{blob},{ko},{},{},{:.2},{:.2}",
            f.shmem_kib, f.rss_kib, f.start_ms, f.stop_ms
        );
    }
    let _ = write!(
        md,
        "\nRelay throughput: {relay_rate:.0} lines/s (all {FLOOD_LINES} lines logged each round, with \
         `ratelimit_burst=0`) against printk's own {ceiling_rate:.0} lines/s from a kernel loop: **{ratio:.2}** of the \
         ceiling (medians of {ROUNDS} alternating rounds; ratios {ratios:.2?}).\n\nRelay latency, helper write to log record ({} lines): median {lat_median:.0} µs, p99 \
         {lat_p99:.0} µs.\n\n\
         - *resident* is what the helper costs while it runs: its tmpfs copy (Shmem) plus its resident set.\n\
         - *start*: kernel timestamps from the module's init to the first relayed line.\n\
         - *stop*: `rmmod` until everything is freed, timed from user space.\n\
         - Throughput and latency are the relay's, measured with the Rust runtime's helper.\n",
        latencies.len()
    );
    let _ = writeln!(
        csv,
        "#relay_lines_per_s,{relay_rate:.0}\n#printk_lines_per_s,{ceiling_rate:.0}\n#ratio,{ratio:.2}"
    );
    let _ = writeln!(
        csv,
        "#latency_median_us,{lat_median:.0}\n#latency_p99_us,{lat_p99:.0}"
    );
    let bench = root.join("bench");
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
