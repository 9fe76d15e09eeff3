// SPDX-License-Identifier: GPL-2.0

//! The default helper as a process on the host, in the world eprog gives
//! it: a root with nothing in it, fd 2 closed, an empty environment, and the
//! configuration line on stdin.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HELPER: &str = env!("EPROG_HOST_HELPER");

/// An empty directory holding only the helper, to chroot into.
fn empty_root(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::copy(HELPER, dir.join("eprog_user")).unwrap();
    dir
}

#[test]
fn helper_is_a_static_executable() {
    let elf = fs::read(HELPER).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "64-bit");
    assert_eq!(
        u16::from_le_bytes([elf[16], elf[17]]),
        2,
        "ET_EXEC: static, not PIE"
    );
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let phentsize = u16::from_le_bytes([elf[54], elf[55]]) as usize;
    let phnum = u16::from_le_bytes([elf[56], elf[57]]) as usize;
    for i in 0..phnum {
        let p_type = u32::from_le_bytes(elf[phoff + i * phentsize..][..4].try_into().unwrap());
        assert_ne!(p_type, 3, "PT_INTERP: the helper needs a dynamic loader");
    }
}

#[test]
#[cfg_attr(
    not(eprog_root),
    ignore = "needs root to chroot: run as root, or through 'make check'"
)]
fn helper_greets_at_the_configured_interval_with_nothing_around_it() {
    assert!(
        nix_is_root(),
        "chroot into an empty root needs root: run this test as root"
    );
    let root = empty_root("helper-root");
    // As the kernel starts it: fd 2 closed and no environment at all.
    let mut child = spawn_as_the_kernel_does(
        "exec 2>&- env -i \"$(command -v chroot)\" \"$0\" /eprog_user",
        &root,
        &root,
    );
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"interval_ms=100\n")
        .unwrap();
    let start = Instant::now();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(lines.next().expect("the helper stopped talking").unwrap());
    }
    let elapsed = start.elapsed();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(got, ["Hello, world!"; 4]);
    // Four lines are three intervals: at least 300 ms, far below the 5 s default.
    assert!(
        elapsed >= Duration::from_millis(300),
        "too fast: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "interval_ms was ignored: {elapsed:?}"
    );
}

#[test]
fn helper_uses_the_default_interval_without_configuration() {
    let mut child = Command::new(HELPER)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let start = Instant::now();
    assert_eq!(lines.next().unwrap().unwrap(), "Hello, world!");
    // The second line is due after the 5 s default; none may come early.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(lines.next());
    });
    let early = rx.recv_timeout(Duration::from_secs(2));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        early.is_err() || start.elapsed() >= Duration::from_secs(5),
        "second line came early"
    );
}

/// The launcher's protocol, on the host: it reports the pid of its child
/// before the helper can write, the child waits for the go byte, and the
/// helper then runs as pid 1 of a new pid namespace with stdin and stdout
/// only; the launcher keeps no end of the pipes, so the helper's end is an
/// end of file.
#[test]
#[cfg_attr(
    not(eprog_root),
    ignore = "needs root for a pid namespace: run as root, or through 'make check'"
)]
fn launcher_runs_the_helper_as_pid_1_of_a_new_namespace_after_the_go() {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("launcher");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let helper = dir.join("eprog_user");
    fs::write(
        &helper,
        "#!/bin/sh\nread line\necho \"pid $$ got $line fd2 $([ -e /proc/self/fd/2 ] && echo open || echo closed)\"\n",
    )
    .unwrap();
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    let launcher = PathBuf::from(HELPER).with_file_name("eprog_launch");
    let mut child = spawn_as_the_kernel_does("exec 2>&- \"$0\"", &launcher, &dir);
    let mut stdout = child.stdout.take().unwrap();
    let mut report = [0u8; 4];
    stdout.read_exact(&mut report).unwrap();
    let pid = i32::from_ne_bytes(report);
    assert!(pid > 0, "the launcher reported {pid}");
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status.contains(&format!("\nPPid:\t{}\n", child.id())),
        "not the launcher's child:\n{status}"
    );
    // Not yet the helper: the child waits for the go byte.
    std::thread::sleep(Duration::from_millis(200));
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(
        comm.trim(),
        "eprog_launch",
        "the child exec'd before the go"
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\0interval_ms=1\n").unwrap();
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    assert_eq!(out, "pid 1 got interval_ms=1 fd2 closed\n");
    assert!(child.wait().unwrap().success());
}

/// Runs `script` with `sh -c`, `$0` = `arg`, in `dir`, with stdin and
/// stdout piped and a bare environment (the script closes fd 2).
fn spawn_as_the_kernel_does(script: &str, arg: &Path, dir: &Path) -> std::process::Child {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(arg)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}
