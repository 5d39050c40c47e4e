"""Builds one sandbox and runs the interpreter in it. Executed as a script, stdlib only.

The sandbox starts it as root with ``unshare --mount --uts --ipc --net --pid --cgroup
--fork --kill-child python -I -S launcher.py CONFIG``, so it is PID 1 of a new
PID namespace, in new mount, network, IPC, UTS and cgroup namespaces. It:

1. mounts a small tmpfs on ``root`` and mirrors into it, read-only, only the host
   paths the interpreter needs (symlinks recreated, the rest bind-mounted), hides
   ``masks`` (site-packages) under empty read-only tmpfs, binds /dev/null & co, and
   mounts a size-capped, noexec tmpfs on /tmp owned by the run's uid;
2. ``pivot_root``\\s into it, detaches the old root and remounts / read-only;
3. forks. The child sets the rlimits, drops to the run's uid and gid with no
   supplementary groups (which clears every capability), sets ``no_new_privs``,
   installs the seccomp filter and execs the interpreter with an empty environment.
   PID 1 reaps; when the child ends it writes the child's status as one JSON line
   on the status fd and exits, and the kernel kills what is left in the namespace.

Setup failures are reported as ``{"setup_error": ...}`` on the status fd.

With ``"isolate": false`` (development only, insecure) it does step 3 alone,
without namespaces, uid drop or seccomp.
"""

from __future__ import annotations

import ctypes
import fcntl
import marshal
import os
import resource
import signal
import sys

TYPE_CHECKING = False  # importing typing would cost 5 ms on every run
if TYPE_CHECKING:
    from typing import Any

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MNT_DETACH = 0x2
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
RESULT_FD = 3

_libc = ctypes.CDLL(None, use_errno=True)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _bytes(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    ret = _libc.mount(
        _bytes(source), _bytes(target), _bytes(fstype), ctypes.c_ulong(flags), _bytes(data)
    )
    _check(ret, f"mount {target}")


def _bind(host: str, inside: str, flags: int) -> None:
    _mount(host, inside, None, MS_BIND)
    _mount(None, inside, None, MS_BIND | MS_REMOUNT | flags)


def _placeholder(host: str, inside: str) -> None:
    """An empty directory or file at ``inside`` to mount ``host`` on."""
    if os.path.isdir(host):
        os.makedirs(inside, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(inside), mode=0o755, exist_ok=True)
        with open(inside, "ab"):
            pass


def _mirror(root: str, path: str, bound: set[str], depth: int = 0) -> None:
    """Make ``path`` resolve inside ``root`` as on the host: same symlinks, read-only binds."""
    if depth > 16:
        raise OSError(f"too many symlinks under {path}")
    parts = [p for p in os.path.normpath(path).split("/") if p]
    current = "/"
    for index, part in enumerate(parts):
        current = os.path.join(current, part)
        if current in bound:
            return  # already reachable through a bind of an ancestor
        inside = root + current
        if os.path.islink(current):
            target = os.readlink(current)
            if not os.path.lexists(inside):
                os.symlink(target, inside)
            resolved = os.path.normpath(os.path.join(os.path.dirname(current), target))
            rest = "/".join(parts[index + 1 :])
            _mirror(root, os.path.join(resolved, rest) if rest else resolved, bound, depth + 1)
            return
        if index < len(parts) - 1:
            os.makedirs(inside, mode=0o755, exist_ok=True)
    _placeholder(current, root + current)
    _bind(current, root + current, MS_RDONLY | MS_NOSUID | MS_NODEV)
    bound.add(current)


def _pivot_root(new_root: str) -> None:
    old = os.path.join(new_root, ".old")
    os.mkdir(old, 0o700)
    machine = os.uname().machine
    number = SYS_PIVOT_ROOT.get(machine)
    if number is None:
        raise OSError(f"pivot_root: unknown architecture {machine}")
    _check(_libc.syscall(number, os.fsencode(new_root), os.fsencode(old)), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount /.old")
    os.rmdir("/.old")


def build_root(cfg: dict[str, Any]) -> None:
    root: str = cfg["root"]
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    bound: set[str] = set()
    for path in sorted(cfg["mirror"], key=len):
        _mirror(root, path, bound)
    for inside, host in cfg["binds"]:
        _placeholder(host, root + inside)
        _bind(host, root + inside, MS_RDONLY | MS_NOSUID | MS_NODEV)
    for device in cfg["devices"]:
        _placeholder(device, root + device)
        _bind(device, root + device, MS_NOSUID | MS_NOEXEC)
    for mask in cfg["masks"]:
        flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        _mount("tmpfs", root + mask, "tmpfs", flags, "size=4k,mode=0555")
    os.mkdir(root + "/tmp", 0o700)
    scratch = f"size={cfg['scratch_bytes']},mode=0700,uid={cfg['uid']},gid={cfg['gid']}"
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, scratch)
    _pivot_root(root)
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _libc.sethostname(b"sandbox", ctypes.c_size_t(7))


def _install_seccomp(program: bytes) -> None:
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    ret = _libc.prctl(
        PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog), 0, 0
    )
    _check(ret, "seccomp")


def exec_child(cfg: dict[str, Any], status_fd: int) -> None:
    """In the forked child: confine this process, then become the interpreter."""
    result_fd: int = cfg["result_fd"]
    if result_fd != RESULT_FD:
        os.dup2(result_fd, RESULT_FD)
    os.set_inheritable(RESULT_FD, True)
    os.set_inheritable(status_fd, False)  # closed by execve
    os.closerange(RESULT_FD + 1, status_fd)
    os.closerange(status_fd + 1, 4096)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past RLIMIT_FSIZE get EFBIG
    for name, soft, hard in cfg["rlimits"]:
        resource.setrlimit(getattr(resource, name), (soft, hard))
    if cfg["isolate"]:
        os.setgroups([])
        os.setresgid(cfg["gid"], cfg["gid"], cfg["gid"])
        os.setresuid(cfg["uid"], cfg["uid"], cfg["uid"])
    os.chdir(cfg["cwd"])
    zero = ctypes.c_ulong(0)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), zero, zero, zero), "no_new_privs")
    if cfg["seccomp"]:
        _install_seccomp(bytes.fromhex(cfg["seccomp"]))
    os.execve(cfg["argv"][0], cfg["argv"], {})


def _json(value: Any) -> str:
    """JSON for the few plain values of a status line (``json`` costs 10 ms to import)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = "".join(c if c.isprintable() else " " for c in str(value))
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _report(status_fd: int, status: dict[str, Any]) -> None:
    line = ", ".join(f"{_json(key)}: {_json(value)}" for key, value in status.items())
    os.write(status_fd, ("{" + line + "}\n").encode())


def main() -> None:
    cfg: dict[str, Any] = marshal.loads(bytes.fromhex(sys.argv[1]))
    # Park both pipes above the fds the child needs (0-3) before anything else.
    for key in ("result_fd", "status_fd"):
        high = fcntl.fcntl(cfg[key], fcntl.F_DUPFD, 10)
        os.close(cfg[key])
        cfg[key] = high
    status_fd: int = cfg["status_fd"]
    try:
        if cfg["isolate"]:
            build_root(cfg)
    except Exception as exc:
        _report(status_fd, {"setup_error": f"{type(exc).__name__}: {exc}"})
        os._exit(125)
    child = os.fork()
    if child == 0:
        try:
            exec_child(cfg, status_fd)
        except BaseException as exc:
            _report(status_fd, {"setup_error": f"{type(exc).__name__}: {exc}"})
        os._exit(125)
    while True:
        pid, wait_status, usage = os.wait4(-1, 0)
        if pid == child:
            break
    status: dict[str, Any] = {
        "exit_code": os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else None,
        "signal": os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else None,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "max_rss_kb": usage.ru_maxrss,
    }
    _report(status_fd, status)
    os._exit(0)


if __name__ == "__main__":
    main()
