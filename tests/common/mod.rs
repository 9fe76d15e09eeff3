// SPDX-License-Identifier: GPL-2.0

//! The QEMU test harness: builds an initramfs, boots a test kernel, and
//! hands back the console log for assertions.
//!
//! Paths to what `tests/run check` built come from the environment:
//! `EPROG_ARCH`, `EPROG_KDIR` (the build tree of the kernel under test:
//! Debian's as shipped, or with eprog's patch and `CONFIG_EMBEDDED_PROG=m`),
//! `EPROG_KDIR_Y` (the `=y` kernel, for patched trees), `EPROG_KO` (the
//! out-of-tree module) and
//! `EPROG_BUSYBOX` (a static busybox for the guest).

#![allow(dead_code)] // Each test binary uses its own part of the harness.

use std::env;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the console must never show, whatever a test does.
pub const SPLATS: &[&str] = &[
    "WARNING:",
    "BUG:",
    "Oops",
    "Call Trace",
    // arm64's spelling.
    "Call trace:",
    "Kernel panic",
    "INFO: task",
    "soft lockup",
    "rcu_sched self-detected stall",
    "rcu: INFO:",
    "possible circular locking",
    "suspicious RCU usage",
    "suspected memory leaks",
    "printk messages dropped",
    "kmemleak: Kernel memory leak detector disabled",
    "Cannot allocate a kmemleak_object",
];

/// The line the default helper prints, as it arrives in the kernel log.
pub const HELLO: &str = "eprog: From userspace: Hello, world!";

/// `LLVM=<...>` as `tests/lib.sh` picks it for the kernel under test
/// (`LLVM=-19` for 7.3), for make command lines.
pub fn llvm() -> String {
    format!("LLVM={}", env::var("LLVM").unwrap_or_else(|_| "1".into()))
}

/// The clang that builds the kernel under test (`LLVM=-14`: `clang-14`).
pub fn clang() -> String {
    let llvm = env::var("LLVM").unwrap_or_default();
    format!(
        "clang{}",
        llvm.strip_prefix('-')
            .map_or(String::new(), |v| format!("-{v}"))
    )
}

/// The kernel generation under test (`6.12` or `7.3`, from `tests/run`).
pub fn kernel() -> String {
    env::var("EPROG_KERNEL").unwrap_or_else(|_| "6.12".into())
}

/// Whether the kernel under test has the kernel's own User Mode Driver
/// API (`CONFIG_USERMODE_DRIVER=y`, which only a select turns on, up to
/// Linux 6.16), which eprog then uses, rather than eprog's own core.
pub fn kernel_has_umd() -> bool {
    tree_has_umd(&setting("EPROG_KDIR"))
}

/// Whether the kernel built in `kdir` has the kernel's own UMD API.
pub fn tree_has_umd(kdir: &Path) -> bool {
    let config = kdir.join(".config");
    fs::read_to_string(&config)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", config.display()))
        .lines()
        .any(|l| l == "CONFIG_USERMODE_DRIVER=y")
}

/// The line eprog logs at load, naming the route it takes: the kernel's
/// UMD where the kernel has it, else eprog's own core.
pub fn route_line() -> &'static str {
    if kernel_has_umd() {
        "eprog: starting the helper with the kernel UMD (USERMODE_DRIVER)"
    } else {
        "eprog: starting the helper with eprog's own UMD core"
    }
}

/// A required setting from `tests/run`; panics with what to do if missing.
pub fn setting(name: &str) -> PathBuf {
    match env::var_os(name) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => panic!("{name} is not set: run the QEMU tests through 'make check'"),
    }
}

/// How to boot a kernel of the architecture under test: `tests/run` sets
/// these from the one architecture table in `tests/lib.sh`.
pub struct Arch {
    /// The kernel image, relative to the kernel build tree.
    pub image: String,
    /// The QEMU command and its machine options.
    pub qemu: Vec<String>,
    /// The serial console's device name.
    pub console: String,
    /// Kernel arguments every boot of this architecture needs.
    pub kargs: String,
}

pub fn arch() -> Arch {
    let var = |name: &str| {
        env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run the QEMU tests through 'make check'")
        })
    };
    Arch {
        image: var("EPROG_KIMAGE"),
        qemu: var("EPROG_QEMU")
            .split_whitespace()
            .map(String::from)
            .collect(),
        console: var("EPROG_CONSOLE"),
        kargs: env::var("EPROG_KARGS").unwrap_or_default(),
    }
}

/// An initramfs in the kernel's "newc" cpio format.
#[derive(Default)]
pub struct Initramfs {
    data: Vec<u8>,
    ino: u32,
}

impl Initramfs {
    /// A busybox-only root: `/bin/busybox` and an `/init` running `script`
    /// under busybox's shell. Nothing else: no `/dev/null`, no helper.
    pub fn with_init(script: &str) -> Self {
        let busybox = fs::read(setting("EPROG_BUSYBOX")).expect("cannot read EPROG_BUSYBOX");
        let mut ramfs = Initramfs::default();
        ramfs.dir("bin");
        ramfs.file("bin/busybox", 0o755, &busybox);
        ramfs.file(
            "init",
            0o755,
            format!("#!/bin/busybox sh\n{script}").as_bytes(),
        );
        ramfs
    }

    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.entry(name, 0o040755, &[])
    }

    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) -> &mut Self {
        self.entry(name, 0o100000 | perm, data)
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) -> &mut Self {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        self.data.extend_from_slice(b"070701");
        for f in fields {
            self.data.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.data.extend_from_slice(name.as_bytes());
        self.data.push(0);
        self.pad();
        self.data.extend_from_slice(data);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[]);
        self.data
    }
}

/// Guest shell prelude for tests that want a normal little system.
pub const SYSTEM: &str = "\
echo
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
export PATH=/bin
# Markers for the host: '@@ key value'.
mark() { echo \"@@ $*\"; }
shmem() { echo 1 > /proc/sys/vm/stat_refresh; sed -n 's/^Shmem: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo; }
procs() { ps -o pid,ppid,comm | grep -E 'eprog_(user|launch|supervise)' | grep -v grep; }
# The kernel's records whole, for Boot::kernel_lines: on the console the
# shell's output can land inside a record. Quiets the console first, so no
# record lands inside the dump; the last step before 'reboot -f'.
kernel_log() {
    dmesg -n 1; sleep 0.5
    echo '@@@ kernel log'; dmesg; echo '@@@ end of kernel log'
}
";

/// A finished boot: the whole console log.
pub struct Boot {
    /// The console log, without a `kernel_log` dump.
    pub log: String,
    /// The kernel's records as `kernel_log` dumped them, if the guest did.
    pub kernel: Option<String>,
    pub path: PathBuf,
}

/// Boots `kernel_dir`'s image with `initramfs` and extra kernel arguments;
/// the guest's init must end with `reboot -f`. The log is kept in
/// `target/qemu-logs/<kernel>-<arch>-<tree>/<name>.log` whatever happens
/// (`<tree>`: `m` or `stock`, see `tests/run`).
pub fn boot(
    name: &str,
    kernel_dir: &Path,
    initramfs: Vec<u8>,
    cmdline: &str,
    timeout: Duration,
) -> Boot {
    boot_with_dump(name, kernel_dir, initramfs, cmdline, timeout, None)
}

/// As [`boot`]; with `dump`, the guest's memory is written there (an ELF
/// core, as QEMU's `dump-guest-memory` makes it) when the guest prints a
/// line `@@@ dump`, and the guest is then sent a line `go` on its console:
/// its script waits for it with `read -r go`.
pub fn boot_with_dump(
    name: &str,
    kernel_dir: &Path,
    initramfs: Vec<u8>,
    cmdline: &str,
    timeout: Duration,
    dump: Option<&Path>,
) -> Boot {
    let arch = arch();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/qemu-logs")
        .join(format!(
            "{}-{}-{}",
            kernel(),
            setting("EPROG_ARCH").display(),
            env::var("EPROG_TREE").unwrap_or_else(|_| "m".into())
        ));
    fs::create_dir_all(&dir).unwrap();
    let initrd = dir.join(format!("{name}.cpio"));
    fs::write(&initrd, initramfs).unwrap();
    let path = dir.join(format!("{name}.log"));
    // Since 7.x the serial consoles print from a thread of their own
    // (nbcon): a burst of records fills the log buffer faster than the
    // console drains it. A buffer that holds any burst a test makes (a
    // 1 MiB line is 1.1 MB of records) keeps the console log complete.
    // The QEMU x86 fw_cfg device (a kernel without ACPI is told where it
    // is): the guest hands QEMU its VMCOREINFO there, for the dump.
    let fw_cfg = if dump.is_some() {
        "qemu_fw_cfg.ioport=0x0c@0x510:0:1:4"
    } else {
        ""
    };
    let append = format!(
        "console={} panic=-1 loglevel=7 log_buf_len=2M {} {fw_cfg} {cmdline}",
        arch.console, arch.kargs
    );

    eprintln!("[{name}] booting {} under QEMU (TCG)", kernel_dir.display());
    let qmp = dir.join(format!("{name}.qmp"));
    let _ = fs::remove_file(&qmp);
    let mut dumping = Vec::new();
    if dump.is_some() {
        // The guest kernel hands QEMU its VMCOREINFO note through fw_cfg,
        // which drgn needs to read the dump.
        dumping.push("-device".to_string());
        dumping.push("vmcoreinfo".to_string());
        dumping.push("-qmp".to_string());
        dumping.push(format!("unix:{},server=on,wait=off", qmp.display()));
    }
    let mut child = Command::new(&arch.qemu[0])
        .args(&arch.qemu[1..])
        .args(&dumping)
        .args([
            "-accel",
            &env::var("EPROG_QEMU_ACCEL").unwrap_or_else(|_| "tcg".into()),
            "-m",
            "512",
            "-smp",
            "2",
            "-nographic",
            "-no-reboot",
        ])
        .arg("-kernel")
        .arg(kernel_dir.join(&arch.image))
        .arg("-initrd")
        .arg(&initrd)
        .args(["-append", &append])
        .stdin(if dump.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start QEMU");

    // The console goes to the log file as it comes, so a long or hung boot
    // can be watched, and its log survives a killed test.
    let mut stdout = child.stdout.take().unwrap();
    let mut file = fs::File::create(&path).unwrap();
    let mut dumper = dump.map(|to| (to.to_path_buf(), qmp, child.stdin.take().unwrap()));
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            let _ = file.write_all(&buf[..n]);
            all.extend_from_slice(&buf[..n]);
            // The serial console ends its lines with CR LF.
            if dumper.is_some() && String::from_utf8_lossy(&all).contains("@@@ dump\r\n") {
                let (to, qmp, mut stdin) = dumper.take().unwrap();
                let said = format!("@@ host-dump {}\n", dump_guest_memory(&qmp, &to));
                let _ = file.write_all(said.as_bytes());
                all.extend_from_slice(said.as_bytes());
                let _ = stdin.write_all(b"go\n");
                // Kept open: the guest's console must not see an end.
                std::mem::forget(stdin);
            }
        }
        (all, file)
    });
    let start = Instant::now();
    let timed_out = loop {
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break true;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let (all, mut file) = reader.join().unwrap();
    let _ = write!(file, "{err}");
    let log = split_interleaved(&String::from_utf8_lossy(&all).replace("\r\n", "\n"));
    eprintln!(
        "[{name}] done in {:.1} s, log: {}",
        start.elapsed().as_secs_f64(),
        path.display()
    );
    assert!(
        !timed_out,
        "{name}: QEMU did not finish within {timeout:?}; log: {}",
        path.display()
    );
    // The dump, if any, leaves the console log: what a test finds there
    // is what the console showed.
    let (log, kernel) = match log
        .split_once("\n@@@ kernel log\n")
        .and_then(|(before, rest)| Some((before, rest.split_once("\n@@@ end of kernel log\n")?)))
    {
        Some((before, (records, after))) => {
            (format!("{before}\n{after}"), Some(records.to_string()))
        }
        None => (log, None),
    };
    Boot { log, kernel, path }
}

/// Writes the guest's memory to `to` through QEMU's monitor (QMP) at
/// `qmp`; returns `ok` or what went wrong.
fn dump_guest_memory(qmp: &Path, to: &Path) -> String {
    use std::io::{BufRead, BufReader};
    use std::os::unix::net::UnixStream;
    let _ = fs::remove_file(to);
    let result = (|| -> std::io::Result<String> {
        let stream = UnixStream::connect(qmp)?;
        let mut lines = BufReader::new(stream.try_clone()?).lines();
        let mut send = |command: String| -> std::io::Result<String> {
            (&stream).write_all(command.as_bytes())?;
            // Events may come first; the answer has "return" or "error".
            for line in lines.by_ref() {
                let line = line?;
                if line.contains("\"return\"") || line.contains("\"error\"") {
                    return Ok(line);
                }
            }
            Ok("QMP closed".into())
        };
        send(r#"{"execute": "qmp_capabilities"}"#.into())?;
        let answer = send(format!(
            r#"{{"execute": "dump-guest-memory", "arguments": {{"paging": false, "protocol": "file:{}"}}}}"#,
            to.display()
        ))?;
        Ok(if answer.contains("\"return\"") {
            "ok".into()
        } else {
            answer
        })
    })();
    result.unwrap_or_else(|e| format!("QMP failed: {e}"))
}

/// Boots the kernel under test with `ko` as `/eprog.ko` next to busybox and
/// `script` as init.
pub fn boot_module(name: &str, ko: &Path, script: &str, cmdline: &str, timeout: Duration) -> Boot {
    let mut ramfs = Initramfs::with_init(script);
    let ko = fs::read(ko).unwrap_or_else(|e| panic!("cannot read {}: {e}", ko.display()));
    ramfs.file("eprog.ko", 0o644, &ko);
    boot(
        name,
        &setting("EPROG_KDIR"),
        ramfs.finish(),
        cmdline,
        timeout,
    )
}

/// Boots the kernel under test with `ko` as `/eprog.ko` and runs `body`
/// after the module shell's set-up; then checks that the console is clean,
/// that nothing is left (processes, the module, Shmem), and that the
/// kernel's records were dumped for [`Boot::kernel_lines`].
pub fn run_module(name: &str, ko: &[u8], body: &str, timeout: Duration) -> Boot {
    run_module_with(name, ko, &[], body, timeout)
}

/// As [`run_module`], with more files in the initramfs: `(path, bytes)`.
pub fn run_module_with(
    name: &str,
    ko: &[u8],
    files: &[(&str, &[u8])],
    body: &str,
    timeout: Duration,
) -> Boot {
    let script = format!(
        "{SYSTEM}{MODULE_SHELL}ko=/eprog.ko\nmark shmem-before $(shmem)\n{body}\nleftovers\nkernel_log\nreboot -f\n"
    );
    let mut ramfs = Initramfs::with_init(&script);
    ramfs.file("eprog.ko", 0o644, ko);
    for (path, bytes) in files {
        ramfs.file(path, 0o644, bytes);
    }
    let b = boot(name, &setting("EPROG_KDIR"), ramfs.finish(), "", timeout);
    b.assert_clean();
    assert_nothing_left(&b);
    assert!(
        b.kernel.is_some(),
        "the guest dumped no kernel log; log: {}",
        b.path.display()
    );
    b
}

impl Boot {
    /// Values of the guest's `@@ key value` markers for `key`, in order.
    pub fn markers(&self, key: &str) -> Vec<String> {
        let prefix = format!("@@ {key} ");
        self.log
            .lines()
            .filter_map(|l| {
                l.strip_prefix(&prefix)
                    .or_else(|| (l == format!("@@ {key}")).then_some(""))
            })
            .map(|v| v.trim().to_string())
            .collect()
    }

    /// The single value of marker `key`.
    pub fn marker(&self, key: &str) -> String {
        let all = self.markers(key);
        assert_eq!(
            all.len(),
            1,
            "expected one '@@ {key}' marker, got {all:?}; log: {}",
            self.path.display()
        );
        all.into_iter().next().unwrap()
    }

    /// Kernel log lines containing `needle`, without their timestamps:
    /// from the guest's `kernel_log` dump if it made one, else from the
    /// console.
    pub fn kernel_lines(&self, needle: &str) -> Vec<&str> {
        self.kernel
            .as_deref()
            .unwrap_or(&self.log)
            .lines()
            .filter(|l| l.contains(needle))
            .map(strip_timestamp)
            .collect()
    }

    /// Lines after the first line containing `from`, up to the first line
    /// containing `to` (whole log after `from` if `to` is empty).
    pub fn between(&self, from: &str, to: &str) -> Vec<&str> {
        let mut lines = self.log.lines().skip_while(|l| !l.contains(from)).skip(1);
        let mut out = Vec::new();
        for l in &mut lines {
            if !to.is_empty() && l.contains(to) {
                break;
            }
            out.push(l);
        }
        out
    }

    /// Fails if the console shows any kernel splat, or the guest did not
    /// reach its end marker.
    pub fn assert_clean(&self) {
        self.assert_clean_but(&[]);
    }

    /// Like [`Boot::assert_clean`], but a stack dump is allowed right after
    /// a line that contains one of `expected` (the kernel's own report of a
    /// fault a test injected on purpose).
    pub fn assert_clean_but(&self, expected: &[&str]) {
        // The dump too: it holds what the console no longer showed.
        let all = format!("{}{}", self.log, self.kernel.as_deref().unwrap_or(""));
        let lines: Vec<&str> = all.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(splat) = SPLATS.iter().find(|s| line.contains(*s)) else {
                continue;
            };
            let injected = matches!(*splat, "Call Trace" | "Call trace:")
                && lines[i.saturating_sub(8)..i]
                    .iter()
                    .any(|l| expected.iter().any(|e| l.contains(e)));
            assert!(
                injected,
                "console shows '{splat}' at line {}; log: {}",
                i + 1,
                self.path.display()
            );
        }
        assert!(
            self.log.contains("reboot: Restarting system"),
            "the guest did not finish; log: {}",
            self.path.display()
        );
    }
}

/// The guest's shell and the kernel share the console, so a kernel record
/// can land in the middle of a shell line. Starts a new line at every
/// printk timestamp (`[    1.234567] `) that is not at a line start.
fn split_interleaved(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    for line in log.lines() {
        let mut rest = line;
        let mut first = true;
        while let Some(at) = rest
            .char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .find(|&i| timestamp(&rest[i..]).is_some() && rest[i..].starts_with('['))
        {
            if !first || at > 0 {
                out.push_str(&rest[..at]);
                out.push('\n');
            }
            first = false;
            rest = &rest[at..];
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

fn strip_timestamp(line: &str) -> &str {
    match line.find("] ") {
        Some(i) if line.starts_with('[') => &line[i + 2..],
        _ => line,
    }
}

/// `make -C <kdir>` as the kernel under test takes it. For Debian's own
/// kernel (`tests/debian.sh`), `kdir` is the headers tree as the host sees
/// it, and make runs in the trixie root that has them, with the root's
/// compilers and the environment apt and sudo give; the repository, where
/// modules are built, is at the same path there.
pub fn kernel_make(kdir: &Path) -> Command {
    match (
        env::var_os("EPROG_DEBIAN_WORK"),
        env::var_os("EPROG_DEBIAN_KDIR"),
    ) {
        (Some(work), Some(headers)) => {
            let mut cmd =
                Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/debian.sh"));
            cmd.arg("run").arg(work).args(["make", "-C"]).arg(headers);
            cmd
        }
        _ => {
            let mut cmd = Command::new("make");
            cmd.arg("-C").arg(kdir);
            cmd
        }
    }
}

/// Copies the driver into `target/modules/<name>` and builds it out of tree
/// against `kdir` with extra make arguments; returns the directory and
/// make's combined output, and whether it succeeded.
pub fn build_module(name: &str, kdir: &Path, extra: &[&str]) -> (PathBuf, String, bool) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/modules").join(name);
    let _ = fs::remove_dir_all(&dir);
    let copy = Command::new("make")
        .arg("-C")
        .arg(&root)
        .args(["-s", "copy-driver"])
        .arg(format!("DEST={}", dir.display()))
        .status()
        .unwrap();
    assert!(copy.success(), "make copy-driver failed");
    let out = kernel_make(kdir)
        .arg(format!("M={}", dir.display()))
        .arg(llvm())
        .arg(format!(
            "ARCH={}",
            env::var("EPROG_KARCH").unwrap_or_else(|_| "x86_64".into())
        ))
        .args(extra)
        .arg("modules")
        .output()
        .expect("cannot run make");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    fs::write(dir.join("build.log"), &text).unwrap();
    (dir, text, out.status.success())
}

/// eprog.ko built out of tree against the kernel under test with `blob` as its
/// helper (`UMH_BLOB`), in `target/modules/<name>`; its bytes.
pub fn module_with_blob(name: &str, blob: &Path) -> Vec<u8> {
    let arg = format!("UMH_BLOB={}", blob.display());
    let (dir, log, ok) = build_module(name, &setting("EPROG_KDIR"), &[&arg]);
    assert!(
        ok,
        "building eprog.ko with {} failed:\n{log}",
        blob.display()
    );
    fs::read(dir.join("eprog.ko")).unwrap()
}

/// `tests/modules/<stem>.ko`, built against the kernel under test in
/// `target/modules/<dir>`, with the symbols of the eprog.ko built in
/// `symbols` (a directory with its `Module.symvers`); its bytes. The
/// client module embeds the static C channel helper.
pub fn test_module(stem: &str, dir: &str, symbols: &Path) -> Vec<u8> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/modules").join(dir);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for entry in fs::read_dir(root.join("tests/modules")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    fs::copy(c_channel_helper(), dir.join("client_helper")).unwrap();
    run(kernel_make(&setting("EPROG_KDIR"))
        .arg(format!("M={}", dir.display()))
        .arg(format!("ARCH={}", setting("EPROG_KARCH").display()))
        .arg(format!("EPROG_DIR={}", root.display()))
        .arg(format!(
            "KBUILD_EXTRA_SYMBOLS={}",
            symbols.join("Module.symvers").display()
        ))
        .args([&llvm(), "modules"]));
    fs::read(dir.join(format!("{stem}.ko"))).unwrap()
}

/// Guest shell functions for module tests: load and time an unload, and
/// report what is left. `$ko` names the module file.
pub const MODULE_SHELL: &str = "\
uptime_s() { cut -d' ' -f1 /proc/uptime; }
load() { insmod $ko \"$@\" 2>&1 | sed 's/^/@@ insmod-said /'; mark loaded $(grep -c '^eprog ' /proc/modules); }
unload() {
    t0=$(uptime_s); rmmod eprog; rc=$?; t1=$(uptime_s)
    mark rmmod $rc; mark rmmod-seconds $(awk \"BEGIN { print $t1 - $t0 }\")
}
leftovers() { sleep 0.5; mark left $(procs | wc -l) $(grep -c '^eprog ' /proc/modules); mark shmem-after $(shmem); }
";

/// Guest shell functions: `call KEY REQUEST` makes one call through
/// `/dev/eprog` (one write, then read to end of file) and marks
/// `@@ KEY reply <reply, newlines as |>` or `@@ KEY error <strerror>`, then
/// `@@ KEY-took <seconds>`. `helper_pid` is the helper's pid.
pub const CALL_SHELL: &str = "\
call() {
    local key=$1 t0=$(uptime_s) out
    printf '%s' \"$2\" > /tmp/req-$key
    exec 3<>/dev/eprog
    if dd if=/tmp/req-$key bs=65536 count=1 status=none >&3 2>/tmp/err-$key; then
        mark $key reply \"$(cat <&3 | tr '\\n' '|')\"
    else
        mark $key error \"$(sed 's/.*: //' /tmp/err-$key)\"
    fi
    exec 3>&-
    # Files in the root count as Shmem where the root is a tmpfs.
    rm -f /tmp/req-$key /tmp/err-$key
    mark $key-took $(awk \"BEGIN { print $(uptime_s) - $t0 }\")
}
helper_pid() { procs | awk '$3 == \"eprog_user\" { print $1 }'; }
# failed ERRNO...: marks failed-ERRNO with its calls_failed/ counter.
failed() { for e in \"$@\"; do mark failed-$e $(cat /sys/class/misc/eprog/calls_failed/$e); done; }
";

/// Configures a tinyconfig tree with the QEMU fragment of architecture
/// `arch` and `extra` options in a scratch directory, with these make
/// variables (architecture, compiler); returns the tree and `.config`. It
/// is configured, not built.
pub fn configure_with(name: &str, arch: &str, vars: &[&str], extra: &str) -> (PathBuf, String) {
    let ksrc = setting("EPROG_KSRC");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let fragment = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/qemu-{arch}.config"));
    let mut config = fs::read_to_string(fragment).unwrap();
    config.push_str(extra);
    fs::write(dir.join("eprog.config"), config).unwrap();
    let make = |args: &[&str]| {
        let ok = Command::new("make")
            .arg("-C")
            .arg(&ksrc)
            .arg(format!("O={}", dir.display()))
            .arg("-s")
            .args(vars)
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "make {vars:?} {args:?} failed");
    };
    make(&["tinyconfig"]);
    let merge = Command::new(ksrc.join("scripts/kconfig/merge_config.sh"))
        .args(["-m", "-O"])
        .arg(&dir)
        .arg(dir.join(".config"))
        .arg(dir.join("eprog.config"))
        .output()
        .unwrap();
    assert!(merge.status.success());
    make(&["olddefconfig"]);
    let config = fs::read_to_string(dir.join(".config")).unwrap();
    (dir, config)
}

/// Writes a configured tree's `auto.conf`, which an out-of-tree build reads.
pub fn syncconfig(tree: &Path, vars: &[&str]) {
    let ok = Command::new("make")
        .arg("-C")
        .arg(tree)
        .arg("-s")
        .args(vars)
        .arg("syncconfig")
        .status()
        .unwrap()
        .success();
    assert!(ok, "make {vars:?} syncconfig failed");
}

/// The printk timestamp of a console line, in seconds.
pub fn timestamp(line: &str) -> Option<f64> {
    let rest = line.trim_start().strip_prefix('[')?;
    rest[..rest.find(']')?].trim().parse().ok()
}

/// This test binary's scratch directory.
pub fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// The sources of the test helpers.
pub fn helpers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers")
}

/// Runs `cmd`; panics with its stderr if it fails.
pub fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The C compiler for the architecture under test (`EPROG_CC`).
pub fn cc() -> String {
    env::var("EPROG_CC").unwrap_or_else(|_| "gcc".into())
}

/// The static C helper, built with `gcc -static`.
pub fn c_helper() -> PathBuf {
    c_program("hello")
}

/// The static C channel helper on `umh/eprog_channel.h`.
pub fn c_channel_helper() -> PathBuf {
    c_program("echo")
}

/// `tests/helpers/<name>.c`, built static for the architecture under test.
pub fn c_program(name: &str) -> PathBuf {
    let out = scratch().join(format!("{name}-c"));
    run(Command::new(cc())
        .args(["-static", "-Os", "-s", "-I"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("umh"))
        .arg("-o")
        .arg(&out)
        .arg(helpers().join(format!("{name}.c"))));
    out
}

/// The Go helper, built with Debian's Go toolchain (static without cgo).
pub fn go_helper() -> PathBuf {
    let out = scratch().join("hello-go");
    run(Command::new("go")
        .args(["build", "-ldflags=-s -w", "-o"])
        .arg(&out)
        .arg(helpers().join("hello.go"))
        .env("CGO_ENABLED", "0")
        .env(
            "GOARCH",
            env::var("EPROG_GOARCH").unwrap_or_else(|_| "amd64".into()),
        )
        .env("GOCACHE", scratch().join("go-cache"))
        .env("GO111MODULE", "off"));
    out
}

/// Guest shell functions that starve the machine of threads, so that the
/// helper's fork fails with EAGAIN: `starve N` leaves room for N more
/// threads (kernel.threads-max counts every thread, kernel ones too),
/// `unstarve` lifts it. Only shell builtins run while starved; `pause S`
/// waits S seconds without a fork.
pub const STARVE_SHELL: &str = "\
max=$(cat /proc/sys/kernel/threads-max)
mkfifo /tmp/pause
starve() { read -r l1 l2 l3 nt l5 < /proc/loadavg; echo $((${nt#*/} + $1)) > /proc/sys/kernel/threads-max; }
unstarve() { echo $max > /proc/sys/kernel/threads-max; }
pause() { read -t $1 x <> /tmp/pause; }
";

/// The two starvation cases: at the first start, init must fail with
/// EAGAIN (the thread itself still needs a slot, so try 1, 2, ... spare
/// threads; an unbound workqueue that must first make a worker waits
/// instead of failing, so each room is tried up to three times), and at a
/// restart the policy must go on once threads are back.
pub const STARVE_CASES: &str = "\
mark starve-begin
k=1; tries=0
while [ $k -le 6 ]; do
    seen=$(dmesg | grep -c 'starting the helper failed: EAGAIN')
    starve $k; insmod $ko helper_args=mode=crash start_timeout_ms=2000; rc=$?; unstarve
    [ $rc = 0 ] && rmmod eprog
    mark starve-first $k $rc
    # Done only when this insmod itself failed for the fork: a helper left
    # running after the timeout may fail its fork later, under the policy.
    [ $rc = 11 ] && [ $(dmesg | grep -c 'starting the helper failed: EAGAIN') -gt $seen ] && break
    # Loaded: the fork had room, or it waited for the workqueue to make a
    # worker (which needs a thread too); once made, the same room fails it.
    if [ $rc = 0 ] && [ $tries -lt 2 ]; then tries=$((tries + 1)); else k=$((k + 1)); tries=0; fi
done
mark starved-first-done
insmod $ko helper_args=mode=crash restart=always restart_reset_ms=0; mark starve-loaded $?
pause 0.5
# Two fewer than the threads there are: a helper and its launcher alive
# at this count would leave room for the next start once they die. The
# helper restarts every 100 ms (every run resets the row). A round whose
# restart waited for the unbound workqueue to make a worker (that needs
# a thread too) is followed by another: the worker made, the fork fails.
seen=$(dmesg | grep -c 'starting the helper failed: EAGAIN'); round=1
while :; do
    starve -2; pause 1.5; unstarve; pause 1
    [ $(dmesg | grep -c 'starting the helper failed: EAGAIN') -gt $seen ] || [ $round = 3 ] && break
    round=$((round + 1))
done
mark starve-rounds $round
pause 1
mark starve-restarts $(dmesg | grep -c 'eprog: helper eprog_user started')
rmmod eprog; mark starve-rmmod $?
";

/// What `STARVE_CASES` must show (also on the debug kernel).
pub fn assert_starved_forks_were_harmless(b: &Boot) {
    let first = b.between("@@ starve-begin", "@@ starved-first-done");
    let failed = first
        .iter()
        .filter(|l| l.contains("eprog: starting the helper failed: EAGAIN"))
        .count();
    assert!(
        failed >= 1,
        "no first start failed its fork; log: {}",
        b.path.display()
    );
    let last = b.markers("starve-first").pop().unwrap();
    assert!(
        last.ends_with(" 11"),
        "insmod did not fail with EAGAIN when the first fork failed: {last}; log: {}",
        b.path.display()
    );
    assert_eq!(b.marker("starve-loaded"), "0");
    let restart = b.between("@@ starve-loaded", "@@ starve-restarts");
    let failed_at = restart
        .iter()
        .position(|l| l.contains("eprog: starting the helper failed: EAGAIN"))
        .unwrap_or_else(|| panic!("no restart failed its fork; log: {}", b.path.display()));
    assert!(
        restart[failed_at..]
            .iter()
            .any(|l| l.contains("eprog: helper eprog_user started")),
        "the helper did not start again once threads were back; log: {}",
        b.path.display()
    );
    assert_eq!(b.marker("starve-rmmod"), "0");
}

/// Runs cargo-fuzz target `target` of `tests/fuzz` for a bounded time
/// (`EPROG_FUZZ_SECONDS`, default 60); panics if it finds a failing input.
pub fn fuzz(target: &str) {
    let seconds = env::var("EPROG_FUZZ_SECONDS").unwrap_or_else(|_| "60".into());
    let out = Command::new("cargo")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .args(["fuzz", "run", "--fuzz-dir", "tests/fuzz", target, "--"])
        .arg(format!("-max_total_time={seconds}"))
        .output()
        .expect("cannot run cargo fuzz");
    // libFuzzer reports every new input: show only the end of it.
    let err = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<_> = err.lines().rev().take(12).collect();
    for line in tail.iter().rev() {
        eprintln!("{line}");
    }
    assert!(
        out.status.success(),
        "the {target} fuzzer found a failing input (see tests/fuzz/artifacts/{target}/)"
    );
}

/// Nothing of eprog is left and Shmem is back at its baseline.
pub fn assert_nothing_left(b: &Boot) {
    assert_eq!(
        b.marker("left"),
        "0 0",
        "a process, thread or the module survived; log: {}",
        b.path.display()
    );
    assert_eq!(
        b.marker("shmem-before"),
        b.marker("shmem-after"),
        "Shmem leaked; log: {}",
        b.path.display()
    );
}
