// SPDX-License-Identifier: GPL-2.0

//! eprog as its users build it: the Yocto recipe's compile and install
//! commands as `module.bbclass` runs them (booted), and one version
//! everywhere. The DKMS package is tested as a Debian user has it, on
//! Debian's own kernel (`tests/debian.rs`).

mod common;

use common::{llvm, run_module, run_module_with, setting, HELLO};
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

/// The driver's files and its Makefile in `dest`, as a user's checkout.
fn copy_driver(dest: &Path) {
    must(
        Command::new("make")
            .arg("-C")
            .arg(root())
            .arg("-s")
            .arg("copy-driver")
            .arg(format!("DEST={}", dest.display())),
    );
    fs::copy(root().join("Makefile"), dest.join("Makefile")).unwrap();
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
    let recipe = layer.join(format!("recipes-kernel/eprog/eprog_{}.bb", version()));
    assert!(
        recipe.is_file(),
        "the recipe's file name does not carry VERSION"
    );
    let recipe = Recipe::read(&recipe);
    // module-rust brings module.bbclass's compile and install, rust-native
    // and KRUSTFLAGS; the rest of what eprog's build runs, the recipe asks
    // for itself.
    assert!(
        recipe.inherits("module-rust"),
        "the recipe does not inherit module-rust"
    );
    for tool in ["bindgen-cli-native", "clang-native", "cargo-native"] {
        assert!(
            recipe.values("DEPENDS").iter().any(|d| d == tool),
            "the recipe's DEPENDS lacks {tool}"
        );
    }
    let build = setting("EPROG_KDIR");
    let source = fs::canonicalize(build.join("source")).unwrap();
    let release = release(&build);
    // ${S}: the sources as fetched; ${D}: the install root.
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("yocto");
    let (s, d) = (work.join("git"), work.join("image"));
    let _ = fs::remove_dir_all(&work);
    copy_driver(&s);
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
    // module.bbclass's own, then the recipe's EXTRA_OEMAKE, with the
    // kernel's directories for STAGING_KERNEL_DIR and _BUILDDIR.
    let mut oemake = vec![
        format!("KERNEL_SRC={}", source.display()),
        format!("O={}", build.display()),
    ];
    // (Inline Python: conditions on variables the test leaves unset.)
    let extra = recipe.raw("EXTRA_OEMAKE");
    let extra = extra.iter().filter(|v| !v.starts_with("${@"));
    oemake.extend(extra.flat_map(|v| v.split_whitespace()).map(|v| {
        v.replace("${STAGING_KERNEL_DIR}", &source.display().to_string())
            .replace("${STAGING_KERNEL_BUILDDIR}", &build.display().to_string())
    }));
    oemake.push(format!(
        "KRUSTFLAGS= --remap-path-prefix={}=/usr/src/debug/eprog/{}",
        s.display(),
        version()
    ));
    assert!(
        oemake.iter().all(|v| !v.contains("${")),
        "a variable the test cannot stand in for: {oemake:?}"
    );
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

/// The layer as oe-core of the release it is for parses it: a recipe that
/// needs the user's repository and commit says so (no placeholder, no
/// AUTOREV, no `S` in WORKDIR, which `do_qa_unpack` refuses), and adding
/// the layer changes no kernel recipe unless `EPROG_IN_TREE` asks for it,
/// with the fragment for each of its values in the layer.
#[test]
fn yocto_layer_asks_for_what_it_needs_and_changes_nothing_unasked() {
    let layer = root().join("packaging/yocto/meta-eprog");
    let recipe = Recipe::read(&layer.join(format!("recipes-kernel/eprog/eprog_{}.bb", version())));
    assert!(recipe.values("S").is_empty(), "the recipe sets S");
    assert!(
        !recipe.text.contains("AUTOREV"),
        "the recipe builds whatever is newest"
    );
    assert!(
        !recipe.text.contains("example.org/eprog.git"),
        "a placeholder SRC_URI"
    );
    assert!(
        recipe.text.contains("SkipRecipe"),
        "an unset repository is not explained"
    );
    let linux = layer.join("recipes-kernel/linux");
    let append = Recipe::read(&linux.join("linux-yocto_%.bbappend"));
    for var in [
        "SRC_URI",
        "KERNEL_FEATURES:append",
        "FILESEXTRAPATHS:prepend",
    ] {
        for value in append.raw(var) {
            assert!(
                value.contains("EPROG_IN_TREE"),
                "the bbappend's {var} does not depend on EPROG_IN_TREE: {value}"
            );
        }
    }
    for value in ["y", "m"] {
        let cfg = fs::read_to_string(linux.join(format!("files/eprog-{value}.cfg"))).unwrap();
        assert!(
            cfg.lines()
                .any(|l| l == format!("CONFIG_EMBEDDED_PROG={value}")),
            "eprog-{value}.cfg"
        );
    }
}

/// The variables of a recipe or bbappend, as written (one line each):
/// enough to check what it asks for, not a BitBake parser.
struct Recipe {
    text: String,
}

impl Recipe {
    fn read(path: &Path) -> Self {
        Self {
            text: fs::read_to_string(path).unwrap(),
        }
    }

    fn inherits(&self, class: &str) -> bool {
        self.text.lines().any(|l| {
            l.strip_prefix("inherit ")
                .is_some_and(|classes| classes.split_whitespace().any(|c| c == class))
        })
    }

    /// The quoted values assigned or appended to `var`, whole.
    fn raw(&self, var: &str) -> Vec<String> {
        self.text
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix(var)?.trim_start();
                let rest = ["+=", ".=", "?=", "??=", ":=", "="]
                    .iter()
                    .find_map(|op| rest.strip_prefix(op))?;
                Some(rest.trim().trim_matches('"').to_string())
            })
            .collect()
    }

    /// The words assigned or appended to `var`.
    fn values(&self, var: &str) -> Vec<String> {
        self.raw(var)
            .iter()
            .flat_map(|v| v.split_whitespace().map(String::from).collect::<Vec<_>>())
            .collect()
    }
}

/// The Buildroot route (README): a post-build script builds eprog against
/// the kernel's build directory and installs it into `$TARGET_DIR` with
/// `modules_install INSTALL_MOD_PATH=`, which also runs depmod there
/// (Buildroot's own depmod ran before post-build scripts): the target's
/// `modprobe eprog` finds it.
#[test]
#[ignore = "boots QEMU: run through 'make check'"]
fn buildroot_post_build_install_is_found_by_modprobe() {
    let build = setting("EPROG_KDIR");
    let release = release(&build);
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("buildroot");
    let (src, target) = (work.join("eprog"), work.join("target"));
    let _ = fs::remove_dir_all(&work);
    copy_driver(&src);
    // The README's post-build line.
    must(
        Command::new("make")
            .arg("-C")
            .arg(&src)
            .arg(format!("KDIR={}", build.display()))
            .arg(format!("ARCH={}", setting("EPROG_KARCH").display()))
            .arg("modules")
            .arg("modules_install")
            .arg(format!("INSTALL_MOD_PATH={}", target.display()))
            // As a post-build script has it: the Makefile finds the
            // kernel's compiler in its .config.
            .env_remove("LLVM"),
    );
    let modules = target.join(format!("lib/modules/{release}"));
    let dep = fs::read_to_string(modules.join("modules.dep")).unwrap_or_default();
    assert!(
        dep.lines().any(|l| l.starts_with("updates/eprog.ko:")),
        "depmod did not list eprog in {}: {dep:?}",
        modules.display()
    );
    let tar = output(
        Command::new("tar")
            .arg("-C")
            .arg(&target)
            .args(["-cf", "-", "lib"]),
    )
    .stdout;
    let b = run_module_with(
        "packaging-buildroot",
        &fs::read(setting("EPROG_KO")).unwrap(),
        &[("target.tar", &tar)],
        "tar -xf /target.tar -C /
modprobe eprog interval_ms=200; mark modprobe $?
sleep 1
modprobe -r eprog; mark modprobe-r $?
# Files in the root count as Shmem where the root is a tmpfs.
rm -rf /lib",
        Duration::from_secs(120),
    );
    assert_eq!(b.marker("modprobe"), "0", "log: {}", b.path.display());
    assert!(
        !b.kernel_lines(HELLO).is_empty(),
        "log: {}",
        b.path.display()
    );
    assert_eq!(b.marker("modprobe-r"), "0");
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
