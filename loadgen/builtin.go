package loadgen

import (
	"fmt"
	"math"
	"time"
)

const (
	kib = 1024.0
	mib = 1024 * kib
	gib = 1024 * mib
)

// CoreServices are the critical services every built-in profile runs, one
// process each, so that critical-process retention can be measured on any
// profile. Their executable names are what Phoenix's default critical lists
// match.
func CoreServices() []Group {
	return []Group{
		{NameTemplate: "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;", Executable: "nginx", Owner: "root",
			CPU: Pattern{Type: Spiky, Base: 0.02, Amplitude: 0.3, SpikeProbability: 0.15}, Memory: Pattern{Type: Steady, Base: 24 * mib}},
		{NameTemplate: "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf", Executable: "postgres", Owner: "postgres",
			CPU: Pattern{Type: Sine, Base: 0.05, Amplitude: 0.4, Period: 5 * time.Minute}, Memory: Pattern{Type: Growing, Base: 180 * mib, Amplitude: 120 * mib, Period: 30 * time.Minute}},
		{NameTemplate: "/usr/sbin/mysqld --basedir=/usr --datadir=/var/lib/mysql --plugin-dir=/usr/lib/mysql/plugin", Executable: "mysqld", Owner: "mysql",
			CPU: Pattern{Type: Steady, Base: 0.08}, Memory: Pattern{Type: Steady, Base: 420 * mib}},
		{NameTemplate: "/usr/bin/redis-server 127.0.0.1:6379", Executable: "redis-server", Owner: "redis",
			CPU: Pattern{Type: Spiky, Base: 0.01, Amplitude: 0.2}, Memory: Pattern{Type: Growing, Base: 60 * mib, Amplitude: 40 * mib, Period: 20 * time.Minute}},
		{NameTemplate: "java -Xmx1G -Xms1G -server -XX:+UseG1GC -cp /opt/kafka/libs/* kafka.Kafka /opt/kafka/config/server.properties", Executable: "java", Owner: "kafka",
			CPU: Pattern{Type: Sine, Base: 0.1, Amplitude: 0.5, Period: 3 * time.Minute}, Memory: Pattern{Type: Growing, Base: 700 * mib, Amplitude: 300 * mib, Period: 15 * time.Minute}},
		{NameTemplate: "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf", Executable: "kubelet", Owner: "root",
			CPU: Pattern{Type: Steady, Base: 0.04}, Memory: Pattern{Type: Steady, Base: 110 * mib}},
		{NameTemplate: "/usr/bin/containerd", Executable: "containerd", Owner: "root",
			CPU: Pattern{Type: Steady, Base: 0.02}, Memory: Pattern{Type: Steady, Base: 60 * mib}},
		{NameTemplate: "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", Executable: "dockerd", Owner: "root",
			CPU: Pattern{Type: Steady, Base: 0.01}, Memory: Pattern{Type: Steady, Base: 90 * mib}},
	}
}

func core() []Group {
	gs := CoreServices()
	for i := range gs {
		gs[i].Count = 1
		gs[i].core = true
	}
	return gs
}

type builtin struct {
	name            string
	minCount        int
	maxCount        int
	defCount        int
	minChurn        float64
	maxChurn        float64
	groups          func() []Group
	churnNeedsGroup bool
}

var builtins = map[string]builtin{
	ProfileRealistic:       {name: ProfileRealistic, minCount: 50, maxCount: 200, defCount: 100, maxChurn: 100, groups: realisticGroups},
	ProfileHighCardinality: {name: ProfileHighCardinality, minCount: 1000, maxCount: 2000, defCount: 1500, maxChurn: 500, groups: highCardinalityGroups},
	ProfileProcessChurn:    {name: ProfileProcessChurn, minCount: 30, maxCount: 1000, defCount: 80, minChurn: 1, maxChurn: 1000, groups: processChurnGroups},
}

// build makes the profile at its default size, then applies the overrides
// within the profile's documented bounds.
func (b builtin) build(o Overrides) (*Profile, error) {
	gs := b.groups()
	if o.ProcessCount != 0 {
		if o.ProcessCount < b.minCount || o.ProcessCount > b.maxCount {
			return nil, fmt.Errorf("process_count: profile %q takes %d to %d processes, got %d (use profile \"custom\" for other sizes)",
				b.name, b.minCount, b.maxCount, o.ProcessCount)
		}
		scaleCounts(gs, o.ProcessCount)
	}
	if o.ChurnRate != 0 {
		if o.ChurnRate < b.minChurn || o.ChurnRate > b.maxChurn || math.IsNaN(o.ChurnRate) {
			return nil, fmt.Errorf("churn_rate: profile %q takes %v to %v processes per second, got %v", b.name, b.minChurn, b.maxChurn, o.ChurnRate)
		}
		if !scaleChurn(gs, o.ChurnRate) {
			// No churning group by default: the short-lived jobs churn.
			for i := range gs {
				if gs[i].Lifetime > 0 {
					gs[i].ChurnRate = o.ChurnRate
					break
				}
			}
			if !scaleChurn(gs, o.ChurnRate) {
				return nil, fmt.Errorf("churn_rate: profile %q has no churning processes", b.name)
			}
		}
	}
	return &Profile{Name: b.name, Groups: gs, Seed: 1}, nil
}

// realisticGroups: about 70% long-lived services (steady and spiky web
// servers, databases, runtimes) and 30% short-lived jobs that start and stop
// every minute. Sized for 100 processes; scaleCounts resizes.
func realisticGroups() []Group {
	gs := core()
	gs = append(gs,
		Group{NameTemplate: "/usr/sbin/sshd -D", Count: 1, Owner: "root", CPU: Pattern{Type: Steady, Base: 0.001}, Memory: Pattern{Type: Steady, Base: 8 * mib}},
		Group{NameTemplate: "/lib/systemd/systemd --system --deserialize 31", Count: 1, Owner: "root", CPU: Pattern{Type: Steady, Base: 0.003}, Memory: Pattern{Type: Steady, Base: 12 * mib}},
		Group{NameTemplate: "/lib/systemd/systemd-journald", Count: 1, Owner: "root", CPU: Pattern{Type: Spiky, Base: 0.002, Amplitude: 0.05}, Memory: Pattern{Type: Growing, Base: 30 * mib, Amplitude: 30 * mib, Period: time.Hour}},
		Group{NameTemplate: "/usr/sbin/cron -f", Count: 1, Owner: "root", CPU: Pattern{Type: Steady, Base: 0.0005}, Memory: Pattern{Type: Steady, Base: 3 * mib}},
		Group{NameTemplate: "/usr/sbin/rsyslogd -n -iNONE", Count: 1, Owner: "syslog", CPU: Pattern{Type: Steady, Base: 0.002}, Memory: Pattern{Type: Steady, Base: 6 * mib}},
		Group{NameTemplate: "nginx: worker process #{i}", Executable: "nginx", Count: 4, Owner: "www-data", CPU: Pattern{Type: Spiky, Base: 0.03, Amplitude: 0.4}, Memory: Pattern{Type: Steady, Base: 30 * mib}},
		Group{NameTemplate: "postgres: app appdb 10.0.0.{i}(5{i}) idle", Executable: "postgres", Count: 6, Owner: "postgres", CPU: Pattern{Type: Spiky, Base: 0.01, Amplitude: 0.3, SpikeProbability: 0.05}, Memory: Pattern{Type: Steady, Base: 20 * mib}},
		Group{NameTemplate: "node /srv/web/server.js --port=30{i}", Count: 8, Owner: "app", CPU: Pattern{Type: Spiky, Base: 0.05, Amplitude: 0.5}, Memory: Pattern{Type: Growing, Base: 120 * mib, Amplitude: 200 * mib, Period: 20 * time.Minute}},
		Group{NameTemplate: "/usr/bin/python3 /srv/api/.venv/bin/gunicorn api.wsgi --worker-id {i}", Executable: "python3", Count: 10, Owner: "app", CPU: Pattern{Type: Sine, Base: 0.02, Amplitude: 0.3, Period: 4 * time.Minute}, Memory: Pattern{Type: Steady, Base: 90 * mib}},
		Group{NameTemplate: "java -Xmx2g -jar /opt/services/orders-{i}.jar --spring.profiles.active=prod", Executable: "java", Count: 6, Owner: "app", CPU: Pattern{Type: Growing, Base: 0.05, Amplitude: 0.6, Period: 10 * time.Minute}, Memory: Pattern{Type: Growing, Base: 600 * mib, Amplitude: 900 * mib, Period: 30 * time.Minute}},
		Group{NameTemplate: "php-fpm: pool www {i}", Executable: "php-fpm8.2", Count: 6, Owner: "www-data", CPU: Pattern{Type: Spiky, Base: 0.01, Amplitude: 0.25}, Memory: Pattern{Type: Steady, Base: 40 * mib}},
		Group{NameTemplate: "/usr/bin/memcached -m 64 -p 11211 -u memcache -l 127.0.0.1", Count: 1, Owner: "memcache", CPU: Pattern{Type: Steady, Base: 0.005}, Memory: Pattern{Type: Steady, Base: 64 * mib}},
		Group{NameTemplate: "/usr/bin/prometheus-node-exporter --collector.systemd", Count: 1, Owner: "prometheus", CPU: Pattern{Type: Steady, Base: 0.01}, Memory: Pattern{Type: Steady, Base: 18 * mib}},
		Group{NameTemplate: "/usr/bin/containerd-shim-runc-v2 -namespace k8s.io -id {hex}", Count: 15, Owner: "root", CPU: Pattern{Type: Steady, Base: 0.002}, Memory: Pattern{Type: Steady, Base: 9 * mib}},
		// 30 short-lived jobs that start and stop every minute.
		Group{NameTemplate: "/bin/sh -c /opt/jobs/backup.sh --run={id}", Executable: "sh", Count: 8, Lifetime: time.Minute, Owner: "root", CPU: Pattern{Type: Random, Base: 0.05, Amplitude: 0.4}, Memory: Pattern{Type: Growing, Base: 4 * mib, Amplitude: 20 * mib, Period: time.Minute}},
		Group{NameTemplate: "/usr/bin/python3 /opt/etl/etl.py --batch={id}", Executable: "python3", Count: 10, Lifetime: time.Minute, Owner: "app", CPU: Pattern{Type: Random, Base: 0.1, Amplitude: 0.6}, Memory: Pattern{Type: Growing, Base: 40 * mib, Amplitude: 150 * mib, Period: time.Minute}},
		Group{NameTemplate: "curl -sf http://127.0.0.1:80{i}/healthz", Executable: "curl", Count: 6, Lifetime: time.Minute, Owner: "app", CPU: Pattern{Type: Steady, Base: 0.01}, Memory: Pattern{Type: Steady, Base: 5 * mib}},
		Group{NameTemplate: "/usr/bin/logrotate /etc/logrotate.d/app-{id}", Executable: "logrotate", Count: 6, Lifetime: time.Minute, Owner: "root", CPU: Pattern{Type: Random, Base: 0.01, Amplitude: 0.1}, Memory: Pattern{Type: Steady, Base: 3 * mib}},
	)
	return gs
}

// highCardinalityGroups: 1000–2000 mostly idle processes, each with a unique
// command line. Sized for 1500.
func highCardinalityGroups() []Group {
	gs := core()
	idle := Pattern{Type: Random, Base: 0, Amplitude: 0.002}
	gs = append(gs,
		Group{NameTemplate: "/usr/bin/python3 -m worker --task-id={hex} --shard={i}", Executable: "python3", Count: 600, Owner: "app", CPU: idle, Memory: Pattern{Type: Random, Base: 15 * mib, Amplitude: 20 * mib}},
		Group{NameTemplate: "/bin/bash /opt/run/job-{id}.sh --queue=q{i}", Executable: "bash", Count: 300, Owner: "app", CPU: idle, Memory: Pattern{Type: Steady, Base: 3 * mib}},
		Group{NameTemplate: "node /srv/fn/handler.js --invocation={hex}", Executable: "node", Count: 300, Owner: "app", CPU: idle, Memory: Pattern{Type: Random, Base: 30 * mib, Amplitude: 30 * mib}},
		Group{NameTemplate: "sleep {id}", Count: 208, Owner: "app", CPU: Pattern{Type: Steady, Base: 0}, Memory: Pattern{Type: Steady, Base: 1 * mib}},
		// A few busy ones, so a top-N has something to rank.
		Group{NameTemplate: "/usr/bin/ffmpeg -i /data/in/{hex}.mp4 -c:v libx264 /data/out/{i}.mp4", Executable: "ffmpeg", Count: 42, Owner: "media", CPU: Pattern{Type: Sine, Base: 0.2, Amplitude: 0.8, Period: 2 * time.Minute}, Memory: Pattern{Type: Growing, Base: 200 * mib, Amplitude: 200 * mib, Period: 10 * time.Minute}},
		Group{NameTemplate: "java -Xmx512m -jar /opt/batch/indexer-{i}.jar", Executable: "java", Count: 42, Owner: "app", CPU: Pattern{Type: Spiky, Base: 0.05, Amplitude: 0.7}, Memory: Pattern{Type: Growing, Base: 300 * mib, Amplitude: 200 * mib, Period: 10 * time.Minute}},
	)
	return gs
}

// processChurnGroups: a steady base plus short-lived processes spawned and
// killed at churn_rate per second (default 25, within 20–30). Sized for 80.
func processChurnGroups() []Group {
	gs := core()
	gs = append(gs,
		Group{NameTemplate: "/usr/sbin/sshd -D", Count: 1, Owner: "root", CPU: Pattern{Type: Steady, Base: 0.001}, Memory: Pattern{Type: Steady, Base: 8 * mib}},
		Group{NameTemplate: "/lib/systemd/systemd --system --deserialize 31", Count: 1, Owner: "root", CPU: Pattern{Type: Steady, Base: 0.003}, Memory: Pattern{Type: Steady, Base: 12 * mib}},
		Group{NameTemplate: "node /srv/web/server.js --port=30{i}", Count: 10, Owner: "app", CPU: Pattern{Type: Spiky, Base: 0.05, Amplitude: 0.5}, Memory: Pattern{Type: Steady, Base: 150 * mib}},
		Group{NameTemplate: "/bin/sh -c /usr/local/bin/probe --target=svc-{i} --run={id}", Executable: "sh", Count: 30, ChurnRate: 15, Owner: "app", CPU: Pattern{Type: Random, Base: 0.01, Amplitude: 0.2}, Memory: Pattern{Type: Random, Base: 2 * mib, Amplitude: 6 * mib}},
		Group{NameTemplate: "/usr/bin/python3 /opt/hooks/hook.py --event={hex}", Executable: "python3", Count: 30, ChurnRate: 10, Owner: "app", CPU: Pattern{Type: Random, Base: 0.02, Amplitude: 0.3}, Memory: Pattern{Type: Random, Base: 20 * mib, Amplitude: 30 * mib}},
	)
	return gs
}
