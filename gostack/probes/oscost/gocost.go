// gocost: what goroutines cost, measured from inside one Go process (lesson 01).
//
//	gocost mem N               start N goroutines that block; memory and CPU per goroutine
//	gocost switch ROUNDS REPS  channel ping-pong at GOMAXPROCS=1 and 2, and with LockOSThread
//
// Each run prints one JSON object on stdout. Memory comes from runtime.ReadMemStats
// (StackInuse: the goroutine stacks) and /proc/self/status (VmRSS, VmSize, Threads);
// CPU time and kernel context switches from getrusage(RUSAGE_SELF), which covers
// every thread of the process. Run it with GOGC=off GODEBUG=adaptivestackstart=0:
// no collection during a measurement, and every new goroutine starts at stackMin
// (2 KiB).
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// obj writes one flat JSON object: keys and values in order, values already encoded.
type obj struct{ b strings.Builder }

func (o *obj) raw(k, v string) *obj {
	if o.b.Len() == 0 {
		o.b.WriteByte('{')
	} else {
		o.b.WriteString(", ")
	}
	o.b.WriteString(strconv.Quote(k) + ": " + v)
	return o
}
func (o *obj) i(k string, v int64) *obj  { return o.raw(k, strconv.FormatInt(v, 10)) }
func (o *obj) s(k string, v string) *obj { return o.raw(k, strconv.Quote(v)) }
func (o *obj) String() string            { return o.b.String() + "}" }

type usage struct{ cpuNs, csw, minflt int64 }

func rusage() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail(err.Error())
	}
	ns := func(t syscall.Timeval) int64 { return t.Nano() }
	return usage{ns(ru.Utime) + ns(ru.Stime), ru.Nvcsw + ru.Nivcsw, ru.Minflt}
}

// status reads the kB fields of /proc/self/status that we need, in KiB; -1 each where
// there is no such file (macOS). GOSTACK_PROC stands in for /proc, as in gostack.oscost.
func status() (rss, size, threads int64) {
	proc := os.Getenv("GOSTACK_PROC")
	if proc == "" {
		proc = "/proc"
	}
	data, err := os.ReadFile(proc + "/self/status")
	if err != nil {
		return -1, -1, -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmSize:":
			size = v
		case "Threads:":
			threads = v
		}
	}
	return
}

func fail(msg string) {
	os.Stderr.WriteString("gocost: " + msg + "\n")
	os.Exit(2)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		fail("not a positive integer: " + s)
	}
	return n
}

// mem starts n goroutines that each signal and then block on a channel, the
// smallest thing a goroutine can do, and reports what they hold.
func mem(n int) string {
	debug.SetGCPercent(-1)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rss0, size0, _ := status()
	u0, t0 := rusage(), time.Now()

	gate := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-gate
		}()
	}
	started.Wait() // every goroutine has run and is parked

	wall, u1 := time.Since(t0), rusage()
	runtime.ReadMemStats(&m1)
	rss1, size1, threads := status()
	proc := int64(1) // 0: no /proc, the three status fields mean nothing
	if rss1 < 0 {
		proc = 0
	}
	out := (&obj{}).s("mode", "mem").s("go", runtime.Version()).i("n", int64(n)).
		i("gomaxprocs", int64(runtime.GOMAXPROCS(0))).
		i("stack_inuse", int64(m1.StackInuse)-int64(m0.StackInuse)).
		i("heap_inuse", int64(m1.HeapInuse)-int64(m0.HeapInuse)).
		i("sys", int64(m1.Sys)-int64(m0.Sys)).
		i("vmrss_kib", rss1-rss0).i("vmsize_kib_before", size0).i("vmsize_kib", size1).
		i("threads", threads).i("goroutines", int64(runtime.NumGoroutine())).
		i("create_cpu_ns", u1.cpuNs-u0.cpuNs).i("create_wall_ns", wall.Nanoseconds()).
		i("minflt", u1.minflt-u0.minflt).i("proc", proc).String()
	close(gate)
	return out
}

// pingpong bounces a value between two goroutines over unbuffered channels:
// one round trip is two switches. locked pins both goroutines to their own
// OS thread, so every hop becomes a kernel thread handoff.
func pingpong(rounds int, locked bool) string {
	ping, pong := make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		if locked {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		for v := range ping {
			pong <- v
		}
		close(done)
	}()
	if locked {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	for i := 0; i < 1000; i++ { // warm up: both sides running, threads created
		ping <- i
		<-pong
	}
	u0, t0 := rusage(), time.Now()
	for i := 0; i < rounds; i++ {
		ping <- i
		<-pong
	}
	wall, u1 := time.Since(t0), rusage()
	close(ping)
	<-done
	return (&obj{}).i("rounds", int64(rounds)).i("wall_ns", wall.Nanoseconds()).
		i("cpu_ns", u1.cpuNs-u0.cpuNs).i("csw", u1.csw-u0.csw).String()
}

func switches(rounds, reps int) string {
	var p1, p2, lk []string
	for r := 0; r < reps; r++ { // interleaved, so a busy moment hits every variant alike
		runtime.GOMAXPROCS(1)
		p1 = append(p1, pingpong(rounds, false))
		runtime.GOMAXPROCS(2)
		p2 = append(p2, pingpong(rounds, false))
		runtime.GOMAXPROCS(1)
		lk = append(lk, pingpong(rounds/20+1, true))
	}
	list := func(xs []string) string { return "[" + strings.Join(xs, ", ") + "]" }
	return (&obj{}).s("mode", "switch").s("go", runtime.Version()).
		raw("chan_p1", list(p1)).raw("chan_p2", list(p2)).raw("locked", list(lk)).String()
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 2 && args[0] == "mem":
		os.Stdout.WriteString(mem(atoi(args[1])) + "\n")
	case len(args) == 3 && args[0] == "switch":
		os.Stdout.WriteString(switches(atoi(args[1]), atoi(args[2])) + "\n")
	default:
		fail("usage: gocost mem N | gocost switch ROUNDS REPS")
	}
}
