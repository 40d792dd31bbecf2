"""Channels: ``chansend``, ``chanrecv``, ``closechan`` (go1.27.3 ``runtime/chan.go``).

Invariants:

* a send first hands its value to the longest-waiting receiver (``recvq`` is FIFO:
  ``waitq.enqueue`` at the tail, ``dequeue`` from the head) and readies it with
  ``goready``: runnext of the sender's P; the sender keeps running (chan.go ``send``);
* else it fills the buffer if there is room; else it parks at ``sendq``'s tail;
* a receive from a channel with a waiting sender: unbuffered, it takes the sender's
  value; buffered (then full), it takes the buffer's head and moves the sender's value
  to the buffer's tail; either way the sender is readied into runnext (chan.go ``recv``);
* ``closechan`` collects every receiver, then every sender, onto a ``gList`` — a stack:
  ``push`` adds at the head — and readies them by ``pop``: so the **last** waiter is
  readied first, and the first receiver ends in runnext, the others on the ring in
  reverse order of waiting.

Values are ints (the probe sends ``i << 16 | (j + 1)``). ``select`` is not modelled: its
case order is random (``fastrandn``), not something one run can confirm.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..errors import GostackError
from .park import Coro, gopark, goready
from .runtime2 import G, World


class ChanPanic(GostackError, RuntimeError):
    """``panic: send on closed channel`` and friends."""


@dataclass(eq=False)
class Sudog:
    """A G waiting on a channel (runtime2.go ``sudog``): its value slot and outcome."""

    g: G
    elem: int | None = None
    success: bool = False


@dataclass(eq=False)
class Hchan:
    """``hchan``: ``dataqsiz`` slots of buffer, the receive and send wait queues."""

    name: str
    dataqsiz: int = 0
    buf: deque[int] = field(default_factory=deque)
    recvq: deque[Sudog] = field(default_factory=deque)
    sendq: deque[Sudog] = field(default_factory=deque)
    closed: bool = False


def chansend(w: World, c: Hchan, value: int) -> Coro:
    """chan.go ``chansend`` (blocking): returns when the value is delivered or buffered."""
    if c.closed:
        raise ChanPanic("send on closed channel")
    if c.recvq:
        sg = c.recvq.popleft()
        sg.elem = value  # sendDirect
        sg.success = True
        goready(w, sg.g)
        return
    if len(c.buf) < c.dataqsiz:
        c.buf.append(value)
        return
    mysg = Sudog(w.g, value)
    c.sendq.append(mysg)
    yield from gopark(w, "chan send")
    if not mysg.success:
        raise ChanPanic("send on closed channel")


def chanrecv(w: World, c: Hchan) -> Coro:
    """chan.go ``chanrecv`` (blocking): returns (value, ok)."""
    if c.closed and not c.buf:
        return 0, False
    if not c.closed and c.sendq:
        sg = c.sendq.popleft()
        if c.dataqsiz == 0:
            value = sg.elem  # recvDirect
        else:
            value = c.buf.popleft()  # the buffer's head; the sender's value to its tail
            c.buf.append(sg.elem)
        sg.success = True
        goready(w, sg.g)
        return value, True
    if c.buf:
        return c.buf.popleft(), True
    mysg = Sudog(w.g)
    c.recvq.append(mysg)
    yield from gopark(w, "chan receive")
    return (mysg.elem if mysg.success else 0), mysg.success


def closechan(w: World, c: Hchan) -> None:
    """chan.go ``closechan``: wake every waiter; the gList makes it last-in, first-out."""
    if c.closed:
        raise ChanPanic("close of closed channel")
    c.closed = True
    glist: list[G] = []  # gList: push at the head
    while c.recvq:
        sg = c.recvq.popleft()
        sg.elem, sg.success = None, False
        glist.insert(0, sg.g)
    while c.sendq:
        sg = c.sendq.popleft()
        sg.elem, sg.success = None, False
        glist.insert(0, sg.g)
    for gp in glist:  # glist.pop() from the head
        goready(w, gp)
