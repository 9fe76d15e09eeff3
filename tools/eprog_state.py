#!/usr/bin/env drgn
# SPDX-License-Identifier: GPL-2.0
"""Prints the state of each of eprog's helpers, as its sysfs directory
(/sys/class/misc/eprog/ for the default helper) shows it, from a live
kernel or a crash dump:

    drgn -s vmlinux -s eprog.ko tools/eprog_state.py        (live, as root)
    drgn -c vmcore -s vmlinux -s eprog.ko tools/eprog_state.py
    drgn -c vmcore -s vmlinux tools/eprog_state.py          (eprog built in)

It walks one list, `eprog_helpers`, of C structures `eprog_state`
(src/state.h), through their debug information: build the kernel and
eprog with CONFIG_DEBUG_INFO. For each helper, a line `helper <name>`,
then one line per attribute, `name: value`, named as in sysfs
(counters/calls, ...).
"""
import sys

from drgn import FaultError, ObjectNotFoundError
from drgn.helpers.linux.list import list_for_each_entry

# src/state.h
MAGIC = 0x67727065
VERSION = 2
ROUTES = ("kernel-umd", "eprog-core")


def enum_names(type_name, prefix):
    """The enumerators of a C enum, by value, without their prefix."""
    return {
        e.value: e.name[len(prefix):]
        for e in prog.type(type_name).enumerators
        if e.name.startswith(prefix)
    }


def counter_path(name):
    """EPROG_FAILED_ETIMEDOUT -> calls_failed/ETIMEDOUT, as in state.c."""
    if name.startswith("FAILED_"):
        errno = name[len("FAILED_"):]
        return "calls_failed/" + (errno if errno != "OTHER" else "other")
    return "counters/" + name.lower()


def show(state, states, counters):
    """One helper's lines."""
    if state.magic.value_() != MAGIC or state.version.value_() != VERSION:
        sys.exit("eprog_state: magic %#x version %d; this script knows "
                 "version %d" % (state.magic.value_(),
                                 state.version.value_(), VERSION))
    pid = state.pid.value_()
    hz = state.hz.value_()
    run_ms = 0
    if pid:
        ticks = prog["jiffies_64"].value_() - state.run_start.value_()
        run_ms = ticks * 1000 // hz
    last_exit = "none"
    if state.last_exit.value_() >= 0:
        last_exit = state.last_exit_text.string_().decode()
    print("helper %s" % state.name.string_().decode())
    print("state: %s" % states[state.state.value_()].lower())
    print("pid: %d" % pid)
    print("restarts: %d" % state.restarts.value_())
    print("restarts_in_row: %d" % state.restarts_in_row.value_())
    print("last_exit: %s" % last_exit)
    print("run_ms: %d" % run_ms)
    print("route: %s" % ROUTES[state.route.value_()])
    for value, name in sorted(counters.items()):
        if name != "NR_COUNTERS":
            print("%s: %d" % (counter_path(name),
                              state.counters[value].counter.value_()))


def main():
    try:
        helpers = prog["eprog_helpers"]
    except (KeyError, LookupError, ObjectNotFoundError):
        sys.exit("eprog_helpers: not found (is eprog loaded, and were vmlinux "
                 "and eprog.ko given with their debug information?)")
    try:
        states = enum_names("enum eprog_helper_state", "EPROG_")
        counters = enum_names("enum eprog_counter", "EPROG_")
        found = 0
        for state in list_for_each_entry("struct eprog_state",
                                         helpers.address_of_(), "node"):
            show(state, states, counters)
            found += 1
        if not found:
            sys.exit("eprog_helpers: no helper is registered")
    except FaultError as e:
        sys.exit("eprog_helpers: cannot read them: %s" % e)


main()
