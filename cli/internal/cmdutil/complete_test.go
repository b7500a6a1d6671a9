package cmdutil

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/phoenix-otel/phoenix/cli/internal/client"
)

type names struct {
	Items []struct{ Name, State string } `json:"items"`
}

// Complete asks the server once for the first argument only, and completes
// nothing when the server fails.
func TestCompleteFromTheServer(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.URL.Path != "/api/v1/things" {
			http.Error(w, `{"title":"no"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":[{"Name":"a","State":"running"},{"Name":"b","State":"paused"}]}`))
	}))
	defer srv.Close()
	f := &Factory{Client: func() (*client.Client, error) { return client.New(srv.URL, "t", "") }}
	lines := func(n names) []string {
		var out []string
		for _, i := range n.Items {
			out = append(out, i.Name+"\t"+i.State)
		}
		return out
	}
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	got, dir := Complete(f, "/api/v1/things", nil, lines)(cmd, nil, "")
	if !slices.Equal(got, []string{"a\trunning", "b\tpaused"}) || dir != cobra.ShellCompDirectiveNoFileComp {
		t.Fatalf("first argument: %q, directive %d", got, dir)
	}
	if got, _ := Complete(f, "/api/v1/things", nil, lines)(cmd, []string{"a"}, ""); got != nil || calls != 1 {
		t.Fatalf("second argument: %q after %d calls, want nothing and no call", got, calls)
	}
	if got, _ := Complete(f, "/api/v1/other", nil, lines)(cmd, nil, ""); got != nil {
		t.Fatalf("server error: %q, want nothing", got)
	}
}
