package acceptance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/phoenix-otel/phoenix/acceptance/internal/harness"
	"github.com/phoenix-otel/phoenix/opamp-server/api"
	"github.com/phoenix-otel/phoenix/pipelines"
)

// service is a real process the suite starts through the loadgen spawner,
// shaped as the service runs in production: its argv, and the name the
// kernel gives it (the first 15 bytes of its executable's base name).
type service struct {
	what string // the service, for the report
	argv string
	exe  string
}

// criticalServices are nginx, java and one process of every service the
// default critical list names, each started the way it runs on a host
// (JVM and Erlang services run as java and beam.smp, Python application
// servers under python3).
var criticalServices = []service{
	{"nginx master", "nginx: master process /usr/sbin/nginx -g daemon off;", "nginx"},
	{"nginx worker", "nginx: worker process", "nginx"},
	{"java service", "java -Xmx512m -jar /srv/orders/orders-service.jar --spring.profiles.active=prod", "java"},
	{"Kafka broker (JVM)", "java -Xmx1G -server -cp /opt/kafka/libs/* kafka.Kafka /opt/kafka/config/server.properties", "java"},
	{"ZooKeeper (JVM)", "java -cp /opt/zookeeper/lib/* org.apache.zookeeper.server.quorum.QuorumPeerMain /conf/zoo.cfg", "java"},
	{"Apache httpd", "/usr/sbin/httpd -DFOREGROUND", "httpd"},
	{"Apache on Debian", "/usr/sbin/apache2 -k start", "apache2"},
	{"Caddy", "caddy run --config /etc/caddy/Caddyfile", "caddy"},
	{"HAProxy", "haproxy -Ws -f /etc/haproxy/haproxy.cfg", "haproxy"},
	{"Envoy", "envoy -c /etc/envoy/envoy.yaml", "envoy"},
	{"Traefik", "traefik --configFile=/etc/traefik/traefik.yml", "traefik"},
	{"PostgreSQL", "postgres -D /var/lib/postgresql/15/main", "postgres"},
	{"PostgreSQL (postmaster)", "postmaster -D /var/lib/pgsql/data", "postmaster"},
	{"MySQL", "/usr/sbin/mysqld --basedir=/usr --datadir=/var/lib/mysql", "mysqld"},
	{"MariaDB", "/usr/sbin/mariadbd --basedir=/usr", "mariadbd"},
	{"MongoDB", "mongod --config /etc/mongod.conf", "mongod"},
	{"Redis", "/usr/bin/redis-server 127.0.0.1:6379", "redis-server"},
	{"Memcached", "memcached -m 64 -p 11211 -u memcache", "memcached"},
	{"etcd", "etcd --data-dir /var/lib/etcd", "etcd"},
	{"ClickHouse", "/usr/bin/clickhouse-server --config-file=/etc/clickhouse-server/config.xml", "clickhouse-serv"},
	{"Cassandra (JVM)", "java -Xms1G -cp /usr/share/cassandra/lib/* org.apache.cassandra.service.CassandraDaemon", "java"},
	{"RabbitMQ (Erlang VM)", "/usr/lib/erlang/erts-13.1/bin/beam.smp -W w -- -root /usr/lib/erlang -progname erl -- -home /var/lib/rabbitmq -s rabbit boot", "beam.smp"},
	{"NATS", "nats-server -c /etc/nats/nats-server.conf", "nats-server"},
	{"kubelet", "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml", "kubelet"},
	{"kube-proxy", "/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf", "kube-proxy"},
	{"containerd", "/usr/bin/containerd", "containerd"},
	{"dockerd", "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", "dockerd"},
	{"CRI-O", "/usr/bin/crio --log-level info", "crio"},
	{"gunicorn (Python)", "/usr/bin/python3 /usr/local/bin/gunicorn orders.wsgi:application --workers 4 --bind 0.0.0.0:8000", "python3"},
	{"uvicorn (Python)", "python3 -m uvicorn api.main:app --host 0.0.0.0 --port 8080", "python3"},
	{"Celery worker (Python)", "/usr/bin/python3 /usr/local/bin/celery -A tasks worker --loglevel=info", "python3"},
	{"Django runserver (Python)", "python3 manage.py runserver 0.0.0.0:8000", "python3"},
	{"Node service", "node /srv/web/server.js --port=3000", "node"},
}

// fillers are ordinary processes that neither the default critical list nor
// a priority list names (one-off interpreters and jobs): priority-based
// drops them, which shows the filter really filters.
var fillers = []struct {
	argv, exe string
	count     int
}{
	{"python3 /opt/app/worker.py --queue=q{i}", "python3", 10},
	{"node /srv/jobs/handler.js --job={i}", "node", 10},
	{"backup-job --target=s3://backups/{hex}", "backup-job", 5},
	{"sleep 36{i}", "sleep", 10},
}

// criticalProfile is a custom loadgen profile of the services above and
// the fillers, every process living for the whole run.
func criticalProfile(services []service) string {
	var b strings.Builder
	b.WriteString("name: acceptance-critical\nprocesses:\n")
	entry := func(argv, exe string, count int) {
		q, _ := json.Marshal(argv)
		fmt.Fprintf(&b, "  - name_template: %s\n    executable: %s\n    count: %d\n    cpu: {pattern: steady, base: 0.002}\n    memory: {pattern: steady, base: 2MiB}\n", q, exe, count)
	}
	for _, sv := range services {
		entry(sv.argv, sv.exe, 1)
	}
	for _, f := range fillers {
		entry(f.argv, f.exe, f.count)
	}
	return b.String()
}

// AT-P02: priority-based, with its default critical list, keeps every
// critical process whole in every scrape, counted in Prometheus; the
// fillers are dropped.
func atP02PriorityKeepsCritical(t *testing.T) {
	a := begin(t, "AT-P02",
		"`process-priority-based-v1` keeps 100% of critical processes (nginx, java and the default list) in every scrape",
		"every critical process with all its metrics in every one of >= 6 scrapes (2 s interval), counted in Prometheus", true)
	// The template's default critical list, as the CLI shows it.
	defaults := a.defaultCritical("process-priority-based-v1")
	for _, re := range defaults {
		matched := false
		for _, sv := range criticalServices {
			if re.MatchString(sv.exe) || re.MatchString(sv.argv) {
				matched = true
			}
		}
		if !matched {
			a.Failf("default critical pattern %q matches none of the suite's service processes: add the service it names to criticalServices", re)
		}
	}
	params := []string{"--param", "collection_interval=2s", "--param", "batch_timeout=500ms"}
	if a.fault("critical_processes set to the default list without its nginx pattern") {
		var keep []string
		for _, re := range defaults {
			if !strings.Contains(re.String(), "nginx") {
				keep = append(keep, re.String())
			}
		}
		js, _ := json.Marshal(keep)
		params = append(params, "--param", "critical_processes="+string(js))
	}
	host := a.host("h")
	ag := a.agent(host, harness.AgentOptions{})
	a.deleteAtEnd("at-p02")
	a.must(append([]string{"pipeline", "deploy", "process-priority-based-v1", "--name", "at-p02", "--host", host,
		"--destination", s.backend.Destination, "--watch", "--timeout", "3m"}, params...)...)

	// The services, as real processes of the agent's spawner.
	profile := filepath.Join(s.dir, "at-p02-profile.yaml")
	a.Require("write profile", os.WriteFile(profile, []byte(criticalProfile(criticalServices)), 0o644))
	r := a.must("loadsim", "start", "--mode", "process", "--profile", "custom", "--profile-file", profile, "--target-host", host, "--watch", "--timeout", "2m")
	job := regexp.MustCompile(`ls-[0-9a-f]+`).FindString(r.Stdout)
	t.Cleanup(func() { s.cli.Run(a.ctx, "loadsim", "stop", job, "--watch", "--timeout", "1m") })
	want := len(criticalServices)
	for _, f := range fillers {
		want += f.count
	}
	critPID := map[int]service{}
	fillerPID := map[int]string{}
	colPID, _, _ := ag.Collector()
	err := harness.WaitUntil(a.ctx, 250*time.Millisecond, func() (bool, string) {
		clear(critPID)
		clear(fillerPID)
		for _, c := range harness.Children(ag.PID()) {
			if c.PID == colPID {
				continue
			}
			line := strings.Join(c.Cmdline, " ")
			found := false
			for _, sv := range criticalServices {
				if line == sv.argv {
					critPID[c.PID] = sv
					found = true
				}
			}
			if !found {
				fillerPID[c.PID] = line
			}
		}
		return len(critPID) == len(criticalServices) && len(critPID)+len(fillerPID) == want,
			fmt.Sprintf("%d critical and %d other load processes live, want %d and %d", len(critPID), len(fillerPID), len(criticalServices), want-len(criticalServices))
	})
	a.Require("load processes", err)
	live := time.Now()

	scrapes := a.scrapes(host, live.Add(time.Second), 6, 2*time.Minute, 5*time.Second)
	missing := map[int]int{}    // pid -> scrapes it is missing from or incomplete in
	incomplete := map[int]int{} // pid -> scrapes it is in without all its metrics
	fillersKept, outSeries := 0, []int{}
	for _, sc := range scrapes {
		procs := byPID(sc)
		full := map[string]bool{}
		for _, names := range procs {
			for n := range names {
				full[n] = true
			}
		}
		for pid := range critPID {
			switch {
			case len(procs[pid]) == 0:
				missing[pid]++
			case len(procs[pid]) < len(full):
				missing[pid]++
				incomplete[pid]++
			}
		}
		for pid := range fillerPID {
			if procs[pid] != nil {
				fillersKept++
			}
		}
		outSeries = append(outSeries, len(sc.Series))
	}
	kept := len(critPID) - len(missing)
	a.Figure("critical_processes", float64(len(critPID)))
	a.Figure("critical_kept_in_every_scrape", float64(kept))
	a.Figure("scrapes", float64(len(scrapes)))
	a.Figure("output_series_median", median(outSeries))
	var lost []string
	for pid, n := range missing {
		lost = append(lost, fmt.Sprintf("%s (%q, pid %d) absent from %d/%d scrapes, incomplete in %d", critPID[pid].what, critPID[pid].argv, pid, n-incomplete[pid], len(scrapes), incomplete[pid]))
	}
	sort.Strings(lost)
	a.Measured("%d/%d critical processes (nginx, java and one of each service of the default list, real spawner processes) whole in all %d scrapes in Prometheus; %d other load processes dropped in every scrape (%d appearances); output %.0f series per scrape (median)",
		kept, len(critPID), len(scrapes), len(fillerPID), fillersKept, median(outSeries))
	if len(lost) > 0 {
		a.Failf("critical processes lost: %s", strings.Join(lost, "; "))
	}
	if fillersKept > 0 {
		a.Failf("%d appearances of processes no priority list names: the filter does not filter", fillersKept)
	}
}

// defaultCritical returns a template's default critical_processes patterns,
// read through `phoenix pipeline show --params`.
func (a *at) defaultCritical(template string) []*regexp.Regexp {
	a.t.Helper()
	var tmpl pipelines.Template
	a.Require("pipeline show --params", a.cli.JSON(a.ctx, &tmpl, "pipeline", "show", template, "--params"))
	for _, p := range tmpl.Params {
		if p.Name != "critical_processes" {
			continue
		}
		list, _ := p.Default.([]any)
		var out []*regexp.Regexp
		for _, v := range list {
			str, _ := v.(string)
			re, err := regexp.Compile(str)
			a.Require("default critical pattern", err)
			out = append(out, re)
		}
		if len(out) == 0 {
			a.Failf("template %s: critical_processes has no default list", template)
		}
		return out
	}
	a.Failf("template %s has no critical_processes parameter", template)
	return nil
}

// AT-P03: topk against the baseline on the same high-cardinality load
// simulation on one host, both counted in Prometheus per collection
// interval.
func atP03TopKCutsHighCardinality(t *testing.T) {
	a := begin(t, "AT-P03",
		"`process-topk-v1` under the high-cardinality load simulation cuts output series by at least 50% against input (our bound: 90%), counted in the backend",
		"1 - topk series / baseline series per interval >= 90% (medians over >= 4 intervals of 5 s each)", true)
	host := a.host("h")
	a.agent(host, harness.AgentOptions{})
	a.deleteAtEnd("at-p03")
	interval := 5 * time.Second
	params := []string{"--param", "collection_interval=5s", "--param", "batch_timeout=1s"}
	// Input: the baseline passes every series on; the load simulation
	// (synthetic high-cardinality processes beside the real scraper) runs
	// under both versions.
	a.must(append([]string{"pipeline", "deploy", "process-baseline-v1", "--name", "at-p03", "--host", host,
		"--destination", s.backend.Destination, "--watch", "--timeout", "3m"}, params...)...)
	r := a.must("loadsim", "start", "--mode", "synthetic", "--profile", "high-cardinality", "--target-host", host, "--watch", "--timeout", "2m")
	job := regexp.MustCompile(`ls-[0-9a-f]+`).FindString(r.Stdout)
	t.Cleanup(func() { s.cli.Run(a.ctx, "loadsim", "stop", job, "--watch", "--timeout", "1m") })
	in := a.intervals(host, time.Now().Add(interval), interval)

	topk := append([]string{"pipeline", "deploy", "process-topk-v1", "--name", "at-p03", "--watch", "--timeout", "3m"}, params...)
	if a.fault("topk deployed with k=5000, above the number of processes") {
		topk = append(topk, "--param", "k=5000")
	}
	a.must(topk...)
	var st api.DeploymentStatus
	a.Require("pipeline status", a.cli.JSON(a.ctx, &st, "pipeline", "status", "at-p03"))
	if st.Version != 2 || st.Status != api.StatusApplied {
		a.Failf("topk version not applied: %+v", st)
	}
	// One interval for topk's smoothing, then count.
	out := a.intervals(host, time.Now().Add(interval), interval)
	inMed, outMed := median(in), median(out)
	red := 1 - outMed/inMed
	a.Figure("input_series_median", inMed)
	a.Figure("output_series_median", outMed)
	a.Figure("reduction", red)
	a.Measured("baseline (input) %.0f series per interval, topk (k=10) %.0f series per interval (per-interval counts %v -> %v), reduction %s, in Prometheus",
		inMed, outMed, in, out, pct(red))
	if inMed < 10000 {
		a.Failf("input %.0f series per interval: the high-cardinality simulation (1500 processes, about 10,500 series) did not reach the backend", inMed)
	}
	if red < 0.90 {
		a.Failf("reduction %s < 90%%", pct(red))
	}
}

// intervals returns the series counts of 4 complete collection intervals of
// host stamped after since (a host with a load simulation may stamp its two
// receivers' collections apart: Intervals groups them).
func (a *at) intervals(host string, since time.Time, interval time.Duration) []int {
	a.t.Helper()
	need := 6
	for {
		sc := a.scrapes(host, since, need, 3*time.Minute, 2*interval)
		iv := harness.Intervals(sc, interval)
		if len(iv) >= 6 {
			// The first and the last group may be partial.
			var out []int
			for _, x := range iv[1 : len(iv)-1] {
				out = append(out, x.Series)
			}
			return out
		}
		need += 6 - len(iv)
	}
}
