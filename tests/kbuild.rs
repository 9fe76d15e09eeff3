// SPDX-License-Identifier: GPL-2.0

//! The build: what Kconfig and Kbuild accept and refuse, and where the
//! helper ends up in the built objects.

mod common;

use common::{build_module, clang, configure_with, kernel_has_umd, llvm, run, setting, syncconfig};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Asserts that a build failed with exactly one `eprog:` line, containing
/// `reason`, and that no compiler, bindgen or cargo error leaked.
fn assert_refused(what: &str, (_, log, ok): (PathBuf, String, bool), reason: &str) {
    assert!(!ok, "the build succeeded {what}");
    let ours: Vec<_> = log.lines().filter(|l| l.contains("eprog: ")).collect();
    assert_eq!(
        ours.len(),
        1,
        "expected one eprog error line {what}:\n{log}"
    );
    assert!(ours[0].contains(reason), "{what}: {}", ours[0]);
    assert!(
        !log.contains("error[") && !log.contains("error:"),
        "compiler errors leaked {what}:\n{log}"
    );
}

/// Whether symbol `name` is eprog's: its C functions, and its Rust ones,
/// whose mangled names (v0: `_R...`, legacy: `_ZN...`) name its crate
/// (`10eprog_main`) or a type of it.
fn is_eprogs(name: &str) -> bool {
    name.starts_with("eprog_")
        || ((name.starts_with("_R") || name.starts_with("_ZN")) && name.contains("eprog"))
}

/// eprog is an ordinary tristate: with `=m` nothing of it is in the kernel
/// image (its UMD core, where the kernel has no UMD API, is part of
/// eprog.ko), so an eprog.ko built out of tree needs no kernel built with
/// eprog. The `=y` kernel of the same tree shows that the check sees
/// eprog's symbols where they are.
#[test]
#[ignore = "needs the kernel trees: run through 'make check'"]
fn with_m_nothing_of_eprog_is_built_into_the_kernel() {
    let eprog_symbols = |kdir: PathBuf| -> Vec<String> {
        let map = kdir.join("System.map");
        fs::read_to_string(&map)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", map.display()))
            .lines()
            .filter(|l| l.split(' ').nth(2).is_some_and(is_eprogs))
            .map(String::from)
            .collect()
    };
    let m = eprog_symbols(setting("EPROG_KDIR"));
    assert!(
        m.is_empty(),
        "the =m kernel has eprog's code built in: {m:?}"
    );
    let y = eprog_symbols(setting("EPROG_KDIR_Y"));
    assert!(
        y.iter().any(|l| l.ends_with(" eprog_call")),
        "the =y kernel has no eprog_call: the check sees nothing"
    );
    assert!(
        y.iter().any(|l| l.contains(" _R")),
        "the =y kernel has no Rust symbol of eprog: the check sees none"
    );
    // The route follows the kernel: the kernel's UMD where eprog selected
    // it (6.12), eprog's own core, inside eprog, where there is none.
    let core = y.iter().any(|l| l.ends_with(" eprog_umd_fork"));
    assert_eq!(core, !kernel_has_umd(), "=y kernel: eprog's core {core}");
}

/// Configures a tinyconfig + fragment tree in a scratch directory with the
/// given extra options and returns its `.config`.
fn configure(name: &str, extra: &str) -> String {
    let arch = std::env::var("EPROG_ARCH").unwrap_or_else(|_| "x86_64".into());
    let karch = std::env::var("EPROG_KARCH").unwrap_or_else(|_| "x86_64".into());
    let (_, config) = configure_with(name, &arch, &[&llvm(), &format!("ARCH={karch}")], extra);
    config
}

#[test]
#[ignore = "needs the kernel source: run through 'make check'"]
fn kconfig_selects_the_umd_api_and_refuses_a_static_usermode_helper() {
    let plain = configure("kconfig-plain", "CONFIG_EMBEDDED_PROG=y\n");
    assert!(plain.contains("\nCONFIG_EMBEDDED_PROG=y\n"));
    // Since 6.17 the symbol is gone, and eprog uses its own core.
    assert_eq!(
        plain.contains("\nCONFIG_USERMODE_DRIVER=y\n"),
        kernel_has_umd(),
        "EMBEDDED_PROG must select USERMODE_DRIVER where it exists"
    );

    let refused = configure(
        "kconfig-static-umh",
        "CONFIG_STATIC_USERMODEHELPER=y\nCONFIG_STATIC_USERMODEHELPER_PATH=\"\"\nCONFIG_EMBEDDED_PROG=y\n",
    );
    assert!(refused.contains("\nCONFIG_STATIC_USERMODEHELPER=y\n"));
    assert!(
        !refused.contains("\nCONFIG_EMBEDDED_PROG=y\n"),
        "EMBEDDED_PROG was allowed with STATIC_USERMODEHELPER"
    );
}

/// The helper runs as the init of its own pid namespace: Kconfig does not
/// offer eprog without PID_NS, and the out-of-tree build refuses such a
/// kernel in one sentence.
#[test]
#[ignore = "needs the kernel source: run through 'make check'"]
fn refuses_a_kernel_without_pid_namespaces() {
    refuses_a_kernel_without("PID_NS", "PID_NS", "is built without CONFIG_PID_NS;");
}

/// The umh runtime locks every helper down with a seccomp filter: likewise
/// without SECCOMP_FILTER (here: without SECCOMP, which it needs).
#[test]
#[ignore = "needs the kernel source: run through 'make check'"]
fn refuses_a_kernel_without_seccomp_filters() {
    refuses_a_kernel_without(
        "SECCOMP",
        "SECCOMP_FILTER",
        "is built without CONFIG_SECCOMP_FILTER;",
    );
}

/// Configures a tree with `unset` off and eprog asked for as a module, and
/// asserts that Kconfig did not offer eprog without `needed` and that the
/// out-of-tree build refuses the tree with `sentence`.
fn refuses_a_kernel_without(unset: &str, needed: &str, sentence: &str) {
    let karch = std::env::var("EPROG_KARCH").unwrap_or_else(|_| "x86_64".into());
    let arch = std::env::var("EPROG_ARCH").unwrap_or_else(|_| "x86_64".into());
    let vars = [llvm(), format!("ARCH={karch}")];
    let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
    let name = format!("no-{}", needed.to_lowercase().replace('_', "-"));
    let (tree, config) = configure_with(
        &name,
        &arch,
        &vars,
        &format!("# CONFIG_{unset} is not set\nCONFIG_EMBEDDED_PROG=m\n"),
    );
    assert!(config.contains(&format!("\n# CONFIG_{unset} is not set\n")));
    assert!(
        !config.contains(&format!("\nCONFIG_{needed}=y\n")),
        "{needed} is still on: the test proves nothing"
    );
    assert!(
        config.contains("\nCONFIG_RUST=y\n"),
        "no Rust: the test proves nothing"
    );
    assert!(
        !config.contains("\nCONFIG_EMBEDDED_PROG=m\n"),
        "EMBEDDED_PROG was allowed without {needed}"
    );
    syncconfig(&tree, &vars);
    assert_refused(
        &format!("against a kernel without {needed}"),
        build_module(&name, &tree, &vars),
        sentence,
    );
}

/// Linux 6.12 also offers Rust on riscv, loongarch and User Mode Linux,
/// where eprog has no helper target. riscv and UML configure with Rust
/// here (loongarch needs clang 16); UML is the sly one, as UML on x86_64
/// sets `X86_64` too. The fragment's options are not x86-specific.
#[test]
#[ignore = "needs the kernel source: run through 'make check'"]
fn kconfig_offers_eprog_only_on_architectures_the_helper_builds_for() {
    let mut offered = Vec::new();
    for (karch, needed) in [
        (
            "um",
            &["CONFIG_RUST=y", "CONFIG_UML=y", "CONFIG_X86_64=y"][..],
        ),
        ("riscv", &["CONFIG_RUST=y", "CONFIG_64BIT=y"][..]),
    ] {
        let (_, config) = configure_with(
            &format!("kconfig-{karch}"),
            "x86_64",
            &[&llvm(), &format!("ARCH={karch}")],
            "CONFIG_EMBEDDED_PROG=m\n",
        );
        for option in needed {
            assert!(
                config.contains(&format!("\n{option}\n")),
                "the {karch} tree lacks {option}: the test proves nothing"
            );
        }
        if config.contains("\nCONFIG_EMBEDDED_PROG=") {
            offered.push(karch);
        }
    }
    assert!(
        offered.is_empty(),
        "EMBEDDED_PROG is offered on {offered:?}"
    );
}

/// The kernel's `rustavailable` checks neither cargo nor the helper's
/// musl target: a missing one is one sentence. Both are needed also to
/// embed a blob of one's own: they build the launcher.
#[test]
#[ignore = "needs the built kernels: run through 'make check'"]
fn refuses_a_missing_cargo_or_helper_target_in_one_sentence() {
    let kdir = setting("EPROG_KDIR");
    let missing_target = "riscv64gc-unknown-linux-musl";
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = PathBuf::from(String::from_utf8(sysroot.stdout).unwrap().trim());
    assert!(
        sysroot.join("lib/rustlib").is_dir(),
        "no Rust sysroot at {}",
        sysroot.display()
    );
    assert!(
        !sysroot.join("lib/rustlib").join(missing_target).exists(),
        "{missing_target} is installed: the test proves nothing"
    );
    let target_arg = format!("UMH_TARGET={missing_target}");
    let blob = format!(
        "UMH_BLOB={}",
        kdir.join("drivers/misc/eprog/eprog_user").display()
    );
    for (name, blob) in [("default", None), ("blob", Some(blob.as_str()))] {
        let with = |arg| {
            [Some(arg), blob]
                .into_iter()
                .flatten()
                .collect::<Vec<&str>>()
        };
        assert_refused(
            &format!("without cargo ({name})"),
            build_module(
                &format!("no-cargo-{name}"),
                &kdir,
                &with("CARGO=/nonexistent/cargo"),
            ),
            "cannot run /nonexistent/cargo, which builds the helper's launcher",
        );
        assert_refused(
            &format!("without the helper's target ({name})"),
            build_module(&format!("no-target-{name}"), &kdir, &with(&target_arg)),
            &format!("Rust target {missing_target} of the helper's launcher is not installed"),
        );
    }
}

/// bindgen loads the newest libclang on the machine, and a newer one than
/// the kernel's clang rejects flags the kernel picked for that clang. Kbuild
/// pins the libclang of the kernel's clang; `tests/setup.sh` installs a
/// newer one beside it, so the pin is exercised on every machine.
#[test]
#[ignore = "needs the built kernels: run through 'make check'"]
fn bindgen_uses_the_libclang_of_the_kernels_clang() {
    let kdir = setting("EPROG_KDIR");
    let newest = fs::read_dir("/usr/lib")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|name| Some((name.strip_prefix("llvm-")?.parse::<u32>().ok()?, name)))
        .filter(|(_, name)| {
            fs::read_dir(Path::new("/usr/lib").join(name).join("lib")).is_ok_and(|mut d| {
                d.any(|f| f.is_ok_and(|f| f.file_name().to_string_lossy().starts_with("libclang")))
            })
        })
        .max()
        .map(|(_, name)| Path::new("/usr/lib").join(name).join("lib"))
        .expect("no libclang in /usr/lib/llvm-*");
    let resource = Command::new(clang())
        .arg("-print-resource-dir")
        .output()
        .unwrap();
    let ours = PathBuf::from(String::from_utf8(resource.stdout).unwrap().trim())
        .join("../..")
        .canonicalize()
        .unwrap();
    assert_ne!(
        newest, ours,
        "no libclang newer than the kernel's clang here: the test proves nothing \
         (tests/setup.sh installs clang 19 for Linux 7.3)"
    );
    // The newest libclang, which bindgen would load by itself, fails...
    let (_, log, ok) = build_module(
        "libclang-newest",
        &kdir,
        &[&format!("LIBCLANG_PATH={}", newest.display())],
    );
    assert!(
        !ok && log.contains("unknown argument"),
        "the newest libclang ({}) built eprog: the test proves nothing:\n{log}",
        newest.display()
    );
    // ...and with no LIBCLANG_PATH at all, Kbuild picks the kernel's.
    let (_, log, ok) = build_module("libclang-pinned", &kdir, &["LIBCLANG_PATH="]);
    assert!(ok, "eprog did not pin the kernel's libclang:\n{log}");
}

/// The `(address, section)` of `symbol` in an object file, from `readelf`.
fn symbol(object: &Path, symbol: &str) -> (u64, String) {
    let out = Command::new("readelf")
        .args(["-sW"])
        .arg(object)
        .output()
        .expect("readelf");
    let sections = Command::new("readelf")
        .args(["-SW"])
        .arg(object)
        .output()
        .expect("readelf");
    let sections = String::from_utf8_lossy(&sections.stdout);
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() == 8 && f[7] == symbol)
        .unwrap_or_else(|| panic!("{symbol} not in {}", object.display()));
    let index = row[6];
    let section = sections
        .lines()
        .find_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            let (num, rest) = l.split_once(']')?;
            (num.trim() == index).then(|| rest.split_whitespace().next().unwrap_or("").to_string())
        })
        .unwrap_or_default();
    (u64::from_str_radix(row[1], 16).unwrap(), section)
}

/// The blob symbols bracket exactly the helper's bytes, in memory that is
/// freed after init: `.init.rodata` in a module; in `vmlinux`, where the
/// linker merges init sections, between `__init_begin` and `__init_end`.
/// In a module, `eprog_blob_size` (what the Rust code reads) holds the size.
fn assert_blob_is_init_data(object: &Path, helper: &Path) {
    let (start, s1) = symbol(object, "eprog_blob");
    let (end, s2) = symbol(object, "eprog_blob_end");
    let size = fs::metadata(helper).unwrap().len();
    if object.extension().is_some_and(|e| e == "ko") {
        let (at, s3) = symbol(object, "eprog_blob_size");
        assert_eq!(
            (s1.as_str(), s2.as_str(), s3.as_str()),
            (".init.rodata", ".init.rodata", ".init.rodata"),
            "{}",
            object.display()
        );
        // In a relocatable object a symbol's value is its section offset.
        let section =
            std::env::temp_dir().join(format!("eprog-init-rodata-{}", std::process::id()));
        let ok = Command::new("llvm-objcopy")
            .args(["-O", "binary", "--only-section=.init.rodata"])
            .arg(object)
            .arg(&section)
            .status()
            .unwrap()
            .success();
        assert!(ok, "llvm-objcopy failed on {}", object.display());
        let bytes = fs::read(&section).unwrap();
        let _ = fs::remove_file(&section);
        let at = at as usize;
        let stored = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        assert_eq!(
            stored,
            size,
            "eprog_blob_size is wrong in {}",
            object.display()
        );
    } else {
        let (init_begin, _) = symbol(object, "__init_begin");
        let (init_end, _) = symbol(object, "__init_end");
        assert!(
            init_begin <= start && end <= init_end,
            "blob outside init memory in {}",
            object.display()
        );
    }
    assert_eq!(end - start, size, "the embedded blob is not the helper");
}

#[test]
#[ignore = "needs the built kernels: run through 'make check'"]
fn helper_is_embedded_in_init_rodata_of_module_and_vmlinux() {
    let kdir_m = setting("EPROG_KDIR");
    let kdir_y = setting("EPROG_KDIR_Y");
    let ko = setting("EPROG_KO");
    assert_blob_is_init_data(&ko, &ko.with_file_name("eprog_user"));
    let intree = kdir_m.join("drivers/misc/eprog");
    assert_blob_is_init_data(&intree.join("eprog.ko"), &intree.join("eprog_user"));
    assert_blob_is_init_data(
        &kdir_y.join("vmlinux"),
        &kdir_y.join("drivers/misc/eprog/eprog_user"),
    );
}

/// The in-tree route for BSP trees: `make patch` against a pristine tree.
/// The QEMU test kernels are built from the pristine tree with this very
/// patch applied (`tests/lib.sh`), `=m` and `=y`, on every architecture;
/// this test checks its form, that it applies, and that `make
/// install-into-tree` is idempotent and makes the same tree.
#[test]
#[ignore = "needs the kernel source: run through 'make check'"]
fn the_patch_applies_to_a_pristine_tree_like_install_into_tree() {
    let pristine = setting("EPROG_KSRC_PRISTINE");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("patch");
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(scratch.join("tree/drivers/misc")).unwrap();
    let patch = scratch.join("eprog.patch");
    let make = |args: &[String]| {
        run(Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(root)
            .args(args))
    };
    make(&[
        "patch".into(),
        format!("KSRC={}", pristine.display()),
        format!("PATCH={}", patch.display()),
    ]);

    let text = fs::read_to_string(&patch).unwrap();
    assert!(text.starts_with("From "), "not a format-patch mail");
    assert!(
        text.contains("\nSubject: [PATCH] misc: add eprog"),
        "no subject line"
    );
    assert!(text.contains("\nSigned-off-by: Your Name <your.email@example.com>\n---\n"));
    for file in [
        "drivers/misc/Kconfig",
        "drivers/misc/Makefile",
        "drivers/misc/eprog/Kbuild",
    ] {
        assert!(
            text.contains(&format!("diff --git a/{file} b/{file}")),
            "{file} is not in the patch"
        );
    }
    let applies = Command::new("patch")
        .args(["-p1", "--dry-run", "-s", "-d"])
        .arg(&pristine)
        .stdin(fs::File::open(&patch).unwrap())
        .status()
        .unwrap();
    assert!(
        applies.success(),
        "the patch does not apply to {}",
        pristine.display()
    );
    // As a BSP applies it: git am, on a repository of the hooked files.
    let repo = scratch.join("am");
    fs::create_dir_all(repo.join("drivers/misc")).unwrap();
    for file in ["Kconfig", "Makefile"] {
        fs::copy(
            pristine.join("drivers/misc").join(file),
            repo.join("drivers/misc").join(file),
        )
        .unwrap();
    }
    let git = |args: &[&str]| {
        run(Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
            .args(args))
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    git(&["am", "-q", &patch.display().to_string()]);
    assert!(repo.join("drivers/misc/eprog/src/umd_core.c").is_file());

    // install-into-tree, twice, on a copy of the pristine hooks.
    let tree = scratch.join("tree");
    for file in ["Kconfig", "Makefile"] {
        fs::copy(
            pristine.join("drivers/misc").join(file),
            tree.join("drivers/misc").join(file),
        )
        .unwrap();
    }
    for _ in 0..2 {
        make(&[
            "install-into-tree".into(),
            format!("KSRC={}", tree.display()),
        ]);
    }
    let kconfig = fs::read_to_string(tree.join("drivers/misc/Kconfig")).unwrap();
    let makefile = fs::read_to_string(tree.join("drivers/misc/Makefile")).unwrap();
    assert_eq!(
        kconfig
            .matches("source \"drivers/misc/eprog/Kconfig\"")
            .count(),
        1
    );
    assert_eq!(makefile.matches("CONFIG_EMBEDDED_PROG").count(), 1);
    // The same tree as the patch makes (the one the test kernels use).
    let patched = setting("EPROG_KSRC").join("drivers/misc");
    for part in ["eprog", "Kconfig", "Makefile"] {
        let diff = Command::new("diff")
            .arg("-r")
            .arg(tree.join("drivers/misc").join(part))
            .arg(patched.join(part))
            .output()
            .unwrap();
        assert!(
            diff.status.success(),
            "install-into-tree and the patch differ in {part}:\n{}",
            String::from_utf8_lossy(&diff.stdout)
        );
    }
}
