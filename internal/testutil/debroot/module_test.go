package debroot

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The deploy module imports this package through a replace of the root
// module, so the root module's requirements are part of its build: when the
// root module raises a version deploy shares (golang.org/x/sys, say),
// deploy/go.mod falls behind and its tests stop with "updates to go.mod
// needed". This test says so in `make test`, with the fix.
func TestDeployModuleInStepWithTheRoot(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	_, file, _, _ := runtime.Caller(0)
	deploy := filepath.Join(filepath.Dir(file), "..", "..", "..", "deploy")
	cmd := exec.Command(goBin, "list", "-mod=readonly", "-m", "all")
	cmd.Dir = deploy
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deploy/go.mod is behind the root module's requirements (deploy requires the root module for internal/testutil/debroot): run `cd deploy && go mod tidy` and commit deploy/go.mod and deploy/go.sum.\n%v: %s", err, strings.TrimSpace(string(out)))
	}
}
