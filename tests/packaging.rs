// SPDX-License-Identifier: GPL-2.0

//! eprog as its users build it: the DKMS package (`make deb`, installed
//! with apt, built and installed by dkms for a test kernel, booted), the
//! Yocto recipe's compile and install commands as `module.bbclass` runs
//! them (booted too), one version everywhere, and a kernel without what a
//! Rust module needs failing the DKMS build in one sentence.

mod common;

use common::{configure_with, llvm, run_module, setting, syncconfig, HELLO};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn version() -> String {
    fs::read_to_string(root().join("VERSION"))
        .unwrap()
        .trim()
        .to_string()
}

fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn must(cmd: &mut Command) -> String {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The kernel release of a build tree.
fn release(tree: &Path) -> String {
    fs::read_to_string(tree.join("include/config/kernel.release"))
        .unwrap()
        .trim()
        .to_string()
}

/// `make deb`, then `apt install` of the package, once per test binary.
fn installed_deb() -> &'static Path {
    static DEB: OnceLock<PathBuf> = OnceLock::new();
    DEB.get_or_init(|| {
        let made = must(
            Command::new("make")
                .arg("-C")
                .arg(root())
                .args(["-s", "deb"]),
        );
        let deb = PathBuf::from(made.trim());
        assert_eq!(
            deb.file_name().unwrap().to_str().unwrap(),
            format!("eprog-dkms_{}_all.deb", version())
        );
        must(
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "--reinstall"])
                .arg(&deb)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        );
        deb
    })
}

/// `dkms build` of the installed package for kernel `release` in `tree`.
fn dkms(action: &str, release: &str, tree: &Path, path: Option<&str>) -> Output {
    let mut cmd = Command::new("dkms");
    cmd.args([action, "-m", "eprog", "-v", &version(), "-k", release])
        .arg("--kernelsourcedir")
        .arg(tree);
    // DKMS passes CC=clang LD=ld.lld ... for a kernel built with clang:
    // the kernel's clang must be the default one, as on a distribution
    // that builds its kernel with clang. Here that is clang-<N> for the
    // kernel under test: a directory of unversioned names first in PATH.
    let path = path
        .map(String::from)
        .unwrap_or_else(|| std::env::var("PATH").unwrap());
    cmd.env("PATH", format!("{}:{path}", default_llvm().display()));
    cmd.env_remove("LLVM");
    output(&mut cmd)
}

/// A directory where `clang`, `ld.lld`, ... are the kernel's LLVM tools.
fn default_llvm() -> PathBuf {
    let suffix = llvm();
    let suffix = suffix.trim_start_matches("LLVM=").to_string();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("llvm{suffix}"));
    fs::create_dir_all(&dir).unwrap();
    if suffix != "1" {
        for tool in [
            "clang",
            "ld.lld",
            "llvm-ar",
            "llvm-nm",
            "llvm-objcopy",
            "llvm-objdump",
            "llvm-readelf",
            "llvm-strip",
        ] {
            let link = dir.join(tool);
            if !link.exists() {
                std::os::unix::fs::symlink(format!("/usr/bin/{tool}{suffix}"), &link).unwrap();
            }
        }
    }
    dir
}

/// The one `eprog: ...` error line of a failed DKMS build's make.log.
fn dkms_error(release: &str) -> Vec<String> {
    let log = format!("/var/lib/dkms/eprog/{}/build/make.log", version());
    let log = fs::read_to_string(&log).unwrap_or_else(|e| panic!("{log}: {e} ({release})"));
    log.lines()
        .filter(|l| l.contains("eprog: ") && l.contains("***"))
        .map(String::from)
        .collect()
}

/// `ko` loads in the kernel under test, its helper talks, and it unloads.
fn assert_boots(name: &str, ko: &Path) {
    let b = run_module(
        name,
        &fs::read(ko).unwrap(),
        "load interval_ms=200\nsleep 1\nunload",
        Duration::from_secs(120),
    );
    assert_eq!(b.marker("loaded"), "1", "log: {}", b.path.display());
    assert!(
        !b.kernel_lines(HELLO).is_empty(),
        "log: {}",
        b.path.display()
    );
}

/// The module DKMS installed loads and runs its helper, and says its
/// version.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn dkms_builds_and_installs_a_module_that_boots() {
    installed_deb();
    let tree = setting("EPROG_KDIR");
    let release = release(&tree);
    let src = format!("/usr/src/eprog-{}/dkms.conf", version());
    let conf = fs::read_to_string(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
    assert!(
        conf.contains(&format!("PACKAGE_VERSION=\"{}\"", version())),
        "dh_dkms did not fill in the version:\n{conf}"
    );
    let _ = dkms("remove", &release, &tree, None);
    // Where the test kernel's modules go on this machine, as on a target.
    let modules = PathBuf::from(format!("/lib/modules/{release}"));
    let made = !modules.exists();
    fs::create_dir_all(&modules).unwrap();
    for action in ["build", "install"] {
        let out = dkms(action, &release, &tree, None);
        assert!(
            out.status.success(),
            "dkms {action} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ko = PathBuf::from(format!("/lib/modules/{release}/updates/dkms/eprog.ko"));
    let modinfo = must(Command::new("modinfo").args(["-F", "version"]).arg(&ko));
    assert_eq!(modinfo.trim(), version());
    assert_boots("packaging-dkms", &ko);
    let _ = dkms("remove", &release, &tree, None);
    if made {
        let _ = fs::remove_dir_all(&modules);
    }
}

/// Each missing piece of a kernel's Rust support fails the DKMS build in
/// one sentence that names it: no `CONFIG_RUST`, headers without the built
/// `rust/` directory, another rustc than the kernel's.
#[test]
#[ignore = "needs the built kernels: run through 'make check'"]
fn dkms_fails_in_one_sentence_without_what_a_rust_module_needs() {
    installed_deb();
    let karch = setting("EPROG_KARCH");
    let karch = karch.to_str().unwrap();
    let arch = setting("EPROG_ARCH");
    let vars = [llvm(), format!("ARCH={karch}")];
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();

    // Configured trees: one without Rust, one with Rust but never built.
    let (no_rust, config) = configure_with(
        "dkms-no-rust",
        arch.to_str().unwrap(),
        &vars,
        "# CONFIG_RUST is not set\n",
    );
    assert!(!config.contains("\nCONFIG_RUST=y\n"));
    syncconfig(&no_rust, &vars);
    let (unbuilt, config) = configure_with("dkms-unbuilt", arch.to_str().unwrap(), &vars, "");
    assert!(config.contains("\nCONFIG_RUST=y\n"));
    syncconfig(&unbuilt, &vars);

    // Another rustc first in PATH, against the built tree.
    let fake = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fake-rustc");
    fs::create_dir_all(&fake).unwrap();
    let rustc = fake.join("rustc");
    fs::write(
        &rustc,
        "#!/bin/sh\necho 'rustc 1.78.0 (9b00956e5 2024-04-29)'\n",
    )
    .unwrap();
    must(Command::new("chmod").arg("755").arg(&rustc));
    let path = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap());

    let built = setting("EPROG_KDIR");
    for (tree, path, sentence) in [
        (
            no_rust.as_path(),
            None,
            "is built without CONFIG_RUST, and eprog is a Rust module",
        ),
        (
            unbuilt.as_path(),
            None,
            "has no Rust build artefacts (rust/libkernel.rmeta)",
        ),
        (
            built.as_path(),
            Some(path.as_str()),
            "but rustc here is rustc 1.78.0 (9b00956e5 2024-04-29); a Rust module must be built with the kernel's own rustc",
        ),
    ] {
        let release = "0.0.0-eprog-test";
        let out = dkms("build", release, tree, path);
        assert!(
            !out.status.success(),
            "dkms build succeeded against {}",
            tree.display()
        );
        let errors = dkms_error(release);
        assert_eq!(errors.len(), 1, "{}: {errors:?}", tree.display());
        assert!(
            errors[0].contains(sentence),
            "{}: {:?} does not say {sentence:?}",
            tree.display(),
            errors[0]
        );
    }
}

/// The Yocto recipe's compile and install, as `module.bbclass` runs them
/// (make in the source with `KERNEL_SRC`, `KDIR`, `O=` the kernel's build
/// directory, the kernel's tools, `KRUSTFLAGS`; then `modules_install` with
/// `MODLIB` and `DEPMOD=echo`), install eprog.ko where the image expects
/// it, and the module boots. The recipe's name carries VERSION.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn yocto_recipe_commands_install_a_module_that_boots() {
    let layer = root().join("packaging/yocto/meta-eprog");
    assert!(
        layer
            .join(format!("recipes-kernel/eprog/eprog_{}.bb", version()))
            .is_file(),
        "the recipe's file name does not carry VERSION"
    );
    let build = setting("EPROG_KDIR");
    let source = fs::canonicalize(build.join("source")).unwrap();
    let release = release(&build);
    // ${S}: the sources as fetched; ${D}: the install root.
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("yocto");
    let (s, d) = (work.join("git"), work.join("image"));
    let _ = fs::remove_dir_all(&work);
    must(
        Command::new("make")
            .arg("-C")
            .arg(root())
            .arg("-s")
            .arg("copy-driver")
            .arg(format!("DEST={}", s.display())),
    );
    fs::copy(root().join("Makefile"), s.join("Makefile")).unwrap();
    let suffix = llvm();
    let suffix = suffix.trim_start_matches("LLVM=");
    let tool = |name: &str| format!("{name}{}", if suffix == "1" { "" } else { suffix });
    let tools = [
        format!("CC={}", tool("clang")),
        format!("LD={}", tool("ld.lld")),
        format!("AR={}", tool("llvm-ar")),
        format!("OBJCOPY={}", tool("llvm-objcopy")),
        format!("STRIP={}", tool("llvm-strip")),
    ];
    let oemake = [
        format!("KERNEL_SRC={}", source.display()),
        format!("KDIR={}", source.display()),
        format!(
            "KRUSTFLAGS= --remap-path-prefix={}=/usr/src/debug/eprog/{}",
            s.display(),
            version()
        ),
        format!("O={}", build.display()),
    ];
    let bitbake_make = |extra: &[String]| {
        let mut cmd = Command::new("make");
        cmd.current_dir(&s)
            .arg("-j2")
            .args(&oemake)
            .args(&tools)
            .args(extra)
            .arg(format!("ARCH={}", setting("EPROG_KARCH").display()))
            .env_remove("CFLAGS")
            .env_remove("CPPFLAGS")
            .env_remove("CXXFLAGS")
            .env_remove("LDFLAGS")
            .env_remove("LLVM");
        must(&mut cmd);
    };
    // do_compile
    bitbake_make(&[
        format!("KERNEL_PATH={}", source.display()),
        format!("KERNEL_VERSION={release}"),
        "KBUILD_EXTRA_SYMBOLS=".into(),
    ]);
    // do_install
    bitbake_make(&[
        "DEPMOD=echo".into(),
        format!("MODLIB={}/lib/modules/{release}", d.display()),
        format!("INSTALL_FW_PATH={}/lib/firmware", d.display()),
        "KBUILD_EXTRA_SYMBOLS=".into(),
        "modules_install".into(),
    ]);
    let ko = d.join(format!("lib/modules/{release}/updates/eprog.ko"));
    assert!(ko.is_file(), "no {}", ko.display());
    assert_boots("packaging-yocto", &ko);
}

/// `modinfo` shows VERSION, the one version of the module, the package
/// and the recipe.
#[test]
#[ignore = "needs the built module: run through 'make check'"]
fn modinfo_shows_the_version() {
    let shown = must(
        Command::new("modinfo")
            .args(["-F", "version"])
            .arg(setting("EPROG_KO")),
    );
    assert_eq!(shown.trim(), version());
    let changelog = fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    assert!(
        changelog.contains(&format!("## {} ", version())),
        "CHANGELOG.md has no section for {}",
        version()
    );
}
