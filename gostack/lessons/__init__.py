"""The teaching layer: each lesson's computations, figures and widgets, one module per lesson.

    l00_welcome       depth explorer: one recursion's stack, call by call
    l01_thread_cost   the thread/goroutine/generator cost figure (measurements: gostack.oscost)
    l02_small_stacks  the population figures and explorer (model: gostack.population)
    l03_prologue      one prologue check, drawn, and the prologue explorer
    l04_newstack      newstack's sizing, a recursion's growths and copies, the growth explorer
    l05_copystack     stackalloc's paths, slots before and after a move, the address map
    l06_stack_maps    stack maps, adjustframe on and off, the adjust explorer
    l08_beyond        shrinking at GC, the hot split, the shrink explorer
    l09_why_scheduler lesson 01's costs, threads for N waiting goroutines, the blocking explorer
                      (model: gostack.sched.procs; real runs: gostack.sched.stats)

Shared by several lessons:

    running   the running example (worker 40, recA 160) of lessons 00 and 03-08
    recorder  a run taken apart into steps (Recorder, Tape, Step, Phase): lessons 05-08
    stepper   the stepper over a tape (Cursor, step_figure, stepper with Play): 05, 06, 07
    draw      drawing primitives: palette, style, a stack, a growth staircase, a move
    view      widget plumbing: static figures, a widget's live Picture, readouts, the box

Lesson 07 has no module of its own: its views are the recorder and the stepper over the
whole growth path.
The real-Go programs lessons 04-08 compare with are ``gostack.golessons``.

In every module, computations return frozen values and never draw; figure functions take
those values (and a figure to redraw into, for widgets); widget functions wire controls to
both. Imports only go down this list's dependencies (tests/test_layout.py checks there is
no cycle and no module over 450 lines).
"""
