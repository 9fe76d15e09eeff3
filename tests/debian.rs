// SPDX-License-Identifier: GPL-2.0

//! eprog on Debian's own 7.3 kernel, as a trixie user gets it: the DKMS
//! package installed with apt in a trixie root whose only kernel headers
//! are trixie's own 6.12 (no Rust), then the 7.3 headers installed, whose
//! hook runs dkms's autoinstall (`tests/run`, `prepare_debian`, keeps each
//! step's output and exit code); the headers completed with the kernel's
//! Rust build, and refused, in one sentence and leaving nothing, where the
//! source, the compiler or the kernel is not the right one; and the module
//! dkms built loading on Debian's vmlinuz with no more taint than an
//! unsigned out-of-tree module gives. The other suites (`qemu`, `channel`,
//! `privilege`, `operate`, `misbehave`) run on the same kernel and module.

mod common;

use common::{run_module_with, setting, CALL_SHELL, HELLO};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

/// trixie's own kernel, built without Rust, whose headers the root has.
const NO_RUST: &str = "6.12.117+deb13-amd64";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The release of Debian's kernel under test (`7.3.4+deb13-amd64`).
fn release() -> String {
    debian_release(&setting("EPROG_GOARCH").to_string_lossy())
}

fn debian_release(deb_arch: &str) -> String {
    let out = Command::new(root().join("tests/debian.sh"))
        .args(["release", deb_arch])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The overlay `tests/run` installed everything in.
fn work() -> PathBuf {
    setting("EPROG_DEBIAN_WORK")
}

/// A step of `prepare_debian`: its exit code and output.
fn step(name: &str) -> (String, String) {
    let read = |ext: &str| {
        let path = work().join("steps").join(format!("{name}.{ext}"));
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    };
    (read("rc").trim().to_string(), read("log"))
}

/// Runs `args` in the trixie root, in the overlay `work`.
fn in_root(work: &Path, args: &[&str]) -> Output {
    Command::new(root().join("tests/debian.sh"))
        .arg("run")
        .arg(work)
        .args(args)
        .output()
        .expect("cannot run tests/debian.sh")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn version() -> String {
    fs::read_to_string(root().join("VERSION"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
#[ignore = "needs Debian's kernel and the trixie root: run through 'make check'"]
fn apt_install_succeeds_where_no_kernel_has_rust_and_dkms_skips_it() {
    let (rc, log) = step("apt-install");
    assert_eq!(rc, "0", "apt install of the package failed:\n{log}");
    assert!(
        log.contains(&format!("Setting up eprog-dkms ({})", version())),
        "the package was not set up:\n{log}"
    );
    // dkms tried the one kernel with headers, and skipped it for its config.
    assert!(
        log.contains(NO_RUST) && log.contains("BUILD_EXCLUSIVE"),
        "dkms did not skip {NO_RUST} for BUILD_EXCLUSIVE_CONFIG:\n{log}"
    );
    let skipped = work().join(format!("upper/usr/lib/modules/{NO_RUST}/updates/dkms"));
    assert!(
        !skipped.exists(),
        "something was installed for {NO_RUST}: {}",
        skipped.display()
    );
}

#[test]
#[ignore = "needs Debian's kernel and the trixie root: run through 'make check'"]
fn installing_the_rust_kernels_headers_builds_eprog_through_dkms_autoinstall() {
    let (rc, log) = step("headers-install");
    assert_eq!(rc, "0", "apt install of the 7.3 headers failed:\n{log}");
    let (_, status) = step("dkms-status");
    let release = release();
    let built = format!("eprog/{}, {release}, ", version());
    assert!(
        status
            .lines()
            .any(|l| l.starts_with(&built) && l.ends_with(": installed")),
        "dkms status lacks '{built}…: installed':\n{status}"
    );
    assert!(
        !status.contains(NO_RUST),
        "dkms built something for {NO_RUST}:\n{status}"
    );
    // The headers were completed by the build dkms ran, from the kernel's
    // source, with trixie's own rustc (no rustup in that root, no PATH set
    // but the one sudo gives).
    let builds = work().join(format!("upper/var/lib/dkms/eprog/{}/{release}", version()));
    let make_log = fs::read_dir(&builds)
        .unwrap_or_else(|e| panic!("{}: {e}", builds.display()))
        .filter_map(|e| fs::read_to_string(e.ok()?.path().join("log/make.log")).ok())
        .next()
        .unwrap_or_else(|| panic!("no make.log of the dkms build in {}", builds.display()));
    let completed = format!(
        "eprog: completed /usr/src/linux-headers-{release}/rust from /usr/src/linux-source-7.3.tar.xz (Linux {release}, rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball))"
    );
    assert!(
        make_log.contains(&completed),
        "the dkms build did not complete the headers' rust/:\n{make_log}"
    );
    let headers = work().join(format!("upper/usr/src/linux-headers-{release}"));
    for artefact in ["rust/libkernel.rmeta", "rust/libmacros.so", "rust/Makefile"] {
        assert!(
            headers.join(artefact).is_file(),
            "the headers lack {artefact}"
        );
    }
    // A later autoinstall for the kernel without Rust changes nothing and
    // fails nothing (the hook a kernel install runs).
    let later = in_root(&work(), &["dkms", "autoinstall", "-k", NO_RUST]);
    assert!(
        later.status.success(),
        "dkms autoinstall for {NO_RUST} failed:\n{}",
        text(&later)
    );
}

/// The amd64 kernel's release: the refusals run on amd64's headers.
fn amd64() -> String {
    debian_release("amd64")
}

/// A fresh overlay with the 7.3 headers installed (and nothing of eprog):
/// each refusal runs against headers without rust/.
fn fresh_headers() -> &'static Path {
    static WORK: OnceLock<PathBuf> = OnceLock::new();
    WORK.get_or_init(|| {
        let work = root().join("target/debian-refusals");
        let _ = fs::remove_dir_all(&work);
        let out = in_root(
            &work,
            &[
                "apt-get",
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                &format!("linux-headers-{}/trixie-backports", amd64()),
            ],
        );
        assert!(
            out.status.success(),
            "installing the headers failed:\n{}",
            text(&out)
        );
        work
    })
}

/// `make rust-headers` in the root with these arguments: refused, with
/// `sentence`, and nothing written or left.
fn assert_refused(args: &[&str], sentence: &str) {
    let work = fresh_headers();
    let mut cmd = vec!["make", "-s", "-C"];
    let repo = root();
    cmd.push(repo.to_str().unwrap());
    cmd.push("rust-headers");
    cmd.extend_from_slice(args);
    let out = in_root(work, &cmd);
    let said = text(&out);
    assert!(!out.status.success(), "{args:?} was not refused:\n{said}");
    let lines: Vec<&str> = said.lines().filter(|l| l.starts_with("eprog: ")).collect();
    assert!(
        lines.iter().any(|l| l.contains(sentence)),
        "{args:?}: expected a sentence with {sentence:?}, got:\n{said}"
    );
    let headers = work.join(format!("upper/usr/src/linux-headers-{}", amd64()));
    assert!(
        !headers.join("rust").exists() && !headers.join("rust.tmp").exists(),
        "{args:?} left a rust/ in the headers"
    );
    let scratch = fs::read_dir(work.join("upper/var/tmp"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with("eprog-rust-headers")
                })
                .count()
        })
        .unwrap_or(0);
    assert_eq!(scratch, 0, "{args:?} left its scratch directory");
}

#[test]
#[ignore = "needs Debian's kernel and the trixie root: run through 'make check'"]
fn rust_headers_refuses_the_source_of_another_release() {
    let other = setting("EPROG_KSRC_PRISTINE");
    let other = other
        .parent()
        .unwrap()
        .read_dir()
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().contains("linux-6.12") && p.is_dir())
        .expect("no cached 6.12 source");
    assert_refused(
        &[
            &format!("KDIR=/usr/src/linux-headers-{}", amd64()),
            &format!("KSRC={}", other.display()),
        ],
        &format!("the source in {} is Linux 6.12.", other.display()),
    );
}

#[test]
#[ignore = "needs Debian's kernel and the trixie root: run through 'make check'"]
fn rust_headers_refuses_a_compiler_whose_version_text_differs() {
    // gcc is gcc-14 too, but it names itself otherwise: the kernel's
    // .config would differ, so it is not the kernel's compiler.
    assert_refused(
        &[&format!("KDIR=/usr/src/linux-headers-{}", amd64()), "CC=gcc"],
        "was built with cc 'x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0', but cc here is 'gcc (Debian 14.2.0-19) 14.2.0'",
    );
}

#[test]
#[ignore = "needs Debian's kernel and the trixie root: run through 'make check'"]
fn rust_headers_refuses_a_kernel_without_rust() {
    assert_refused(
        &[&format!("KDIR=/usr/src/linux-headers-{NO_RUST}")],
        "is built without CONFIG_RUST",
    );
}

/// Debian's kernel loads the module dkms built, taints itself only as an
/// unsigned (E) out-of-tree (O) module does, and the helper talks and
/// answers; rmmod leaves nothing.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn debians_kernel_runs_the_dkms_module_with_only_the_unsigned_out_of_tree_taint() {
    let ko = fs::read(setting("EPROG_KO")).unwrap();
    let b = run_module_with(
        "debian-taint",
        &ko,
        &[],
        &format!(
            "{CALL_SHELL}mark taint-before $(cat /proc/sys/kernel/tainted)
insmod $ko interval_ms=200; mark insmod $?
mark taint-loaded $(cat /proc/sys/kernel/tainted)
sleep 1
call echo 'echo from Debian'
mark state $(cat /sys/class/misc/eprog/state)
rmmod eprog; mark rmmod $?"
        ),
        Duration::from_secs(180),
    );
    // Debian's kernel itself boots untainted here.
    assert_eq!(b.marker("taint-before"), "0", "tainted before insmod");
    assert_eq!(b.marker("insmod"), "0");
    // TAINT_OOT_MODULE (12) and TAINT_UNSIGNED_MODULE (13), nothing else.
    assert_eq!(
        b.marker("taint-loaded"),
        ((1 << 12) | (1 << 13)).to_string(),
        "taint other than O and E"
    );
    assert_eq!(b.marker("echo"), "reply from Debian");
    assert_eq!(b.marker("state"), "running");
    assert_eq!(b.marker("rmmod"), "0");
    assert!(
        b.kernel_lines(HELLO).len() >= 2,
        "fewer than two relayed lines"
    );
}
