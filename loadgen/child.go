package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"
)

// RunChildIfRequested turns this process into a load child when the spawner
// started it, and never returns in that case. Any binary that hosts a
// Spawner calls it first thing in main (and in TestMain).
func RunChildIfRequested() {
	raw, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen child: bad %s: %v\n", childEnv, err)
		os.Exit(2)
	}
	runChild(spec)
	os.Exit(0)
}

func runChild(spec childSpec) {
	// Linux's comm is what the process scraper reports as the executable name.
	// Writing /proc/self/comm names the thread-group leader, whichever Go
	// thread runs this.
	_ = os.WriteFile("/proc/self/comm", []byte(spec.Name), 0)
	// The spawner holds the other end of stdin; when it dies or closes it,
	// read returns and the child exits.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	parent := os.Getppid()
	rng := rand.New(rand.NewPCG(uint64(spec.Seed), 7))
	start := time.Now()
	var mem []byte
	const slot = 100 * time.Millisecond
	for i := 0; ; i++ {
		age := time.Since(start)
		if i%10 == 0 {
			if os.Getppid() != parent { // reparented: the spawner is gone
				return
			}
			want := int64(spec.Memory.At(age, spec.Phase, rng))
			want = min(want, spec.MaxMemory)
			if int64(len(mem)) != want {
				mem = make([]byte, want)
			}
			for j := 0; j < len(mem); j += 4096 { // touch every page so it is resident
				mem[j] = byte(i)
			}
		}
		cpu := min(spec.CPU.At(age, spec.Phase, rng)*spec.CPUScale, 1)
		busy := time.Duration(cpu * float64(slot))
		deadline := time.Now().Add(busy)
		for time.Now().Before(deadline) {
		}
		time.Sleep(slot - busy)
	}
}
