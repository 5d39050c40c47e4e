"""A seccomp-BPF deny list for sandboxed code (x86-64 only).

The filter answers ``EPERM`` to the system calls an unprivileged process has no
business making in the sandbox — new namespaces, mounts, ``ptrace``, kernel
keyrings, BPF, ``perf_event_open``, ``userfaultfd``, ``io_uring``, module loading —
most of which widen the kernel's attack surface. It kills the process on a foreign
syscall ABI (32-bit ``int 0x80``) and refuses the x32 ABI. ``clone3`` answers
``ENOSYS`` so that libc falls back to ``clone``, whose namespace flags the filter
can inspect. Everything else is allowed: this is a second layer behind the
namespaces, chroot and uid drop, not the main wall.

The program is built here, typed and testable, and installed by the launcher
(``prctl(PR_SET_SECCOMP)``) right before it executes the interpreter.
"""

from __future__ import annotations

import errno
import platform
import struct

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000

_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K

_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000

_OFFSET_NR = 0
_OFFSET_ARCH = 4
_OFFSET_ARG0_LOW = 16

_SYS_CLONE = 56
_SYS_CLONE3 = 435
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
_CLONE_NAMESPACE_FLAGS = 0x7E020000

#: x86-64 numbers of the denied system calls.
DENIED_SYSCALLS: dict[str, int] = {
    "ptrace": 101,
    "vhangup": 153,
    "pivot_root": 155,
    "adjtimex": 159,
    "chroot": 161,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "sethostname": 170,
    "setdomainname": 171,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "move_pages": 279,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "clock_adjtime": 305,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
}


def supported() -> bool:
    """Whether :func:`deny_list_filter` fits this machine's system call table."""
    return platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64")


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def deny_list_filter() -> bytes:
    """The BPF program as packed ``struct sock_filter`` entries (8 bytes each)."""
    denied = sorted(set(DENIED_SYSCALLS.values()))
    # Layout: arch check, x32 check, clone3, clone, one jump per denied call,
    # then the shared tails: ALLOW, clone-flags check, ENOSYS, EPERM.
    n_head = 7
    allow = n_head + len(denied)
    clone_check = allow + 1
    enosys = clone_check + 3
    eperm = enosys + 1

    def jump(src: int, dst: int) -> int:
        offset = dst - src - 1
        if not 0 <= offset <= 255:
            raise ValueError("seccomp jump out of range")
        return offset

    prog = [
        _op(_LD_W_ABS, _OFFSET_ARCH),
        _op(_JEQ, _AUDIT_ARCH_X86_64, jt=1),
        _op(_RET, _RET_KILL_PROCESS),
        _op(_LD_W_ABS, _OFFSET_NR),
        _op(_JGE, _X32_SYSCALL_BIT, jt=jump(4, eperm)),
        _op(_JEQ, _SYS_CLONE3, jt=jump(5, enosys)),
        _op(_JEQ, _SYS_CLONE, jt=jump(6, clone_check)),
    ]
    for index, nr in enumerate(denied, start=n_head):
        prog.append(_op(_JEQ, nr, jt=jump(index, eperm)))
    prog += [
        _op(_RET, _RET_ALLOW),
        _op(_LD_W_ABS, _OFFSET_ARG0_LOW),
        _op(_JSET, _CLONE_NAMESPACE_FLAGS, jt=jump(clone_check + 1, eperm)),
        _op(_RET, _RET_ALLOW),
        _op(_RET, _RET_ERRNO | errno.ENOSYS),
        _op(_RET, _RET_ERRNO | errno.EPERM),
    ]
    return b"".join(prog)
