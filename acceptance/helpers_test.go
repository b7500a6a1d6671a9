package acceptance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/phoenix-otel/phoenix/acceptance/internal/harness"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// scrapes waits until Prometheus holds at least n complete collections of
// host's process series stamped after since, and returns them (oldest
// first). A collection counts as complete once a newer one is stored, or
// settle has passed since its time.
func (a *at) scrapes(host string, since time.Time, n int, timeout, settle time.Duration) []harness.Scrape {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	var got []harness.Scrape
	for {
		series, err := s.prom.Raw(a.ctx, harness.HostSelector(host), max(time.Since(since), 0)+2*time.Second, time.Now())
		a.Require("query Prometheus", err)
		got = got[:0]
		all := harness.Scrapes(series, 500*time.Millisecond)
		for i, sc := range all {
			if !sc.T.After(since) {
				continue
			}
			if i == len(all)-1 && time.Since(sc.T) < settle {
				continue // the newest may still be arriving
			}
			got = append(got, sc)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			a.Failf("Prometheus holds %d complete collections of host %s since %s, want %d within %s", len(got), host, since.Format(time.TimeOnly), n, timeout)
		}
		time.Sleep(time.Second)
	}
}

// byPID indexes a collection's series by process pid: the metric names of
// each process.
func byPID(sc harness.Scrape) map[int]map[string]bool {
	out := map[int]map[string]bool{}
	for _, se := range sc.Series {
		pid, err := strconv.Atoi(se.Labels["process_pid"])
		if err != nil {
			continue
		}
		if out[pid] == nil {
			out[pid] = map[string]bool{}
		}
		out[pid][se.Labels["__name__"]] = true
	}
	return out
}

func median(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]int(nil), xs...)
	sort.Ints(s)
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
