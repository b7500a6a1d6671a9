package pipelines

import "fmt"

// MaxTargetHosts bounds the host names one target may list.
const MaxTargetHosts = 10000

// ValidateHostName checks a target host name the way Render checks the
// host name it renders for (Context.HostName, checkLabel): letters, digits
// and . _ : / -, starting with a letter or digit, at most 128 characters. A
// name that fails here could never be rendered for.
func ValidateHostName(s string) error {
	const rule = "a host name has letters, digits and . _ : / -, starts with a letter or digit, and has at most 128 characters"
	switch {
	case s == "":
		return fmt.Errorf("host name is empty (%s)", rule)
	case len(s) > 128:
		return fmt.Errorf("host name %s is %d characters long (%s)", quoteShort(s), len(s), rule)
	case !labelRe.MatchString(s):
		return fmt.Errorf("host name %s is not valid (%s)", quoteShort(s), rule)
	}
	return nil
}

// quoteShort quotes s for a message, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q…", s[:64])
	}
	return fmt.Sprintf("%q", s)
}
