package adaptivefilterprocessor

import "time"

// dropReason says why a process is not in the output.
type dropReason uint8

const (
	keepNone       dropReason = iota // not dropped by a rule
	dropIdle                         // drop_rules.idle
	dropShortLived                   // drop_rules.short_lived
	dropEphemeral                    // drop_rules.ephemeral_names
	dropProbation                    // younger than probation
	dropThreshold                    // below the current thresholds
	dropBudget                       // over max_cardinality (enforce_budget)
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"", "idle", "short_lived", "ephemeral_name", "probation", "threshold", "budget"}

// rules holds the drop rules, evaluated in the order idle, short-lived,
// ephemeral name. Critical processes never reach them.
type rules struct {
	cfg DropRulesConfig
}

// apply returns the first rule that drops a process with this CPU rate
// (cores), memory (bytes) and age (negative = unknown); ephemeral is the
// ephemeral-name verdict on its executable name (see ephemeralName), worked
// out once per process.
func (r rules) apply(cpu, mem float64, age time.Duration, ephemeral bool) dropReason {
	if r.cfg.Idle.Enabled && cpu < r.cfg.Idle.CPU && mem < r.cfg.Idle.Memory {
		return dropIdle
	}
	if r.cfg.ShortLived.Enabled && age >= 0 && age < r.cfg.ShortLived.MinAge && cpu < r.cfg.ShortLived.CPU {
		return dropShortLived
	}
	if r.cfg.Ephemeral.Enabled && ephemeral {
		return dropEphemeral
	}
	return keepNone
}

// ephemeralName reports whether name carries a generated id: a run of at
// least minDigits decimal digits, or a run of at least minHex hex characters
// holding at least one digit and one letter (so that words like "deadbeef"
// or "facade" do not count). It does not allocate.
func ephemeralName(name string, minDigits, minHex int) bool {
	digits, hex := 0, 0
	hexDigit, hexLetter := false, false
	for i := 0; i < len(name); i++ {
		c := name[i]
		isDigit := c >= '0' && c <= '9'
		isHexLetter := (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
		if isDigit {
			if digits++; digits >= minDigits {
				return true
			}
		} else {
			digits = 0
		}
		if isDigit || isHexLetter {
			hex++
			hexDigit = hexDigit || isDigit
			hexLetter = hexLetter || isHexLetter
			if hex >= minHex && hexDigit && hexLetter {
				return true
			}
		} else {
			hex, hexDigit, hexLetter = 0, false, false
		}
	}
	return false
}
