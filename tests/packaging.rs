// SPDX-License-Identifier: GPL-2.0

//! eprog as its users build it: the Yocto recipe's compile and install
//! commands as `module.bbclass` runs them (booted), and one version
//! everywhere. The DKMS package is tested as a Debian user has it, on
//! Debian's own kernel (`tests/debian.rs`).

mod common;

use common::{llvm, run_module, setting, HELLO};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
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
    let llvm = llvm();
    let suffix = llvm.trim_start_matches("LLVM=");
    let tool = |name: &str| format!("{name}{}", if suffix == "1" { "" } else { suffix });
    // The kernel's own tools: GNU ones for a GCC-built kernel (as
    // linux-yocto is), else its LLVM.
    let tools = if suffix.is_empty() {
        ["CC=gcc", "LD=ld", "AR=ar", "OBJCOPY=objcopy", "STRIP=strip"].map(String::from)
    } else {
        [
            format!("CC={}", tool("clang")),
            format!("LD={}", tool("ld.lld")),
            format!("AR={}", tool("llvm-ar")),
            format!("OBJCOPY={}", tool("llvm-objcopy")),
            format!("STRIP={}", tool("llvm-strip")),
        ]
    };
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
