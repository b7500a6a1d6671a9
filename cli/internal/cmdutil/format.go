package cmdutil

import (
	"fmt"
	"strconv"
	"time"

	"github.com/phoenix-otel/phoenix/cli/internal/output"
)

// StatusStyle colours a status in a table.
func StatusStyle(s string) output.Style {
	switch s {
	case "applied", "running", "finished", "none", "online", "healthy":
		return output.Good
	case "pending", "applying", "offline", "stopped", "degraded":
		return output.Warn
	case "failed", "unhealthy":
		return output.Bad
	}
	return output.Plain
}

// VersionText is a version number, or nothing for none.
func VersionText(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

// Ago is a short age ("12s", "5m", "3h", "2d").
func Ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
