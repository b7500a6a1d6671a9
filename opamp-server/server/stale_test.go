package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/open-telemetry/opamp-go/protobufs"
	"google.golang.org/protobuf/proto"

	"github.com/phoenix-otel/phoenix/agent"
)

// pollOnce is a plain-HTTP OpAMP agent that polls once and vanishes without
// a disconnect (a host that lost power).
func pollOnce(t *testing.T, ts *testServer, uid uuid.UUID, host string) {
	t.Helper()
	kv := func(k, v string) *protobufs.KeyValue {
		return &protobufs.KeyValue{Key: k, Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: v}}}
	}
	msg := &protobufs.AgentToServer{InstanceUid: uid[:], SequenceNum: 1, Capabilities: uint64(agent.Capabilities),
		AgentDescription: &protobufs.AgentDescription{NonIdentifyingAttributes: []*protobufs.KeyValue{kv("host.name", host)}}}
	body, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", strings.Replace(ts.OpAMPURL(), "ws://", "http://", 1), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Authorization", "Bearer "+ts.EnrollmentToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("poll: %d", resp.StatusCode)
	}
}

// A polling agent that went stale does not stay connected: its session is
// ended and its record marked offline after AgentStaleAfter, and the record
// is pruned after AgentRetention.
func TestStalePollingAgentGoesOfflineAndIsPruned(t *testing.T) {
	cfg := newConfig(t)
	cfg.AgentStaleAfter = time.Second
	cfg.AgentRetention = 4 * time.Second
	ts := startServer(t, cfg)
	uid := uuid.Must(uuid.NewV7())
	pollOnce(t, ts, uid, "ghost-1")
	_, a := ts.call(t, "GET", "/api/v1/agents/"+uid.String(), nil)
	if a["connected"] != true {
		t.Fatalf("just polled: %v", a)
	}
	eventually(t, "stale polling agent marked offline in its record", func() (bool, string) {
		_, a := ts.call(t, "GET", "/api/v1/agents/"+uid.String(), nil)
		return a["connected"] == false && a["online"] == false, fmt.Sprint(a["connected"], a["online"])
	})
	_, h := ts.call(t, "GET", "/api/v1/hosts/ghost-1", nil)
	if h["status"] != "offline" && h["status"] != "none" || h["connected"] != false {
		t.Fatalf("stale host: %v", h)
	}
	eventually(t, "offline agent pruned after the retention", func() (bool, string) {
		code, a := ts.call(t, "GET", "/api/v1/agents/"+uid.String(), nil)
		return code == 404, fmt.Sprint(code, a)
	})
	// A live agent is neither evicted nor pruned.
	live := ts.agent(t, "live-1", nil)
	ts.waitAgentKnown(t, "live-1")
	time.Sleep(5 * time.Second)
	_, a = ts.call(t, "GET", "/api/v1/agents/"+live.UID().String(), nil)
	if a["connected"] != true {
		t.Fatalf("a live WebSocket agent was marked offline: %v", a)
	}
}

// A retention shorter than the stale limit still prunes: the sweep reads
// the records older than the nearer of the two limits.
func TestRetentionShorterThanStaleLimitPrunes(t *testing.T) {
	cfg := newConfig(t)
	cfg.AgentStaleAfter = 40 * time.Second // sweeps every 10 s; stale limit 40 s + the liveness flush, past the 30 s wait
	cfg.AgentRetention = time.Second
	ts := startServer(t, cfg)
	gone := ts.agent(t, "gone-1", nil)
	ts.waitAgentKnown(t, "gone-1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := gone.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a disconnected agent pruned after a 1 s retention", func() (bool, string) {
		code, a := ts.call(t, "GET", "/api/v1/agents/"+gone.UID().String(), nil)
		return code == 404, fmt.Sprint(code, a)
	})
}
