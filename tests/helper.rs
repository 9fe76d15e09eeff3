// SPDX-License-Identifier: GPL-2.0

//! The default helper as a process on the host, in the world eprog gives
//! it: a root with nothing in it, fd 2 closed, an empty environment, and the
//! configuration line on stdin; its output read as the module reads it,
//! with the module's own decoder (`src/frame.rs`).

use eprog::confinement::Confinement;
use eprog::frame::{Decoder, Event, Header, Kind, MESSAGE_MAX};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const HELPER: &str = env!("EPROG_HOST_HELPER");

/// What the helper said, as the module sorts it.
#[derive(Debug, PartialEq)]
enum Said {
    Hello,
    /// A log line (frames or plain text), without its newline.
    Line(String),
    Reply(u32, Vec<u8>),
}

/// Reads `stdout` in a thread, as the module does.
fn listen(mut stdout: ChildStdout) -> Receiver<Said> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut decoder = Decoder::new(MESSAGE_MAX);
        let (mut line, mut reply, mut frame) = (Vec::new(), Vec::new(), None);
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut out = Vec::new();
            decoder.feed(&buf[..n], &mut |e| match e {
                Event::Hello => out.push(Said::Hello),
                Event::Frame(h) => frame = Some(h),
                Event::Text(t) | Event::Payload(t) if frame.is_none_or(|h| h.kind == Kind::Log) => {
                    for &b in t {
                        if b == b'\n' {
                            out.push(Said::Line(String::from_utf8_lossy(&line).into()));
                            line.clear();
                        } else {
                            line.push(b);
                        }
                    }
                }
                Event::Payload(t) => reply.extend_from_slice(t),
                Event::End => {
                    if let Some(h) = frame.take().filter(|h| h.kind == Kind::Reply) {
                        out.push(Said::Reply(h.id, std::mem::take(&mut reply)));
                    }
                }
                Event::Text(_) | Event::Malformed(..) => panic!("unexpected {e:?}"),
            });
            for said in out {
                if tx.send(said).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// The next log line, skipping the hello.
fn next_line(rx: &Receiver<Said>, timeout: Duration) -> Option<String> {
    loop {
        match rx.recv_timeout(timeout).ok()? {
            Said::Line(l) => return Some(l),
            Said::Hello => {}
            other => panic!("expected a log line, got {other:?}"),
        }
    }
}

/// Sends request `id` as the module does.
fn request(stdin: &mut impl Write, id: u32, payload: &[u8]) {
    let header = Header {
        kind: Kind::Request,
        id,
        len: payload.len() as u32,
    };
    stdin.write_all(&header.encode()).unwrap();
    stdin.write_all(payload).unwrap();
}

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
    let said = listen(child.stdout.take().unwrap());
    assert_eq!(said.recv().unwrap(), Said::Hello, "no hello first");
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(next_line(&said, Duration::from_secs(10)).expect("the helper stopped talking"));
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
    let said = listen(child.stdout.take().unwrap());
    let start = Instant::now();
    let first = next_line(&said, Duration::from_secs(10));
    // The second line is due after the 5 s default; none may come early.
    let early = next_line(&said, Duration::from_secs(2));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(first.as_deref(), Some("Hello, world!"));
    assert!(
        early.is_none() || start.elapsed() >= Duration::from_secs(5),
        "second line came early"
    );
}

/// The default helper's calls, as the module makes them: answers by id,
/// in order, among its log lines.
#[test]
fn helper_answers_echo_and_settings_calls_between_its_lines() {
    let mut child = Command::new(HELPER)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"interval_ms=50\n").unwrap();
    let said = listen(child.stdout.take().unwrap());
    let binary: Vec<u8> = (0..=255).collect();
    let mut echo = b"echo ".to_vec();
    echo.extend_from_slice(&binary);
    request(&mut stdin, 7, &echo);
    request(&mut stdin, 8, b"settings Speed=0x10,quiet=on");
    request(&mut stdin, 9, b"settings speed=1 speed=2");
    request(&mut stdin, 10, b"frobnicate");
    let mut replies = Vec::new();
    let mut lines = 0;
    while replies.len() < 4 {
        match said
            .recv_timeout(Duration::from_secs(10))
            .expect("no reply")
        {
            Said::Reply(id, r) => replies.push((id, r)),
            Said::Line(l) => {
                assert_eq!(l, "Hello, world!");
                lines += 1;
            }
            Said::Hello => {}
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(lines >= 1, "no log line among the replies");
    assert_eq!(replies[0], (7, binary));
    assert_eq!(replies[1], (8, b"quiet=1\nspeed=16\n".to_vec()));
    assert_eq!(replies[2].0, 9);
    assert_eq!(
        String::from_utf8_lossy(&replies[2].1),
        "error: a key given twice at byte 8"
    );
    assert!(replies[3].1.starts_with(b"error: unknown request"));
}

/// The launcher's protocol, on the host: it reports the pid of its child
/// before the helper can write, the child waits for its confinement record,
/// and the helper then runs as pid 1 of a new pid namespace, as the
/// record's user, with stdin and stdout only; the launcher keeps no end of
/// the pipes, so the helper's end is an end of file.
#[test]
#[cfg_attr(
    not(eprog_root),
    ignore = "needs root for a pid namespace: run as root, or through 'make check'"
)]
fn launcher_confines_the_helper_and_runs_it_as_pid_1_of_a_new_namespace() {
    use std::os::unix::fs::PermissionsExt;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("launcher");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let helper = dir.join("eprog_user");
    fs::write(
        &helper,
        "#!/bin/sh\nread line\necho \"pid $$ uid $(id -u) got $line fd2 $([ -e /proc/self/fd/2 ] && echo open || echo closed)\"\n",
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
    // Not yet the helper: the child waits for its confinement.
    std::thread::sleep(Duration::from_millis(200));
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(
        comm.trim(),
        "eprog_launch",
        "the child exec'd before the go"
    );
    // The host's root: the helper here is a shell script.
    let confinement = Confinement {
        uid: 65534,
        gid: 65534,
        caps: 0,
        host_root: true,
        address_space: u64::MAX,
        open_files: 64,
    };
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&confinement.encode()).unwrap();
    stdin.write_all(b"interval_ms=1\n").unwrap();
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    assert_eq!(out, "pid 1 uid 65534 got interval_ms=1 fd2 closed\n");
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

/// The runtime's lock-down, on the host: a system call that the helper did
/// not declare kills it with `SIGSYS`; the call does nothing.
#[test]
fn a_call_the_helper_did_not_declare_kills_it_with_sigsys() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(env!("EPROG_HOST_MISBEHAVE"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"mode=forbidden\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(31), "{:?}", out.status);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "about to make a forbidden call\n"
    );
}
